"""Every table Steward's Python code owns in schema ``steward``, as SQLAlchemy tables.

This is the schema as the newest migration leaves it: the migrations under
``migrations/versions`` build it, and ``tests/integration/test_schema_migrations.py``
checks that the two agree (Alembic's comparison of this metadata with a migrated
database finds nothing). To change a table, change it here and add a revision
(``steward warehouse revision -m "..."`` writes one from the difference).

Tables built by dbt (marts, seeds) are dbt's, not listed here. Names of keys,
checks and indexes are the ones PostgreSQL gave them when the modules created
their own tables (before migrations), so a later revision can name them.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql.base import ischema_names

SCHEMA = "steward"

metadata = sa.MetaData(schema=SCHEMA)

NOW = sa.text("now()")
CLOCK = sa.text("clock_timestamp()")
FALSE = sa.text("false")
ZERO = sa.text("0")
TEXT_ARRAY = postgresql.ARRAY(sa.Text)
JSONB = postgresql.JSONB
TIMESTAMPTZ = sa.DateTime(timezone=True)


class Xid8(sa.types.UserDefinedType):
    """PostgreSQL's 64-bit transaction id (``pg_snapshot_xmin``), the lookup's watermark."""

    cache_ok = True

    def get_col_spec(self, **kw) -> str:
        return "xid8"


# Reflection (Alembic's comparison) then knows the type instead of warning.
ischema_names.setdefault("xid8", Xid8)


def _bigserial(name: str) -> sa.Column:
    return sa.Column(name, sa.BigInteger, primary_key=True, autoincrement=True)


# --- audit (steward.audit) ------------------------------------------------------

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("recorded_at", TIMESTAMPTZ, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("details", JSONB, nullable=False),
    sa.Column("prev_hash", sa.Text, nullable=False),
    sa.Column("row_hash", sa.Text, nullable=False),
    sa.UniqueConstraint("row_hash", name="audit_log_row_hash_key"),
)

# --- access policy (steward.access) ---------------------------------------------

access_policy_roles = sa.Table(
    "access_policy_roles",
    metadata,
    sa.Column("role_name", sa.Text, primary_key=True),
    sa.Column("database_role", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("default_treatment", sa.Text, nullable=False),
    sa.Column("undeclared_treatment", sa.Text, nullable=False),
    sa.UniqueConstraint("database_role", name="access_policy_roles_database_role_key"),
)

access_policy_categories = sa.Table(
    "access_policy_categories",
    metadata,
    sa.Column("role_name", sa.Text, primary_key=True),
    sa.Column("database_role", sa.Text, nullable=False),
    sa.Column("data_category", sa.Text, primary_key=True),
    sa.Column("treatment", sa.Text, nullable=False),
    sa.Column("mask", sa.Text),
)

access_policy_settings = sa.Table(
    "access_policy_settings",
    metadata,
    sa.Column("superusers_allowed", sa.Boolean, nullable=False),
    sa.Column("allowed_direct_roles", TEXT_ARRAY, nullable=False),
    sa.Column("policy_sha256", sa.Text, nullable=False),
    sa.Column("loaded_at", TIMESTAMPTZ, nullable=False),
)

access_pseudonym_key = sa.Table(
    "access_pseudonym_key",
    metadata,
    sa.Column("pseudonym_key", sa.Text, nullable=False),
)

# --- breach register (steward.breach) -------------------------------------------

breach_incidents = sa.Table(
    "breach_incidents",
    metadata,
    _bigserial("incident_id"),
    sa.Column("reference", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="open"),
    sa.Column("aware_at", TIMESTAMPTZ, nullable=False),
    sa.Column("exposure", JSONB, nullable=False),
    sa.Column("hipaa", sa.Boolean, nullable=False, server_default=FALSE),
    sa.Column("affected_subjects", sa.Integer),
    sa.Column("status_reason", sa.Text),
    sa.Column("created_at", TIMESTAMPTZ, nullable=False, server_default=NOW),
    sa.Column("updated_at", TIMESTAMPTZ, nullable=False, server_default=NOW),
    sa.Column("assessed_at", TIMESTAMPTZ),
    sa.Column("closed_at", TIMESTAMPTZ),
    sa.UniqueConstraint("reference", name="breach_incidents_reference_key"),
    sa.CheckConstraint(
        "status in ('open', 'assessed', 'notifying', 'notified', 'closed', 'dismissed')",
        name="breach_incidents_status_check",
    ),
)


def _incident_fk() -> sa.Column:
    return sa.Column(
        "incident_id",
        sa.BigInteger,
        sa.ForeignKey("steward.breach_incidents.incident_id"),
        primary_key=True,
    )


breach_impacts = sa.Table(
    "breach_impacts",
    metadata,
    _incident_fk(),
    sa.Column("country_code", sa.Text, primary_key=True),
    sa.Column("region_code", sa.Text, primary_key=True),
    sa.Column("data_category", sa.Text, primary_key=True),
    sa.Column("subjects", sa.Integer, nullable=False),
    sa.Column("unprotected_subjects", sa.Integer, nullable=False),
)

breach_notifications = sa.Table(
    "breach_notifications",
    metadata,
    _incident_fk(),
    sa.Column("rule_key", sa.Text, primary_key=True),
    sa.Column("law_code", sa.Text, nullable=False),
    sa.Column("law_name", sa.Text, nullable=False),
    sa.Column("recipient", sa.Text, nullable=False),
    sa.Column("citation", sa.Text, nullable=False),
    sa.Column("condition", sa.Text, nullable=False),
    sa.Column("affected", sa.Integer, nullable=False),
    sa.Column("threshold_min", sa.Integer, nullable=False),
    sa.Column("is_required", sa.Boolean, nullable=False),
    sa.Column("deadline_text", sa.Text, nullable=False),
    sa.Column("due_at", TIMESTAMPTZ),
    sa.Column("notified_at", TIMESTAMPTZ),
)

breach_affected_subjects = sa.Table(
    "breach_affected_subjects",
    metadata,
    _incident_fk(),
    sa.Column("subject_kind", sa.Text, primary_key=True),
    sa.Column("subject_key", sa.Text, primary_key=True),
    sa.Column("country_code", sa.Text, nullable=False),
    sa.Column("region_code", sa.Text, nullable=False),
    sa.Column("data_categories", TEXT_ARRAY, nullable=False),
    sa.Column("unprotected_categories", TEXT_ARRAY, nullable=False),
)

# --- PII catalogue (steward.catalogue.store) ------------------------------------

catalogue_scan_runs = sa.Table(
    "catalogue_scan_runs",
    metadata,
    sa.Column("run_id", sa.Text, primary_key=True),
    sa.Column("started_at", TIMESTAMPTZ, nullable=False),
    sa.Column("finished_at", TIMESTAMPTZ, nullable=False),
    sa.Column("mode", sa.Text, nullable=False),  # incremental | full
    sa.Column("schemas", TEXT_ARRAY, nullable=False),
    sa.Column("parameters", JSONB, nullable=False),
    sa.Column("tables_total", sa.Integer, nullable=False),
    sa.Column("columns_total", sa.Integer, nullable=False),
    sa.Column("columns_scanned", sa.Integer, nullable=False),
    sa.Column("columns_unchanged", sa.Integer, nullable=False),
    sa.Column("columns_skipped", sa.Integer, nullable=False),
    sa.Column("columns_failed", sa.Integer, nullable=False),
    sa.Column("problems", sa.Integer, nullable=False),
    sa.Column("pii_columns", sa.Integer, nullable=False),
    sa.Column("scan_seconds", sa.Float, nullable=False),
)

catalogue_scan_results = sa.Table(
    "catalogue_scan_results",
    metadata,
    sa.Column("run_id", sa.Text, primary_key=True),
    sa.Column("schema_name", sa.Text, primary_key=True),
    sa.Column("table_name", sa.Text, primary_key=True),
    sa.Column("column_name", sa.Text, primary_key=True),
    sa.Column("category", sa.Text, primary_key=True),
    sa.Column("scanned_at", TIMESTAMPTZ, nullable=False),
    sa.Column("data_type", sa.Text),
    sa.Column("confidence", sa.Numeric(4, 3), nullable=False),
    sa.Column("is_pii", sa.Boolean, nullable=False),
    sa.Column("is_best_category", sa.Boolean, nullable=False),
    sa.Column("rule", sa.Text),
    sa.Column("name_pattern", sa.Text),
    sa.Column("name_strength", sa.Numeric(4, 3)),
    sa.Column("validator", sa.Text),
    sa.Column("sample_rows", sa.Integer),
    sa.Column("non_null", sa.Integer),
    sa.Column("distinct_values", sa.Integer),
    sa.Column("matches", sa.Integer),
    sa.Column("shape_only", sa.Integer),
    sa.Column("values_with_pii_spans", sa.Integer),
    sa.Column("evidence", JSONB, nullable=False),
    sa.Column("fingerprint", sa.Text),
    sa.Column("carried_from_run_id", sa.Text),
    sa.Index("catalogue_scan_results_column_idx", "schema_name", "table_name", "column_name"),
)

catalogue_column_state = sa.Table(
    "catalogue_column_state",
    metadata,
    sa.Column("schema_name", sa.Text, primary_key=True),
    sa.Column("table_name", sa.Text, primary_key=True),
    sa.Column("column_name", sa.Text, primary_key=True),
    sa.Column("data_type", sa.Text),
    sa.Column("fingerprint", sa.Text),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("first_covered_at", TIMESTAMPTZ, nullable=False),
    sa.Column("last_covered_at", TIMESTAMPTZ, nullable=False),
    sa.Column("last_covered_run_id", sa.Text, nullable=False),
    sa.Column("last_scanned_at", TIMESTAMPTZ),
    sa.Column("last_scanned_run_id", sa.Text),
)

catalogue_scan_problems = sa.Table(
    "catalogue_scan_problems",
    metadata,
    sa.Column("run_id", sa.Text, nullable=False),
    sa.Column("schema_name", sa.Text, nullable=False),
    sa.Column("table_name", sa.Text, nullable=False),
    sa.Column("column_name", sa.Text),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Index("ix_steward_catalogue_scan_problems_run_id", "run_id"),
)

data_map_columns = sa.Table(
    "data_map_columns",
    metadata,
    sa.Column("schema_name", sa.Text, primary_key=True),
    sa.Column("table_name", sa.Text, primary_key=True),
    sa.Column("column_name", sa.Text, primary_key=True),
    sa.Column("data_category", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("loaded_at", TIMESTAMPTZ, nullable=False),
)

# --- dashboard (steward.dashboard.snapshot) -------------------------------------

dashboard_snapshots = sa.Table(
    "dashboard_snapshots",
    metadata,
    sa.Column("taken_on", sa.Date, primary_key=True),
    sa.Column("taken_at", TIMESTAMPTZ, nullable=False, server_default=CLOCK),
    sa.Column("phone_records", sa.BigInteger),
    sa.Column("phone_valid_rate", sa.Double),
    sa.Column("phone_duplicate_groups", sa.BigInteger),
    sa.Column("inactive_numbers", sa.BigInteger),
    sa.Column("dnc_violations", sa.BigInteger),
    sa.Column("recording_consent_violations", sa.BigInteger),
    sa.Column("customer_duplicate_clusters", sa.BigInteger),
    sa.Column("catalogue_confirmed", sa.BigInteger),
    sa.Column("catalogue_suggested", sa.BigInteger),
    sa.Column("catalogue_gaps", sa.BigInteger),
    sa.Column("open_requests", sa.BigInteger),
    sa.Column("overdue_requests", sa.BigInteger),
)

# --- duplicate customers (steward.dedupe.linkage) -------------------------------

dedupe_runs = sa.Table(
    "dedupe_runs",
    metadata,
    sa.Column("run_id", sa.Uuid, primary_key=True),
    sa.Column("started_at", TIMESTAMPTZ, nullable=False),
    sa.Column("finished_at", TIMESTAMPTZ, nullable=False),
    sa.Column("records", sa.Integer, nullable=False),
    sa.Column("candidate_pairs", sa.Integer, nullable=False),  # above the prediction threshold
    sa.Column("clustered_records", sa.Integer, nullable=False),  # in clusters of two or more
    sa.Column("clusters", sa.Integer, nullable=False),
    sa.Column("predict_threshold", sa.Double, nullable=False),
    sa.Column("cluster_threshold", sa.Double, nullable=False),
    sa.Column("splink_version", sa.Text, nullable=False),
    sa.Column("model_json", JSONB, nullable=False),  # trained parameters, no record values
    sa.Column("mode", sa.Text),  # full | incremental | unchanged
    sa.Column("changed_records", sa.Integer),  # new or changed since the last run
    sa.Column("removed_records", sa.Integer),
    sa.Column("scored_pairs", sa.Integer),  # pairs scored by this run
    sa.Column("model_signature", sa.Text),
    sa.Column("trained_at", TIMESTAMPTZ),
)

customer_match_pairs = sa.Table(
    "customer_match_pairs",
    metadata,
    sa.Column("run_id", sa.Uuid, nullable=False),
    sa.Column("customer_id_l", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("customer_id_r", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("match_probability", sa.Double, nullable=False),
    sa.Column("match_weight", sa.Double, nullable=False),
    # field -> exact | fuzzy | different | missing, for every compared field
    sa.Column("evidence", JSONB, nullable=False),
    sa.Column("agreed_fields", TEXT_ARRAY, nullable=False),
    sa.Column("fuzzy_fields", TEXT_ARRAY, nullable=False),
    sa.Column("differing_fields", TEXT_ARRAY, nullable=False),
    sa.CheckConstraint("customer_id_l < customer_id_r", name="customer_match_pairs_check"),
    sa.Index("customer_match_pairs_right_idx", "customer_id_r"),
)

customer_clusters = sa.Table(
    "customer_clusters",
    metadata,
    sa.Column("run_id", sa.Uuid, nullable=False),
    sa.Column("cluster_id", sa.BigInteger, nullable=False),  # the cluster's lowest customer_id
    sa.Column("customer_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("cluster_size", sa.Integer, nullable=False),
    sa.Index("customer_clusters_cluster_idx", "cluster_id"),
)

dedupe_record_fingerprints = sa.Table(
    "dedupe_record_fingerprints",
    metadata,
    sa.Column("customer_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("fingerprint", sa.Text, nullable=False),
)

# --- data-subject requests (steward.dsar) ---------------------------------------

dsar_requests = sa.Table(
    "dsar_requests",
    metadata,
    sa.Column("request_id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    sa.Column("ticket_reference", sa.Text, nullable=False),  # the idempotency key
    sa.Column("request_type", sa.Text, nullable=False),
    sa.Column("jurisdiction", sa.Text, nullable=False),
    sa.Column("received_on", sa.Date, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="received"),
    sa.Column("original_due_on", sa.Date),
    sa.Column("due_on", sa.Date),
    sa.Column("confirm_by", sa.Date),
    sa.Column("extension_notice_by", sa.Date),
    sa.Column("verification_status", sa.Text, nullable=False, server_default="pending"),
    sa.Column("verification_method", sa.Text, nullable=False, server_default="none"),
    # the subject's identifiers: needed while the request is open
    sa.Column("customer_id", sa.BigInteger),
    sa.Column("email", sa.Text),
    sa.Column("phone", sa.Text),
    sa.Column("full_name", sa.Text),
    sa.Column("date_of_birth", sa.Date),
    sa.Column("corrections", JSONB),
    sa.Column("subject_digest", sa.Text),  # HMAC of the identifiers (keys.subject_digest)
    sa.Column("resolved_identity", JSONB),  # ids, e-mails, phones found: cleared on completion
    sa.Column("extended_at", sa.Date),
    sa.Column("extension_reason", sa.Text),
    sa.Column("paused_at", sa.Date),
    sa.Column("pause_reason", sa.Text),
    sa.Column("paused_days", sa.Integer, nullable=False, server_default=ZERO),
    sa.Column("completed_at", TIMESTAMPTZ),
    sa.Column("rejection_reason", sa.Text),
    sa.Column("result", JSONB),  # counts and digests only
    sa.Column("created_at", TIMESTAMPTZ, nullable=False, server_default=NOW),
    sa.Column("updated_at", TIMESTAMPTZ, nullable=False, server_default=NOW),
    sa.UniqueConstraint("ticket_reference", name="dsar_requests_ticket_reference_key"),
    sa.CheckConstraint(
        "request_type in ('access', 'correction', 'deletion')",
        name="dsar_requests_request_type_check",
    ),
    # steward.dsar.register.STATUSES; a test keeps the two equal.
    sa.CheckConstraint(
        "status in ('received', 'awaiting_verification', 'in_progress', 'extended', 'paused',"
        " 'completed', 'not_found', 'rejected')",
        name="dsar_requests_status_check",
    ),
    sa.Index(
        "dsar_requests_open_due",
        "due_on",
        postgresql_where=sa.text("status not in ('completed', 'rejected')"),
    ),
    sa.Index("dsar_requests_subject_digest", "subject_digest"),
)

dsar_status_history = sa.Table(
    "dsar_status_history",
    metadata,
    sa.Column(
        "request_id",
        sa.BigInteger,
        sa.ForeignKey("steward.dsar_requests.request_id"),
        nullable=False,
    ),
    sa.Column("changed_at", TIMESTAMPTZ, nullable=False, server_default=NOW),
    sa.Column("from_status", sa.Text),
    sa.Column("to_status", sa.Text, nullable=False),
    sa.Column("reason", sa.Text),
)

dsar_sla_daily = sa.Table(
    "dsar_sla_daily",
    metadata,
    sa.Column("as_of", sa.Date, primary_key=True),
    sa.Column("open_requests", sa.Integer, nullable=False),
    sa.Column("due_soon", sa.Integer, nullable=False),
    sa.Column("overdue", sa.Integer, nullable=False),
    sa.Column("completed", sa.Integer, nullable=False),
    sa.Column("completed_on_time", sa.Integer, nullable=False),
    sa.Column("share_on_time", sa.Numeric),
    sa.Column("median_days_to_complete", sa.Numeric),
    sa.Column("recorded_at", TIMESTAMPTZ, nullable=False, server_default=NOW),
)

dsar_subject_rows = sa.Table(
    "dsar_subject_rows",
    metadata,
    sa.Column("request_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("phase", sa.Text, primary_key=True),  # find | verify | rescan
    sa.Column("table_name", sa.Text, primary_key=True),  # schema.table
    sa.Column("row_key", JSONB, primary_key=True),  # the primary key columns of the row
    # subject_key | reference | email | phone | mention
    sa.Column("matched_by", sa.Text, primary_key=True),
    sa.Column("owned", sa.Boolean, nullable=False),  # the row is keyed by the subject
)

dsar_erasure_plan = sa.Table(
    "dsar_erasure_plan",
    metadata,
    sa.Column("request_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("table_name", sa.Text, primary_key=True),
    sa.Column("row_key", JSONB, primary_key=True),
    sa.Column("action", sa.Text, nullable=False),  # delete | anonymise | delete_file | ...
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("file_path", sa.Text),  # delete_file: the recording
    sa.Column("done", sa.Boolean, nullable=False, server_default=FALSE),
    sa.Column("file_outcome", sa.Text),
    sa.Column("file_error", sa.Text),
)

dsar_suppressions = sa.Table(
    "dsar_suppressions",
    metadata,
    sa.Column("identifier_kind", sa.Text, primary_key=True),
    sa.Column("identifier_hash", sa.Text, primary_key=True),
    sa.Column("request_id", sa.BigInteger, nullable=False),
    sa.Column("created_at", TIMESTAMPTZ, nullable=False, server_default=NOW),
)

dsar_correction_plan = sa.Table(
    "dsar_correction_plan",
    metadata,
    sa.Column("request_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("table_name", sa.Text, primary_key=True),
    sa.Column("column_name", sa.Text, primary_key=True),
    sa.Column("row_key", JSONB, primary_key=True),
    sa.Column("field", sa.Text, nullable=False),  # the data category corrected
    sa.Column("action", sa.Text, nullable=False, server_default="correct"),
    sa.Column("done", sa.Boolean, nullable=False, server_default=FALSE),
)

dsar_correction_fields = sa.Table(
    "dsar_correction_fields",
    metadata,
    sa.Column("request_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("field", sa.Text, primary_key=True),
    sa.Column("old_values_digest", sa.Text, nullable=False),  # keyed digests only: no values
    sa.Column("old_value_count", sa.Integer, nullable=False),
    sa.Column("new_value_digest", sa.Text, nullable=False),
)

dsar_derived_plan = sa.Table(
    "dsar_derived_plan",
    metadata,
    sa.Column("request_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("table_name", sa.Text, primary_key=True),
    sa.Column("row_key", JSONB, primary_key=True),  # {"row_md5": ...}: no identifiers
    sa.Column("action", sa.Text, nullable=False),  # delete | remove_member
    sa.Column("done", sa.Boolean, nullable=False, server_default=FALSE),
)

# --- phones (steward.phones) ----------------------------------------------------

phone_lookup = sa.Table(
    "phone_lookup",
    metadata,
    sa.Column("raw_value", sa.Text, nullable=False),  # steward.phone_raw_key(raw)
    sa.Column("region_hint", sa.Text, nullable=False),  # steward.phone_region_key(country)
    sa.Column("e164", sa.Text),  # set only when parse_status = 'valid'
    sa.Column("parse_status", sa.Text, nullable=False),
    sa.Column("number_type", sa.Text),
    sa.Column("region_code", sa.Text),  # region of the number itself ('001': non-geographic)
    sa.Column("has_extension", sa.Boolean, nullable=False),
    sa.Column("rescued_idd", sa.Boolean, nullable=False),  # '00' read as '+'
    sa.Column("region_used", sa.Text, nullable=False),  # national spellings read in
    sa.Column("failure_reason", sa.Text),
    sa.Column("default_region", sa.Text, nullable=False),
    sa.Column("library_version", sa.Text, nullable=False),  # phonenumbers + Steward revision
    sa.Column("parsed_at", TIMESTAMPTZ, nullable=False, server_default=NOW),
    sa.PrimaryKeyConstraint("raw_value", "region_hint", name="phone_lookup_pkey"),
    # The DSAR finder looks subjects' phones up by E.164.
    sa.Index("phone_lookup_e164_for_dsar", "e164"),
)

phone_lookup_state = sa.Table(
    "phone_lookup_state",
    metadata,
    sa.Column("state_key", sa.Text, primary_key=True),
    sa.Column("sources_signature", sa.Text, nullable=False),  # phone columns and hint scanned
    sa.Column("watermark", Xid8, nullable=False),  # older transactions' rows were scanned
    sa.Column("full_scan_at", TIMESTAMPTZ, nullable=False),  # last scan of every row
    sa.Column("refreshed_at", TIMESTAMPTZ, nullable=False),
)

dnc_registry_imports = sa.Table(
    "dnc_registry_imports",
    metadata,
    sa.Column("import_id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    sa.Column("import_kind", sa.Text, nullable=False),
    sa.Column("snapshot_date", sa.Date, nullable=False),  # the registry's date of the download
    sa.Column("source_file", sa.Text, nullable=False),  # base name of the file
    sa.Column("file_sha256", sa.Text, nullable=False),
    sa.Column("lines_read", sa.BigInteger, nullable=False),
    sa.Column("numbers_accepted", sa.BigInteger, nullable=False),
    sa.Column("lines_rejected", sa.BigInteger, nullable=False),
    sa.Column("rejected_by_reason", JSONB, nullable=False),
    sa.Column("numbers_added", sa.BigInteger, nullable=False),
    sa.Column("numbers_removed", sa.BigInteger, nullable=False),
    sa.Column("imported_at", TIMESTAMPTZ, nullable=False, server_default=NOW),
    sa.CheckConstraint(
        "import_kind in ('full', 'changes')", name="dnc_registry_imports_import_kind_check"
    ),
)

dnc_registry = sa.Table(
    "dnc_registry",
    metadata,
    sa.Column("phone_number", sa.Text, nullable=False),
    sa.Column("listed_on", sa.Date, nullable=False),
    sa.Column("delisted_on", sa.Date),  # null while the number is on the registry
    sa.Column("source_file", sa.Text, nullable=False),
    sa.Column("import_id", sa.BigInteger, nullable=False),
    sa.CheckConstraint(
        "phone_number ~ '^[2-9][0-9]{2}[2-9][0-9]{6}$'", name="dnc_registry_phone_number_check"
    ),
    sa.CheckConstraint(
        "delisted_on is null or delisted_on >= listed_on", name="dnc_registry_check"
    ),
    sa.Index(
        "dnc_registry_listed_number",
        "phone_number",
        unique=True,
        postgresql_where=sa.text("delisted_on is null"),
    ),
    sa.Index("dnc_registry_number_interval", "phone_number", "listed_on"),
)

# --- Great Expectations results (steward.quality.checkpoint) --------------------

quality_results = sa.Table(
    "quality_results",
    metadata,
    sa.Column("run_id", sa.Text, primary_key=True),
    sa.Column("run_at", TIMESTAMPTZ, nullable=False),
    sa.Column("suite_name", sa.Text, nullable=False),
    sa.Column("expectation_type", sa.Text, nullable=False),
    sa.Column("check_name", sa.Text, primary_key=True),  # meta.steward_check
    sa.Column("column_name", sa.Text),
    sa.Column("success", sa.Boolean, nullable=False),
    sa.Column("observed_value", sa.Double),  # a count or a share, never a record value
    sa.Column("unexpected_count", sa.BigInteger),
    sa.Column("unexpected_percent", sa.Double),
    sa.Column("element_count", sa.BigInteger),
    sa.Index("quality_results_trend_idx", "suite_name", "check_name", "run_at"),
)

# --- redaction (steward.redaction.runner) ---------------------------------------

redaction_runs = sa.Table(
    "redaction_runs",
    metadata,
    _bigserial("run_id"),
    sa.Column("started_at", TIMESTAMPTZ, nullable=False, server_default=NOW),
    sa.Column("finished_at", TIMESTAMPTZ),
    sa.Column("status", sa.Text, nullable=False, server_default="running"),  # | finished
)

redaction_plan = sa.Table(
    "redaction_plan",
    metadata,
    sa.Column("run_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("table_name", sa.Text, primary_key=True),
    sa.Column("column_name", sa.Text, primary_key=True),
    sa.Column("row_key", JSONB, primary_key=True),
    sa.Column("action", sa.Text, nullable=False),  # redact | report | truncate | held
    sa.Column("done", sa.Boolean, nullable=False, server_default=FALSE),
)

pci_violations = sa.Table(
    "pci_violations",
    metadata,
    sa.Column("table_name", sa.Text, primary_key=True),
    sa.Column("column_name", sa.Text, primary_key=True),
    sa.Column("full_card_rows", sa.BigInteger, nullable=False, server_default=ZERO),
    sa.Column("held_rows", sa.BigInteger, nullable=False, server_default=ZERO),
    sa.Column("checked_at", TIMESTAMPTZ),
    sa.Column("approved_by", sa.Text),
    sa.Column("approved_at", TIMESTAMPTZ),
    sa.Column("truncated_rows", sa.BigInteger, nullable=False, server_default=ZERO),
)

# --- retention (steward.retention.executor) -------------------------------------

retention_runs = sa.Table(
    "retention_runs",
    metadata,
    sa.Column("run_id", sa.Text, primary_key=True),
    sa.Column("run_mode", sa.Text, nullable=False),
    sa.Column("run_status", sa.Text, nullable=False),
    sa.Column("as_of", TIMESTAMPTZ, nullable=False),
    sa.Column("max_share", sa.Double, nullable=False),
    sa.Column("batch_size", sa.Integer, nullable=False),
    sa.Column("policy_filter", TEXT_ARRAY),
    sa.Column("started_at", TIMESTAMPTZ, nullable=False, server_default=CLOCK),
    sa.Column("finished_at", TIMESTAMPTZ),
    sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("1")),
    sa.Column("summary", JSONB),
)

retention_run_policies = sa.Table(
    "retention_run_policies",
    metadata,
    sa.Column("run_id", sa.Text, primary_key=True),
    sa.Column("policy_name", sa.Text, primary_key=True),
    sa.Column("rule_name", sa.Text, nullable=False),
    sa.Column("retention_action", sa.Text, nullable=False),
    sa.Column("policy_status", sa.Text, nullable=False),
    sa.Column("overdue_rows", sa.BigInteger, nullable=False),
    sa.Column("held_rows", sa.BigInteger, nullable=False),
    sa.Column("due_rows", sa.BigInteger, nullable=False),
    sa.Column("table_rows", sa.BigInteger, nullable=False),
    sa.Column("due_share", sa.Double, nullable=False),
    sa.Column("approval_id", sa.BigInteger),
    sa.Column("updated_at", TIMESTAMPTZ, nullable=False, server_default=CLOCK),
)

retention_audit = sa.Table(
    "retention_audit",
    metadata,
    _bigserial("audit_id"),
    sa.Column("run_id", sa.Text, nullable=False),
    sa.Column("policy_name", sa.Text, nullable=False),
    sa.Column("rule_name", sa.Text, nullable=False),
    sa.Column("retention_action", sa.Text, nullable=False),
    sa.Column("batch_no", sa.Integer, nullable=False),
    sa.Column("row_count", sa.BigInteger, nullable=False),
    sa.Column("keys_sha256", sa.Text, nullable=False),
    sa.Column("first_sort_key", sa.BigInteger, nullable=False),
    sa.Column("first_record_key", sa.Text, nullable=False),
    sa.Column("last_sort_key", sa.BigInteger, nullable=False),
    sa.Column("last_record_key", sa.Text, nullable=False),
    sa.Column("started_at", TIMESTAMPTZ, nullable=False),
    sa.Column("committed_at", TIMESTAMPTZ, nullable=False, server_default=CLOCK),
    sa.UniqueConstraint(
        "run_id",
        "policy_name",
        "batch_no",
        name="retention_audit_run_id_policy_name_batch_no_key",
    ),
)

retention_anonymised = sa.Table(
    "retention_anonymised",
    metadata,
    sa.Column("policy_name", sa.Text, primary_key=True),
    sa.Column("record_key", sa.Text, primary_key=True),
    sa.Column("run_id", sa.Text, nullable=False),
    sa.Column("anonymised_at", TIMESTAMPTZ, nullable=False, server_default=CLOCK),
)

retention_files = sa.Table(
    "retention_files",
    metadata,
    sa.Column("run_id", sa.Text, primary_key=True),
    sa.Column("policy_name", sa.Text, primary_key=True),
    sa.Column("batch_no", sa.Integer, nullable=False),
    sa.Column("storage_path", sa.Text, primary_key=True),
    sa.Column("removed_at", TIMESTAMPTZ),
    sa.Column("outcome", sa.Text),
)

retention_approvals = sa.Table(
    "retention_approvals",
    metadata,
    _bigserial("approval_id"),
    sa.Column("policy_name", sa.Text, nullable=False),
    sa.Column("approved_due_rows", sa.BigInteger, nullable=False),
    sa.Column("approved_by", sa.Text, nullable=False),
    sa.Column("approved_at", TIMESTAMPTZ, nullable=False, server_default=CLOCK),
    sa.Column("stopped_run_id", sa.Text),
    sa.Column("consumed_by_run", sa.Text),
)

retention_log = sa.Table(
    "retention_log",
    metadata,
    _bigserial("log_id"),
    sa.Column("run_id", sa.Text),
    sa.Column("logged_at", TIMESTAMPTZ, nullable=False, server_default=CLOCK),
    sa.Column("policy_name", sa.Text),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("detail", JSONB),
)
