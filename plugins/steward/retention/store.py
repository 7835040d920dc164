"""The executor's own tables in schema ``steward`` (created on first use).

``retention_runs``          one row per run (dry or applied), its summary for the dashboard
``retention_run_policies``  per run and policy: the plan, the breaker's decision, the status
``retention_audit``         one row per committed batch: rows, sha256 of the keys, key range
``retention_anonymised``    the ledger of anonymised rows (written with the UPDATE)
``retention_files``         files to delete after their rows' batch committed
``retention_approvals``     approvals of policies the circuit breaker stopped
``retention_log``           the execution log (events, counts; never personal data)
"""

from __future__ import annotations

import sqlalchemy as sa

SCHEMA = "steward"

DDL = """
create schema if not exists steward;

create table if not exists steward.retention_runs (
    run_id text primary key,
    run_mode text not null,
    run_status text not null,
    as_of timestamptz not null,
    max_share double precision not null,
    batch_size integer not null,
    policy_filter text[],
    started_at timestamptz not null default clock_timestamp(),
    finished_at timestamptz,
    attempts integer not null default 1,
    summary jsonb
);

create table if not exists steward.retention_run_policies (
    run_id text not null,
    policy_name text not null,
    rule_name text not null,
    retention_action text not null,
    policy_status text not null,
    overdue_rows bigint not null,
    held_rows bigint not null,
    due_rows bigint not null,
    table_rows bigint not null,
    due_share double precision not null,
    approval_id bigint,
    updated_at timestamptz not null default clock_timestamp(),
    primary key (run_id, policy_name)
);

create table if not exists steward.retention_audit (
    audit_id bigserial primary key,
    run_id text not null,
    policy_name text not null,
    rule_name text not null,
    retention_action text not null,
    batch_no integer not null,
    row_count bigint not null,
    keys_sha256 text not null,
    first_sort_key bigint not null,
    first_record_key text not null,
    last_sort_key bigint not null,
    last_record_key text not null,
    started_at timestamptz not null,
    committed_at timestamptz not null default clock_timestamp(),
    unique (run_id, policy_name, batch_no)
);

create table if not exists steward.retention_anonymised (
    policy_name text not null,
    record_key text not null,
    run_id text not null,
    anonymised_at timestamptz not null default clock_timestamp(),
    primary key (policy_name, record_key)
);

create table if not exists steward.retention_files (
    run_id text not null,
    policy_name text not null,
    batch_no integer not null,
    storage_path text not null,
    removed_at timestamptz,
    outcome text,
    primary key (run_id, policy_name, storage_path)
);

create table if not exists steward.retention_approvals (
    approval_id bigserial primary key,
    policy_name text not null,
    approved_due_rows bigint not null,
    approved_by text not null,
    approved_at timestamptz not null default clock_timestamp(),
    stopped_run_id text,
    consumed_by_run text
);

create table if not exists steward.retention_log (
    log_id bigserial primary key,
    run_id text,
    logged_at timestamptz not null default clock_timestamp(),
    policy_name text,
    event text not null,
    detail jsonb
);
"""


def ensure_tables(engine: sa.Engine) -> None:
    """Create the executor's tables if they do not exist (idempotent)."""
    with engine.begin() as conn:
        # Two first runs at once would race on `create table if not exists`.
        conn.execute(sa.text("select pg_advisory_xact_lock(hashtext('steward.retention.ddl'))"))
        conn.execute(sa.text(DDL))
