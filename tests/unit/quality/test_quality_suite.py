"""The phone_quality suite and checkpoint settings (no database)."""

from __future__ import annotations

import os
import re

import pytest
import yaml

from steward.quality import checkpoint
from steward.quality.suite import E164_PATTERN, SUITE_NAME, PhoneQualityTables, build_suite


@pytest.fixture(autouse=True, scope="module")
def ephemeral_context():
    """GX builds suites only inside a context; an in-memory one touches no files."""
    import great_expectations as gx

    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    return gx.get_context(mode="ephemeral")


def test_suite_has_the_four_steward_checks():
    suite = build_suite()
    assert suite.name == SUITE_NAME
    checks = [e.meta["steward_check"] for e in suite.expectations]
    assert checks == [
        "e164_format",
        "valid_rate",
        "unique_number_per_customer",
        "no_dialled_dnc_numbers",
    ]


def test_e164_pattern():
    pattern = re.compile(E164_PATTERN)
    for good in ["+14155550123", "+442079460958", "+5511987654321", "+8613812345678"]:
        assert pattern.match(good), good
    for bad in ["14155550123", "+04155550123", "+1 415 555 0123", "+1234567890123456", "+12345"]:
        assert not pattern.match(bad), bad


def test_dnc_query_selects_ids_only_and_uses_configured_tables():
    tables = PhoneQualityTables(schema="marts", dnc_violations="calls_to_dnc")
    dnc = build_suite(tables).expectations[-1]
    query = dnc.unexpected_rows_query
    assert query.lower().startswith("select violation.call_id from")
    assert '"marts"."calls_to_dnc"' in query
    assert "{batch}" in query


def test_result_format_never_returns_values():
    assert checkpoint.RESULT_FORMAT["partial_unexpected_count"] == 0
    assert checkpoint.RESULT_FORMAT["include_unexpected_rows"] is False
    assert checkpoint.RESULT_FORMAT["return_unexpected_index_query"] is False
    assert checkpoint.RESULT_FORMAT["result_format"] in {"BASIC", "SUMMARY"}


def test_committed_project_holds_no_credentials():
    config_path = checkpoint.expectations_dir() / "great_expectations.yml"
    config = yaml.safe_load(config_path.read_text())
    datasource = config["fluent_datasources"][checkpoint.DATASOURCE_NAME]
    assert datasource["connection_string"] == "${" + checkpoint.CONNECTION_ENV + "}"
    assert config["analytics_enabled"] is False
    ignored = (checkpoint.expectations_dir() / ".gitignore").read_text().split()
    assert "uncommitted/" in ignored


def test_summary_drops_value_lists():
    from types import SimpleNamespace

    config = SimpleNamespace(
        type="expect_column_values_to_match_regex",
        meta={"steward_check": "e164_format"},
        kwargs={"column": "e164"},
    )
    outcome = SimpleNamespace(
        expectation_config=config,
        success=False,
        result={
            "element_count": 10,
            "unexpected_count": 2,
            "unexpected_percent": 20.0,
            "partial_unexpected_list": ["+14155550123"],
        },
    )
    (check,) = checkpoint._summarise(SimpleNamespace(results=[outcome]))
    assert check.check_name == "e164_format"
    assert check.unexpected_count == 2
    assert check.observed_value == 20.0
    assert "+1415" not in repr(check)
