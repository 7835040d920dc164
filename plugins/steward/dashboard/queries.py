"""The dashboard's queries: rows of the dbt marts in schema ``steward``, nothing else.

The aggregates live in the marts (``dbt_project/models/marts``: the catalogue
and phone counts are tables built by the nightly, the figures over the
executors' own tables (retention runs, quality results, redaction runs, the
request register) are views, as current as those tables). The page selects
their few rows; none holds a phone number, e-mail address, name or any other
personal value (the column lists are written out, never ``select *``). Each
section reads in its own read-only transaction with a statement timeout, so a
missing mart or a slow one costs one section, not the page. A section whose
marts do not exist yet, or were built before the table they read existed,
comes back with ``missing`` set, and the view model says what to run instead.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from steward.dashboard import governance

log = logging.getLogger(__name__)

SCHEMA = "steward"
STATEMENT_TIMEOUT_MS = 15_000
HISTORY_RUNS = 30  # retention runs shown per policy
TREND_POINTS = 60  # nights of snapshots and quality runs
LIST_LIMIT = 50  # rows in a listed table (gaps, open requests)

# The marts each section reads; a section with any of them missing says what to run.
CATALOGUE_TABLES = ("catalogue_column_counts", "catalogue_gap_counts", "catalogue_drift")
PHONE_TABLES = ("phone_quality_figures",)
# models/marts/dedupe, built after the phone marts: the section shows "not built" without it.
PHONE_OPTIONAL_TABLES = ("customer_duplicate_cluster_counts",)
# Views over the executor's tables (models/marts/retention).
RETENTION_TABLES = ("retention_recent_runs", "retention_policy_latest")
# dbt marts over the register steward.dsar_requests (models/marts/dsar).
REQUEST_TABLES = ("fct_dsar_requests", "dsar_request_summary", "dsar_open_requests_by_status")
# Views over steward.quality_results (models/marts/quality).
QUALITY_TABLES = ("quality_suite_latest", "quality_results_by_night")
SNAPSHOT_TABLE = "dashboard_snapshots"
# An earlier release's steward_table() macro named its empty stand-in so; views it built
# before the table existed stay empty until rebuilt (dbt now reads the internal source).
STAND_IN = re.compile(r"\b(\w+)_not_written_yet\b")


@dataclass
class SectionData:
    """What one section read: its figures, or why it could not."""

    key: str
    missing: list[str] = field(default_factory=list)
    # Marts built before a table they read existed: view -> those tables.
    stale: dict[str, list[str]] = field(default_factory=dict)
    error: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ready(self) -> bool:
        return not self.missing and not self.stale and self.error is None


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


def stale_views(conn: sa.Connection, tables: dict[str, set[str]]) -> dict[str, list[str]]:
    """Views of schema ``steward`` built before a table they read existed.

    An earlier release's dbt built them on an empty stand-in; until rebuilt they
    stay empty whatever the table holds. View name -> the tables written since.
    """
    rows = conn.execute(
        sa.text(
            "select c.relname, pg_catalog.pg_get_viewdef(c.oid) from pg_catalog.pg_class c"
            " join pg_catalog.pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = :schema and c.relkind = 'v'"
        ),
        {"schema": SCHEMA},
    )
    stale: dict[str, list[str]] = {}
    for view, definition in rows:
        written = sorted({t for t in STAND_IN.findall(definition or "") if t in tables})
        if written:
            stale[view] = written
    return stale


def _rows(conn: sa.Connection, statement: str, **params: Any) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(sa.text(statement), params).mappings()]


def _one(conn: sa.Connection, statement: str, **params: Any) -> dict[str, Any]:
    return dict(conn.execute(sa.text(statement), params).mappings().one())


# -- PII catalogue -------------------------------------------------------------------


def read_catalogue(conn: sa.Connection, tables: dict[str, set[str]]) -> dict[str, Any]:
    """Catalogued columns by category, source system and status; the governance gaps."""
    counts = _rows(
        conn,
        "select category, source_system, status, is_current_pii, column_count"
        " from steward.catalogue_column_counts order by category, source_system, status",
    )
    statuses: dict[str, int] = {}
    for row in counts:
        statuses[row["status"]] = statuses.get(row["status"], 0) + int(row["column_count"])
    gap_counts = _rows(conn, "select drift_kind, column_count from steward.catalogue_gap_counts")
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
        # What the catalogue holds as personal data today (the mart's is_current_pii).
        "by_category": [
            {
                "category": row["category"],
                "source_system": row["source_system"],
                "status": row["status"],
                "columns": int(row["column_count"]),
            }
            for row in counts
            if row["is_current_pii"]
        ],
        "statuses": statuses,
        "gap_counts": {row["drift_kind"]: int(row["column_count"]) for row in gap_counts},
        "gaps": gaps,
    }


# -- phone quality -------------------------------------------------------------------


def read_phones(conn: sa.Connection, tables: dict[str, set[str]]) -> dict[str, Any]:
    """Valid rate, duplicate groups, inactive numbers, DNC and consent violations."""
    figures = _rows(
        conn,
        "select figure, breakdown, item_count, valid_count from steward.phone_quality_figures"
        " order by figure, item_count desc, breakdown",
    )

    def breakdown(figure: str, label: str, count_as: str) -> list[dict[str, Any]]:
        return [
            {label: row["breakdown"], count_as: int(row["item_count"])}
            for row in figures
            if row["figure"] == figure
        ]

    def total(figure: str) -> int:
        return sum(int(row["item_count"]) for row in figures if row["figure"] == figure)

    records = [row for row in figures if row["figure"] == "phone_records"]
    data: dict[str, Any] = {
        "records": sum(int(row["item_count"]) for row in records),
        "valid": sum(int(row["valid_count"] or 0) for row in records),
        "parse_statuses": breakdown("phone_records", "parse_status", "records"),
        "duplicate_groups": total("duplicate_groups"),
        "duplicate_records": total("duplicate_records"),
        "inactive": breakdown("inactive_numbers", "inactive_reason", "records"),
        "dnc_violations": breakdown("dnc_violations", "violation_reason", "calls"),
        "recording_consent_violations": total("recording_consent_violations"),
        "customer_duplicate_clusters": None,
    }
    if "customer_duplicate_cluster_counts" in tables:
        clusters = _one(
            conn,
            "select cluster_count as clusters, member_count as members"
            " from steward.customer_duplicate_cluster_counts",
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
        "select run_id, started_at, run_mode, run_status, policy_name, retention_action,"
        " policy_status, overdue_rows, held_rows, due_rows, deleted_rows as deleted,"
        " anonymised_rows as anonymised, files_removed"
        " from steward.retention_recent_runs where runs_ago <= :runs"
        " order by started_at, policy_name",
        runs=HISTORY_RUNS,
    )
    # Each policy's latest decision: a breaker stop stays until a steward approves it.
    latest = _rows(
        conn,
        "select policy_name, started_at, policy_status, overdue_rows, held_rows, due_rows,"
        " table_rows, due_share, is_stopped, is_approved as approved"
        " from steward.retention_policy_latest order by due_rows desc, policy_name",
    )
    stops = [row for row in latest if row["is_stopped"]]
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
        backlog = latest
    return {
        "history": history,
        "stops": stops,
        "backlog": backlog,
        "backlog_source": backlog_source,
    }


# -- data-subject requests -------------------------------------------------------------


def read_requests(conn: sa.Connection, tables: dict[str, set[str]]) -> dict[str, Any]:
    """The request marts (dbt, marts/dsar): headline counts, open by status, open and closed lists.

    ``fct_dsar_requests`` carries no identifier of the subject; the aggregates are
    the marts' own (``dsar_request_summary``, ``dsar_open_requests_by_status``).
    """
    summary = _one(
        conn,
        "select received, open_requests, overdue, stalled, completed, completed_on_time,"
        " completed_late, rejected, rejected_invalid, rejected_unverified, rejected_other,"
        " median_days_to_complete, as_of from steward.dsar_request_summary",
    )
    open_by_status = _rows(
        conn,
        "select status, requests, overdue, stalled from steward.dsar_open_requests_by_status"
        " order by status",
    )
    open_requests = _rows(
        conn,
        "select request_id, request_type, jurisdiction, status, received_on, due_on,"
        " days_left, is_stalled, last_change_at"
        " from steward.fct_dsar_requests where is_open"
        " order by is_stalled desc, due_on nulls last, request_id limit :limit",
        limit=LIST_LIMIT,
    )
    closed_requests = _rows(
        conn,
        "select request_id, request_type, jurisdiction, received_on, due_on,"
        " coalesce(completed_on, rejected_on) as closed_on, outcome, days_to_close"
        " from steward.fct_dsar_requests where not is_open"
        " order by coalesce(completed_on, rejected_on) desc nulls last, request_id desc"
        " limit :limit",
        limit=LIST_LIMIT,
    )
    counts = {
        key: int(value)
        for key, value in summary.items()
        if key not in ("median_days_to_complete", "as_of")
    }
    return {
        **counts,
        "median_days": None
        if summary["median_days_to_complete"] is None
        else float(summary["median_days_to_complete"]),
        "today": summary["as_of"],
        "open_by_status": open_by_status,
        "open_requests_list": open_requests,
        "closed_requests": closed_requests,
    }


# -- data quality (Great Expectations) -------------------------------------------------


def read_quality(conn: sa.Connection, tables: dict[str, set[str]]) -> dict[str, Any]:
    """The latest run of each suite (expectations passed, failed checks) and the nightly rate."""
    suites = _rows(
        conn,
        "select suite_name as suite, run_at, expectation_count as expectations,"
        " passed_count as passed, failed_checks"
        " from steward.quality_suite_latest order by suite_name",
    )
    nightly = _rows(
        conn,
        "select night, expectation_count as expectations, passed_count as passed"
        " from steward.quality_results_by_night order by night desc limit :limit",
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
    *governance.READERS,
)


def _read_section(
    conn: sa.Connection,
    key: str,
    reader: Reader,
    required: Iterable[str],
    tables: dict[str, set[str]],
    stale: dict[str, list[str]],
) -> SectionData:
    section = SectionData(
        key=key,
        missing=[t for t in required if t not in tables],
        stale={t: stale[t] for t in required if t in stale},
    )
    if section.missing or section.stale:
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
            stale = stale_views(conn, tables)
        sections = {
            key: _read_section(conn, key, reader, required, tables, stale)
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
