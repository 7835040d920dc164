"""Retention policies: built from the data map, and every invalid entry named before a run."""

from __future__ import annotations

import copy
import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from steward import paths
from steward.retention import policies
from steward.retention.policies import Period, PolicyError, load_policies


@pytest.fixture(scope="module")
def config() -> dict:
    return yaml.safe_load(policies.POLICY_FILE.read_text())


def problems_of(config: dict, **kwargs) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        load_policies(config, **kwargs)
    return caught.value.problems


def test_the_shipped_policies_are_valid_and_cover_every_retention_table():
    from steward import datamap

    policy_set = load_policies()
    tables = {t.qualified_name for t in datamap.load_data_map().tables if t.retention_rule}
    assert {policy.name for policy in policy_set.policies} == tables
    customers = policy_set.get("crm.customers")
    assert customers.action == "anonymise"
    assert {m.column: m.strategy for m in customers.masking} == {
        "first_name": "nullify",
        "last_name": "nullify",
        "email": "hmac_sha256",
        "date_of_birth": "generalise_to_year",
        "gender": "nullify",
    }
    recordings = policy_set.get("telephony.call_recordings")
    assert recordings.action == "delete_file" and recordings.file_column == "storage_path"
    phones = policy_set.get("crm.customer_phones")
    assert phones.clock_table == "crm.customers" and phones.clock == "closed_at"
    assert policy_set.get("billing.invoices").legal_basis.startswith("Legal obligation")


def test_statutory_minimum_wins_over_a_shorter_override(config):
    shorter = copy.deepcopy(config)
    shorter["tables"] = {
        "billing.invoices": {"period": "2 year"},
        "telephony.calls": {"period": "18 month"},
    }
    policy_set = load_policies(shorter)
    invoices = policy_set.get("billing.invoices")
    assert invoices.rule_period == Period(2, "year")
    assert invoices.period == Period(7, "year")
    assert invoices.period_reason == "statutory minimum billing_records"
    calls = policy_set.get("telephony.calls")
    assert calls.period == Period(18, "month") and calls.period_reason == "override"
    assert policy_set.period_overrides() == {
        "billing.invoices": "7 years",
        "telephony.calls": "18 months",
    }


def test_a_longer_override_of_a_statutory_table_is_kept(config):
    longer = copy.deepcopy(config)
    longer["tables"] = {"billing.payments": {"period": "10 year"}}
    assert load_policies(longer).get("billing.payments").period == Period(10, "year")


def test_periods_are_calendar_aware():
    as_of = dt.datetime(2024, 3, 31, tzinfo=dt.UTC)
    assert Period(1, "month").cutoff(as_of) == dt.datetime(2024, 2, 29, tzinfo=dt.UTC)
    assert Period(1, "year").cutoff(dt.datetime(2024, 2, 29, tzinfo=dt.UTC)).day == 28
    assert Period(90, "day").cutoff(as_of) == as_of - dt.timedelta(days=90)
    assert Period(2, "year").interval == "2 years" and Period(1, "day").interval == "1 day"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"tables": {"crm.customerz": {"period": "1 year"}}},
            "tables.crm.customerz: unknown table",
        ),
        ({"tables": {"telephony.calls": {"period": "-3 year"}}}, "tables.telephony.calls.period"),
        ({"tables": {"telephony.calls": {"period": "3 fortnight"}}}, "tables.telephony.calls"),
        (
            {"tables": {"crm.customers": {"columns": {"shoe_size": "nullify"}}}},
            "tables.crm.customers.columns.shoe_size: unknown column",
        ),
        (
            {"tables": {"crm.customers": {"columns": {"email": "rot13"}}}},
            "tables.crm.customers.columns.email: unknown strategy 'rot13'",
        ),
        (
            {"tables": {"crm.customers": {"columns": {"customer_id": "nullify"}}}},
            "columns.customer_id: a key or clock column cannot be anonymised",
        ),
        ({"masking": {"user.contact.email": {"strategy": "shred"}}}, "unknown strategy 'shred'"),
        (
            {"masking": {"user.shoe_size": "nullify"}},
            "masking.user.shoe_size: unknown data category",
        ),
        ({"rules": {"call_recordings": {"file_column": "path"}}}, "unknown column 'path'"),
        ({"rules": {"no_such_rule": {}}}, "rules.no_such_rule: unknown retention rule"),
        ({"statutory_minimums": {"call_records": ["telephony.calls"]}}, "not marked"),
        ({"max_share": 1.5}, "max_share"),
        ({"batch_size": 0}, "batch_size"),
        ({"hmac_secret": {"value": "hunter2"}}, "hmac_secret.value: unknown key"),
        ({"colour": "blue"}, "colour: unknown key"),
    ],
)
def test_invalid_entries_are_rejected_by_name(config, change, expected):
    broken = copy.deepcopy(config)
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(broken.get(key), dict):
            broken[key] = {**broken[key], **value}
        else:
            broken[key] = value
    problems = problems_of(broken)
    assert any(expected in problem for problem in problems), problems


def test_anonymise_without_a_strategy_for_a_category_is_rejected(config):
    broken = copy.deepcopy(config)
    del broken["masking"]["user.contact.email"]
    problems = problems_of(broken)
    assert any("'user.contact.email' of crm.customers.email" in p for p in problems), problems


@pytest.fixture
def project_copy(tmp_path) -> Path:
    source = paths.dbt_project_dir()
    target = tmp_path / "dbt_project"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("target", "logs"))
    return target


def _edit_rules(project: Path, old: str, new: str) -> None:
    rules = project / "seeds" / "retention_rules.csv"
    text = rules.read_text()
    assert old in text
    rules.write_text(text.replace(old, new))


def test_unknown_action_in_the_rules_is_rejected(config, project_copy):
    _edit_rules(project_copy, "call_transcripts,1,year,,delete,", "call_transcripts,1,year,,shred,")
    problems = problems_of(config, project_dir=project_copy)
    assert any("call_transcripts" in p and "'shred'" in p for p in problems), problems


def test_negative_period_in_the_rules_is_rejected(config, project_copy):
    _edit_rules(project_copy, "call_records,2,year", "call_records,-2,year")
    problems = problems_of(config, project_dir=project_copy)
    assert any("call_records" in p and "'-2'" in p for p in problems), problems


def test_unknown_clock_column_in_the_data_map_is_rejected(config, project_copy):
    sources = project_copy / "models" / "staging" / "support" / "_support__sources.yml"
    sources.write_text(sources.read_text().replace("clock: closed_at}", "clock: shut_at}"))
    problems = problems_of(config, project_dir=project_copy)
    assert any("support.tickets" in p and "shut_at" in p for p in problems), problems


def test_select_by_table_or_rule():
    policy_set = load_policies()
    assert [p.name for p in policy_set.select(["billing_records"])] == [
        "billing.invoices",
        "billing.payments",
    ]
    assert [p.name for p in policy_set.select(["support.tickets"])] == ["support.tickets"]
    with pytest.raises(PolicyError, match="--policy nope"):
        policy_set.select(["nope"])
