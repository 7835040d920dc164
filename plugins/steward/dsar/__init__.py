"""Data-subject requests: access, correction and deletion within legal deadlines.

``jurisdictions`` (deadline rules), ``intake`` (validation), ``register``
(``steward.dsar_requests`` and its status machine), ``finder`` (every row of a
subject), ``export`` (encrypted access package), ``erasure`` (deletion with
exemptions and verification), ``correction``, ``deadlines`` (the daily watch)
and ``pipeline`` (the steps the ``steward_dsar`` DAG and the CLI run).
"""
