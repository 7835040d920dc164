"""The nightly DAG's retention step: ``run(url=None, apply=False) -> dict``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from steward.retention.executor import RunOptions
from steward.retention.executor import run as run_retention


def run(
    url: str | None = None,
    apply: bool = False,
    max_share: float | None = None,
    policies: list[str] | None = None,
    as_of: dt.datetime | None = None,
    batch_size: int | None = None,
    build: bool = True,
) -> dict[str, Any]:
    """Build the retention models, plan, and with ``apply`` execute retention.

    Returns a JSON-serialisable summary (per policy: deleted, anonymised, held
    back, files removed, stopped by the circuit breaker), also stored in
    ``steward.retention_runs.summary`` for the dashboard. An applied run that was
    interrupted is resumed first. ``build=False`` reuses the retention marts built
    for the same as-of (and skips the dbt verification).
    """
    return run_retention(
        RunOptions(
            apply=apply,
            max_share=max_share,
            policies=tuple(policies or ()),
            as_of=as_of,
            batch_size=batch_size,
            build=build,
        ),
        url=url,
    )
