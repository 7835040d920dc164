"""The nightly task: fuzzy customer de-duplication (counts only in the result).

Order in the DAG: ``dbt run -s path:models/intermediate/dedupe`` (after the
phone lookup refresh), then :func:`run`, then ``dbt build -s path:models/marts/dedupe``.
"""

from __future__ import annotations

from steward.dedupe.linkage import find_duplicates


def run(url: str | None = None, *, full: bool = False) -> dict:
    """Score new and changed customer records (all with ``full``), cluster, store.

    Returns a JSON-serialisable summary: mode, record, pair and cluster counts,
    timings. Nothing is merged or deleted.
    """
    return find_duplicates(url, full=full).as_dict()
