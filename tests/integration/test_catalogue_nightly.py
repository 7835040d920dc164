"""The persisted catalogue on a seeded warehouse: scan, dbt marts, drift, overrides, rescans.

The module seeds its own warehouse (scale s, seed 42): the tests change it
(overrides, new tables, updates), which the session's shared warehouse must not see.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import time
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from steward import paths, warehouse
from steward.catalogue import nightly
from steward.catalogue.cli import catalogue_app

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MARTS_ONLY = "catalogue_marts"  # keeps overrides written straight to the table


def _admin(admin_url: str) -> sa.Engine:
    return sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="module")
def catalogue_url(server_admin_url):
    from steward.seed import generate

    name = f"steward_catalogue_{uuid.uuid4().hex[:10]}"
    admin = _admin(server_admin_url)
    quoted = admin.dialect.identifier_preparer.quote(name)
    with admin.connect() as conn:
        conn.execute(sa.text(f"create database {quoted}"))
    url = make_url(server_admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        generate.seed_warehouse(scale="s", seed=42, url=url, progress=False)
        # The sample size follows pg_class.reltuples: settle the statistics now, so that an
        # autovacuum ANALYZE between two scans (the embedded server runs autovacuum) does not
        # change a sample and turn an unchanged column into a rescanned one.
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text("analyze"))
        engine.dispose()
        yield url
    finally:
        warehouse._engine_for.cache_clear()
        with admin.connect() as conn:
            conn.execute(sa.text(f"drop database if exists {quoted} with (force)"))
        admin.dispose()
        shutil.rmtree(paths.recordings_dir() / name, ignore_errors=True)  # the seed's files


def _rows(url: str, query: str, **params) -> list[tuple]:
    with warehouse.engine(url).connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(query), params)]


@pytest.fixture(scope="module")
def marts_before_any_scan(catalogue_url):
    """dbt builds the catalogue marts on a warehouse never scanned (empty inputs)."""
    return nightly.build_marts(catalogue_url)


@pytest.fixture(scope="module")
def first_scan(catalogue_url, marts_before_any_scan):
    summary = nightly.run_scan(catalogue_url)
    built = nightly.build_marts(catalogue_url)
    return summary, built


def test_marts_build_before_the_first_scan(marts_before_any_scan, catalogue_url):
    assert marts_before_any_scan
    assert _rows(catalogue_url, "select count(*) from steward.pii_catalogue") == [(0,)]
    assert _rows(catalogue_url, "select count(*) from steward.catalogue_drift") == [(0,)]


def test_every_planted_pii_column_is_catalogued_and_nothing_else(first_scan, catalogue_url):
    summary, built = first_scan
    assert built
    planted = {
        (schema, table, column): category
        for schema, table, column, category in _rows(
            catalogue_url,
            "select schema_name, table_name, column_name, category"
            " from steward_ground_truth.pii_columns",
        )
    }
    assert ("crm", "customers", "attr_3") in planted and ("support", "tickets", "notes") in planted
    found: dict[tuple[str, str, str], set[str]] = {}
    for schema, table, column, category in _rows(
        catalogue_url,
        "select schema_name, table_name, column_name, category from steward.pii_catalogue"
        " where is_current and status <> 'rejected'",
    ):
        found.setdefault((schema, table, column), set()).add(category)

    assert set(found) == set(planted), "missed or false positives"
    for key, category in planted.items():
        assert any(nightly.categories_compatible(c, category) for c in found[key]), (key, found)
    assert summary["pii_columns"] == len(planted)
    assert summary["columns_failed"] == 0 and summary["problems"] == 0
    # Steward's own schemas and the answer key are never scanned.
    assert not {"staging", "steward", "steward_ground_truth"} & set(summary["schemas"])


def test_results_hold_evidence_and_counts_never_values(first_scan, catalogue_url):
    rows = _rows(
        catalogue_url,
        "select confidence, validator, sample_rows, matches, non_null, name_pattern, run_id"
        " from steward.catalogue_scan_results"
        " where schema_name = 'crm' and table_name = 'customers' and column_name = 'attr_3'"
        " and category = 'user.government_id.national_id.us_ssn'",
    )
    ((confidence, validator, sample_rows, matches, non_null, _, run_id),) = rows
    assert validator == "national_id" and 0 < matches <= non_null <= sample_rows <= 1000
    assert 0.5 <= confidence <= 1
    assert run_id == first_scan[0]["run_id"]

    values = [
        value
        for (value,) in _rows(
            catalogue_url,
            "select v from (select email as v from crm.customers union all"
            " select attr_3 from crm.customers union all"
            " select phone_raw from crm.customer_phones) as s where v is not null limit 300",
        )
    ]
    stored = "\n".join(
        text
        for (text,) in _rows(
            catalogue_url,
            "select r::text from steward.catalogue_scan_results as r union all"
            " select p::text from steward.catalogue_scan_problems as p union all"
            " select c::text from steward.pii_catalogue as c",
        )
    )
    assert values and not [value for value in values if value in stored]


def test_drift_reports_the_planted_gap_and_only_it(first_scan, catalogue_url):
    summary, _ = first_scan
    assert summary["drift"] == {"undeclared": 1, "category_mismatch": 0}
    report = nightly.summarise(catalogue_url)
    assert report["drift_counts"] == {"undeclared": 1, "category_mismatch": 0, "no_evidence": 0}
    assert report["drift"] == [
        {
            "kind": "undeclared",
            "column": "crm.customers.attr_3",
            "declared_category": None,
            "found_categories": "user.government_id.national_id.us_ssn",
        }
    ]
    assert report["gaps"] == 1
    # The data map copy is the map's declared personal columns.
    assert _rows(catalogue_url, "select count(*) from steward.data_map_columns") == [
        (summary["declared_columns"],)
    ]


def test_drift_test_severity_follows_the_var(first_scan, catalogue_url):
    assert nightly.build_marts(catalogue_url, selector=MARTS_ONLY)  # warn by default
    assert not nightly.build_marts(
        catalogue_url,
        selector=MARTS_ONLY,
        variables={"steward_catalogue_drift_severity": "error"},
    )


def test_incremental_rescans_skip_unchanged_columns(first_scan, catalogue_url):
    first, _ = first_scan
    again = nightly.run_scan(catalogue_url)
    rescanned = _rows(
        catalogue_url,
        "select schema_name || '.' || table_name || '.' || column_name, status"
        " from steward.catalogue_column_state where status <> 'unchanged'",
    )
    assert again["columns_scanned"] == again["columns_skipped"] == 0, rescanned
    assert again["columns_unchanged"] == first["columns_total"]
    assert again["pii_columns"] == first["pii_columns"]  # carried forward

    engine = warehouse.engine(catalogue_url)
    with engine.begin() as conn:
        conn.execute(sa.text("create table crm.legacy_contacts (contact_id int, e_mail text)"))
        conn.execute(
            sa.text(
                "insert into crm.legacy_contacts"
                " select n, 'person' || n || '@example.org' from generate_series(1, 40) as n"
            )
        )
        conn.execute(sa.text("update crm.customer_addresses set city = upper(city)"))
        # A page-sampled table is fingerprinted by its counted writes: one row rewritten
        # unchanged still counts. The counters reach the statistics when this commits.
        conn.execute(
            sa.text(
                "update telephony.calls set disposition = disposition"
                " where call_id = (select min(call_id) from telephony.calls)"
            )
        )
        conn.execute(sa.text("select pg_stat_force_next_flush()"))
    _wait_for_counted_update(catalogue_url, "telephony", "calls")
    changed = nightly.run_scan(catalogue_url)
    states = dict(
        _rows(
            catalogue_url,
            "select table_name || '.' || column_name, status from steward.catalogue_column_state"
            " where schema_name = 'crm'",
        )
    )
    assert states["legacy_contacts.e_mail"] == "scanned"  # a new table is always scanned
    assert states["customer_addresses.city"] == "scanned"  # its sample changed
    assert states["customers.email"] == "unchanged"
    assert states["customer_phones.phone_raw"] == "unchanged"
    calls = _rows(
        catalogue_url,
        "select status, count(*) from steward.catalogue_column_state"
        " where schema_name = 'telephony' and table_name = 'calls' group by status",
    )
    assert dict(calls) == {"scanned": 9, "unchanged": 2}  # the timestamps are never read
    assert 0 < changed["columns_scanned"] < changed["columns_total"]
    assert changed["drift"]["undeclared"] == 2  # attr_3 and the new e_mail column

    full = nightly.run_scan(catalogue_url, full=True)
    assert full["columns_unchanged"] == 0
    assert full["columns_scanned"] + full["columns_skipped"] == full["columns_total"]

    history = _rows(
        catalogue_url,
        "select count(distinct run_id) from steward.catalogue_scan_results"
        " where schema_name = 'crm' and table_name = 'customers' and column_name = 'email'",
    )
    assert history == [(4,)]  # one row per run: scanned, carried, carried, full
    with engine.begin() as conn:
        conn.execute(sa.text("drop table crm.legacy_contacts"))


def test_a_sibling_column_added_rescans_the_columns_whose_verdict_it_changes(
    first_scan, catalogue_url
):
    # A bare "name" means a person's name beside a column named for a national id.
    engine = warehouse.engine(catalogue_url)
    with engine.begin() as conn:
        conn.execute(sa.text("create table crm.sibling_probe (name text, region text)"))
        conn.execute(
            sa.text(
                "insert into crm.sibling_probe"
                " select 'Item ' || n, 'north' from generate_series(1, 30) as n"
            )
        )
    nightly.run_scan(catalogue_url)
    with engine.begin() as conn:
        conn.execute(sa.text("alter table crm.sibling_probe add column ssn text"))
    nightly.run_scan(catalogue_url)
    states = dict(
        _rows(
            catalogue_url,
            "select column_name, status from steward.catalogue_column_state"
            " where schema_name = 'crm' and table_name = 'sibling_probe'",
        )
    )
    with engine.begin() as conn:
        conn.execute(sa.text("drop table crm.sibling_probe"))
    assert states == {"name": "scanned", "region": "unchanged", "ssn": "scanned"}


def _wait_for_counted_update(url: str, schema: str, table: str) -> None:
    """Statistics are flushed asynchronously; wait (briefly) until the update is counted."""
    query = (
        "select n_tup_upd from pg_stat_all_tables where schemaname = :schema and relname = :table"
    )
    for _ in range(100):
        if _rows(url, query, schema=schema, table=table)[0][0] > 0:
            return
        time.sleep(0.1)
    raise AssertionError("the update never reached pg_stat_all_tables")


def test_overrides_are_respected_by_later_runs(first_scan, catalogue_url, tmp_path):
    engine = warehouse.engine(catalogue_url)
    overrides = tmp_path / "catalogue_overrides.csv"
    runner = CliRunner()
    for command in (
        ["reject", "crm.customers.attr_3", "user.government_id.national_id.us_ssn"],
        ["reject", "crm.customer_addresses.city", "user.contact.address.city"],
        ["confirm", "support.tickets.subject", "user.content.free_text", "--note", "rare"],
    ):
        result = runner.invoke(
            catalogue_app, [*command, "--overrides-file", str(overrides)], catch_exceptions=False
        )
        assert result.exit_code == 0, result.output
    lines = overrides.read_text().splitlines()
    assert len(lines) == 4 and lines[0].startswith("schema_name,table_name,column_name,category")

    # What `dbt seed` would load from that file, written straight to the seed's table.
    with overrides.open(newline="") as handle:
        decisions = list(csv.DictReader(handle))
    with engine.begin() as conn:
        conn.execute(sa.text("delete from steward.catalogue_overrides"))
        conn.execute(
            sa.text(
                "insert into steward.catalogue_overrides values (:schema_name, :table_name,"
                " :column_name, :category, :status, :reviewed_by, :reviewed_on, :note)"
            ),
            [{**r, "reviewed_on": dt.date.fromisoformat(r["reviewed_on"])} for r in decisions],
        )

    nightly.run_scan(catalogue_url)  # a later run re-suggests attr_3 ...
    assert (
        nightly.build_marts(
            catalogue_url,
            selector=MARTS_ONLY,
            variables={
                "steward_catalogue_drift_severity": "error",
                "steward_catalogue_no_evidence_days": 0,
            },
        )
        is False
    )  # the confirmed, undeclared subject column is a gap
    statuses = dict(
        _rows(
            catalogue_url,
            "select table_name || '.' || column_name, status from steward.pii_catalogue"
            " where (table_name, column_name) in"
            " (('customers', 'attr_3'), ('customer_addresses', 'city'), ('tickets', 'subject'))",
        )
    )
    assert statuses == {
        "customers.attr_3": "rejected",  # ... and it stays rejected
        "customer_addresses.city": "rejected",
        "tickets.subject": "confirmed",
    }
    report = nightly.summarise(catalogue_url)
    kinds = {(row["kind"], row["column"]) for row in report["drift"]}
    assert kinds == {
        ("undeclared", "support.tickets.subject"),
        ("no_evidence", "crm.customer_addresses.city"),
    }
    with engine.begin() as conn:
        conn.execute(sa.text("delete from steward.catalogue_overrides"))


AWKWARD_DDL = (
    'create schema "Odd Schema"',
    "create type \"Odd Schema\".mood as enum ('happy', 'sad')",
    'create table "Odd Schema"."Client ""VIP"" List" ('
    ' "E-Mail Address" text, "Prefs" jsonb, "Photo" bytea, "Tags" int[],'
    ' "Mood" "Odd Schema".mood, "Said ""Hi"" twice" text)',
    'insert into "Odd Schema"."Client ""VIP"" List"'
    " select 'client' || n || '@example.com', '{\"a\": 1}', '\\x00', array[n], 'happy', 'hi'"
    " from generate_series(1, 30) as n",
    'create table "Odd Schema".empty_table (email text)',
    'create view "Odd Schema".broken as'
    " select n, 1 / (n - n) as ratio from generate_series(1, 3) as n",
)


def test_awkward_columns_are_persisted_and_the_run_carries_on(catalogue_url):
    engine = warehouse.engine(catalogue_url)
    schema = "Odd Schema"
    with engine.begin() as conn:
        for statement in AWKWARD_DDL:
            conn.execute(sa.text(statement))
    summary = nightly.run_scan(catalogue_url, schemas=[schema])
    assert summary["problems_by_kind"] == {"query failed": 2}  # the view, then its column
    assert summary["columns_failed"] == 1
    found = dict(
        _rows(
            catalogue_url,
            "select table_name || '.' || column_name, category"
            " from steward.catalogue_scan_results where run_id = :run and is_pii",
            run=summary["run_id"],
        )
    )
    # The empty table's "email" is only a suggestion now: nothing backs its name.
    assert found == {'Client "VIP" List.E-Mail Address': "user.contact.email"}
    states = dict(
        _rows(
            catalogue_url,
            "select column_name, status from steward.catalogue_column_state"
            " where schema_name = :schema",
            schema=schema,
        )
    )
    assert states["Photo"] == states["Tags"] == "skipped"
    assert states["Prefs"] == states["Mood"] == states['Said "Hi" twice'] == "scanned"
    assert states["ratio"] == "failed" and states["n"] == "scanned"
    with engine.begin() as conn:
        conn.execute(sa.text('drop schema "Odd Schema" cascade'))
