"""Run the retention dbt models and the verification test, in-process.

dbt's artefacts go to a private temporary folder (several people and jobs run
dbt at once); connection details come from :func:`steward.warehouse.dbt_env`.
"""

from __future__ import annotations

import json

from steward import dbt_runner as shared_dbt_runner
from steward import warehouse
from steward.dbt_runner import DbtError

STAGING_SCHEMA = "staging"

# What `steward retention run` builds before it executes, and tests after.
BUILD_SELECTORS = ("+path:models/intermediate/retention", "+path:models/marts/retention")
VERIFICATION_TEST = "retention_no_due_rows_remain"


def _invoke(url: str | None, arguments: list[str]):
    return shared_dbt_runner.run(arguments, url)


def _staging_built(url: str | None) -> bool:
    """Are dbt's staging views there already (the nightly run builds them first)?"""
    import sqlalchemy as sa

    with warehouse.engine(url).connect() as conn:
        views = conn.execute(
            sa.text("select count(*) from information_schema.views where table_schema = :schema"),
            {"schema": STAGING_SCHEMA},
        ).scalar_one()
    return views > 0


def retention_vars(
    as_of: str, period_overrides: dict[str, str], verified_policies: list[str] | None = None
) -> str:
    values: dict = {"retention_as_of": as_of, "retention_period_overrides": period_overrides}
    if verified_policies is not None:
        values["retention_verified_run"] = {"policies": sorted(verified_policies)}
    return json.dumps(values, sort_keys=True)


def build(url: str | None, as_of: str, period_overrides: dict[str, str]) -> None:
    """Build the retention models (and their upstream seed/views) with their tests."""
    # Rebuilding a staging view drops the views built on it (dbt replaces views with
    # `drop ... cascade`): when staging is there, leave it as the nightly run built it.
    excluded = [VERIFICATION_TEST, *(["path:models/staging"] if _staging_built(url) else [])]
    result = _invoke(
        url,
        [
            "build",
            "--select",
            *BUILD_SELECTORS,
            "--exclude",
            *excluded,
            "--vars",
            retention_vars(as_of, period_overrides),
        ],
    )
    if not result.success:
        raise DbtError(
            "dbt build of the retention models failed: " + shared_dbt_runner.failure_summary(result)
        )


def verify(
    url: str | None, as_of: str, period_overrides: dict[str, str], policies: list[str]
) -> dict:
    """Run the verification test for the ``policies`` a run completed at ``as_of``:
    ``{"passed": bool, "failures": policies with due rows left}``."""
    result = _invoke(
        url,
        [
            "test",
            "--select",
            VERIFICATION_TEST,
            "--vars",
            retention_vars(as_of, period_overrides, policies),
        ],
    )
    failures = 0
    if result.result is not None:
        failures = sum(int(getattr(node, "failures", 0) or 0) for node in result.result.results)
    return {"test": VERIFICATION_TEST, "passed": bool(result.success), "failures": failures}
