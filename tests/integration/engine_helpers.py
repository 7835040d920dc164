"""Shared helpers of the engine's integration tests: seeded template warehouses and
copies, rows with their subject and clock worked out independently of dbt, and the
legal-hold semantics written out in Python (the specification the dbt views meet).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from steward import datamap, warehouse

# key, subject customer, retention clock of every row, per mapped table (hand-written
# from the data map's meaning, not generated from it, so the test checks the macro).
ROWS_SQL = {
    "crm.customers": "select customer_id::text, customer_id, closed_at from crm.customers",
    "crm.customer_phones": "select p.phone_id::text, p.customer_id, c.closed_at from"
    " crm.customer_phones p join crm.customers c using (customer_id)",
    "crm.customer_addresses": "select a.address_id::text, a.customer_id, c.closed_at from"
    " crm.customer_addresses a join crm.customers c using (customer_id)",
    "telephony.calls": "select call_id::text, customer_id, started_at from telephony.calls",
    "telephony.call_recordings": "select r.recording_id::text, c.customer_id,"
    " r.recorded_at from telephony.call_recordings r left join telephony.calls c"
    " using (call_id)",
    "telephony.transcripts": "select t.transcript_id::text, c.customer_id, t.created_at"
    " from telephony.transcripts t left join telephony.calls c using (call_id)",
    "billing.invoices": "select invoice_id::text, customer_id, issued_at::timestamptz"
    " from billing.invoices",
    "billing.payments": "select payment_id::text, customer_id, paid_at from billing.payments",
    "marketing.campaign_contacts": "select contact_id::text, customer_id, contacted_at"
    " from marketing.campaign_contacts",
    "marketing.opt_outs": "select opt_out_id::text, customer_id, opted_out_at from"
    " marketing.opt_outs",
    "support.tickets": "select ticket_id::text, customer_id, closed_at from support.tickets",
    "compliance.consents": "select consent_id::text, customer_id, revoked_at from"
    " compliance.consents",
    "compliance.dnc_registry": "select phone_number || '|' || snapshot_date::text,"
    " null::bigint, snapshot_date::timestamptz from compliance.dnc_registry",
}


def admin_engine(admin_url: str) -> sa.Engine:
    return sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")


def url_of(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop(admin_url: str, *names: str) -> None:
    warehouse._engine_for.cache_clear()
    admin = admin_engine(admin_url)
    with admin.connect() as conn:
        for name in names:
            conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


def seeded(admin_url: str, name: str, recordings: Path) -> str:
    """A new database seeded at scale s (seed 42), its recording files under ``recordings``."""
    from steward.seed import generate

    drop(admin_url, name)
    admin = admin_engine(admin_url)
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    admin.dispose()
    url = url_of(admin_url, name)
    generate.seed_warehouse(scale="s", seed=42, url=url, recordings_root=recordings, progress=False)
    return url


def copy_of(admin_url: str, template: str, name: str, template_root: Path, root: Path) -> str:
    """``name`` as a copy of ``template`` (no one may be connected to it), with its own
    copy of the recording files under ``root``."""
    warehouse._engine_for.cache_clear()
    drop(admin_url, name)
    admin = admin_engine(admin_url)
    with admin.connect() as conn:
        # Pooled connections this process left open (warehouse engines, dbt) block
        # a template copy; none of them is in a transaction.
        conn.execute(
            sa.text(
                "select pg_terminate_backend(pid) from pg_stat_activity"
                " where datname = :name and pid <> pg_backend_pid()"
            ),
            {"name": template},
        )
        conn.execute(sa.text(f'create database "{name}" template "{template}"'))
    admin.dispose()
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(template_root, root)
    url = url_of(admin_url, name)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "update telephony.call_recordings"
                " set storage_path = replace(storage_path, :old, :new)"
            ),
            {"old": str(template_root), "new": str(root)},
        )
    engine.dispose()
    return url


def table_rows(engine: sa.Engine) -> dict[tuple[str, str], tuple[int | None, dt.datetime | None]]:
    """(table, record_key) -> (subject customer, clock) of every row of every mapped table."""
    rows = {}
    with engine.connect() as conn:
        for table, query in ROWS_SQL.items():
            for key, customer, clock in conn.execute(sa.text(query)):
                rows[(table, key)] = (customer, clock)
    return rows


def row_digests(engine: sa.Engine, root: str = "") -> dict[tuple[str, str], str]:
    """(table, record_key) -> md5 of the whole row, for every row of every mapped table."""
    digests = {}
    with engine.connect() as conn:
        for table in datamap.load_data_map().tables:
            key = " || '|' || ".join(f't."{c}"::text' for c in table.primary_key)
            text = "replace(t::text, :root, '')" if root else "t::text"
            for record_key, digest in conn.execute(
                sa.text(f'select {key}, md5({text}) from "{table.schema}"."{table.name}" as t'),
                {"root": root},
            ):
                digests[(table.qualified_name, record_key)] = digest
    return digests


def plan_record_key(table: datamap.TableMap, row_key: dict) -> str:
    return "|".join(
        str(row_key[c]) if not isinstance(row_key[c], dict) else json.dumps(row_key[c])
        for c in table.primary_key
    )


# -- the semantics of a legal hold --------------------------------------------------


def hold_active(hold: dict, at: dt.datetime) -> bool:
    """Placed by ``at`` (no placed_at: placed), not released by then, not expired."""
    return (
        (hold["placed_at"] is None or hold["placed_at"] <= at)
        and (hold["released_at"] is None or hold["released_at"] > at)
        and (hold["expires_at"] is None or hold["expires_at"] > at)
    )


def hold_covers(hold: dict, table: str, key: str, subject, clock) -> bool:
    """Does ``hold`` (active or not) reach this row? A table hold's bounds are inclusive,
    a null bound is open, a row without a clock lies after every start date."""
    if hold["scope"] == "subject":
        return subject is not None and subject == hold["customer_id"]
    if hold["scope"] == "record":
        return table == hold["source_table"] and key == hold["record_key"]
    if table != hold["source_table"]:
        return False
    day = clock.date() if clock is not None else dt.date.max
    return (hold["date_from"] is None or day >= hold["date_from"]) and (
        hold["date_to"] is None or day <= hold["date_to"]
    )


def expected_held(
    holds: list[dict], rows: dict, at: dt.datetime, only_active: bool = True
) -> set[tuple[str, str]]:
    chosen = [h for h in holds if hold_active(h, at) or not only_active]
    return {
        (table, key)
        for (table, key), (subject, clock) in rows.items()
        if any(hold_covers(h, table, key, subject, clock) for h in chosen)
    }
