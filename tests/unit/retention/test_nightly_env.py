"""The nightly's dbt environment for retention's verification test (verify_retention)."""

from __future__ import annotations

import json

from steward.retention import dbt_runner, nightly
from steward.retention.policies import load_policies


def _summary(mode: str) -> dict:
    return {
        "mode": mode,
        "as_of": "2026-12-07T02:00:00+00:00",
        "policies": [
            {"policy": "crm.customers", "status": "done"},
            {"policy": "support.tickets", "status": "stopped_by_breaker"},
            {"policy": "billing.invoices", "status": "done"},
        ],
    }


def test_an_applied_run_verifies_the_policies_it_completed():
    env = nightly.verification_env(_summary("apply"))
    assert set(env) == set(dbt_runner.RETENTION_ENV)
    assert all(isinstance(value, str) for value in env.values())
    assert env["STEWARD_RETENTION_AS_OF"] == "2026-12-07T02:00:00+00:00"
    assert json.loads(env["STEWARD_RETENTION_VERIFIED_RUN"]) == {
        "policies": ["billing.invoices", "crm.customers"]
    }
    overrides = json.loads(env["STEWARD_RETENTION_PERIOD_OVERRIDES"])
    assert overrides == load_policies().period_overrides()


def test_a_dry_run_verifies_nothing():
    env = nightly.verification_env(_summary("dry_run"))
    assert json.loads(env["STEWARD_RETENTION_VERIFIED_RUN"]) == {"policies": []}


def test_the_nightly_templates_name_every_variable_dbt_reads():
    """The Cosmos tasks render one template per variable the dbt project reads."""
    from steward import paths
    from steward.airflow import nightly as airflow_nightly

    project_text = "".join(
        path.read_text()
        for path in paths.dbt_project_dir().rglob("*.sql")
        if "target" not in path.parts
    )
    for name in dbt_runner.RETENTION_ENV:
        assert f"env_var('{name}'" in project_text, name
    assert set(airflow_nightly.RETENTION_DBT_ENV) == set(dbt_runner.RETENTION_ENV)
    assert set(airflow_nightly.RETENTION_VERIFICATION_ENV) == set(dbt_runner.RETENTION_ENV)
    assert "retention_as_of" not in project_text.replace("retention_as_of()", "")
