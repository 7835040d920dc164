"""The dashboard's queries: aggregates over the marts in schema ``steward``, nothing else.

Every query counts, sums or groups; none selects a phone number, e-mail address,
name or any other personal value (the column lists are written out, never
``select *``). Each section reads in its own read-only transaction with a
statement timeout, so a missing table or a slow mart costs one section, not the page.
A section whose tables do not exist yet comes back with ``missing`` set, and the
view model says what to run instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

log = logging.getLogger(__name__)

SCHEMA = "steward"
STATEMENT_TIMEOUT_MS = 15_000
HISTORY_RUNS = 30  # retention runs shown per policy
TREND_POINTS = 60  # nights of snapshots and quality runs
LIST_LIMIT = 50  # rows in a listed table (gaps, open requests)

# The tables each section reads; a section with any of them missing says what to run.
CATALOGUE_TABLES = ("pii_catalogue", "catalogue_drift")
PHONE_TABLES = ("customer_phone_numbers", "phone_duplicate_groups", "inactive_phone_numbers")
PHONE_OPTIONAL_TABLES = (
    "dnc_violations",
    "recording_consent_violations",
    "customer_duplicate_clusters",
)
RETENTION_TABLES = (
    "retention_runs",
    "retention_run_policies",
    "retention_audit",
    "retention_files",
    "retention_approvals",
)
REQUEST_TABLES = ("dsar_requests",)
QUALITY_TABLES = ("quality_results",)
SNAPSHOT_TABLE = "dashboard_snapshots"


@dataclass
class SectionData:
    """What one section read: its figures, or why it could not."""

    key: str
    missing: list[str] = field(default_factory=list)
    error: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ready(self) -> bool:
        return not self.missing and self.error is None


def steward_tables(conn: sa.Connection) -> dict[str, set[str]]:
    """The tables and views of schema ``steward`` with their column names (the catalogue)."""
    rows = conn.execute(
        sa.text(
            "select c.relname, a.attname from pg_catalog.pg_class c"
            " join pg_catalog.pg_namespace n on n.oid = c.relnamespace"
            " join pg_catalog.pg_attribute a on a.attrelid = c.oid"
            " where n.nspname = :schema and c.relkind in ('r', 'v', 'm', 'p')"
            " and a.attnum > 0 and not a.attisdropped"
        ),
        {"schema": SCHEMA},
    )
    tables: dict[str, set[str]] = {}
    for table, column in rows:
        tables.setdefault(table, set()).add(column)
    return tables


def _rows(conn: sa.Connection, statement: str, **params: Any) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(sa.text(statement), params).mappings()]


def _one(conn: sa.Connection, statement: str, **params: Any) -> dict[str, Any]:
    return dict(conn.execute(sa.text(statement), params).mappings().one())


# -- PII catalogue -------------------------------------------------------------------


def read_catalogue(conn: sa.Connection, tables: dict[str, set[str]]) -> dict[str, Any]:
    """Catalogued columns by category, source system and status; the governance gaps."""
    # What the catalogue holds as personal data today: confirmed, or suggested and
    # still found by the latest scan (the same rule as the catalogue_drift mart).
    current = (
        "status = 'confirmed' or (status = 'suggested' and is_current)"
        if "is_current" in tables["pii_catalogue"]
        else "status in ('confirmed', 'suggested')"
    )
    by_category = _rows(
        conn,
        "select category, schema_name as source_system, status, count(*) as columns"
        f" from steward.pii_catalogue where {current}"
        " group by category, schema_name, status order by category, schema_name, status",
    )
    statuses = _rows(
        conn,
        "select status, count(*) as columns from steward.pii_catalogue group by status",
    )
    gap_counts = _rows(
        conn,
        "select drift_kind, count(*) as columns from steward.catalogue_drift group by drift_kind",
    )
    # Undeclared columns first: they are personal data nobody has put on the map.
    gaps = _rows(
        conn,
        "select drift_kind, schema_name, table_name, column_name, declared_category,"
        " found_categories, confidence, detail from steward.catalogue_drift"
        " order by case drift_kind when 'undeclared' then 0"
        " when 'category_mismatch' then 1 else 2 end,"
        " confidence desc nulls last, schema_name, table_name, column_name"
        " limit :limit",
        limit=LIST_LIMIT,
    )
    return {
        "by_category": by_category,
        "statuses": {row["status"]: int(row["columns"]) for row in statuses},
        "gap_counts": {row["drift_kind"]: int(row["columns"]) for row in gap_counts},
        "gaps": gaps,
    }


# -- phone quality -------------------------------------------------------------------


def read_phones(conn: sa.Connection, tables: dict[str, set[str]]) -> dict[str, Any]:
    """Valid rate, duplicate groups, inactive numbers, DNC and consent violations."""
    # One pass over the largest mart (a row per CRM phone record): the totals are
    # the sums of the per-status counts.
    by_status = _rows(
        conn,
        "select parse_status, count(*) as records, count(*) filter (where is_valid) as valid"
        " from steward.customer_phone_numbers group by parse_status order by count(*) desc",
    )
    validity = {
        "records": sum(int(row["records"]) for row in by_status),
        "valid": sum(int(row["valid"]) for row in by_status),
    }
    parse_statuses = [
        {"parse_status": row["parse_status"], "records": row["records"]} for row in by_status
    ]
    duplicates = _one(
        conn,
        "select count(distinct duplicate_group_id) as groups, count(*) as records"
        " from steward.phone_duplicate_groups",
    )
    inactive = _rows(
        conn,
        "select inactive_reason, count(*) as records from steward.inactive_phone_numbers"
        " group by inactive_reason order by count(*) desc",
    )
    data: dict[str, Any] = {
        "records": int(validity["records"]),
        "valid": int(validity["valid"]),
        "parse_statuses": parse_statuses,
        "duplicate_groups": int(duplicates["groups"]),
        "duplicate_records": int(duplicates["records"]),
        "inactive": inactive,
        "dnc_violations": None,
        "recording_consent_violations": None,
        "customer_duplicate_clusters": None,
    }
    if "dnc_violations" in tables:
        data["dnc_violations"] = _rows(
            conn,
            "select violation_reason, count(*) as calls from steward.dnc_violations"
            " group by violation_reason order by count(*) desc",
        )
    if "recording_consent_violations" in tables:
        data["recording_consent_violations"] = int(
            conn.execute(
                sa.text("select count(*) from steward.recording_consent_violations")
            ).scalar_one()
        )
    if "customer_duplicate_clusters" in tables:
        clusters = _one(
            conn,
            "select count(*) as clusters, coalesce(sum(member_count), 0) as members"
            " from steward.customer_duplicate_clusters",
        )
        data["customer_duplicate_clusters"] = {k: int(v) for k, v in clusters.items()}
    return data


SNAPSHOT_COLUMNS = (
    "taken_on",
    "phone_records",
    "phone_valid_rate",
    "phone_duplicate_groups",
    "inactive_numbers",
    "dnc_violations",
    "recording_consent_violations",
    "customer_duplicate_clusters",
    "catalogue_confirmed",
    "catalogue_suggested",
    "catalogue_gaps",
    "open_requests",
    "overdue_requests",
)


def read_snapshots(conn: sa.Connection, tables: dict[str, set[str]]) -> list[dict[str, Any]]:
    """The nightly snapshots, oldest first (the trend lines); empty before the first."""
    if SNAPSHOT_TABLE not in tables:
        return []
    columns = ", ".join(SNAPSHOT_COLUMNS)
    rows = _rows(
        conn,
        f"select {columns} from steward.dashboard_snapshots order by taken_on desc limit :limit",
        limit=TREND_POINTS,
    )
    return list(reversed(rows))


# -- retention -----------------------------------------------------------------------


def read_retention(conn: sa.Connection, tables: dict[str, set[str]]) -> dict[str, Any]:
    """Per policy and run: deleted, anonymised, held back, files; the backlog; breaker stops."""
    history = _rows(
        conn,
        """
        with runs as (
            select run_id, started_at, run_mode, run_status
            from steward.retention_runs
            order by started_at desc
            limit :runs
        ),
        audit as (
            select
                run_id,
                policy_name,
                sum(row_count) filter (where retention_action = 'anonymise') as anonymised,
                sum(row_count) filter (where retention_action <> 'anonymise') as deleted
            from steward.retention_audit
            where run_id in (select run_id from runs)
            group by run_id, policy_name
        ),
        files as (
            select run_id, policy_name, count(*) filter (where outcome = 'removed') as removed
            from steward.retention_files
            where run_id in (select run_id from runs)
            group by run_id, policy_name
        )
        select
            runs.run_id,
            runs.started_at,
            runs.run_mode,
            runs.run_status,
            policies.policy_name,
            policies.retention_action,
            policies.policy_status,
            policies.overdue_rows,
            policies.held_rows,
            policies.due_rows,
            coalesce(audit.deleted, 0) as deleted,
            coalesce(audit.anonymised, 0) as anonymised,
            coalesce(files.removed, 0) as files_removed
        from runs
        inner join steward.retention_run_policies as policies on runs.run_id = policies.run_id
        left join audit
            on policies.run_id = audit.run_id and policies.policy_name = audit.policy_name
        left join files
            on policies.run_id = files.run_id and policies.policy_name = files.policy_name
        order by runs.started_at, policies.policy_name
        """,
        runs=HISTORY_RUNS,
    )
    # Each policy's latest decision: a breaker stop stays until a steward approves it.
    stops = _rows(
        conn,
        """
        with latest as (
            select distinct on (policies.policy_name)
                policies.policy_name,
                policies.run_id,
                policies.policy_status,
                policies.due_rows,
                policies.table_rows,
                policies.due_share,
                runs.started_at
            from steward.retention_run_policies as policies
            inner join steward.retention_runs as runs on policies.run_id = runs.run_id
            order by policies.policy_name, runs.started_at desc
        )
        select
            latest.policy_name,
            latest.started_at,
            latest.due_rows,
            latest.table_rows,
            latest.due_share,
            exists (
                select 1 from steward.retention_approvals as approvals
                where
                    approvals.policy_name = latest.policy_name
                    and approvals.consumed_by_run is null
                    and approvals.approved_due_rows >= latest.due_rows
            ) as approved
        from latest
        where latest.policy_status = 'stopped_by_breaker'
        order by latest.due_rows desc
        """,
    )
    backlog: list[dict[str, Any]] = []
    backlog_source = None
    if "retention_plan" in tables:
        backlog_source = "plan"
        backlog = _rows(
            conn,
            "select policy_name, overdue_rows, held_rows, due_rows, table_rows, due_share"
            " from steward.retention_plan order by due_rows desc, policy_name",
        )
    elif history:
        backlog_source = "latest_run"
        backlog = _rows(
            conn,
            """
            select distinct on (policies.policy_name)
                policies.policy_name, policies.overdue_rows, policies.held_rows,
                policies.due_rows, policies.table_rows, policies.due_share
            from steward.retention_run_policies as policies
            inner join steward.retention_runs as runs on policies.run_id = runs.run_id
            order by policies.policy_name, runs.started_at desc
            """,
        )
    return {
        "history": history,
        "stops": stops,
        "backlog": backlog,
        "backlog_source": backlog_source,
    }


# -- data-subject requests -------------------------------------------------------------


def read_requests(conn: sa.Connection, tables: dict[str, set[str]]) -> dict[str, Any]:
    """Open requests by status and due date; on-time share and median completion days."""
    # Identifiers of the subject (e-mail, phone, name, ...) live in this table too:
    # the column lists below name only the request's own bookkeeping.
    open_by_status = _rows(
        conn,
        "select status, count(*) as requests,"
        " count(*) filter (where due_on < current_date) as overdue"
        " from steward.dsar_requests where status not in ('completed', 'rejected')"
        " group by status order by status",
    )
    open_requests = _rows(
        conn,
        "select request_id, request_type, jurisdiction, status, received_on, due_on,"
        " due_on - current_date as days_left"
        " from steward.dsar_requests where status not in ('completed', 'rejected')"
        " order by due_on nulls last, request_id limit :limit",
        limit=LIST_LIMIT,
    )
    sla = _one(
        conn,
        "select count(*) as completed,"
        " count(*) filter (where completed_at::date <= due_on) as on_time,"
        " percentile_cont(0.5) within group (order by completed_at::date - received_on)"
        "  as median_days"
        " from steward.dsar_requests where status = 'completed'",
    )
    totals = _one(
        conn,
        "select count(*) as received,"
        " count(*) filter (where status = 'rejected') as rejected,"
        " current_date as today from steward.dsar_requests",
    )
    return {
        "open_by_status": open_by_status,
        "open_requests": open_requests,
        "completed": int(sla["completed"]),
        "on_time": int(sla["on_time"]),
        "median_days": None if sla["median_days"] is None else float(sla["median_days"]),
        "received": int(totals["received"]),
        "rejected": int(totals["rejected"]),
        "today": totals["today"],
    }


# -- data quality (Great Expectations) -------------------------------------------------


def read_quality(conn: sa.Connection, tables: dict[str, set[str]]) -> dict[str, Any]:
    """The latest run of each suite (expectations passed, failed checks) and the nightly rate."""
    # steward.quality_results (steward.quality.checkpoint): one row per run and check.
    suites = _rows(
        conn,
        """
        with latest as (
            select distinct on (suite_name) suite_name, run_id, run_at
            from steward.quality_results
            order by suite_name, run_at desc
        )
        select
            latest.suite_name as suite,
            latest.run_at,
            count(*) as expectations,
            count(*) filter (where results.success) as passed,
            coalesce(
                string_agg(results.check_name, ', ' order by results.check_name)
                    filter (where not results.success),
                ''
            ) as failed_checks
        from latest
        inner join steward.quality_results as results
            on results.suite_name = latest.suite_name and results.run_id = latest.run_id
        group by latest.suite_name, latest.run_at
        order by latest.suite_name
        """,
    )
    nightly = _rows(
        conn,
        """
        select
            run_at::date as night,
            count(*) as expectations,
            count(*) filter (where success) as passed
        from steward.quality_results
        group by run_at::date
        order by night desc
        limit :limit
        """,
        limit=TREND_POINTS,
    )
    return {"suites": suites, "nightly": list(reversed(nightly))}


# -- all sections ---------------------------------------------------------------------

Reader = Callable[[sa.Connection, dict[str, set[str]]], Any]

SECTIONS: tuple[tuple[str, Reader, tuple[str, ...]], ...] = (
    ("catalogue", read_catalogue, CATALOGUE_TABLES),
    ("retention", read_retention, RETENTION_TABLES),
    ("phones", read_phones, PHONE_TABLES),
    ("requests", read_requests, REQUEST_TABLES),
    ("quality", read_quality, QUALITY_TABLES),
)


def _read_section(
    conn: sa.Connection,
    key: str,
    reader: Reader,
    required: Iterable[str],
    tables: dict[str, set[str]],
) -> SectionData:
    section = SectionData(key=key, missing=[t for t in required if t not in tables])
    if section.missing:
        return section
    started = time.perf_counter()
    try:
        with conn.begin():
            conn.execute(sa.text("set transaction read only"))
            conn.execute(sa.text(f"set local statement_timeout = {int(STATEMENT_TIMEOUT_MS)}"))
            section.data = reader(conn, tables)
    except (sa.exc.SQLAlchemyError, ValueError) as exc:
        # The message names a table or column at most; the page shows the error kind.
        log.warning("dashboard section %s failed: %s", key, type(exc).__name__)
        section.error = _error_text(exc)
    section.seconds = time.perf_counter() - started
    return section


def _error_text(exc: Exception) -> str:
    if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None:
        first_line = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else ""
        return f"{type(exc.orig).__name__}: {first_line}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def read_all(engine: sa.Engine) -> dict[str, Any]:
    """Every section's figures plus the snapshots, read in one connection."""
    with engine.connect() as conn:
        with conn.begin():
            tables = steward_tables(conn)
        sections = {
            key: _read_section(conn, key, reader, required, tables)
            for key, reader, required in SECTIONS
        }
        snapshots = SectionData(key="snapshots")
        try:
            with conn.begin():
                conn.execute(sa.text("set transaction read only"))
                snapshots.data = {"rows": read_snapshots(conn, tables)}
        except sa.exc.SQLAlchemyError as exc:
            snapshots.error = _error_text(exc)
            snapshots.data = {"rows": []}
        present_optional = {t for t in PHONE_OPTIONAL_TABLES if t in tables}
    return {
        "sections": sections,
        "snapshots": snapshots.data.get("rows", []),
        "tables": sorted(tables),
        "phone_optional_tables": sorted(present_optional),
    }
