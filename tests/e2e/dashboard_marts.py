"""Minimal marts with known aggregates, for the dashboard's integration and browser tests.

The tables carry the columns the marts over them read, under the names the real
ones use; Steward's own tables (retention, DSAR, quality results) come from steward.schema.
Real dbt then builds the marts the dashboard reads (``DASHBOARD_MARTS``) on them.
The DSAR requests hold a subject's e-mail, phone and name (as the real register
does): the page must show none of them.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from steward import dbt_runner, schema, warehouse
from steward.dashboard import governance, queries

# What dbt builds on the hand-made tables: every mart the dashboard reads (dedupe aside).
DASHBOARD_MARTS = (
    "catalogue_column_counts",
    "catalogue_gap_counts",
    *queries.PHONE_TABLES,
    *queries.RETENTION_TABLES,
    *queries.REQUEST_TABLES,
    *queries.QUALITY_TABLES,
    *governance.REDACTION_TABLES,
)

SUBJECT_EMAIL = "planted.subject@example.org"
SUBJECT_PHONE = "+44 20 7946 0958"
SUBJECT_NAME = "Perpetua Quillfeather"

# What the page must show for these marts.
EXPECTED = {
    "undeclared": "2",
    "confirmed": "3",
    "suggested": "3",
    "valid_rate": "95.0%",
    "duplicate_groups": "3",
    "inactive": "5",
    "dnc_violations": "4",
    "consent_violations": "1",
    "breaker_awaiting": "1",
    "backlog_due": "502",
    "open_requests": "2",
    "overdue_requests": "1",
    "stalled_requests": "1",
    "failed_validation": "1",
    "received_requests": "6",
    "on_time_share": "50.0%",
    "median_days": "27.5",
    "quality_passed": "75.0%",
}

_CATALOGUE = """
create schema if not exists steward;
create table steward.pii_catalogue (
    schema_name text, table_name text, column_name text, category text,
    status text, is_current boolean, confidence numeric
);
insert into steward.pii_catalogue values
    ('crm', 'customers', 'email', 'user.contact.email', 'confirmed', true, 0.99),
    ('crm', 'customers', 'first_name', 'user.name.first', 'confirmed', true, 0.95),
    ('billing', 'payments', 'card_number', 'user.financial.card_number', 'confirmed', false, 0.99),
    ('telephony', 'calls', 'caller', 'user.contact.phone_number', 'suggested', true, 0.9),
    ('telephony', 'agents', 'phone', 'user.contact.phone_number', 'suggested', true, 0.8),
    ('support', 'tickets', 'old_col', 'user.contact.email', 'suggested', false, 0.7),
    ('crm', 'customers', 'gender', 'user.contact.email', 'rejected', true, 0.3);
create table steward.catalogue_drift (
    drift_kind text, schema_name text, table_name text, column_name text,
    declared_category text, found_categories text, confidence numeric, detail text
);
insert into steward.catalogue_drift values
    ('no_evidence', 'crm', 'customers', 'attr_9', 'user.name.last', null, null,
     'declared but no personal data found'),
    ('category_mismatch', 'crm', 'customers', 'attr_1', 'user.name.first',
     'user.contact.email', 0.9, 'declared under a category the evidence does not support'),
    ('undeclared', 'support', 'tickets', 'notes', null, 'user.contact.phone_number', 0.97,
     'personal data in a column the data map does not declare'),
    ('undeclared', 'crm', 'customers', 'attr_3', null, 'user.government_id.national_id', 1.0,
     'personal data in a column the data map does not declare');
"""

_PHONES = """
create table steward.customer_phone_numbers (phone_id bigint, parse_status text, is_valid boolean);
insert into steward.customer_phone_numbers
    select g, case when g <= 38 then 'valid' else 'invalid' end, g <= 38
    from generate_series(1, 40) as g;
create table steward.phone_duplicate_groups (duplicate_group_id text, phone_id bigint);
insert into steward.phone_duplicate_groups values
    ('a', 1), ('a', 2), ('b', 3), ('b', 4), ('b', 5), ('c', 6), ('c', 7);
create table steward.inactive_phone_numbers (phone_id bigint, inactive_reason text);
insert into steward.inactive_phone_numbers values
    (39, 'disconnected'), (40, 'disconnected'), (11, 'disconnected'),
    (12, 'no_connected_call'), (13, 'no_connected_call');
create table steward.dnc_violations (call_id bigint, violation_reason text);
insert into steward.dnc_violations values
    (1, 'national_dnc'), (2, 'national_dnc'), (3, 'national_dnc'), (4, 'internal_opt_out');
create table steward.recording_consent_violations (recording_id bigint);
insert into steward.recording_consent_violations values (1);
"""

_QUALITY = """
insert into steward.quality_results (run_id, run_at, suite_name, expectation_type,
    check_name, column_name, success, observed_value) values
    ('r1', now() - interval '1 day', 'phone_quality', 'expect_x', 'valid_rate', null, true, 0.97),
    ('r1', now() - interval '1 day', 'phone_quality', 'expect_x', 'no_dnc', null, true, 0),
    ('r1', now() - interval '1 day', 'phone_quality', 'expect_x', 'e164_unique', null, true, 0),
    ('r1', now() - interval '1 day', 'phone_quality', 'expect_x', 'not_null', null, true, 0),
    ('r2', now(), 'phone_quality', 'expect_x', 'valid_rate', null, false, 0.91),
    ('r2', now(), 'phone_quality', 'expect_x', 'no_dnc', null, true, 0),
    ('r2', now(), 'phone_quality', 'expect_x', 'e164_unique', null, true, 0),
    ('r2', now(), 'phone_quality', 'expect_x', 'not_null', null, true, 0);
"""

_RETENTION = """
insert into steward.retention_runs (run_id, run_mode, run_status, as_of, max_share, batch_size,
    started_at)
values
    ('run-a', 'apply', 'done', now() - interval '2 days', 0.3, 1000, now() - interval '2 days'),
    ('run-b', 'apply', 'done', now() - interval '1 day', 0.3, 1000, now() - interval '1 day');
insert into steward.retention_run_policies (run_id, policy_name, rule_name, retention_action,
    policy_status, overdue_rows, held_rows, due_rows, table_rows, due_share)
values
    ('run-a', 'crm.customers', 'r1', 'delete', 'done', 11, 1, 10, 1000, 0.01),
    ('run-a', 'telephony.calls', 'r2', 'anonymise', 'done', 5, 0, 5, 1000, 0.005),
    ('run-b', 'crm.customers', 'r1', 'delete', 'done', 3, 1, 2, 990, 0.002),
    ('run-b', 'telephony.calls', 'r2', 'anonymise', 'stopped_by_breaker', 502, 2, 500, 1000, 0.5);
insert into steward.retention_audit (run_id, policy_name, rule_name, retention_action, batch_no,
    row_count, keys_sha256, first_sort_key, first_record_key, last_sort_key, last_record_key,
    started_at)
values
    ('run-a', 'crm.customers', 'r1', 'delete', 1, 6, 'x', 1, '1', 6, '6', now()),
    ('run-a', 'crm.customers', 'r1', 'delete', 2, 4, 'x', 7, '7', 10, '10', now()),
    ('run-a', 'telephony.calls', 'r2', 'anonymise', 1, 5, 'x', 1, '1', 5, '5', now()),
    ('run-b', 'crm.customers', 'r1', 'delete', 1, 2, 'x', 11, '11', 12, '12', now());
insert into steward.retention_files (run_id, policy_name, batch_no, storage_path, removed_at,
    outcome)
values
    ('run-a', 'telephony.calls', 1, 'a.wav', now(), 'removed'),
    ('run-a', 'telephony.calls', 1, 'b.wav', now(), 'removed'),
    ('run-a', 'telephony.calls', 1, 'c.wav', now(), 'removed');
"""


def _requests(conn: sa.Connection) -> None:
    today = conn.execute(sa.text("select current_date")).scalar_one()
    rows = [
        # ticket, type, status, received, due, completed
        (
            "T-1",
            "access",
            "received",
            today - dt.timedelta(days=5),
            today + dt.timedelta(days=10),
            None,
        ),
        (
            "T-2",
            "deletion",
            "in_progress",
            today - dt.timedelta(days=40),
            today - dt.timedelta(days=1),
            None,
        ),
        (
            "T-3",
            "access",
            "completed",
            today - dt.timedelta(days=20),
            today + dt.timedelta(days=10),
            today - dt.timedelta(days=5),
        ),
        (
            "T-4",
            "correction",
            "completed",
            today - dt.timedelta(days=50),
            today - dt.timedelta(days=20),
            today - dt.timedelta(days=10),
        ),
    ]
    rejected = [
        # ticket, type, received, reason
        ("T-5", "deletion", today - dt.timedelta(days=1), "invalid request: email: not valid"),
        ("T-6", "access", today - dt.timedelta(days=9), "identity could not be verified"),
    ]
    for ticket, kind, received, reason in rejected:
        conn.execute(
            sa.text(
                "insert into steward.dsar_requests (ticket_reference, request_type, jurisdiction,"
                " received_on, status, rejection_reason, email, phone, full_name)"
                " values (:ticket, :kind, 'GDPR', :received, 'rejected', :reason, :email,"
                " :phone, :name)"
            ),
            {
                "ticket": ticket,
                "kind": kind,
                "received": received,
                "reason": reason,
                "email": SUBJECT_EMAIL,
                "phone": SUBJECT_PHONE,
                "name": SUBJECT_NAME,
            },
        )
    for ticket, kind, status, received, due, completed in rows:
        conn.execute(
            sa.text(
                "insert into steward.dsar_requests (ticket_reference, request_type, jurisdiction,"
                " received_on, status, original_due_on, due_on, email, phone, full_name,"
                " completed_at, updated_at)"
                " values (:ticket, :kind, 'GDPR', :received, :status, :due, :due, :email,"
                " :phone, :name, cast(:completed as date) + time '12:00',"
                # The overdue request has not moved for three days: a crashed run.
                " now() - case when :status = 'in_progress' then interval '3 days'"
                " else interval '0' end)"
            ),
            {
                "ticket": ticket,
                "kind": kind,
                "received": received,
                "status": status,
                "due": due,
                "email": SUBJECT_EMAIL,
                "phone": SUBJECT_PHONE,
                "name": SUBJECT_NAME,
                "completed": completed,
            },
        )


def _snapshots(conn: sa.Connection) -> None:
    today = conn.execute(sa.text("select current_date")).scalar_one()
    for offset, rate, groups in ((3, 0.90, 6), (2, 0.93, 4), (1, 0.95, 3)):
        conn.execute(
            sa.text(
                "insert into steward.dashboard_snapshots (taken_on, phone_records,"
                " phone_valid_rate, phone_duplicate_groups, inactive_numbers, dnc_violations)"
                " values (:day, 40, :rate, :groups, 5, 4)"
            ),
            {"day": today - dt.timedelta(days=offset), "rate": rate, "groups": groups},
        )


def create_known_marts(url: str) -> dict[str, str]:
    """Create the marts above in ``url``'s schema ``steward``; return the expected figures."""
    engine = warehouse.engine(url)
    schema.upgrade(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(_CATALOGUE)
        conn.exec_driver_sql(_PHONES)
        conn.exec_driver_sql(_QUALITY)
        conn.exec_driver_sql(_RETENTION)
        _requests(conn)
        _snapshots(conn)
    # The marts the page reads, built by real dbt over the tables above: counts over
    # the catalogue and phone marts, views over the executors' tables and the register.
    built = dbt_runner.run(["run", "--select", *DASHBOARD_MARTS], url)
    assert built.success, dbt_runner.failure_summary(built)
    return dict(EXPECTED)
