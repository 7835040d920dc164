"""The one engine through which every change to personal data goes.

Retention (``steward.retention.executor``) and DSAR erasure, redaction and
anonymisation (``steward.dsar.erasure``, and the suppression re-scan through
it), DSAR correction (``steward.dsar.correction``) and the purge of Steward's
derived copies (``steward.dsar.derived``) plan differently but apply their
changes through these parts, never a copy:

* :mod:`.holds`: which rows a legal hold keeps, read from dbt's
  ``intermediate.int_retention__held_rows`` (the one definition of an active
  hold, shared with retention's ``int_retention__held``); never re-implemented.
* :mod:`.masking`: the one registry data category -> masking strategy
  (``retention/policies.yml`` ``masking:``, strategies in
  ``retention/strategies.py``), fides-style: policy -> rule -> data category ->
  masking strategy; and how to check that a column is masked.
* :mod:`.batches`: THE batch loop (:func:`.batches.run_batches` over a
  :class:`.batches.Plan`): each batch changes its rows, marks its plan rows
  done and appends its row to the hash-chained ``steward.audit_log`` in one
  transaction; dry run (:func:`.batches.pending_counts`), circuit breaker
  (:func:`.batches.check_limit`), crash points for the kill tests. Its
  docstring is the API for a new job.
* :mod:`.files`: files are removed through fsspec AFTER their rows' batch
  committed; each outcome (removed, already_gone, failed) is recorded and a
  failed removal makes the run or request not verified.
* :class:`CircuitBreakerError`: a plan larger than its limit changes nothing.

The human audit log is ``steward.audit_log`` (one row per destructive batch,
counts and digests only); the machine execution logs stay with each job
(``steward.retention_log``, ``steward.dsar_erasure_plan``,
``steward.dsar_correction_plan``, ``steward.dsar_derived_plan``).
"""

from __future__ import annotations

from steward.engine.batches import CircuitBreakerError

__all__ = ["CircuitBreakerError"]
