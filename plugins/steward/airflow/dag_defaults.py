"""Steward's DAG ids and the ``default_args`` of each family of DAGs.

Two families, two retry policies:

* the **nightly** batch (``steward_nightly``): nobody waits on it, and a warehouse
  hiccup (a restart, a lock timeout) clears up; retry a few minutes later, backing off;
* the **privacy** DAGs the privacy team triggers or relies on during the day
  (``steward_dsar``, ``steward_dsar_intake``, ``steward_dsar_deadlines``,
  ``steward_breach``): someone is waiting for the result and the legal clocks run,
  so they retry sooner and give up sooner.

Read when a DAG file is parsed: environment only, no I/O.
"""

from __future__ import annotations

import os
from datetime import timedelta

NIGHTLY_DAG_ID = "steward_nightly"
DSAR_DAG_ID = "steward_dsar"
DSAR_INTAKE_DAG_ID = "steward_dsar_intake"
DSAR_DEADLINES_DAG_ID = "steward_dsar_deadlines"
BREACH_DAG_ID = "steward_breach"
OWNER = "steward"

# The demo and the tests set this to 0: `dag.test()` would otherwise sit out the
# retry delay of a failed task before reporting it.
TASK_RETRIES_ENV = "STEWARD_TASK_RETRIES"


def task_retries(default: int = 2) -> int:
    """Retries per task: ``STEWARD_TASK_RETRIES`` when set, else ``default``."""
    configured = os.environ.get(TASK_RETRIES_ENV, "").strip()
    if not configured:
        return default
    if not configured.isdigit():
        raise ValueError(f"{TASK_RETRIES_ENV}={configured!r} is not a whole number of retries")
    return int(configured)


def nightly_default_args() -> dict:
    """``default_args`` of the nightly batch: retries spread over half an hour."""
    return _default_args(first_retry=timedelta(minutes=5), longest_wait=timedelta(minutes=30))


def privacy_default_args() -> dict:
    """``default_args`` of the request and breach DAGs: quick retries, a short ceiling."""
    return _default_args(first_retry=timedelta(minutes=1), longest_wait=timedelta(minutes=5))


def _default_args(*, first_retry: timedelta, longest_wait: timedelta) -> dict:
    return {
        "owner": OWNER,
        "retries": task_retries(),
        "retry_delay": first_retry,
        "retry_exponential_backoff": True,
        "max_retry_delay": longest_wait,
    }
