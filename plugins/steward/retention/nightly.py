"""The retention steps: ``run`` (the CLI's, dbt in-process) and the nightly DAG's three.

The nightly DAG runs retention's dbt models through Cosmos, not through
:mod:`steward.retention.dbt_runner`: :func:`prepare` picks the run's as-of and
dbt's vars, Cosmos builds selector ``retention`` with them, :func:`enforce`
plans (and with ``apply`` executes) on those marts, and Cosmos runs selector
``retention_verification`` with :func:`verification_env`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from steward.retention.dbt_runner import retention_env
from steward.retention.executor import Executor, RunOptions
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


def prepare(url: str | None = None, apply: bool = False) -> dict:
    """Before dbt: the as-of the run will plan for and the environment dbt builds the
    models with (:func:`steward.retention.dbt_runner.retention_env`).

    Validates the policies against the warehouse and upgrades Steward's schema
    first. No personal data: an instant and the policies' period overrides.
    """
    executor = Executor(url)
    as_of = executor.next_as_of(apply).isoformat()
    return {
        "as_of": as_of,
        "dbt_env": retention_env(as_of, executor.policy_set.period_overrides()),
    }


def enforce(prepared: dict, url: str | None = None, apply: bool = False) -> dict:
    """Plan, and with ``apply`` execute, on the marts dbt built for ``prepared``'s as-of."""
    return run(url, apply=apply, as_of=dt.datetime.fromisoformat(prepared["as_of"]), build=False)


def verification_env(summary: dict) -> dict[str, str]:
    """dbt's environment for the verification test after ``summary``'s run: the policies an
    applied run completed (none after a dry run: the test then checks nothing)."""
    from steward.retention.policies import load_policies

    completed = (
        [row["policy"] for row in summary["policies"] if row["status"] == "done"]
        if summary["mode"] == "apply"
        else []
    )
    return retention_env(summary["as_of"], load_policies().period_overrides(), completed)
