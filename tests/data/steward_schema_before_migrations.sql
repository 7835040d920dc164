-- Steward's tables in schema steward as the release before migrations laid them out:
-- every module's own DDL run once on an empty database (main at 16d0c1a), then
-- pg_dump --schema-only --no-owner -n steward (PostgreSQL 15). Loaded by
-- tests/integration/test_schema_migrations.py to check that such a warehouse is adopted.
--
-- PostgreSQL database dump
--


-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: steward; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA steward;


--
-- Name: audit_log_refuse_change(); Type: FUNCTION; Schema: steward; Owner: -
--

CREATE FUNCTION steward.audit_log_refuse_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
    raise exception 'steward.audit_log is append-only: % refused', tg_op
        using errcode = 'insufficient_privilege';
end
$$;


--
-- Name: phone_raw_key(text); Type: FUNCTION; Schema: steward; Owner: -
--

CREATE FUNCTION steward.phone_raw_key(raw text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ select left(coalesce(raw, ''), 51) $$;


--
-- Name: phone_region_key(text); Type: FUNCTION; Schema: steward; Owner: -
--

CREATE FUNCTION steward.phone_region_key(country text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ select coalesce(upper(btrim(country)), '') $$;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: access_policy_categories; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.access_policy_categories (
    role_name text NOT NULL,
    database_role text NOT NULL,
    data_category text NOT NULL,
    treatment text NOT NULL,
    mask text
);


--
-- Name: access_policy_roles; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.access_policy_roles (
    role_name text NOT NULL,
    database_role text NOT NULL,
    description text NOT NULL,
    default_treatment text NOT NULL,
    undeclared_treatment text NOT NULL
);


--
-- Name: access_policy_settings; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.access_policy_settings (
    superusers_allowed boolean NOT NULL,
    allowed_direct_roles text[] NOT NULL,
    policy_sha256 text NOT NULL,
    loaded_at timestamp with time zone NOT NULL
);


--
-- Name: access_pseudonym_key; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.access_pseudonym_key (
    pseudonym_key text NOT NULL
);


--
-- Name: audit_log; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.audit_log (
    seq bigint NOT NULL,
    recorded_at timestamp with time zone NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    details jsonb NOT NULL,
    prev_hash text NOT NULL,
    row_hash text NOT NULL
);


--
-- Name: breach_affected_subjects; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.breach_affected_subjects (
    incident_id bigint NOT NULL,
    subject_kind text NOT NULL,
    subject_key text NOT NULL,
    country_code text NOT NULL,
    region_code text NOT NULL,
    data_categories text[] NOT NULL,
    unprotected_categories text[] NOT NULL
);


--
-- Name: breach_impacts; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.breach_impacts (
    incident_id bigint NOT NULL,
    country_code text NOT NULL,
    region_code text NOT NULL,
    data_category text NOT NULL,
    subjects integer NOT NULL,
    unprotected_subjects integer NOT NULL
);


--
-- Name: breach_incidents; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.breach_incidents (
    incident_id bigint NOT NULL,
    reference text NOT NULL,
    summary text NOT NULL,
    status text DEFAULT 'open'::text NOT NULL,
    aware_at timestamp with time zone NOT NULL,
    exposure jsonb NOT NULL,
    hipaa boolean DEFAULT false NOT NULL,
    affected_subjects integer,
    status_reason text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    assessed_at timestamp with time zone,
    closed_at timestamp with time zone,
    CONSTRAINT breach_incidents_status_check CHECK ((status = ANY (ARRAY['open'::text, 'assessed'::text, 'notifying'::text, 'notified'::text, 'closed'::text, 'dismissed'::text])))
);


--
-- Name: breach_incidents_incident_id_seq; Type: SEQUENCE; Schema: steward; Owner: -
--

CREATE SEQUENCE steward.breach_incidents_incident_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: breach_incidents_incident_id_seq; Type: SEQUENCE OWNED BY; Schema: steward; Owner: -
--

ALTER SEQUENCE steward.breach_incidents_incident_id_seq OWNED BY steward.breach_incidents.incident_id;


--
-- Name: breach_notifications; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.breach_notifications (
    incident_id bigint NOT NULL,
    rule_key text NOT NULL,
    law_code text NOT NULL,
    law_name text NOT NULL,
    recipient text NOT NULL,
    citation text NOT NULL,
    condition text NOT NULL,
    affected integer NOT NULL,
    threshold_min integer NOT NULL,
    is_required boolean NOT NULL,
    deadline_text text NOT NULL,
    due_at timestamp with time zone,
    notified_at timestamp with time zone
);


--
-- Name: catalogue_column_state; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.catalogue_column_state (
    schema_name text NOT NULL,
    table_name text NOT NULL,
    column_name text NOT NULL,
    data_type text,
    fingerprint text,
    status text NOT NULL,
    reason text,
    first_covered_at timestamp with time zone NOT NULL,
    last_covered_at timestamp with time zone NOT NULL,
    last_covered_run_id text NOT NULL,
    last_scanned_at timestamp with time zone,
    last_scanned_run_id text
);


--
-- Name: catalogue_scan_problems; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.catalogue_scan_problems (
    run_id text NOT NULL,
    schema_name text NOT NULL,
    table_name text NOT NULL,
    column_name text,
    kind text NOT NULL,
    detail text NOT NULL
);


--
-- Name: catalogue_scan_results; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.catalogue_scan_results (
    run_id text NOT NULL,
    schema_name text NOT NULL,
    table_name text NOT NULL,
    column_name text NOT NULL,
    category text NOT NULL,
    scanned_at timestamp with time zone NOT NULL,
    data_type text,
    confidence numeric(4,3) NOT NULL,
    is_pii boolean NOT NULL,
    is_best_category boolean NOT NULL,
    rule text,
    name_pattern text,
    name_strength numeric(4,3),
    validator text,
    sample_rows integer,
    non_null integer,
    distinct_values integer,
    matches integer,
    shape_only integer,
    values_with_pii_spans integer,
    evidence jsonb NOT NULL,
    fingerprint text,
    carried_from_run_id text
);


--
-- Name: catalogue_scan_runs; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.catalogue_scan_runs (
    run_id text NOT NULL,
    started_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone NOT NULL,
    mode text NOT NULL,
    schemas text[] NOT NULL,
    parameters jsonb NOT NULL,
    tables_total integer NOT NULL,
    columns_total integer NOT NULL,
    columns_scanned integer NOT NULL,
    columns_unchanged integer NOT NULL,
    columns_skipped integer NOT NULL,
    columns_failed integer NOT NULL,
    problems integer NOT NULL,
    pii_columns integer NOT NULL,
    scan_seconds double precision NOT NULL
);


--
-- Name: customer_clusters; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.customer_clusters (
    run_id uuid NOT NULL,
    cluster_id bigint NOT NULL,
    customer_id bigint NOT NULL,
    cluster_size integer NOT NULL
);


--
-- Name: customer_match_pairs; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.customer_match_pairs (
    run_id uuid NOT NULL,
    customer_id_l bigint NOT NULL,
    customer_id_r bigint NOT NULL,
    match_probability double precision NOT NULL,
    match_weight double precision NOT NULL,
    evidence jsonb NOT NULL,
    agreed_fields text[] NOT NULL,
    fuzzy_fields text[] NOT NULL,
    differing_fields text[] NOT NULL,
    CONSTRAINT customer_match_pairs_check CHECK ((customer_id_l < customer_id_r))
);


--
-- Name: dashboard_snapshots; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.dashboard_snapshots (
    taken_on date NOT NULL,
    taken_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
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


--
-- Name: data_map_columns; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.data_map_columns (
    schema_name text NOT NULL,
    table_name text NOT NULL,
    column_name text NOT NULL,
    data_category text NOT NULL,
    subject text NOT NULL,
    loaded_at timestamp with time zone NOT NULL
);


--
-- Name: dedupe_record_fingerprints; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.dedupe_record_fingerprints (
    customer_id bigint NOT NULL,
    fingerprint text NOT NULL
);


--
-- Name: dedupe_runs; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.dedupe_runs (
    run_id uuid NOT NULL,
    started_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone NOT NULL,
    records integer NOT NULL,
    candidate_pairs integer NOT NULL,
    clustered_records integer NOT NULL,
    clusters integer NOT NULL,
    predict_threshold double precision NOT NULL,
    cluster_threshold double precision NOT NULL,
    splink_version text NOT NULL,
    model_json jsonb NOT NULL,
    mode text,
    changed_records integer,
    removed_records integer,
    scored_pairs integer,
    model_signature text,
    trained_at timestamp with time zone
);


--
-- Name: dnc_registry; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.dnc_registry (
    phone_number text NOT NULL,
    listed_on date NOT NULL,
    delisted_on date,
    source_file text NOT NULL,
    import_id bigint NOT NULL,
    CONSTRAINT dnc_registry_check CHECK (((delisted_on IS NULL) OR (delisted_on >= listed_on))),
    CONSTRAINT dnc_registry_phone_number_check CHECK ((phone_number ~ '^[2-9][0-9]{2}[2-9][0-9]{6}$'::text))
);


--
-- Name: dnc_registry_imports; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.dnc_registry_imports (
    import_id bigint NOT NULL,
    import_kind text NOT NULL,
    snapshot_date date NOT NULL,
    source_file text NOT NULL,
    file_sha256 text NOT NULL,
    lines_read bigint NOT NULL,
    numbers_accepted bigint NOT NULL,
    lines_rejected bigint NOT NULL,
    rejected_by_reason jsonb NOT NULL,
    numbers_added bigint NOT NULL,
    numbers_removed bigint NOT NULL,
    imported_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT dnc_registry_imports_import_kind_check CHECK ((import_kind = ANY (ARRAY['full'::text, 'changes'::text])))
);


--
-- Name: dnc_registry_imports_import_id_seq; Type: SEQUENCE; Schema: steward; Owner: -
--

ALTER TABLE steward.dnc_registry_imports ALTER COLUMN import_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME steward.dnc_registry_imports_import_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: dsar_correction_fields; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.dsar_correction_fields (
    request_id bigint NOT NULL,
    field text NOT NULL,
    old_values_digest text NOT NULL,
    old_value_count integer NOT NULL,
    new_value_digest text NOT NULL
);


--
-- Name: dsar_correction_plan; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.dsar_correction_plan (
    request_id bigint NOT NULL,
    table_name text NOT NULL,
    column_name text NOT NULL,
    row_key jsonb NOT NULL,
    field text NOT NULL,
    action text DEFAULT 'correct'::text NOT NULL,
    done boolean DEFAULT false NOT NULL
);


--
-- Name: dsar_derived_plan; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.dsar_derived_plan (
    request_id bigint NOT NULL,
    table_name text NOT NULL,
    row_key jsonb NOT NULL,
    action text NOT NULL,
    done boolean DEFAULT false NOT NULL
);


--
-- Name: dsar_erasure_plan; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.dsar_erasure_plan (
    request_id bigint NOT NULL,
    table_name text NOT NULL,
    row_key jsonb NOT NULL,
    action text NOT NULL,
    reason text NOT NULL,
    file_path text,
    done boolean DEFAULT false NOT NULL,
    file_outcome text,
    file_error text
);


--
-- Name: dsar_requests; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.dsar_requests (
    request_id bigint NOT NULL,
    ticket_reference text NOT NULL,
    request_type text NOT NULL,
    jurisdiction text NOT NULL,
    received_on date NOT NULL,
    status text DEFAULT 'received'::text NOT NULL,
    original_due_on date,
    due_on date,
    confirm_by date,
    extension_notice_by date,
    verification_status text DEFAULT 'pending'::text NOT NULL,
    verification_method text DEFAULT 'none'::text NOT NULL,
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
    paused_days integer DEFAULT 0 NOT NULL,
    completed_at timestamp with time zone,
    rejection_reason text,
    result jsonb,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT dsar_requests_request_type_check CHECK ((request_type = ANY (ARRAY['access'::text, 'correction'::text, 'deletion'::text]))),
    CONSTRAINT dsar_requests_status_check CHECK ((status = ANY (ARRAY['received'::text, 'awaiting_verification'::text, 'in_progress'::text, 'extended'::text, 'paused'::text, 'completed'::text, 'not_found'::text, 'rejected'::text])))
);


--
-- Name: dsar_requests_request_id_seq; Type: SEQUENCE; Schema: steward; Owner: -
--

ALTER TABLE steward.dsar_requests ALTER COLUMN request_id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME steward.dsar_requests_request_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: dsar_sla_daily; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.dsar_sla_daily (
    as_of date NOT NULL,
    open_requests integer NOT NULL,
    due_soon integer NOT NULL,
    overdue integer NOT NULL,
    completed integer NOT NULL,
    completed_on_time integer NOT NULL,
    share_on_time numeric,
    median_days_to_complete numeric,
    recorded_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: dsar_status_history; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.dsar_status_history (
    request_id bigint NOT NULL,
    changed_at timestamp with time zone DEFAULT now() NOT NULL,
    from_status text,
    to_status text NOT NULL,
    reason text
);


--
-- Name: dsar_subject_rows; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.dsar_subject_rows (
    request_id bigint NOT NULL,
    phase text NOT NULL,
    table_name text NOT NULL,
    row_key jsonb NOT NULL,
    matched_by text NOT NULL,
    owned boolean NOT NULL
);


--
-- Name: dsar_suppressions; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.dsar_suppressions (
    identifier_kind text NOT NULL,
    identifier_hash text NOT NULL,
    request_id bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: pci_violations; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.pci_violations (
    table_name text NOT NULL,
    column_name text NOT NULL,
    full_card_rows bigint DEFAULT 0 NOT NULL,
    held_rows bigint DEFAULT 0 NOT NULL,
    checked_at timestamp with time zone,
    approved_by text,
    approved_at timestamp with time zone,
    truncated_rows bigint DEFAULT 0 NOT NULL
);


--
-- Name: phone_lookup; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.phone_lookup (
    raw_value text NOT NULL,
    region_hint text NOT NULL,
    e164 text,
    parse_status text NOT NULL,
    number_type text,
    region_code text,
    has_extension boolean NOT NULL,
    rescued_idd boolean NOT NULL,
    region_used text NOT NULL,
    failure_reason text,
    default_region text NOT NULL,
    library_version text NOT NULL,
    parsed_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: phone_lookup_state; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.phone_lookup_state (
    state_key text NOT NULL,
    sources_signature text NOT NULL,
    watermark xid8 NOT NULL,
    full_scan_at timestamp with time zone NOT NULL,
    refreshed_at timestamp with time zone NOT NULL
);


--
-- Name: quality_results; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.quality_results (
    run_id text NOT NULL,
    run_at timestamp with time zone NOT NULL,
    suite_name text NOT NULL,
    expectation_type text NOT NULL,
    check_name text NOT NULL,
    column_name text,
    success boolean NOT NULL,
    observed_value double precision,
    unexpected_count bigint,
    unexpected_percent double precision,
    element_count bigint
);


--
-- Name: redaction_plan; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.redaction_plan (
    run_id bigint NOT NULL,
    table_name text NOT NULL,
    column_name text NOT NULL,
    row_key jsonb NOT NULL,
    action text NOT NULL,
    done boolean DEFAULT false NOT NULL
);


--
-- Name: redaction_runs; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.redaction_runs (
    run_id bigint NOT NULL,
    started_at timestamp with time zone DEFAULT now() NOT NULL,
    finished_at timestamp with time zone,
    status text DEFAULT 'running'::text NOT NULL
);


--
-- Name: redaction_runs_run_id_seq; Type: SEQUENCE; Schema: steward; Owner: -
--

CREATE SEQUENCE steward.redaction_runs_run_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: redaction_runs_run_id_seq; Type: SEQUENCE OWNED BY; Schema: steward; Owner: -
--

ALTER SEQUENCE steward.redaction_runs_run_id_seq OWNED BY steward.redaction_runs.run_id;


--
-- Name: retention_anonymised; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.retention_anonymised (
    policy_name text NOT NULL,
    record_key text NOT NULL,
    run_id text NOT NULL,
    anonymised_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL
);


--
-- Name: retention_approvals; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.retention_approvals (
    approval_id bigint NOT NULL,
    policy_name text NOT NULL,
    approved_due_rows bigint NOT NULL,
    approved_by text NOT NULL,
    approved_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    stopped_run_id text,
    consumed_by_run text
);


--
-- Name: retention_approvals_approval_id_seq; Type: SEQUENCE; Schema: steward; Owner: -
--

CREATE SEQUENCE steward.retention_approvals_approval_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: retention_approvals_approval_id_seq; Type: SEQUENCE OWNED BY; Schema: steward; Owner: -
--

ALTER SEQUENCE steward.retention_approvals_approval_id_seq OWNED BY steward.retention_approvals.approval_id;


--
-- Name: retention_audit; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.retention_audit (
    audit_id bigint NOT NULL,
    run_id text NOT NULL,
    policy_name text NOT NULL,
    rule_name text NOT NULL,
    retention_action text NOT NULL,
    batch_no integer NOT NULL,
    row_count bigint NOT NULL,
    keys_sha256 text NOT NULL,
    first_sort_key bigint NOT NULL,
    first_record_key text NOT NULL,
    last_sort_key bigint NOT NULL,
    last_record_key text NOT NULL,
    started_at timestamp with time zone NOT NULL,
    committed_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL
);


--
-- Name: retention_audit_audit_id_seq; Type: SEQUENCE; Schema: steward; Owner: -
--

CREATE SEQUENCE steward.retention_audit_audit_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: retention_audit_audit_id_seq; Type: SEQUENCE OWNED BY; Schema: steward; Owner: -
--

ALTER SEQUENCE steward.retention_audit_audit_id_seq OWNED BY steward.retention_audit.audit_id;


--
-- Name: retention_files; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.retention_files (
    run_id text NOT NULL,
    policy_name text NOT NULL,
    batch_no integer NOT NULL,
    storage_path text NOT NULL,
    removed_at timestamp with time zone,
    outcome text
);


--
-- Name: retention_log; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.retention_log (
    log_id bigint NOT NULL,
    run_id text,
    logged_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    policy_name text,
    event text NOT NULL,
    detail jsonb
);


--
-- Name: retention_log_log_id_seq; Type: SEQUENCE; Schema: steward; Owner: -
--

CREATE SEQUENCE steward.retention_log_log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: retention_log_log_id_seq; Type: SEQUENCE OWNED BY; Schema: steward; Owner: -
--

ALTER SEQUENCE steward.retention_log_log_id_seq OWNED BY steward.retention_log.log_id;


--
-- Name: retention_run_policies; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.retention_run_policies (
    run_id text NOT NULL,
    policy_name text NOT NULL,
    rule_name text NOT NULL,
    retention_action text NOT NULL,
    policy_status text NOT NULL,
    overdue_rows bigint NOT NULL,
    held_rows bigint NOT NULL,
    due_rows bigint NOT NULL,
    table_rows bigint NOT NULL,
    due_share double precision NOT NULL,
    approval_id bigint,
    updated_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL
);


--
-- Name: retention_runs; Type: TABLE; Schema: steward; Owner: -
--

CREATE TABLE steward.retention_runs (
    run_id text NOT NULL,
    run_mode text NOT NULL,
    run_status text NOT NULL,
    as_of timestamp with time zone NOT NULL,
    max_share double precision NOT NULL,
    batch_size integer NOT NULL,
    policy_filter text[],
    started_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    finished_at timestamp with time zone,
    attempts integer DEFAULT 1 NOT NULL,
    summary jsonb
);


--
-- Name: breach_incidents incident_id; Type: DEFAULT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.breach_incidents ALTER COLUMN incident_id SET DEFAULT nextval('steward.breach_incidents_incident_id_seq'::regclass);


--
-- Name: redaction_runs run_id; Type: DEFAULT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.redaction_runs ALTER COLUMN run_id SET DEFAULT nextval('steward.redaction_runs_run_id_seq'::regclass);


--
-- Name: retention_approvals approval_id; Type: DEFAULT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.retention_approvals ALTER COLUMN approval_id SET DEFAULT nextval('steward.retention_approvals_approval_id_seq'::regclass);


--
-- Name: retention_audit audit_id; Type: DEFAULT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.retention_audit ALTER COLUMN audit_id SET DEFAULT nextval('steward.retention_audit_audit_id_seq'::regclass);


--
-- Name: retention_log log_id; Type: DEFAULT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.retention_log ALTER COLUMN log_id SET DEFAULT nextval('steward.retention_log_log_id_seq'::regclass);


--
-- Name: access_policy_categories access_policy_categories_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.access_policy_categories
    ADD CONSTRAINT access_policy_categories_pkey PRIMARY KEY (role_name, data_category);


--
-- Name: access_policy_roles access_policy_roles_database_role_key; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.access_policy_roles
    ADD CONSTRAINT access_policy_roles_database_role_key UNIQUE (database_role);


--
-- Name: access_policy_roles access_policy_roles_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.access_policy_roles
    ADD CONSTRAINT access_policy_roles_pkey PRIMARY KEY (role_name);


--
-- Name: audit_log audit_log_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (seq);


--
-- Name: audit_log audit_log_row_hash_key; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.audit_log
    ADD CONSTRAINT audit_log_row_hash_key UNIQUE (row_hash);


--
-- Name: breach_affected_subjects breach_affected_subjects_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.breach_affected_subjects
    ADD CONSTRAINT breach_affected_subjects_pkey PRIMARY KEY (incident_id, subject_kind, subject_key);


--
-- Name: breach_impacts breach_impacts_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.breach_impacts
    ADD CONSTRAINT breach_impacts_pkey PRIMARY KEY (incident_id, country_code, region_code, data_category);


--
-- Name: breach_incidents breach_incidents_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.breach_incidents
    ADD CONSTRAINT breach_incidents_pkey PRIMARY KEY (incident_id);


--
-- Name: breach_incidents breach_incidents_reference_key; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.breach_incidents
    ADD CONSTRAINT breach_incidents_reference_key UNIQUE (reference);


--
-- Name: breach_notifications breach_notifications_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.breach_notifications
    ADD CONSTRAINT breach_notifications_pkey PRIMARY KEY (incident_id, rule_key);


--
-- Name: catalogue_column_state catalogue_column_state_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.catalogue_column_state
    ADD CONSTRAINT catalogue_column_state_pkey PRIMARY KEY (schema_name, table_name, column_name);


--
-- Name: catalogue_scan_results catalogue_scan_results_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.catalogue_scan_results
    ADD CONSTRAINT catalogue_scan_results_pkey PRIMARY KEY (run_id, schema_name, table_name, column_name, category);


--
-- Name: catalogue_scan_runs catalogue_scan_runs_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.catalogue_scan_runs
    ADD CONSTRAINT catalogue_scan_runs_pkey PRIMARY KEY (run_id);


--
-- Name: customer_clusters customer_clusters_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.customer_clusters
    ADD CONSTRAINT customer_clusters_pkey PRIMARY KEY (customer_id);


--
-- Name: customer_match_pairs customer_match_pairs_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.customer_match_pairs
    ADD CONSTRAINT customer_match_pairs_pkey PRIMARY KEY (customer_id_l, customer_id_r);


--
-- Name: dashboard_snapshots dashboard_snapshots_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.dashboard_snapshots
    ADD CONSTRAINT dashboard_snapshots_pkey PRIMARY KEY (taken_on);


--
-- Name: data_map_columns data_map_columns_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.data_map_columns
    ADD CONSTRAINT data_map_columns_pkey PRIMARY KEY (schema_name, table_name, column_name);


--
-- Name: dedupe_record_fingerprints dedupe_record_fingerprints_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.dedupe_record_fingerprints
    ADD CONSTRAINT dedupe_record_fingerprints_pkey PRIMARY KEY (customer_id);


--
-- Name: dedupe_runs dedupe_runs_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.dedupe_runs
    ADD CONSTRAINT dedupe_runs_pkey PRIMARY KEY (run_id);


--
-- Name: dnc_registry_imports dnc_registry_imports_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.dnc_registry_imports
    ADD CONSTRAINT dnc_registry_imports_pkey PRIMARY KEY (import_id);


--
-- Name: dsar_correction_fields dsar_correction_fields_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.dsar_correction_fields
    ADD CONSTRAINT dsar_correction_fields_pkey PRIMARY KEY (request_id, field);


--
-- Name: dsar_correction_plan dsar_correction_plan_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.dsar_correction_plan
    ADD CONSTRAINT dsar_correction_plan_pkey PRIMARY KEY (request_id, table_name, column_name, row_key);


--
-- Name: dsar_derived_plan dsar_derived_plan_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.dsar_derived_plan
    ADD CONSTRAINT dsar_derived_plan_pkey PRIMARY KEY (request_id, table_name, row_key);


--
-- Name: dsar_erasure_plan dsar_erasure_plan_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.dsar_erasure_plan
    ADD CONSTRAINT dsar_erasure_plan_pkey PRIMARY KEY (request_id, table_name, row_key);


--
-- Name: dsar_requests dsar_requests_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.dsar_requests
    ADD CONSTRAINT dsar_requests_pkey PRIMARY KEY (request_id);


--
-- Name: dsar_requests dsar_requests_ticket_reference_key; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.dsar_requests
    ADD CONSTRAINT dsar_requests_ticket_reference_key UNIQUE (ticket_reference);


--
-- Name: dsar_sla_daily dsar_sla_daily_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.dsar_sla_daily
    ADD CONSTRAINT dsar_sla_daily_pkey PRIMARY KEY (as_of);


--
-- Name: dsar_subject_rows dsar_subject_rows_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.dsar_subject_rows
    ADD CONSTRAINT dsar_subject_rows_pkey PRIMARY KEY (request_id, phase, table_name, row_key, matched_by);


--
-- Name: dsar_suppressions dsar_suppressions_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.dsar_suppressions
    ADD CONSTRAINT dsar_suppressions_pkey PRIMARY KEY (identifier_kind, identifier_hash);


--
-- Name: pci_violations pci_violations_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.pci_violations
    ADD CONSTRAINT pci_violations_pkey PRIMARY KEY (table_name, column_name);


--
-- Name: phone_lookup phone_lookup_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.phone_lookup
    ADD CONSTRAINT phone_lookup_pkey PRIMARY KEY (raw_value, region_hint);


--
-- Name: phone_lookup_state phone_lookup_state_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.phone_lookup_state
    ADD CONSTRAINT phone_lookup_state_pkey PRIMARY KEY (state_key);


--
-- Name: quality_results quality_results_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.quality_results
    ADD CONSTRAINT quality_results_pkey PRIMARY KEY (run_id, check_name);


--
-- Name: redaction_plan redaction_plan_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.redaction_plan
    ADD CONSTRAINT redaction_plan_pkey PRIMARY KEY (run_id, table_name, column_name, row_key);


--
-- Name: redaction_runs redaction_runs_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.redaction_runs
    ADD CONSTRAINT redaction_runs_pkey PRIMARY KEY (run_id);


--
-- Name: retention_anonymised retention_anonymised_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.retention_anonymised
    ADD CONSTRAINT retention_anonymised_pkey PRIMARY KEY (policy_name, record_key);


--
-- Name: retention_approvals retention_approvals_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.retention_approvals
    ADD CONSTRAINT retention_approvals_pkey PRIMARY KEY (approval_id);


--
-- Name: retention_audit retention_audit_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.retention_audit
    ADD CONSTRAINT retention_audit_pkey PRIMARY KEY (audit_id);


--
-- Name: retention_audit retention_audit_run_id_policy_name_batch_no_key; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.retention_audit
    ADD CONSTRAINT retention_audit_run_id_policy_name_batch_no_key UNIQUE (run_id, policy_name, batch_no);


--
-- Name: retention_files retention_files_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.retention_files
    ADD CONSTRAINT retention_files_pkey PRIMARY KEY (run_id, policy_name, storage_path);


--
-- Name: retention_log retention_log_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.retention_log
    ADD CONSTRAINT retention_log_pkey PRIMARY KEY (log_id);


--
-- Name: retention_run_policies retention_run_policies_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.retention_run_policies
    ADD CONSTRAINT retention_run_policies_pkey PRIMARY KEY (run_id, policy_name);


--
-- Name: retention_runs retention_runs_pkey; Type: CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.retention_runs
    ADD CONSTRAINT retention_runs_pkey PRIMARY KEY (run_id);


--
-- Name: catalogue_scan_results_column_idx; Type: INDEX; Schema: steward; Owner: -
--

CREATE INDEX catalogue_scan_results_column_idx ON steward.catalogue_scan_results USING btree (schema_name, table_name, column_name);


--
-- Name: customer_clusters_cluster_idx; Type: INDEX; Schema: steward; Owner: -
--

CREATE INDEX customer_clusters_cluster_idx ON steward.customer_clusters USING btree (cluster_id);


--
-- Name: customer_match_pairs_right_idx; Type: INDEX; Schema: steward; Owner: -
--

CREATE INDEX customer_match_pairs_right_idx ON steward.customer_match_pairs USING btree (customer_id_r);


--
-- Name: dnc_registry_listed_number; Type: INDEX; Schema: steward; Owner: -
--

CREATE UNIQUE INDEX dnc_registry_listed_number ON steward.dnc_registry USING btree (phone_number) WHERE (delisted_on IS NULL);


--
-- Name: dnc_registry_number_interval; Type: INDEX; Schema: steward; Owner: -
--

CREATE INDEX dnc_registry_number_interval ON steward.dnc_registry USING btree (phone_number, listed_on);


--
-- Name: dsar_requests_open_due; Type: INDEX; Schema: steward; Owner: -
--

CREATE INDEX dsar_requests_open_due ON steward.dsar_requests USING btree (due_on) WHERE (status <> ALL (ARRAY['completed'::text, 'rejected'::text]));


--
-- Name: dsar_requests_subject_digest; Type: INDEX; Schema: steward; Owner: -
--

CREATE INDEX dsar_requests_subject_digest ON steward.dsar_requests USING btree (subject_digest);


--
-- Name: ix_steward_catalogue_scan_problems_run_id; Type: INDEX; Schema: steward; Owner: -
--

CREATE INDEX ix_steward_catalogue_scan_problems_run_id ON steward.catalogue_scan_problems USING btree (run_id);


--
-- Name: phone_lookup_e164_for_dsar; Type: INDEX; Schema: steward; Owner: -
--

CREATE INDEX phone_lookup_e164_for_dsar ON steward.phone_lookup USING btree (e164);


--
-- Name: quality_results_trend_idx; Type: INDEX; Schema: steward; Owner: -
--

CREATE INDEX quality_results_trend_idx ON steward.quality_results USING btree (suite_name, check_name, run_at);


--
-- Name: audit_log audit_log_append_only; Type: TRIGGER; Schema: steward; Owner: -
--

CREATE TRIGGER audit_log_append_only BEFORE DELETE OR UPDATE ON steward.audit_log FOR EACH ROW EXECUTE FUNCTION steward.audit_log_refuse_change();


--
-- Name: audit_log audit_log_no_truncate; Type: TRIGGER; Schema: steward; Owner: -
--

CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON steward.audit_log FOR EACH STATEMENT EXECUTE FUNCTION steward.audit_log_refuse_change();


--
-- Name: breach_affected_subjects breach_affected_subjects_incident_id_fkey; Type: FK CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.breach_affected_subjects
    ADD CONSTRAINT breach_affected_subjects_incident_id_fkey FOREIGN KEY (incident_id) REFERENCES steward.breach_incidents(incident_id);


--
-- Name: breach_impacts breach_impacts_incident_id_fkey; Type: FK CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.breach_impacts
    ADD CONSTRAINT breach_impacts_incident_id_fkey FOREIGN KEY (incident_id) REFERENCES steward.breach_incidents(incident_id);


--
-- Name: breach_notifications breach_notifications_incident_id_fkey; Type: FK CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.breach_notifications
    ADD CONSTRAINT breach_notifications_incident_id_fkey FOREIGN KEY (incident_id) REFERENCES steward.breach_incidents(incident_id);


--
-- Name: dsar_status_history dsar_status_history_request_id_fkey; Type: FK CONSTRAINT; Schema: steward; Owner: -
--

ALTER TABLE ONLY steward.dsar_status_history
    ADD CONSTRAINT dsar_status_history_request_id_fkey FOREIGN KEY (request_id) REFERENCES steward.dsar_requests(request_id);


--
-- PostgreSQL database dump complete
--


