"""The nightly's dbt vars for retention's verification test (verify_retention)."""

from __future__ import annotations

import json

from steward.retention import nightly
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
    values = json.loads(nightly.verification_vars(_summary("apply")))
    assert values["retention_as_of"] == "2026-12-07T02:00:00+00:00"
    assert values["retention_verified_run"] == {"policies": ["billing.invoices", "crm.customers"]}
    assert values["retention_period_overrides"] == load_policies().period_overrides()


def test_a_dry_run_verifies_nothing():
    values = json.loads(nightly.verification_vars(_summary("dry_run")))
    assert values["retention_verified_run"] == {"policies": []}
