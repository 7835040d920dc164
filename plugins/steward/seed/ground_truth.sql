-- What the generator planted, for tests only: scanners and jobs must never read
-- this schema. steward.seed.generate documents each table.

create schema if not exists steward_ground_truth;

create table steward_ground_truth.seed_info (
    setting_name text not null,
    setting_value text not null
);

create table steward_ground_truth.pii_columns (
    schema_name text not null,
    table_name text not null,
    column_name text not null,
    category text not null
);

create table steward_ground_truth.duplicate_customers (
    cluster_id integer not null,
    customer_id bigint not null,
    is_original boolean not null
);

create table steward_ground_truth.duplicate_phones (
    customer_id bigint not null,
    phone_id bigint not null,
    e164 text not null
);

create table steward_ground_truth.phone_cases (
    phone_id bigint not null,
    customer_id bigint not null,
    phone_raw text,
    region char(2) not null,
    spelling text not null,
    expected_e164 text,
    expected_status text not null,
    last_connected_call_at timestamptz,
    is_inactive boolean not null
);

create table steward_ground_truth.spread_subjects (
    customer_id bigint not null,
    e164 text not null,
    email text not null
);

create table steward_ground_truth.retention_overdue (
    schema_name text not null,
    table_name text not null,
    record_key text not null,
    clock_column text not null,
    clock timestamptz not null
);
