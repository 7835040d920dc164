"""An incremental night of the phone models gives the rows a full refresh gives.

Seeds its own warehouse (scale s), builds the phone models in full, then adds and
changes data the contact checks depend on (new and changed campaign calls, a
deleted one, a consent revoked and one granted, an opt-out naming another holder's
number, a customer who moved country, registry rows the source landed, a CRM
number changed) and the customer records of de-duplication (chosen phones deleted
and moved to another customer, chosen addresses deleted, newer addresses), refreshes
the lookup, builds incrementally, copies every phone
table, builds with ``--full-refresh`` and compares the two row for row (EXCEPT
ALL both ways).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from steward import dbt_runner, warehouse
from steward.phones import nightly
from steward.phones.dnc import registry_engine

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REFERENCE_DATE = "2026-11-01"
PHONE_SELECTION = [
    "path:models/staging",
    "path:models/intermediate/phones",
    "path:models/marts/phones",
    "path:models/intermediate/dedupe",
]
INCREMENTAL = "int_phones__contact_checks"
RECORDS = "intermediate.int_dedupe__customer_records"
# Every table the phone models build: (schema, table).
PHONE_TABLES = [
    ("intermediate", INCREMENTAL),
    ("intermediate", "int_phones__crm_contact_checks"),
    ("intermediate", "int_dedupe__customer_records"),
] + [("steward", name) for name in (*nightly.PHONE_MARTS, "phone_quality_figures")]


def _build(url: str, scratch, *extra: str):
    arguments = ["build", "--select", *PHONE_SELECTION, *extra]
    arguments += ["--vars", f"{{phones_reference_date: '{REFERENCE_DATE}'}}"]
    result = dbt_runner.run(arguments, url, scratch=scratch, quiet=True)
    assert result.success, dbt_runner.failure_summary(result)
    return result


def _change_sources(conn) -> dict[str, int]:
    """New, changed and deleted rows in the sources the contact checks read."""
    counts = {}
    campaign = "direction = 'outbound' and campaign_id is not null"
    # New campaign calls: copies of 20 under new keys, a month later.
    counts["new_calls"] = conn.execute(
        sa.text(
            "insert into telephony.calls select call_id + (select max(call_id) from"
            " telephony.calls), customer_id, direction, caller_number, callee_number,"
            " agent_id, campaign_id, started_at + interval '30 days',"
            " ended_at + interval '30 days', duration_seconds, disposition"
            f" from telephony.calls where {campaign} order by call_id limit 20"
        )
    ).rowcount
    # Changed: 10 calls dial the customer's own CRM number instead, 10 move in time,
    # 5 stop being campaign calls, 5 are deleted.
    counts["redialled_calls"] = conn.execute(
        sa.text(
            "update telephony.calls as c set callee_number = p.phone_raw from"
            " crm.customer_phones as p where p.customer_id = c.customer_id and c.call_id in"
            f" (select call_id from telephony.calls where {campaign}"
            " order by call_id desc limit 10)"
        )
    ).rowcount
    counts["moved_calls"] = conn.execute(
        sa.text(
            "update telephony.calls set started_at = started_at - interval '400 days'"
            f" where call_id in (select call_id from telephony.calls where {campaign}"
            " order by call_id limit 10 offset 100)"
        )
    ).rowcount
    counts["no_longer_campaign"] = conn.execute(
        sa.text(
            "update telephony.calls set campaign_id = null where call_id in (select call_id"
            f" from telephony.calls where {campaign} order by call_id limit 5 offset 200)"
        )
    ).rowcount
    counts["deleted_calls"] = conn.execute(
        sa.text(
            "delete from telephony.calls where call_id in (select call_id from"
            f" telephony.calls where {campaign} order by call_id limit 5 offset 300)"
        )
    ).rowcount
    # Customers with campaign calls: their express consents revoked, new ones granted.
    counts["revoked_consents"] = conn.execute(
        sa.text(
            "update compliance.consents set revoked_at = granted_at + interval '1 day'"
            " where consent_type = 'express_written' and revoked_at is null and customer_id in"
            f" (select customer_id from telephony.calls where {campaign}) and consent_id in"
            " (select consent_id from compliance.consents order by consent_id limit 400)"
        )
    ).rowcount
    counts["granted_consents"] = conn.execute(
        sa.text(
            "insert into compliance.consents (consent_id, customer_id, phone, consent_type,"
            " granted_at) select (select max(consent_id) from compliance.consents)"
            " + row_number() over (order by customer_id), customer_id, null,"
            " 'express_written', timestamptz '2020-01-01' from (select distinct customer_id"
            f" from telephony.calls where {campaign} order by customer_id limit 10) as c"
        )
    ).rowcount
    # An opt-out naming a number dialled on a campaign call, filed by another customer.
    counts["opt_outs"] = conn.execute(
        sa.text(
            "insert into marketing.opt_outs (opt_out_id, customer_id, phone, channel,"
            " opted_out_at, source) select (select max(opt_out_id) from marketing.opt_outs)"
            " + row_number() over (order by call_id), customer_id + 1, callee_number,"
            " 'phone', started_at - interval '10 days', 'call' from telephony.calls"
            f" where {campaign} order by call_id limit 3 offset 500"
        )
    ).rowcount
    # A customer who moved: another region hint for every number of theirs.
    counts["moved_customers"] = conn.execute(
        sa.text(
            "update crm.customers set country_code = case country_code when 'US' then 'GB'"
            " else 'US' end where customer_id in (select customer_id from telephony.calls"
            f" where {campaign} order by call_id limit 3 offset 700)"
        )
    ).rowcount
    # Registry rows the source landed: numbers dialled on campaign calls.
    counts["source_listings"] = conn.execute(
        sa.text(
            "insert into compliance.dnc_registry (phone_number, snapshot_date, source_file)"
            " select distinct right(regexp_replace(callee_number, '[^0-9]', '', 'g'), 10),"
            " date '2015-01-01', 'incremental_test.txt' from telephony.calls"
            f" where {campaign} and call_id in (select call_id from telephony.calls"
            f" where {campaign} order by call_id limit 20 offset 900)"
            " and length(regexp_replace(callee_number, '[^0-9]', '', 'g')) >= 10"
            " on conflict do nothing"
        )
    ).rowcount
    # De-duplication's records: chosen phones deleted, or moved to another customer;
    # chosen addresses deleted; newer addresses (chosen from now on).
    counts["deleted_best_phones"] = conn.execute(
        sa.text(
            "delete from crm.customer_phones where phone_id in (select best_phone_id"
            f" from {RECORDS} where best_phone_id is not null order by customer_id limit 3)"
        )
    ).rowcount
    counts["moved_best_phones"] = conn.execute(
        sa.text(
            "update crm.customer_phones set customer_id = customer_id + 1 where phone_id in"
            f" (select best_phone_id from {RECORDS} where best_phone_id is not null"
            " order by customer_id limit 3 offset 10)"
        )
    ).rowcount
    counts["deleted_current_addresses"] = conn.execute(
        sa.text(
            "delete from crm.customer_addresses where address_id in (select current_address_id"
            f" from {RECORDS} where current_address_id is not null order by customer_id"
            " limit 3 offset 20)"
        )
    ).rowcount
    counts["new_addresses"] = conn.execute(
        sa.text(
            "insert into crm.customer_addresses select address_id + (select max(address_id)"
            " from crm.customer_addresses), customer_id, 'Neue Strasse 5', city, postal_code,"
            " state_code, country_code, created_at + interval '1 day'"
            " from crm.customer_addresses order by address_id limit 3 offset 40"
        )
    ).rowcount
    # A CRM number changed (its last digit).
    counts["changed_crm_numbers"] = conn.execute(
        sa.text(
            "update crm.customer_phones set phone_raw = regexp_replace(phone_raw, '[0-9]$', '7')"
            " where phone_id in (select phone_id from crm.customer_phones order by phone_id"
            " limit 20)"
        )
    ).rowcount
    return counts


@pytest.fixture(scope="module")
def incremental_night(server_admin_url, tmp_path_factory):
    from steward.seed import generate
    from tests.conftest import create_database, drop_database

    url = create_database(server_admin_url, prefix="steward_phone_incr")
    try:
        generate.seed_warehouse(
            scale="s",
            seed=42,
            url=url,
            progress=False,
            recordings_root=tmp_path_factory.mktemp("recordings"),
        )
        engine = registry_engine(url)
        scratch = tmp_path_factory.mktemp("dbt")
        nightly.run_refresh(url)
        _build(url, scratch)
        with engine.begin() as conn:
            changes = _change_sources(conn)
        nightly.run_refresh(url)
        incremental = _build(url, scratch)
        with engine.begin() as conn:
            conn.execute(sa.text("create schema incremental_night"))
            for schema, table in PHONE_TABLES:
                conn.execute(
                    sa.text(
                        f"create table incremental_night.{table} as select * from {schema}.{table}"
                    )
                )
        full = _build(url, scratch, "--full-refresh")
        yield {
            "engine": engine,
            "changes": changes,
            "incremental": incremental,
            "full": full,
        }
    finally:
        warehouse._engine_for.cache_clear()
        drop_database(server_admin_url, url)


def _inserted_rows(result, model: str) -> int:
    (node,) = [node for node in result.result.results if node.node.name == model]
    return node.adapter_response["rows_affected"]


def test_every_change_was_made(incremental_night):
    assert all(count > 0 for count in incremental_night["changes"].values()), incremental_night[
        "changes"
    ]


def test_the_night_rebuilt_only_a_slice_of_the_campaign_calls(incremental_night):
    with incremental_night["engine"].connect() as conn:
        total = conn.execute(
            sa.text(f"select count(*) from intermediate.{INCREMENTAL}")
        ).scalar_one()
        kinds = conn.execute(
            sa.text(f"select distinct check_kind from intermediate.{INCREMENTAL}")
        ).scalars()
        assert set(kinds) == {"campaign_call"}  # the CRM's numbers have a table of their own
    inserted = _inserted_rows(incremental_night["incremental"], INCREMENTAL)
    # A slice of the calls: those the changes can judge otherwise.
    assert 0 < inserted < total / 2, (inserted, total)
    assert _inserted_rows(incremental_night["full"], INCREMENTAL) == total


def test_the_night_rebuilt_only_the_changed_customer_records(incremental_night):
    with incremental_night["engine"].connect() as conn:
        total = conn.execute(sa.text(f"select count(*) from {RECORDS}")).scalar_one()
    records = RECORDS.split(".")[1]
    inserted = _inserted_rows(incremental_night["incremental"], records)
    assert 0 < inserted < total / 2, (inserted, total)
    assert _inserted_rows(incremental_night["full"], records) == total


@pytest.mark.parametrize(("schema", "table"), PHONE_TABLES)
def test_incremental_night_equals_full_refresh(incremental_night, schema, table):
    with incremental_night["engine"].connect() as conn:
        rows = conn.execute(sa.text(f"select count(*) from {schema}.{table}")).scalar_one()
        only_incremental, only_full = (
            conn.execute(
                sa.text(f"select count(*) from (select * from {a} except all select * from {b}) d")
            ).scalar_one()
            for a, b in (
                (f"incremental_night.{table}", f"{schema}.{table}"),
                (f"{schema}.{table}", f"incremental_night.{table}"),
            )
        )
    assert (only_incremental, only_full) == (0, 0), (table, rows)
    if table.startswith("int_phones__"):
        assert rows > 0
