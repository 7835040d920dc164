"""Reading the database catalogue and drawing bounded, reproducible samples.

Every identifier goes through SQLAlchemy's quoting (``quoted_name(..., quote=True)``),
so names with spaces, capitals or quotes are read exactly as they are.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.sql import quoted_name

# How a column is read.
READ_TEXT = "text"  # cast to text, every validator may apply
READ_NUMBER = "number"  # cast to text, flagged numeric (phones/SSNs stored as numbers)
READ_SPANS_ONLY = "spans"  # json, xml, text arrays: searched for PII spans only
READ_INET = "inet"  # inet/cidr: host part as text
READ_TEMPORAL = "temporal"  # dates: read only when the name says date of birth
SKIP = "skip"

_CATALOGUE_QUERY = sa.text(
    """
    select
        n.nspname as schema_name,
        c.relname as table_name,
        c.relkind::text as relkind,
        c.reltuples::float8 as estimated_rows,
        coalesce(stats.n_live_tup, 0)::float8 as live_rows,
        c.relfilenode::text as relfilenode,
        stats.n_tup_ins + stats.n_tup_upd + stats.n_tup_del as writes_counted,
        case when c.relkind in ('r', 'm') then pg_relation_size(c.oid) else 0 end as size_bytes,
        a.attnum as position,
        a.attname as column_name,
        format_type(a.atttypid, a.atttypmod) as type_name,
        coalesce(base.typname, t.typname) as base_type,
        coalesce(base.typcategory, t.typcategory)::text as type_category,
        element.typcategory::text as element_category
    from pg_catalog.pg_class as c
    inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
    inner join pg_catalog.pg_attribute as a
        on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
    inner join pg_catalog.pg_type as t on a.atttypid = t.oid
    left join pg_catalog.pg_type as base on t.typtype = 'd' and t.typbasetype = base.oid
    left join pg_catalog.pg_stat_all_tables as stats on c.oid = stats.relid
    left join pg_catalog.pg_type as element
        on element.oid = coalesce(base.typelem, t.typelem) and element.oid <> 0
    where
        c.relkind in ('r', 'p', 'v', 'm', 'f')
        and not c.relispartition
        and n.nspname = any(:schemas)
        and not (n.nspname = any(:excluded))
    order by n.nspname, c.relname, a.attnum
    """
)

ASSUMED_ROW_BYTES = 100
_TEXT_LIKE_TYPES = {"json", "jsonb", "xml"}
_SKIPPED_TYPES = {
    "bytea": "binary data (bytea) is not scanned",
    "uuid": "uuids are identifiers, not personal data by content",
    "tsvector": "full-text index vectors are derived data",
    "tsquery": "full-text queries are not data",
}
_SKIPPED_CATEGORIES = {
    "B": "boolean: a flag cannot hold personal data",
    "G": "geometric type is not scanned",
    "T": "interval is not personal data by content",
    "V": "bit string is not scanned",
    "R": "range type is not scanned",
    "C": "composite type is not scanned",
    "P": "pseudo type",
    "X": "unknown type",
    "Z": "internal type",
}


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    position: int
    type_name: str
    read_as: str
    skip_reason: str | None = None


@dataclass(frozen=True)
class TableInfo:
    schema: str
    name: str
    kind: str  # table, view, materialized view, foreign table, partitioned table
    estimated_rows: float
    columns: tuple[ColumnInfo, ...]
    # What PostgreSQL counted of writes to the table (file node, rows inserted, updated and
    # deleted, since the statistics' last reset); None where it counts nothing (a standby
    # replays writes uncounted, track_counts may be off, views and partitioned parents have
    # no counters of their own).
    write_counters: str | None = None

    @property
    def samplable(self) -> bool:
        """TABLESAMPLE works on tables and materialized views, not views."""
        return self.kind in ("table", "materialized view", "partitioned table")


_KINDS = {
    "r": "table",
    "p": "partitioned table",
    "v": "view",
    "m": "materialized view",
    "f": "foreign table",
}


def classify_type(
    base_type: str, category: str, element_category: str | None
) -> tuple[str, str | None]:
    if base_type in _SKIPPED_TYPES:
        return SKIP, _SKIPPED_TYPES[base_type]
    if base_type in _TEXT_LIKE_TYPES:
        return READ_SPANS_ONLY, None
    if category == "A":
        if element_category in ("S", "E"):
            return READ_SPANS_ONLY, None
        return SKIP, "array of non-text values is not scanned"
    if category in ("S", "E"):
        return READ_TEXT, None
    if category == "N":
        return READ_NUMBER, None
    if category == "I":
        return READ_INET, None
    if category == "D":
        return READ_TEMPORAL, None
    if category in _SKIPPED_CATEGORIES:
        return SKIP, _SKIPPED_CATEGORIES[category]
    return SKIP, f"type {base_type} is not scanned"


def _row_estimate(row: sa.RowMapping) -> float:
    """Planner statistics, else the live-row counter, else a guess from the size on disk."""
    if row["estimated_rows"] > 0:
        return row["estimated_rows"]
    if row["live_rows"] > 0:  # never analysed, but inserts are counted
        return row["live_rows"]
    return row["size_bytes"] / ASSUMED_ROW_BYTES


_COUNTERS_RESET_QUERY = sa.text(
    """
    select
        pg_is_in_recovery() or current_setting('track_counts') <> 'on' as uncounted,
        (
            select stats_reset::text from pg_catalog.pg_stat_database
            where datname = current_database()
        ) as stats_reset
    """
)


def list_tables(conn: sa.Connection, schemas: list[str], exclude: list[str]) -> list[TableInfo]:
    """Every table, view, materialized and foreign table of ``schemas``, from pg_catalog."""
    server = conn.execute(_COUNTERS_RESET_QUERY).mappings().one()
    rows = conn.execute(_CATALOGUE_QUERY, {"schemas": list(schemas), "excluded": list(exclude)})
    grouped: dict[tuple[str, str], dict] = {}
    for row in rows.mappings():
        key = (row["schema_name"], row["table_name"])
        table = grouped.setdefault(
            key,
            {
                "kind": _KINDS[row["relkind"]],
                "estimated_rows": _row_estimate(row),
                "write_counters": _write_counters(row, server),
                "columns": [],
            },
        )
        read_as, reason = classify_type(
            row["base_type"], row["type_category"], row["element_category"]
        )
        table["columns"].append(
            ColumnInfo(row["column_name"], row["position"], row["type_name"], read_as, reason)
        )
    return [
        TableInfo(
            schema,
            name,
            t["kind"],
            t["estimated_rows"],
            tuple(t["columns"]),
            t["write_counters"],
        )
        for (schema, name), t in grouped.items()
    ]


def _write_counters(row: sa.RowMapping, server: sa.RowMapping) -> str | None:
    if server["uncounted"] or row["writes_counted"] is None or row["relkind"] not in ("r", "m"):
        return None
    return f"{server['stats_reset']}|{row['relfilenode']}|{row['writes_counted']}"


def _relation(table: TableInfo, columns: list[ColumnInfo]) -> sa.TableClause:
    return sa.table(
        quoted_name(table.name, quote=True),
        *(sa.column(quoted_name(c.name, quote=True)) for c in columns),
        schema=quoted_name(table.schema, quote=True),
    )


def _read_expression(column: sa.ColumnElement, info: ColumnInfo) -> sa.ColumnElement:
    if info.read_as == READ_INET:
        return sa.func.host(column)
    if info.read_as == READ_SPANS_ONLY and "[]" in info.type_name:
        return sa.func.array_to_string(column, " ")
    return sa.cast(column, sa.Text)


@dataclass(frozen=True)
class SamplePlan:
    method: str  # "tablesample", "limit" or "full"
    percent: float | None
    row_cap: int | None


def plan_sample(table: TableInfo, sample_rows: int, full: bool) -> SamplePlan:
    if full:
        return SamplePlan("full", None, None)
    if table.samplable and table.estimated_rows > 2 * sample_rows:
        # Oversample by half, since SYSTEM sampling picks whole pages. The rate snaps up to
        # a grid of quarter powers of two: statistics that drift by a few rows (an ANALYZE
        # or VACUUM between two nights) or a table that grows by a few percent keep the same
        # rate, hence the same pages and the same fingerprints, so a quiet night rescans nothing.
        wanted = 150.0 * sample_rows / table.estimated_rows
        percent = min(100.0, 2.0 ** (math.ceil(math.log2(wanted) * 4) / 4))
        return SamplePlan("tablesample", round(percent, 6), sample_rows)
    return SamplePlan("limit", None, sample_rows)


def sample_query(
    table: TableInfo, columns: list[ColumnInfo], plan: SamplePlan, seed: int
) -> sa.Select:
    """One query reading every given column of the table, sampled per ``plan``."""
    relation = _relation(table, columns)
    source: sa.FromClause = relation
    if plan.method == "tablesample":
        source = sa.tablesample(relation, sa.func.system(plan.percent), seed=sa.literal(seed))
    selected = [
        _read_expression(source.c[c.name], c).label(f"c{index}") for index, c in enumerate(columns)
    ]
    query = sa.select(*selected).select_from(source)
    if plan.row_cap is not None:
        query = query.limit(plan.row_cap)
    return query


def read_rows(
    conn: sa.Connection, query: sa.Select, statement_timeout_ms: int, stream: bool
) -> Iterator[tuple]:
    """Run ``query`` inside the caller's savepoint, with a statement timeout."""
    conn.execute(
        sa.text("select set_config('statement_timeout', :timeout, true)"),
        {"timeout": str(statement_timeout_ms)},
    )
    if stream:
        result = conn.execution_options(yield_per=5000).execute(query)
    else:
        result = conn.execute(query)
    yield from result
