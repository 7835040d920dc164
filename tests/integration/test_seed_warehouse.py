"""Seeding scale ``s`` into real PostgreSQL: counts, determinism, files, planted cases."""

from __future__ import annotations

import os
import shutil
import time

import phonenumbers
import pytest
import sqlalchemy as sa

from steward import warehouse
from steward.seed import generate, loader, phones

pytestmark = pytest.mark.integration

TRUTH = generate.GROUND_TRUTH_SCHEMA


def source_tables(conn) -> list[tuple[str, str]]:
    rows = conn.execute(
        sa.text(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema = any(:schemas) order by 1, 2"
        ),
        {"schemas": list(loader.source_schemas())},
    )
    return [tuple(row) for row in rows]


def quoted(conn, schema: str, table: str) -> str:
    preparer = conn.dialect.identifier_preparer
    return f"{preparer.quote_identifier(schema)}.{preparer.quote_identifier(table)}"


def checksums(url: str, recordings_root: str) -> dict[str, str]:
    """md5 of every source table's rows (recording root folder masked)."""
    with warehouse.engine(url).connect() as conn:
        result = {}
        for schema, table in source_tables(conn):
            result[f"{schema}.{table}"] = conn.execute(
                sa.text(
                    f"select md5(string_agg(replace(t::text, :root, ''), '|' order by t::text))"
                    f" from {quoted(conn, schema, table)} t"
                ),
                {"root": recordings_root},
            ).scalar()
        return result


@pytest.fixture(scope="module")
def conn(seeded_warehouse, warehouse_url):
    with warehouse.engine(warehouse_url).connect() as connection:
        yield connection


def test_every_source_table_has_the_reported_rows(seeded_warehouse, conn):
    tables = source_tables(conn)
    assert {f"{s}.{t}" for s, t in tables} == set(seeded_warehouse.row_counts)
    for schema, table in tables:
        count = conn.execute(sa.text(f"select count(*) from {quoted(conn, schema, table)}"))
        assert count.scalar() == seeded_warehouse.row_counts[f"{schema}.{table}"] > 0


def test_report_summary_lists_tables(seeded_warehouse):
    text = seeded_warehouse.summary()
    assert "telephony.calls" in text and "total" in text
    assert seeded_warehouse.elapsed_seconds > 0


def test_keys_exist_after_load(conn):
    keys = conn.execute(
        sa.text(
            "select count(*) from information_schema.table_constraints"
            " where constraint_type = 'PRIMARY KEY' and table_schema = any(:schemas)"
        ),
        {"schemas": list(loader.source_schemas())},
    ).scalar()
    assert keys == len(source_tables(conn))


def test_seeding_is_deterministic(seeded_warehouse, warehouse_url, empty_database):
    started = time.monotonic()
    again = generate.seed_warehouse(scale="s", seed=42, url=empty_database, progress=False)
    assert time.monotonic() - started < 10
    assert again.row_counts == seeded_warehouse.row_counts
    try:
        first = checksums(warehouse_url, str(seeded_warehouse.recordings_root))
        second = checksums(empty_database, str(again.recordings_root))
    finally:
        shutil.rmtree(again.recordings_root, ignore_errors=True)
    assert first == second


def test_recording_files_exist_for_every_storage_path(conn):
    paths = conn.execute(sa.text("select storage_path from telephony.call_recordings")).scalars()
    paths = list(paths)
    assert paths
    missing = [path for path in paths if not os.path.isfile(path)]
    assert missing == []


def test_pii_columns_exist(conn):
    listed = conn.execute(
        sa.text(f"select schema_name, table_name, column_name from {TRUTH}.pii_columns")
    ).all()
    actual = set(
        conn.execute(
            sa.text(
                "select table_schema, table_name, column_name from information_schema.columns"
                " where table_schema = any(:schemas)"
            ),
            {"schemas": list(loader.source_schemas())},
        ).all()
    )
    assert listed and set(listed) <= actual


def test_duplicate_customers_share_birth_date_phone_and_email(conn):
    clusters = conn.execute(
        sa.text(
            f"""
            select d.cluster_id,
                   count(*) as members,
                   count(distinct c.date_of_birth) as birth_dates,
                   count(distinct lower(c.email)) filter (where c.email is not null) as emails,
                   count(distinct c.first_name) as first_names
            from {TRUTH}.duplicate_customers d
            join crm.customers c using (customer_id)
            group by d.cluster_id
            """
        )
    ).all()
    assert len(clusters) >= 3
    for cluster in clusters:
        assert cluster.members >= 2
        assert cluster.birth_dates == 1
        assert cluster.emails <= 1
        assert cluster.first_names >= 2  # a typo in the copy's name
    shared_numbers = conn.execute(
        sa.text(
            f"""
            select d.cluster_id,
                   count(distinct p.customer_id) as holders,
                   count(distinct p.phone_raw) as spellings
            from {TRUTH}.duplicate_customers d
            join {TRUTH}.phone_cases p using (customer_id)
            where p.expected_e164 is not null
            group by d.cluster_id, p.expected_e164
            having count(distinct p.customer_id) > 1
            """
        )
    ).all()
    assert {row.cluster_id for row in shared_numbers} == {row.cluster_id for row in clusters}
    assert all(row.spellings >= 2 for row in shared_numbers)


def test_duplicate_phones_are_one_number_spelled_twice(conn):
    pairs = conn.execute(
        sa.text(
            f"""
            select d.customer_id, d.e164, count(*) as rows, count(distinct p.phone_raw) as raws
            from {TRUTH}.duplicate_phones d
            join crm.customer_phones p using (phone_id)
            group by 1, 2
            """
        )
    ).all()
    assert pairs
    assert all(row.rows >= 2 and row.raws == row.rows for row in pairs)


def test_phone_cases_agree_with_phonenumbers(conn):
    cases = conn.execute(
        sa.text(
            f"""
            select g.phone_raw, g.region, g.spelling, g.expected_e164, g.expected_status,
                   p.is_disconnected, p.phone_raw = g.phone_raw as same_raw
            from {TRUTH}.phone_cases g join crm.customer_phones p using (phone_id)
            """
        )
    ).all()
    statuses = {row.expected_status for row in cases}
    assert statuses == {"valid", "invalid", "disconnected"}
    for row in cases:
        assert row.same_raw
        assert row.is_disconnected == (row.expected_status == "disconnected")
        parsed = phones.parses_to(row.phone_raw, row.region)
        if row.expected_status == "invalid":
            assert parsed is None and row.expected_e164 is None, row.phone_raw
        elif row.spelling == "idd" and row.region in phones.NANP_REGIONS:
            assert row.phone_raw.startswith("001 ")
        else:
            assert parsed == row.expected_e164, row.phone_raw
            assert phonenumbers.is_valid_number(phonenumbers.parse(row.expected_e164))


def test_inactive_phones_have_no_recent_connected_call(conn):
    inactive, active = conn.execute(
        sa.text(
            f"select count(*) filter (where is_inactive), count(*) filter (where not is_inactive)"
            f" from {TRUTH}.phone_cases where expected_status <> 'invalid'"
        )
    ).one()
    assert inactive > 0 and active > 0
    wrong = conn.execute(
        sa.text(
            f"""
            select count(*) from {TRUTH}.phone_cases g
            where g.is_inactive and g.last_connected_call_at
                  >= date :reference - interval '365 days'
            """
        ),
        {"reference": generate.REFERENCE_DATE},
    ).scalar()
    assert wrong == 0


def test_spread_subjects_appear_in_every_system(conn):
    subjects = conn.execute(sa.text(f"select * from {TRUTH}.spread_subjects")).all()
    assert len(subjects) == generate.SCALES["s"].spread_subjects
    by_customer = [
        "crm.customer_phones",
        "crm.customer_addresses",
        "telephony.calls",
        "billing.invoices",
        "billing.payments",
        "marketing.campaign_contacts",
        "marketing.opt_outs",
        "support.tickets",
        "compliance.consents",
    ]
    for subject in subjects:
        for table in by_customer:
            found = conn.execute(
                sa.text(f"select count(*) from {table} where customer_id = :id"),
                {"id": subject.customer_id},
            ).scalar()
            assert found > 0, table
        recorded = conn.execute(
            sa.text(
                "select count(*) from telephony.call_recordings r"
                " join telephony.calls c using (call_id) where c.customer_id = :id"
            ),
            {"id": subject.customer_id},
        ).scalar()
        assert recorded > 0
        digits = subject.e164[2:]  # national significant number of a +1 number
        spellings = conn.execute(
            sa.text(
                """
                select distinct spelling from (
                    select phone_raw as spelling from crm.customer_phones
                        where customer_id = :id
                    union all select caller_number from telephony.calls where customer_id = :id
                    union all select callee_number from telephony.calls where customer_id = :id
                    union all select phone from marketing.campaign_contacts
                        where customer_id = :id
                    union all select phone from marketing.opt_outs where customer_id = :id
                    union all select phone from compliance.consents where customer_id = :id
                ) s
                where regexp_replace(spelling, '\\D', '', 'g') like '%' || :digits || '%'
                """
            ),
            {"id": subject.customer_id, "digits": digits},
        ).scalars()
        assert len(list(spellings)) >= 4
        upper_email = conn.execute(
            sa.text(
                """
                select count(*) from (
                    select email from marketing.campaign_contacts where customer_id = :id
                    union all select body from telephony.transcripts t
                        join telephony.calls c using (call_id) where c.customer_id = :id
                ) s(text) where position(:upper in text) > 0
                """
            ),
            {"id": subject.customer_id, "upper": subject.email.upper()},
        ).scalar()
        assert upper_email > 0
        mentioned = conn.execute(
            sa.text(
                "select count(*) from support.tickets where customer_id = :id"
                " and position(:email in notes) > 0"
            ),
            {"id": subject.customer_id, "email": subject.email},
        ).scalar()
        assert mentioned > 0


def test_retention_overdue_rows_are_ancient_and_exist(conn):
    per_table = dict(
        conn.execute(
            sa.text(
                f"select schema_name || '.' || table_name, count(*)"
                f" from {TRUTH}.retention_overdue group by 1"
            )
        ).all()
    )
    assert {"telephony.calls", "billing.invoices", "support.tickets"} <= set(per_table)
    too_recent = conn.execute(
        sa.text(
            f"select count(*) from {TRUTH}.retention_overdue"
            f" where clock >= date :reference - make_interval(years => :years)"
        ),
        {"reference": generate.REFERENCE_DATE, "years": generate.ANCIENT_YEARS},
    ).scalar()
    assert too_recent == 0
    orphans = conn.execute(
        sa.text(
            f"""
            select count(*) from {TRUTH}.retention_overdue o
            where o.table_name = 'calls' and not exists (
                select 1 from telephony.calls c where c.call_id::text = o.record_key)
            """
        )
    ).scalar()
    assert orphans == 0


def test_payments_hold_some_full_luhn_valid_cards(conn):
    from steward.seed import identifiers

    cards = conn.execute(
        sa.text(
            "select card_number from billing.payments"
            " where card_number is not null and card_number not like '*%'"
        )
    ).scalars()
    cards = list(cards)
    assert cards
    assert all(identifiers.luhn_valid(card) for card in cards)
    masked = conn.execute(
        sa.text("select count(*) from billing.payments where card_number like '************%'")
    ).scalar()
    assert masked > len(cards)


def test_legal_holds_cover_every_scope(conn):
    scopes = conn.execute(
        sa.text("select distinct scope from compliance.legal_holds order by 1")
    ).scalars()
    assert list(scopes) == ["record", "subject", "table"]
