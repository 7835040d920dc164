"""The data map loader: the real map parses, and malformed copies are refused by name."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from steward import datamap, paths
from steward.datamap import DataMapError, load_data_map

SCHEMA_SQL = paths.project_root() / "plugins" / "steward" / "seed" / "schema.sql"
CRM_SOURCES = Path("models/staging/crm/_crm__sources.yml")


def schema_sql_tables() -> set[str]:
    return set(re.findall(r"create table (\w+\.\w+)", SCHEMA_SQL.read_text()))


@pytest.fixture(scope="module")
def data_map() -> datamap.DataMap:
    return load_data_map()


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "dbt_project"
    shutil.copytree(paths.dbt_project_dir(), copy, ignore=shutil.ignore_patterns("target", "logs"))
    return copy


def edit_sources(project: Path, relative: Path, change) -> None:
    """Load one source YAML, let ``change`` mutate it, write it back."""
    path = project / relative
    document = yaml.safe_load(path.read_text())
    change(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def table_entry(document: dict, name: str) -> dict:
    return next(t for s in document["sources"] for t in s["tables"] if t["name"] == name)


def steward_meta(document: dict, name: str) -> dict:
    return table_entry(document, name)["config"]["meta"]["steward"]


def load_error(project: Path) -> DataMapError:
    with pytest.raises(DataMapError) as caught:
        load_data_map(project)
    return caught.value


# --- the real map ----------------------------------------------------------


def test_every_raw_table_of_schema_sql_is_mapped(data_map):
    assert {table.qualified_name for table in data_map.tables} == schema_sql_tables()


def test_every_subject_table_can_reach_its_subject_and_ages_out(data_map):
    for table in data_map.tables:
        assert table.primary_key, table.qualified_name
        if table.has_subject:
            assert table.subject_key or table.subject_found_via, table.qualified_name
        if table.subject in datamap.SUBJECTS_NEEDING_RETENTION:
            assert table.retention_rule in data_map.retention_rules, table.qualified_name
            assert table.retention_clock, table.qualified_name


def test_map_describes_the_call_centre_as_a_steward_would(data_map):
    customers = data_map.table("crm.customers")
    assert customers.subject == "customer"
    assert customers.subject_key == "customer_id"
    assert customers.identifiers["email"] == ("email",)
    assert customers.column("email").data_category == "user.contact.email"
    assert (customers.retention_rule, customers.retention_clock) == (
        "closed_customers",
        "closed_at",
    )

    calls = data_map.table("telephony.calls")
    assert calls.identifier_columns("phone") == ("caller_number", "callee_number")
    recordings = data_map.table("telephony.call_recordings")
    assert recordings.subject_key_references == "telephony.calls"
    assert recordings.column("storage_path").data_category == "user.content.call_recording"
    phones = data_map.table("crm.customer_phones")
    assert phones.retention_clock_table == "crm.customers"
    assert data_map.table("compliance.dnc_registry").subject_found_via == ("phone",)
    assert data_map.table("support.tickets").column("notes").data_category == (
        "user.content.free_text"
    )
    assert data_map.table("telephony.agents").subject == "employee"


def test_legacy_ssn_field_is_left_undeclared_for_the_catalogue_to_find(data_map):
    customers = data_map.table("crm.customers")
    assert customers.column("attr_3") is None
    assert "attr_3" not in customers.documented_columns


def test_every_category_in_use_is_in_the_taxonomy(data_map):
    used = {column.data_category for _, column in data_map.personal_columns()}
    assert used <= datamap.TAXONOMY
    assert len(used) >= 12


def test_retention_rules_have_the_call_centre_periods(data_map):
    rules = data_map.retention_rules
    assert (rules["call_records"].period_count, rules["call_records"].period_unit) == (2, "year")
    assert (rules["call_recordings"].period_count, rules["call_recordings"].period_unit) == (
        90,
        "day",
    )
    assert rules["call_recordings"].action == "delete_file"
    assert rules["billing_records"].is_statutory_minimum
    assert rules["billing_records"].period_count == 7
    assert rules["call_records"].jurisdiction is None


def test_to_dict_round_trips_through_json(data_map):
    import json

    document = json.loads(json.dumps(data_map.to_dict()))
    tables = {table["qualified_name"]: table for table in document["tables"]}
    assert tables["telephony.calls"]["retention"] == {
        "rule": "call_records",
        "clock": "started_at",
        "clock_table": None,
    }
    assert {"name": "phone_raw", "data_category": "user.contact.phone_number"} in tables[
        "crm.customer_phones"
    ]["columns"]
    assert set(document["retention_rules"]) == set(data_map.retention_rules)


def test_unknown_table_lookup_names_the_table(data_map):
    with pytest.raises(KeyError, match=re.escape("crm.nope")):
        data_map.table("crm.nope")


def test_default_project_follows_the_environment_override(project_copy, monkeypatch):
    edit_sources(
        project_copy,
        CRM_SOURCES,
        lambda doc: steward_meta(doc, "customers").update(subject="alien"),
    )
    monkeypatch.setenv("STEWARD_DBT_PROJECT_DIR", str(project_copy))
    with pytest.raises(DataMapError, match=re.escape("crm.customers: subject")):
        load_data_map()


# --- malformed maps --------------------------------------------------------


def test_identifier_naming_an_unlisted_column_is_refused(project_copy):
    edit_sources(
        project_copy,
        CRM_SOURCES,
        lambda doc: steward_meta(doc, "customers")["identifiers"].update(phone="mobile_number"),
    )
    message = str(load_error(project_copy))
    assert str(CRM_SOURCES) in message
    assert "table crm.customers: identifiers.phone" in message
    assert "'mobile_number' is not listed" in message


def test_missing_subject_key_is_refused(project_copy):
    edit_sources(
        project_copy,
        CRM_SOURCES,
        lambda doc: steward_meta(doc, "customer_phones").pop("subject_key"),
    )
    message = str(load_error(project_copy))
    assert f"{CRM_SOURCES}: table crm.customer_phones: subject_key: missing for a customer" in (
        message
    )


def test_unknown_data_category_is_refused_with_a_suggestion(project_copy):
    def misspell(document):
        column = next(
            c for c in table_entry(document, "customers")["columns"] if c["name"] == "email"
        )
        column["config"]["meta"]["steward"]["data_category"] = "user.contact.e-mail"

    edit_sources(project_copy, CRM_SOURCES, misspell)
    error = load_error(project_copy)
    assert len(error.problems) == 1
    assert "table crm.customers: column email: config.meta.steward.data_category" in str(error)
    assert "did you mean 'user.contact.email'" in str(error)


def test_unknown_retention_rule_is_refused(project_copy):
    edit_sources(
        project_copy,
        Path("models/staging/telephony/_telephony__sources.yml"),
        lambda doc: steward_meta(doc, "calls")["retention"].update(rule="forever"),
    )
    message = str(load_error(project_copy))
    assert "table telephony.calls: retention.rule: 'forever' is not a rule_name" in message


def test_yaml_syntax_error_names_the_file_and_line(project_copy):
    path = project_copy / CRM_SOURCES
    lines = path.read_text().splitlines()
    lines[12] = lines[12] + " ]["  # an unbalanced flow sequence
    path.write_text("\n".join(lines) + "\n")
    message = str(load_error(project_copy))
    assert f"{CRM_SOURCES}: invalid YAML at line 13" in message


def test_unknown_keys_and_wrong_types_are_all_reported(project_copy):
    def corrupt(document):
        meta = steward_meta(document, "invoices")
        meta["retension"] = meta.pop("retention")  # a typo'd key
        meta["primary_key"] = "invoice_id"  # a string, not a list

    edit_sources(project_copy, Path("models/staging/billing/_billing__sources.yml"), corrupt)
    error = load_error(project_copy)
    message = str(error)
    assert "table billing.invoices: retension: unknown key" in message
    assert "table billing.invoices: primary_key: expected a list of column names, got str" in (
        message
    )
    assert "table billing.invoices: retention: missing: customer data needs a retention rule" in (
        message
    )
    assert len(error.problems) == 3


def test_missing_primary_key_is_refused(project_copy):
    edit_sources(
        project_copy,
        Path("models/staging/marketing/_marketing__sources.yml"),
        lambda doc: steward_meta(doc, "campaigns").pop("primary_key"),
    )
    assert "table marketing.campaigns: primary_key: missing" in str(load_error(project_copy))


def test_unmapped_source_table_is_refused(project_copy):
    edit_sources(
        project_copy,
        Path("models/staging/support/_support__sources.yml"),
        lambda doc: table_entry(doc, "tickets").pop("config"),
    )
    assert "table support.tickets: config.meta.steward: missing" in str(load_error(project_copy))


def test_map_under_top_level_meta_is_pointed_to_config(project_copy):
    def move(document):
        table = table_entry(document, "tickets")
        table["meta"] = table.pop("config")["meta"]

    edit_sources(project_copy, Path("models/staging/support/_support__sources.yml"), move)
    message = str(load_error(project_copy))
    assert "table support.tickets: meta.steward: the data map is read from config.meta" in message


def test_subject_key_reference_must_be_a_mapped_table(project_copy):
    edit_sources(
        project_copy,
        Path("models/staging/telephony/_telephony__sources.yml"),
        lambda doc: steward_meta(doc, "transcripts").update(subject_key_references="voice.calls"),
    )
    message = str(load_error(project_copy))
    assert "table telephony.transcripts: subject_key_references: 'voice.calls'" in message


def test_bad_retention_rule_row_names_the_line_and_field(project_copy):
    rules = project_copy / datamap.RETENTION_RULES_FILE
    rules.write_text(rules.read_text().replace("call_records,2,year", "call_records,2,fortnight"))
    message = str(load_error(project_copy))
    assert "retention_rules.csv: line 2 (call_records): period_unit: 'fortnight'" in message
    # The tables using the broken rule are reported too: nothing is silently dropped.
    assert "table telephony.calls: retention.rule: 'call_records' is not a rule_name" in message
