"""The nightly task: the ``phone_quality`` checkpoint (counts and outcomes only).

Order in the DAG: after ``dbt build -s path:models/marts/phones`` (the marts it checks).
"""

from __future__ import annotations

from steward.quality.checkpoint import run_checkpoint


def run(url: str | None = None) -> dict:
    """Validate the phone marts, build Data Docs, store the results summary; return it."""
    return run_checkpoint(url)
