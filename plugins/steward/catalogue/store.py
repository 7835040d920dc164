"""Where scan results live in the warehouse: schema ``steward``, written by Python.

Tables (defined and migrated by :mod:`steward.schema`):

``catalogue_scan_runs``
    One row per scan run: mode, parameters and counts.
``catalogue_scan_results``
    One row per (run, schema, table, column, category) with a non-zero
    confidence: the confidence, whether it reaches the PII threshold, and the
    evidence that produced it (name pattern, validator, sample size, matches).
    Counts only, never a sampled value. Columns an incremental run found
    unchanged are carried forward from the run that last validated them
    (``carried_from_run_id``), so every run holds the whole picture.
``catalogue_column_state``
    One row per column ever seen: its fingerprint (for incremental rescans),
    when it was first and last covered by a run, and its last status.
``catalogue_scan_problems``
    What went wrong per run (failed queries, vanished tables), without values.
``data_map_columns``
    The personal columns the data map declares (``steward.datamap``), rewritten
    on every run so dbt can compare the catalogue with the map. The YAML stays
    the single source of truth; this is a copy for SQL.

The dbt marts ``pii_catalogue`` and ``catalogue_drift`` read these tables.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from steward import datamap, schema
from steward.catalogue.scanner import ColumnKey, ScanReport
from steward.schema import tables

SCHEMA = "steward"
OVERRIDES_TABLE = "catalogue_overrides"  # the dbt seed

# The tables are defined with the rest of Steward's schema (steward.schema.tables).
scan_runs = tables.catalogue_scan_runs
scan_results = tables.catalogue_scan_results
column_state = tables.catalogue_column_state
scan_problems = tables.catalogue_scan_problems
data_map_columns = tables.data_map_columns


def ensure_tables(conn: sa.Connection) -> None:
    """Bring Steward's schema, the catalogue's tables included, up to date (idempotent)."""
    schema.upgrade(conn.engine)


def previous_fingerprints(conn: sa.Connection) -> dict[ColumnKey, str]:
    """Each column's fingerprint from the run that last validated it."""
    query = sa.select(
        column_state.c.schema_name,
        column_state.c.table_name,
        column_state.c.column_name,
        column_state.c.fingerprint,
    ).where(column_state.c.fingerprint.is_not(None))
    return {(s, t, c): fingerprint for s, t, c, fingerprint in conn.execute(query)}


def new_run_id(started_at: dt.datetime) -> str:
    """Sortable and unique: the start time plus a random suffix."""
    return f"{started_at:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def persist_report(
    conn: sa.Connection,
    report: ScanReport,
    *,
    run_id: str,
    started_at: dt.datetime,
    mode: str,
) -> dict[str, int]:
    """Write one run (results, carried-forward results, column state, problems).

    Runs inside the caller's transaction: a run is stored whole or not at all.
    Returns the run's column counts.
    """
    finished_at = dt.datetime.now(dt.UTC)
    statuses: dict[str, int] = {}
    for status in report.columns:
        statuses[status.status] = statuses.get(status.status, 0) + 1
    best = {(f.schema, f.table, f.column, f.category) for f in report.pii()}
    types = {(s.schema, s.table, s.column): s.type_name for s in report.columns}
    fingerprints = {(s.schema, s.table, s.column): s.fingerprint for s in report.columns}
    rows = [
        _result_row(finding, run_id, finished_at, best, types, fingerprints)
        for finding in report.findings
    ]
    counts = {
        "tables_total": report.timings.get("tables", 0),
        "columns_total": len(report.columns),
        "columns_scanned": statuses.get("scanned", 0),
        "columns_unchanged": statuses.get("unchanged", 0),
        "columns_skipped": statuses.get("skipped", 0),
        "columns_failed": statuses.get("failed", 0),
        "problems": len(report.problems),
    }
    conn.execute(
        scan_runs.insert(),
        {
            "run_id": run_id,
            "started_at": started_at,
            "finished_at": finished_at,
            "mode": mode,
            "schemas": list(report.parameters.get("schemas", [])),
            "parameters": report.parameters,
            "pii_columns": 0,  # set below, once carried-forward results are in
            "scan_seconds": float(report.timings.get("total_seconds", 0.0)),
            **counts,
        },
    )
    if rows:
        conn.execute(scan_results.insert(), rows)
    unchanged = [(s.schema, s.table, s.column) for s in report.columns if s.status == "unchanged"]
    _carry_forward(conn, unchanged, run_id, finished_at)
    _update_column_state(conn, report, run_id, finished_at)
    if report.problems:
        conn.execute(
            scan_problems.insert(),
            [
                {
                    "run_id": run_id,
                    "schema_name": p.schema,
                    "table_name": p.table,
                    "column_name": p.column,
                    "kind": p.kind,
                    "detail": p.detail,
                }
                for p in report.problems
            ],
        )
    pii_columns = conn.execute(
        sa.select(
            sa.func.count(
                sa.distinct(
                    sa.tuple_(
                        scan_results.c.schema_name,
                        scan_results.c.table_name,
                        scan_results.c.column_name,
                    )
                )
            )
        ).where(scan_results.c.run_id == run_id, scan_results.c.is_pii)
    ).scalar_one()
    conn.execute(
        scan_runs.update().where(scan_runs.c.run_id == run_id).values(pii_columns=pii_columns)
    )
    return {**counts, "pii_columns": pii_columns}


_EVIDENCE_COLUMNS = {
    "rule": "rule",
    "name_pattern": "name_pattern",
    "name_strength": "name_strength",
    "validator": "validator",
    "sample_rows": "sample_rows",
    "non_null": "non_null",
    "distinct": "distinct_values",
    "matches": "matches",
    "shape_only": "shape_only",
    "values_with_pii_spans": "values_with_pii_spans",
}


def _result_row(finding, run_id, scanned_at, best, types, fingerprints) -> dict[str, Any]:
    key = (finding.schema, finding.table, finding.column)
    row: dict[str, Any] = {
        "run_id": run_id,
        "schema_name": finding.schema,
        "table_name": finding.table,
        "column_name": finding.column,
        "category": finding.category,
        "scanned_at": scanned_at,
        "data_type": types.get(key),
        "confidence": finding.confidence,
        "is_pii": finding.is_pii,
        "is_best_category": (*key, finding.category) in best,
        "evidence": finding.evidence,
        "fingerprint": fingerprints.get(key),
        "carried_from_run_id": None,
    }
    for evidence_key, column in _EVIDENCE_COLUMNS.items():
        row[column] = finding.evidence.get(evidence_key)
    return row


def _carry_forward(
    conn: sa.Connection, keys: list[ColumnKey], run_id: str, scanned_at: dt.datetime
) -> None:
    """Copy the last validated results of unchanged columns into this run."""
    if not keys:
        return
    conn.execute(
        sa.text(
            "create temporary table catalogue_unchanged_columns"
            " (schema_name text, table_name text, column_name text) on commit drop"
        )
    )
    unchanged = sa.table(
        "catalogue_unchanged_columns",
        sa.column("schema_name"),
        sa.column("table_name"),
        sa.column("column_name"),
    )
    conn.execute(
        unchanged.insert(),
        [{"schema_name": s, "table_name": t, "column_name": c} for s, t, c in keys],
    )
    previous = scan_results.alias("previous")
    copied = [
        c for c in scan_results.c if c.name not in {"run_id", "scanned_at", "carried_from_run_id"}
    ]
    source = sa.select(
        sa.literal(run_id).label("run_id"),
        sa.literal(scanned_at, sa.DateTime(timezone=True)).label("scanned_at"),
        sa.func.coalesce(previous.c.carried_from_run_id, previous.c.run_id).label(
            "carried_from_run_id"
        ),
        *(previous.c[c.name] for c in copied),
    ).select_from(
        previous.join(
            column_state,
            sa.and_(
                previous.c.run_id == column_state.c.last_scanned_run_id,
                previous.c.schema_name == column_state.c.schema_name,
                previous.c.table_name == column_state.c.table_name,
                previous.c.column_name == column_state.c.column_name,
            ),
        ).join(
            unchanged,
            sa.and_(
                unchanged.c.schema_name == previous.c.schema_name,
                unchanged.c.table_name == previous.c.table_name,
                unchanged.c.column_name == previous.c.column_name,
            ),
        )
    )
    conn.execute(
        scan_results.insert().from_select(
            ["run_id", "scanned_at", "carried_from_run_id", *(c.name for c in copied)], source
        )
    )


def _update_column_state(
    conn: sa.Connection, report: ScanReport, run_id: str, at: dt.datetime
) -> None:
    rows = [
        {
            "schema_name": s.schema,
            "table_name": s.table,
            "column_name": s.column,
            "data_type": s.type_name,
            "fingerprint": s.fingerprint,
            "status": s.status,
            "reason": s.reason,
            "first_covered_at": at,
            "last_covered_at": at,
            "last_covered_run_id": run_id,
            # A failed column keeps the results of the run that last validated it.
            "last_scanned_at": at if s.status in ("scanned", "skipped") else None,
            "last_scanned_run_id": run_id if s.status in ("scanned", "skipped") else None,
        }
        for s in report.columns
    ]
    if not rows:
        return
    insert = postgresql.insert(column_state)
    excluded = insert.excluded
    upsert = insert.on_conflict_do_update(
        index_elements=["schema_name", "table_name", "column_name"],
        set_={
            "data_type": excluded.data_type,
            "fingerprint": excluded.fingerprint,
            "status": excluded.status,
            "reason": excluded.reason,
            "last_covered_at": excluded.last_covered_at,
            "last_covered_run_id": excluded.last_covered_run_id,
            "last_scanned_at": sa.func.coalesce(
                excluded.last_scanned_at, column_state.c.last_scanned_at
            ),
            "last_scanned_run_id": sa.func.coalesce(
                excluded.last_scanned_run_id, column_state.c.last_scanned_run_id
            ),
        },
    )
    conn.execute(upsert, rows)
    # Columns of the scanned schemas that the catalogue no longer lists are gone
    # (table or column dropped): their old findings are no longer current.
    conn.execute(
        column_state.update()
        .where(
            column_state.c.schema_name.in_(list(report.parameters.get("schemas", []))),
            column_state.c.last_covered_run_id != run_id,
            column_state.c.status != "gone",
        )
        .values(status="gone", fingerprint=None, reason="no longer in the database catalogue")
    )


def write_data_map(conn: sa.Connection, data_map: datamap.DataMap) -> int:
    """Replace ``steward.data_map_columns`` with the map's personal columns."""
    loaded_at = dt.datetime.now(dt.UTC)
    rows = [
        {
            "schema_name": table.schema,
            "table_name": table.name,
            "column_name": column.name,
            "data_category": column.data_category,
            "subject": table.subject,
            "loaded_at": loaded_at,
        }
        for table, column in data_map.personal_columns()
    ]
    conn.execute(data_map_columns.delete())
    if rows:
        conn.execute(data_map_columns.insert(), rows)
    return len(rows)


def read_overrides(conn: sa.Connection) -> dict[tuple[str, str, str, str], str]:
    """The stewards' decisions (the dbt seed), if it has been loaded: key -> status."""
    exists = conn.execute(
        sa.text("select to_regclass(:name) is not null"),
        {"name": f"{SCHEMA}.{OVERRIDES_TABLE}"},
    ).scalar_one()
    if not exists:
        return {}
    overrides = sa.table(
        OVERRIDES_TABLE,
        sa.column("schema_name"),
        sa.column("table_name"),
        sa.column("column_name"),
        sa.column("category"),
        sa.column("status"),
        schema=SCHEMA,
    )
    rows = conn.execute(sa.select(*overrides.c))
    return {
        (s, t, c, category): str(status).strip().lower()
        for s, t, c, category, status in rows
        if s and t and c and category and status
    }


def list_schemas(conn: sa.Connection, excluded: Iterable[str]) -> list[str]:
    """Every user schema of the database but the excluded ones, from pg_catalog."""
    query = sa.text(
        "select nspname from pg_catalog.pg_namespace"
        " where nspname not like 'pg\\_%' and nspname <> 'information_schema'"
        " and not (nspname = any(:excluded)) and nspname not like '%\\_dbt\\_test\\_\\_audit'"
        " order by nspname"
    )
    return [row[0] for row in conn.execute(query, {"excluded": list(excluded)})]
