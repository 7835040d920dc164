"""Baseline: Steward's tables as the modules created them before migrations.

Revision ID: 0001_baseline
Revises:
Create Date: 2026-12-06

Every statement is idempotent (``if not exists``), so the same revision creates a
new warehouse and adopts one laid out by a release before migrations (its tables
present, no version row) without touching a row: what exists is kept, what a
module of that release had not created yet is added. The two ``add column if not
exists`` and the status check are the in-place upgrades those modules used to do
themselves. The audit log's guard is created only where it is not armed yet:
after ``steward audit protect`` the application role no longer owns it.
"""

from __future__ import annotations

from alembic import op

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None

AUDIT = """
create table if not exists steward.audit_log (
    seq bigint primary key,
    recorded_at timestamptz not null,
    actor text not null,
    action text not null,
    details jsonb not null,
    prev_hash text not null,
    row_hash text not null unique
);
do $$
begin
    if not exists (
        select from pg_trigger where tgname = 'audit_log_append_only'
        and tgrelid = 'steward.audit_log'::regclass
    ) then
        create or replace function steward.audit_log_refuse_change() returns trigger
        language plpgsql as $body$
begin
    raise exception 'steward.audit_log is append-only: % refused', tg_op
        using errcode = 'insufficient_privilege';
end
$body$;
        create trigger audit_log_append_only before update or delete on steward.audit_log
        for each row execute function steward.audit_log_refuse_change();
        create trigger audit_log_no_truncate before truncate on steward.audit_log
        for each statement execute function steward.audit_log_refuse_change();
        revoke update, delete, truncate on steward.audit_log from public;
    end if;
end
$$;
"""

ACCESS = """
create table if not exists steward.access_policy_roles (
    role_name text primary key,
    database_role text not null unique,
    description text not null,
    default_treatment text not null,
    undeclared_treatment text not null
);
create table if not exists steward.access_policy_categories (
    role_name text not null,
    database_role text not null,
    data_category text not null,
    treatment text not null,
    mask text,
    primary key (role_name, data_category)
);
create table if not exists steward.access_policy_settings (
    superusers_allowed boolean not null,
    allowed_direct_roles text[] not null,
    policy_sha256 text not null,
    loaded_at timestamptz not null
);
create table if not exists steward.access_pseudonym_key (
    pseudonym_key text not null
);
revoke all on steward.access_pseudonym_key from public;
"""

BREACH = """
create table if not exists steward.breach_incidents (
    incident_id bigserial primary key,
    reference text not null unique,
    summary text not null,
    status text not null default 'open' check (
        status in ('open', 'assessed', 'notifying', 'notified', 'closed', 'dismissed')
    ),
    aware_at timestamptz not null,
    exposure jsonb not null,
    hipaa boolean not null default false,
    affected_subjects integer,
    status_reason text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    assessed_at timestamptz,
    closed_at timestamptz
);
create table if not exists steward.breach_impacts (
    incident_id bigint not null references steward.breach_incidents,
    country_code text not null,
    region_code text not null,
    data_category text not null,
    subjects integer not null,
    unprotected_subjects integer not null,
    primary key (incident_id, country_code, region_code, data_category)
);
create table if not exists steward.breach_notifications (
    incident_id bigint not null references steward.breach_incidents,
    rule_key text not null,
    law_code text not null,
    law_name text not null,
    recipient text not null,
    citation text not null,
    condition text not null,
    affected integer not null,
    threshold_min integer not null,
    is_required boolean not null,
    deadline_text text not null,
    due_at timestamptz,
    notified_at timestamptz,
    primary key (incident_id, rule_key)
);
create table if not exists steward.breach_affected_subjects (
    incident_id bigint not null references steward.breach_incidents,
    subject_kind text not null,
    subject_key text not null,
    country_code text not null,
    region_code text not null,
    data_categories text[] not null,
    unprotected_categories text[] not null,
    primary key (incident_id, subject_kind, subject_key)
);
revoke all on steward.breach_affected_subjects from public;
"""

CATALOGUE = """
create table if not exists steward.catalogue_scan_runs (
    run_id text primary key,
    started_at timestamptz not null,
    finished_at timestamptz not null,
    mode text not null,
    schemas text[] not null,
    parameters jsonb not null,
    tables_total integer not null,
    columns_total integer not null,
    columns_scanned integer not null,
    columns_unchanged integer not null,
    columns_skipped integer not null,
    columns_failed integer not null,
    problems integer not null,
    pii_columns integer not null,
    scan_seconds double precision not null
);
create table if not exists steward.catalogue_scan_results (
    run_id text,
    schema_name text,
    table_name text,
    column_name text,
    category text,
    scanned_at timestamptz not null,
    data_type text,
    confidence numeric(4, 3) not null,
    is_pii boolean not null,
    is_best_category boolean not null,
    rule text,
    name_pattern text,
    name_strength numeric(4, 3),
    validator text,
    sample_rows integer,
    non_null integer,
    distinct_values integer,
    matches integer,
    shape_only integer,
    values_with_pii_spans integer,
    evidence jsonb not null,
    fingerprint text,
    carried_from_run_id text,
    primary key (run_id, schema_name, table_name, column_name, category)
);
create index if not exists catalogue_scan_results_column_idx
    on steward.catalogue_scan_results (schema_name, table_name, column_name);
create table if not exists steward.catalogue_column_state (
    schema_name text,
    table_name text,
    column_name text,
    data_type text,
    fingerprint text,
    status text not null,
    reason text,
    first_covered_at timestamptz not null,
    last_covered_at timestamptz not null,
    last_covered_run_id text not null,
    last_scanned_at timestamptz,
    last_scanned_run_id text,
    primary key (schema_name, table_name, column_name)
);
create table if not exists steward.catalogue_scan_problems (
    run_id text not null,
    schema_name text not null,
    table_name text not null,
    column_name text,
    kind text not null,
    detail text not null
);
create index if not exists ix_steward_catalogue_scan_problems_run_id
    on steward.catalogue_scan_problems (run_id);
create table if not exists steward.data_map_columns (
    schema_name text,
    table_name text,
    column_name text,
    data_category text not null,
    subject text not null,
    loaded_at timestamptz not null,
    primary key (schema_name, table_name, column_name)
);
"""

DASHBOARD = """
create table if not exists steward.dashboard_snapshots (
    taken_on date primary key,
    taken_at timestamptz not null default clock_timestamp(),
    phone_records bigint,
    phone_valid_rate double precision,
    phone_duplicate_groups bigint,
    inactive_numbers bigint,
    dnc_violations bigint,
    recording_consent_violations bigint,
    customer_duplicate_clusters bigint,
    catalogue_confirmed bigint,
    catalogue_suggested bigint,
    catalogue_gaps bigint,
    open_requests bigint,
    overdue_requests bigint
);
"""

DEDUPE = """
create table if not exists steward.dedupe_runs (
    run_id uuid primary key,
    started_at timestamptz not null,
    finished_at timestamptz not null,
    records integer not null,
    candidate_pairs integer not null,
    clustered_records integer not null,
    clusters integer not null,
    predict_threshold double precision not null,
    cluster_threshold double precision not null,
    splink_version text not null,
    model_json jsonb not null
);
alter table steward.dedupe_runs
    add column if not exists mode text,
    add column if not exists changed_records integer,
    add column if not exists removed_records integer,
    add column if not exists scored_pairs integer,
    add column if not exists model_signature text,
    add column if not exists trained_at timestamptz;
create table if not exists steward.customer_match_pairs (
    run_id uuid not null,
    customer_id_l bigint not null,
    customer_id_r bigint not null,
    match_probability double precision not null,
    match_weight double precision not null,
    evidence jsonb not null,
    agreed_fields text[] not null,
    fuzzy_fields text[] not null,
    differing_fields text[] not null,
    primary key (customer_id_l, customer_id_r),
    check (customer_id_l < customer_id_r)
);
create index if not exists customer_match_pairs_right_idx
    on steward.customer_match_pairs (customer_id_r);
create table if not exists steward.customer_clusters (
    run_id uuid not null,
    cluster_id bigint not null,
    customer_id bigint primary key,
    cluster_size integer not null
);
create index if not exists customer_clusters_cluster_idx
    on steward.customer_clusters (cluster_id);
create table if not exists steward.dedupe_record_fingerprints (
    customer_id bigint primary key,
    fingerprint text not null
);
"""

DSAR = """
create table if not exists steward.dsar_requests (
    request_id bigint generated always as identity primary key,
    ticket_reference text not null unique,
    request_type text not null check (request_type in ('access', 'correction', 'deletion')),
    jurisdiction text not null,
    received_on date not null,
    status text not null default 'received',
    original_due_on date,
    due_on date,
    confirm_by date,
    extension_notice_by date,
    verification_status text not null default 'pending',
    verification_method text not null default 'none',
    customer_id bigint,
    email text,
    phone text,
    full_name text,
    date_of_birth date,
    corrections jsonb,
    subject_digest text,
    resolved_identity jsonb,
    extended_at date,
    extension_reason text,
    paused_at date,
    pause_reason text,
    paused_days integer not null default 0,
    completed_at timestamptz,
    rejection_reason text,
    result jsonb,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index if not exists dsar_requests_open_due
    on steward.dsar_requests (due_on) where status not in ('completed', 'rejected');
create index if not exists dsar_requests_subject_digest
    on steward.dsar_requests (subject_digest);
alter table steward.dsar_requests drop constraint if exists dsar_requests_status_check;
alter table steward.dsar_requests add constraint dsar_requests_status_check check (status in (
    'received', 'awaiting_verification', 'in_progress', 'extended', 'paused',
    'completed', 'not_found', 'rejected'
));
create table if not exists steward.dsar_status_history (
    request_id bigint not null references steward.dsar_requests (request_id),
    changed_at timestamptz not null default now(),
    from_status text,
    to_status text not null,
    reason text
);
create table if not exists steward.dsar_sla_daily (
    as_of date primary key,
    open_requests integer not null,
    due_soon integer not null,
    overdue integer not null,
    completed integer not null,
    completed_on_time integer not null,
    share_on_time numeric,
    median_days_to_complete numeric,
    recorded_at timestamptz not null default now()
);
create table if not exists steward.dsar_subject_rows (
    request_id bigint not null,
    phase text not null,
    table_name text not null,
    row_key jsonb not null,
    matched_by text not null,
    owned boolean not null,
    primary key (request_id, phase, table_name, row_key, matched_by)
);
create table if not exists steward.dsar_erasure_plan (
    request_id bigint not null,
    table_name text not null,
    row_key jsonb not null,
    action text not null,
    reason text not null,
    file_path text,
    done boolean not null default false,
    primary key (request_id, table_name, row_key)
);
alter table steward.dsar_erasure_plan add column if not exists file_outcome text;
alter table steward.dsar_erasure_plan add column if not exists file_error text;
create table if not exists steward.dsar_suppressions (
    identifier_kind text not null,
    identifier_hash text not null,
    request_id bigint not null,
    created_at timestamptz not null default now(),
    primary key (identifier_kind, identifier_hash)
);
create table if not exists steward.dsar_correction_plan (
    request_id bigint not null,
    table_name text not null,
    column_name text not null,
    row_key jsonb not null,
    field text not null,
    action text not null default 'correct',
    done boolean not null default false,
    primary key (request_id, table_name, column_name, row_key)
);
create table if not exists steward.dsar_correction_fields (
    request_id bigint not null,
    field text not null,
    old_values_digest text not null,
    old_value_count integer not null,
    new_value_digest text not null,
    primary key (request_id, field)
);
create table if not exists steward.dsar_derived_plan (
    request_id bigint not null,
    table_name text not null,
    row_key jsonb not null,
    action text not null,
    done boolean not null default false,
    primary key (request_id, table_name, row_key)
);
"""

# phone_raw_key keeps the first MAX_RAW_LENGTH + 1 = 51 characters
# (steward.phones.normalise; a test keeps the two equal).
PHONES = """
create table if not exists steward.phone_lookup (
    raw_value text not null,
    region_hint text not null,
    e164 text,
    parse_status text not null,
    number_type text,
    region_code text,
    has_extension boolean not null,
    rescued_idd boolean not null,
    region_used text not null,
    failure_reason text,
    default_region text not null,
    library_version text not null,
    parsed_at timestamptz not null default now(),
    constraint phone_lookup_pkey primary key (raw_value, region_hint)
);
create index if not exists phone_lookup_e164_for_dsar on steward.phone_lookup (e164);
create table if not exists steward.phone_lookup_state (
    state_key text primary key,
    sources_signature text not null,
    watermark xid8 not null,
    full_scan_at timestamptz not null,
    refreshed_at timestamptz not null
);
create or replace function steward.phone_raw_key(raw text) returns text
language sql immutable parallel safe
as $$ select left(coalesce(raw, ''), 51) $$;
create or replace function steward.phone_region_key(country text) returns text
language sql immutable parallel safe
as $$ select coalesce(upper(btrim(country)), '') $$;
create table if not exists steward.dnc_registry_imports (
    import_id bigint generated always as identity primary key,
    import_kind text not null check (import_kind in ('full', 'changes')),
    snapshot_date date not null,
    source_file text not null,
    file_sha256 text not null,
    lines_read bigint not null,
    numbers_accepted bigint not null,
    lines_rejected bigint not null,
    rejected_by_reason jsonb not null,
    numbers_added bigint not null,
    numbers_removed bigint not null,
    imported_at timestamptz not null default now()
);
create table if not exists steward.dnc_registry (
    phone_number text not null check (phone_number ~ '^[2-9][0-9]{2}[2-9][0-9]{6}$'),
    listed_on date not null,
    delisted_on date,
    source_file text not null,
    import_id bigint not null,
    check (delisted_on is null or delisted_on >= listed_on)
);
create unique index if not exists dnc_registry_listed_number
    on steward.dnc_registry (phone_number) where delisted_on is null;
create index if not exists dnc_registry_number_interval
    on steward.dnc_registry (phone_number, listed_on);
"""

QUALITY = """
create table if not exists steward.quality_results (
    run_id text not null,
    run_at timestamptz not null,
    suite_name text not null,
    expectation_type text not null,
    check_name text not null,
    column_name text,
    success boolean not null,
    observed_value double precision,
    unexpected_count bigint,
    unexpected_percent double precision,
    element_count bigint,
    primary key (run_id, check_name)
);
create index if not exists quality_results_trend_idx
    on steward.quality_results (suite_name, check_name, run_at);
"""

REDACTION = """
create table if not exists steward.redaction_runs (
    run_id bigserial primary key,
    started_at timestamptz not null default now(),
    finished_at timestamptz,
    status text not null default 'running'
);
create table if not exists steward.redaction_plan (
    run_id bigint not null,
    table_name text not null,
    column_name text not null,
    row_key jsonb not null,
    action text not null,
    done boolean not null default false,
    primary key (run_id, table_name, column_name, row_key)
);
create table if not exists steward.pci_violations (
    table_name text not null,
    column_name text not null,
    full_card_rows bigint not null default 0,
    held_rows bigint not null default 0,
    checked_at timestamptz,
    approved_by text,
    approved_at timestamptz,
    truncated_rows bigint not null default 0,
    primary key (table_name, column_name)
);
"""

RETENTION = """
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


def upgrade() -> None:
    for section in (
        AUDIT,
        ACCESS,
        BREACH,
        CATALOGUE,
        DASHBOARD,
        DEDUPE,
        DSAR,
        PHONES,
        QUALITY,
        REDACTION,
        RETENTION,
    ):
        op.execute(section)


def downgrade() -> None:
    raise NotImplementedError("the baseline is not undone: Steward's tables hold its records")
