"""The PII scan against a real PostgreSQL database full of awkward cases."""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa
from faker import Faker
from sqlalchemy.dialects import postgresql

from steward import warehouse
from steward.catalogue import categories as cat
from steward.catalogue import sampling, scan_schemas
from steward.catalogue.scanner import scan_tables

pytestmark = pytest.mark.integration

SCHEMA = "Call Centre"
CUSTOMERS = 'Customer "Master" List'
ROWS = 300


def _planted_rows() -> list[dict]:
    fake = Faker("en_US")
    Faker.seed(7)
    rng = random.Random(7)
    rows = []
    for i in range(ROWS):
        note = (
            rng.choice(
                [
                    "Customer asked about the roaming tariff and was satisfied.",
                    "Complaint about a dropped call during the evening, escalated to tier two.",
                    "Wanted to know when the new contract starts; explained the billing cycle.",
                ]
            )
            + f" Ticket {i}."
        )
        if i % 4 == 0:
            note += f" Call back on (650) 253-{i:04d} please."
        rows.append(
            {
                "customer_id": 1000 + i,
                "email": f"{fake.user_name()}{i}@example.com",
                "phone": f"+1 650 253 {i:04d}",
                "ssn": f"219-{i % 98 + 1:02d}-{i + 1:04d}",
                "contact": f"{fake.first_name()} {fake.last_name()}",
                "notes": note,
                "plan": rng.choice(["gold", "silver", "bronze"]),
                "quote": rng.choice(["hi", "hello", "bye"]),
                "prefs": {"channel": rng.choice(["sms", "post"])},
                "mood": rng.choice(["happy", "sad"]),
                "active": i % 2 == 0,
            }
        )
    return rows


@pytest.fixture
def awkward_database(empty_database):
    engine = warehouse.engine(empty_database)
    rows = _planted_rows()
    with engine.begin() as conn:
        for statement in (
            'create schema "Call Centre"',
            """create type "Call Centre".mood as enum ('happy', 'sad')""",
            '''
            create table "Call Centre"."Customer ""Master"" List" (
                "Customer ID" bigint primary key,
                "E-Mail Address" text,
                "Phone" text,
                attr_3 text,
                "Kontakt" text,
                notes text,
                "Plan Code" text,
                "Said ""Hello""" text,
                "Preferences" jsonb,
                "Photo" bytea,
                "Tags" int[],
                "Mood" "Call Centre".mood,
                "Is Active" boolean,
                "Created At" timestamptz default now()
            )
            ''',
            'create table "Call Centre".empty_table (email text, dob date, amount numeric)',
            'create table "Call Centre".things (id int, label text)',
            """insert into "Call Centre".things
               select n, 'thing ' || n from generate_series(1, 50) as n""",
            # Fails at query time: every row divides by zero.
            """create view "Call Centre".broken_view as
               select id, label, 1 / (id - id) as ratio from "Call Centre".things""",
            'create table "Call Centre".doomed (email text)',
        ):
            conn.execute(sa.text(statement))
        customers = sa.table(
            sa.sql.quoted_name(CUSTOMERS, quote=True),
            *(
                sa.column(name)
                for name in (
                    "Customer ID",
                    "E-Mail Address",
                    "Phone",
                    "attr_3",
                    "Kontakt",
                    "notes",
                    "Plan Code",
                    'Said "Hello"',
                    "Photo",
                    "Tags",
                    "Mood",
                    "Is Active",
                )
            ),
            sa.column("Preferences", postgresql.JSONB),
            schema=sa.sql.quoted_name(SCHEMA, quote=True),
        )
        conn.execute(
            customers.insert(),
            [
                {
                    "Customer ID": r["customer_id"],
                    "E-Mail Address": r["email"],
                    "Phone": r["phone"],
                    "attr_3": r["ssn"],
                    "Kontakt": r["contact"],
                    "notes": r["notes"],
                    "Plan Code": r["plan"],
                    'Said "Hello"': r["quote"],
                    "Preferences": r["prefs"],
                    "Photo": b"\x89PNG" + bytes([r["customer_id"] % 256]),
                    "Tags": [1, 2, r["customer_id"]],
                    "Mood": r["mood"],
                    "Is Active": r["active"],
                }
                for r in rows
            ],
        )
    return engine, rows


def _pii(report) -> dict[tuple[str, str], str]:
    return {(f.table, f.column): f.category for f in report.pii()}


def test_scan_finds_exactly_the_planted_pii(awkward_database):
    engine, rows = awkward_database
    report = scan_schemas(engine, [SCHEMA], sample_rows=200, seed=11)

    assert _pii(report) == {
        (CUSTOMERS, "E-Mail Address"): cat.EMAIL,
        (CUSTOMERS, "Phone"): cat.PHONE,
        (CUSTOMERS, "attr_3"): cat.US_SSN,  # SSNs behind an unhelpful name
        (CUSTOMERS, "Kontakt"): cat.FULL_NAME,  # names behind an unhelpful name
        (CUSTOMERS, "notes"): cat.FREE_TEXT,
    }
    # An empty table's telling column names are suggestions, not PII: nothing backs them.
    suggested = {
        (f.table, f.column): f for f in report.findings if f.table in ("empty_table", "doomed")
    }
    assert set(suggested) == {
        ("empty_table", "email"),
        ("empty_table", "dob"),
        ("doomed", "email"),
    }
    assert all(not f.is_pii and 0 < f.confidence < 0.5 for f in suggested.values())
    notes = next(f for f in report.pii() if f.column == "notes")
    assert notes.evidence["span_kinds"] == {"phone_number": notes.evidence["values_with_pii_spans"]}
    ssn = next(f for f in report.pii() if f.column == "attr_3")
    assert 0 < ssn.evidence["sample_rows"] <= 200
    assert ssn.evidence["matches"] == ssn.evidence["non_null"] == ssn.evidence["sample_rows"]

    statuses = {(s.table, s.column): s for s in report.columns}
    for column, reason in [
        ("Photo", "binary"),
        ("Tags", "array"),
        ("Is Active", "boolean"),
        ("Created At", "date"),
    ]:
        assert statuses[(CUSTOMERS, column)].status == "skipped"
        assert reason in statuses[(CUSTOMERS, column)].reason
    assert statuses[(CUSTOMERS, "Preferences")].status == "scanned"  # json: spans only
    assert statuses[(CUSTOMERS, "Mood")].status == "scanned"  # enum: as text

    # The view fails as a whole, then column by column only "ratio" fails.
    assert statuses[("broken_view", "ratio")].status == "failed"
    assert statuses[("broken_view", "id")].status == "scanned"
    assert statuses[("broken_view", "label")].status == "scanned"
    view_problems = [p for p in report.problems if p.table == "broken_view"]
    assert {p.column for p in view_problems} == {None, "ratio"}
    assert all(p.detail.startswith("22012") for p in view_problems)  # division_by_zero

    serialized = report.to_json()
    for row in rows:
        for key in ("email", "phone", "ssn", "contact", "notes"):
            assert row[key] not in serialized
    assert report.timings["per_table"][f"{SCHEMA}.{CUSTOMERS}"]["rows"] <= 200


def test_a_table_dropped_mid_scan_is_reported_and_the_scan_carries_on(awkward_database):
    engine, _ = awkward_database
    with engine.connect() as conn:
        tables = sampling.list_tables(conn, [SCHEMA], [])
    with engine.begin() as conn:
        conn.execute(sa.text('drop table "Call Centre".doomed'))

    report = scan_tables(engine, tables, sample_rows=100)

    (problem,) = [p for p in report.problems if p.table == "doomed"]
    assert problem.kind == "table disappeared" and problem.detail.startswith("42P01")
    assert {s.status for s in report.columns if s.table == "doomed"} == {"failed"}
    assert (CUSTOMERS, "E-Mail Address") in _pii(report)


def test_large_tables_are_sampled_not_read(awkward_database):
    engine, _ = awkward_database
    with engine.begin() as conn:
        conn.execute(sa.text('create table "Call Centre".big (id int, email text)'))
        conn.execute(
            sa.text(
                """insert into "Call Centre".big
                   select n, 'user' || n || '@example.com' from generate_series(1, 60000) as n"""
            )
        )
        conn.execute(sa.text('analyze "Call Centre".big'))
    first = scan_schemas(engine, [SCHEMA], sample_rows=500, seed=3)
    again = scan_schemas(engine, [SCHEMA], sample_rows=500, seed=3)
    timing = first.timings["per_table"][f"{SCHEMA}.big"]
    assert timing["method"] == "tablesample"
    assert 0 < timing["rows"] <= 500
    email = [f for f in first.pii() if f.table == "big"]
    assert [f.category for f in email] == [cat.EMAIL]
    # REPEATABLE (seed): the same sample twice.
    assert [f.evidence for f in first.findings if f.table == "big"] == [
        f.evidence for f in again.findings if f.table == "big"
    ]
    full = scan_schemas(engine, [SCHEMA], full_scan=True)
    assert full.timings["per_table"][f"{SCHEMA}.big"]["rows"] == 60000
