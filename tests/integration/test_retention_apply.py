"""Retention on a real seeded warehouse: dry run, circuit breaker, holds, apply, idempotence.

Runs in a database of its own (seed scale s), never the session's shared warehouse,
because applying retention deletes rows other areas' tests read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from steward import datamap
from steward.retention import executor
from steward.retention.executor import RunOptions
from steward.retention.policies import PolicyError

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SECRET = "retention-test-secret"
AS_OF = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)  # the seed's reference date


def create_database(admin_url: str, name: str) -> str:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        conn.execute(sa.text(f'create database "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, name: str) -> None:
    from steward import warehouse

    warehouse._engine_for.cache_clear()
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


def table_fingerprints(engine: sa.Engine) -> dict[str, tuple[int, str]]:
    """Row count and md5 of every mapped table's rows in key order."""
    fingerprints = {}
    with engine.connect() as conn:
        for table in datamap.load_data_map().tables:
            order = ", ".join(f'"{c}"' for c in table.primary_key)
            count, digest = conn.execute(
                sa.text(
                    f"select count(*), md5(coalesce(string_agg(t::text, E'\\n' order by {order}),"
                    f' \'\')) from "{table.schema}"."{table.name}" as t'
                )
            ).one()
            fingerprints[table.qualified_name] = (count, digest)
    return fingerprints


@pytest.fixture(scope="module")
def seeded(server_admin_url, tmp_path_factory, monkeypatch_module):
    from steward.seed import generate

    name = f"steward_retention_{dt.datetime.now().strftime('%H%M%S%f')}"
    url = create_database(server_admin_url, name)
    recordings = tmp_path_factory.mktemp("recordings")
    generate.seed_warehouse(scale="s", seed=42, url=url, recordings_root=recordings, progress=False)
    monkeypatch_module.setenv("STEWARD_RETENTION_HMAC_KEY", SECRET)
    from steward import warehouse

    engine = warehouse.engine(url)
    yield url, engine, recordings
    drop_database(server_admin_url, name)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def before(seeded):
    """The warehouse as seeded, and the overdue ground truth split by legal holds."""
    _, engine, _ = seeded
    with engine.connect() as conn:
        overdue = conn.execute(
            sa.text(
                "select schema_name || '.' || table_name, record_key"
                " from steward_ground_truth.retention_overdue"
            )
        ).all()
        customers = {
            str(row.customer_id): row
            for row in conn.execute(
                sa.text("select customer_id, first_name, email, date_of_birth from crm.customers")
            )
        }
        files = {
            str(row.recording_id): row.storage_path
            for row in conn.execute(
                sa.text("select recording_id, storage_path from telephony.call_recordings")
            )
        }
    return {
        "fingerprints": table_fingerprints(engine),
        "overdue": overdue,
        "held": held_overdue_keys(engine, overdue),
        "customers": customers,
        "files": files,
    }


def held_overdue_keys(engine: sa.Engine, overdue) -> set[tuple[str, str]]:
    """Ground-truth overdue rows a hold in force at AS_OF protects, worked out here
    from compliance.legal_holds and the raw tables, independently of the dbt models."""
    with engine.connect() as conn:
        holds = (
            conn.execute(
                sa.text(
                    "select * from compliance.legal_holds where placed_at <= :as_of"
                    " and (released_at is null or released_at > :as_of)"
                    " and (expires_at is null or expires_at > :as_of)"
                ),
                {"as_of": AS_OF},
            )
            .mappings()
            .all()
        )
        subjects = {h["customer_id"] for h in holds if h["scope"] == "subject"}
        records = {(h["source_table"], h["record_key"]) for h in holds if h["scope"] == "record"}
        ranges = [h for h in holds if h["scope"] == "table"]
        held = set()
        # Subject of each row: the customer, through calls for recordings/transcripts.
        subject_sql = {
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
            "billing.payments": "select payment_id::text, customer_id, paid_at from"
            " billing.payments",
            "marketing.campaign_contacts": "select contact_id::text, customer_id, contacted_at"
            " from marketing.campaign_contacts",
            "marketing.opt_outs": "select opt_out_id::text, customer_id, opted_out_at from"
            " marketing.opt_outs",
            "support.tickets": "select ticket_id::text, customer_id, closed_at from"
            " support.tickets",
            "compliance.consents": "select consent_id::text, customer_id, revoked_at from"
            " compliance.consents",
            "compliance.dnc_registry": "select phone_number || '|' || snapshot_date::text,"
            " null::bigint, snapshot_date::timestamptz from compliance.dnc_registry",
        }
        wanted: dict[str, set[str]] = {}
        for table, key in overdue:
            wanted.setdefault(table, set()).add(key)
        for table, keys in wanted.items():
            for key, customer, clock in conn.execute(sa.text(subject_sql[table])):
                if key not in keys:
                    continue
                in_range = any(
                    h["source_table"] == table
                    and clock is not None
                    and (h["date_from"] is None or clock.date() >= h["date_from"])
                    and (h["date_to"] is None or clock.date() <= h["date_to"])
                    for h in ranges
                )
                if customer in subjects or (table, key) in records or in_range:
                    held.add((table, key))
    return held


def present_keys(engine: sa.Engine, table: str, keys: list[str]) -> set[str]:
    schema, name = table.split(".")
    mapped = datamap.load_data_map().table(table)
    key_sql = " || '|' || ".join(f'"{c}"::text' for c in mapped.primary_key)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(f'select {key_sql} from "{schema}"."{name}" where {key_sql} = any(:keys)'),
            {"keys": keys},
        )
        return {row[0] for row in rows}


def run(url, **kwargs):
    return executor.run(RunOptions(as_of=AS_OF, **kwargs), url=url)


def test_invalid_policies_stop_the_run_before_anything_happens(seeded, before):
    url, engine, _ = seeded
    from steward.retention import policies

    broken = policies.yaml.safe_load(policies.POLICY_FILE.read_text())
    broken["masking"]["user.contact.email"] = {"strategy": "rot13"}
    with pytest.raises(PolicyError, match="rot13"):
        executor.Executor(url, policies.load_policies(broken)).run(RunOptions(apply=True))
    assert table_fingerprints(engine) == before["fingerprints"]


def test_dry_run_changes_nothing(seeded, before):
    url, engine, _ = seeded
    summary = run(url, apply=False, max_share=1.0)
    assert summary["mode"] == "dry_run"
    assert summary["totals"]["deleted"] == summary["totals"]["anonymised"] == 0
    assert summary["totals"]["due"] > 0 and summary["totals"]["held_back"] > 0
    assert {row["status"] for row in summary["policies"]} <= {"would_run", "nothing_due"}
    assert table_fingerprints(engine) == before["fingerprints"]
    assert all(Path(path).exists() for path in before["files"].values())
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from steward.retention_audit")).scalar() == 0


def test_circuit_breaker_stops_a_policy_until_approved(seeded, before):
    url, engine, _ = seeded
    summary = run(url, apply=True, max_share=0.2, policies=("telephony.calls", "billing.invoices"))
    by_policy = {row["policy"]: row for row in summary["policies"]}
    calls = by_policy["telephony.calls"]
    assert calls["due_share"] > 0.2 and calls["stopped_by_breaker"] and calls["deleted"] == 0
    assert summary["stopped_by_breaker"] == ["telephony.calls"]
    assert (
        table_fingerprints(engine)["telephony.calls"] == before["fingerprints"]["telephony.calls"]
    )
    invoices = by_policy["billing.invoices"]
    assert not invoices["stopped_by_breaker"] and invoices["deleted"] == invoices["due"] > 0

    approval = executor.approve("telephony.calls", "test", url=url)
    assert approval["approved"][0]["approved_due_rows"] == calls["due"]
    summary = run(url, apply=True, max_share=0.2, policies=("telephony.calls",))
    (calls,) = summary["policies"]
    assert calls["deleted"] == calls["due"] > 0 and not calls["stopped_by_breaker"]
    with engine.connect() as conn:
        consumed = conn.execute(
            sa.text("select consumed_by_run from steward.retention_approvals")
        ).scalar()
    assert consumed == summary["run_id"]


def test_a_hold_placed_after_the_plan_stops_the_batch_before_it_commits(seeded):
    url, engine, _ = seeded
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into compliance.legal_holds (hold_id, case_reference, scope, customer_id,"
                " placed_at) values (999, 'CASE-LATE', 'subject', 1, :placed)"
            ),
            {"placed": AS_OF - dt.timedelta(days=1)},
        )
    state = table_fingerprints(engine)
    try:
        with pytest.raises(executor.RetentionError, match="legal holds changed"):
            run(url, apply=True, max_share=1.0, build=False)
        assert table_fingerprints(engine) == state
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("delete from compliance.legal_holds where hold_id = 999"))


def test_apply_removes_exactly_the_overdue_rows_except_held_ones(seeded, before):
    url, engine, _ = seeded
    # A due recording whose file someone already removed: not an error.
    with engine.connect() as conn:
        gone = conn.execute(
            sa.text(
                "select min(sort_key)::text from steward.retention_due_keys"
                " where policy_name = 'telephony.call_recordings'"
            )
        ).scalar()
    Path(before["files"][gone]).unlink()
    summary = run(url, apply=True, max_share=1.0)
    assert summary["verification"]["passed"], summary["verification"]
    assert summary["totals"]["held_back"] > 0
    (recordings,) = [p for p in summary["policies"] if p["policy"] == "telephony.call_recordings"]
    assert recordings["files_missing"] == 1
    assert recordings["files_removed"] == recordings["deleted"] - 1 > 0

    actions = {p["policy"]: p["action"] for p in summary["policies"]}
    by_table: dict[str, list[str]] = {}
    for table, key in before["overdue"]:
        by_table.setdefault(table, []).append(key)
    assert before["held"], "the seed plants held rows past their period"
    for table, keys in by_table.items():
        present = present_keys(engine, table, keys)
        held = {key for t, key in before["held"] if t == table}
        if actions[table] == "anonymise":
            assert present == set(keys)
            continue
        # Every overdue row is gone, except exactly the held ones.
        assert present == held, table

    # Held overdue rows are untouched, byte for byte.
    held_customers = [key for table, key in before["held"] if table == "crm.customers"]
    assert held_customers
    with engine.connect() as conn:
        for key in held_customers:
            row = conn.execute(
                sa.text(
                    "select first_name, email, date_of_birth from crm.customers"
                    " where customer_id = :id"
                ),
                {"id": int(key)},
            ).one()
            original = before["customers"][key]
            assert tuple(row) == (original.first_name, original.email, original.date_of_birth)
        # Anonymised customers: names gone, e-mail the HMAC the Python reference computes.
        anonymised = [
            key
            for table, key in before["overdue"]
            if table == "crm.customers" and (table, key) not in before["held"]
        ]
        assert anonymised
        for key in anonymised:
            row = conn.execute(
                sa.text(
                    "select first_name, last_name, email, date_of_birth, gender"
                    " from crm.customers where customer_id = :id"
                ),
                {"id": int(key)},
            ).one()
            original = before["customers"][key]
            assert row.first_name is None and row.last_name is None and row.gender is None
            expected = (
                hmac.new(SECRET.encode(), original.email.encode(), hashlib.sha256).hexdigest()
                if original.email
                else None
            )
            assert row.email == expected
            if original.date_of_birth:
                assert row.date_of_birth == original.date_of_birth.replace(month=1, day=1)

    # Audit totals equal what left each table; files of deleted recordings are gone.
    after = table_fingerprints(engine)
    with engine.connect() as conn:
        audited = dict(
            conn.execute(
                sa.text(
                    "select policy_name, sum(row_count) from steward.retention_audit"
                    " where retention_action <> 'anonymise' group by 1"
                )
            ).all()
        )
        remaining = {
            str(row[0])
            for row in conn.execute(sa.text("select recording_id from telephony.call_recordings"))
        }
    for table, deleted in audited.items():
        assert before["fingerprints"][table][0] - after[table][0] == deleted, table
    for recording_id, path in before["files"].items():
        assert Path(path).exists() == (recording_id in remaining)


def test_rerun_is_idempotent(seeded):
    url, engine, _ = seeded
    state = table_fingerprints(engine)
    summary = run(url, apply=True, max_share=1.0)
    assert summary["totals"]["deleted"] == summary["totals"]["anonymised"] == 0
    assert summary["totals"]["due"] == 0
    assert summary["verification"]["passed"]
    assert table_fingerprints(engine) == state


def test_the_run_summary_is_stored_for_the_dashboard(seeded):
    _, engine, _ = seeded
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select run_mode, run_status, summary from steward.retention_runs"
                " order by started_at"
            )
        ).all()
    # The run interrupted by the late hold was resumed (attempt 2) by the next one.
    assert [row.run_mode for row in rows] == ["dry_run", "apply", "apply", "apply", "apply"]
    assert all(row.run_status == "done" for row in rows)
    assert rows[-2].summary["resumed"] and rows[-2].summary["totals"]["deleted"] > 0
