"""The retention dbt models and the verification test, run in-process: the CLI's path.

``steward retention run`` (and the tests, benchmarks) build the models before
they plan and verify after they apply, here. The nightly DAG does not: there
Cosmos builds the same selectors (``steward.airflow.nightly``), and the
executor runs with ``build=False``. Both name selectors of
``dbt_project/selectors.yml``; the run's parameters are :func:`retention_env`
either way.
"""

from __future__ import annotations

import json

from steward import dbt_runner as shared_dbt_runner
from steward.dbt_runner import DbtError

# Selectors of dbt_project/selectors.yml.
BUILD_SELECTOR = "retention"  # the staging views are there already
BUILD_SELECTOR_WITH_STAGING = "retention_with_staging"  # a warehouse where dbt never ran
VERIFICATION_SELECTOR = "retention_verification"
VERIFICATION_TEST = "retention_no_due_rows_remain"


def _invoke(url: str | None, arguments: list[str], env: dict[str, str]):
    return shared_dbt_runner.run(arguments, url, env=env)


# A run's parameters reach dbt (macros/retention_overdue.sql, the verification test)
# as environment variables, not as --vars: dbt parses the whole project again when
# its vars change, and the as-of changes every run (3 s of a retention build on any
# warehouse); a changed environment variable re-parses only the files that read it.
AS_OF_ENV = "STEWARD_RETENTION_AS_OF"
PERIOD_OVERRIDES_ENV = "STEWARD_RETENTION_PERIOD_OVERRIDES"
VERIFIED_RUN_ENV = "STEWARD_RETENTION_VERIFIED_RUN"
RETENTION_ENV = (AS_OF_ENV, PERIOD_OVERRIDES_ENV, VERIFIED_RUN_ENV)


def retention_env(
    as_of: str, period_overrides: dict[str, str], verified_policies: list[str] | None = None
) -> dict[str, str]:
    """dbt's environment for a retention build (or, with ``verified_policies``, for the
    verification after an applied run): the as-of, the effective periods that differ
    from their rules', the policies to verify. No personal data."""
    verified = {"policies": sorted(verified_policies or [])}
    return {
        AS_OF_ENV: as_of,
        PERIOD_OVERRIDES_ENV: json.dumps(period_overrides, sort_keys=True),
        VERIFIED_RUN_ENV: json.dumps(verified, sort_keys=True),
    }


def build_selector(url: str | None) -> str:
    """The retention models, and the staging views too when dbt never built them.

    Rebuilding a staging view drops the views built on it (dbt replaces views with
    ``drop ... cascade``): when staging is there, leave it as the nightly run built it.
    """
    return BUILD_SELECTOR if shared_dbt_runner.staging_built(url) else BUILD_SELECTOR_WITH_STAGING


def build(url: str | None, as_of: str, period_overrides: dict[str, str]) -> None:
    """Build the retention models (and their upstream seed/views) with their tests."""
    result = _invoke(
        url,
        [
            "build",
            "--selector",
            build_selector(url),
        ],
        retention_env(as_of, period_overrides),
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
            "--selector",
            VERIFICATION_SELECTOR,
        ],
        retention_env(as_of, period_overrides, policies),
    )
    failures = 0
    if result.result is not None:
        failures = sum(int(getattr(node, "failures", 0) or 0) for node in result.result.results)
    return {"test": VERIFICATION_TEST, "passed": bool(result.success), "failures": failures}
