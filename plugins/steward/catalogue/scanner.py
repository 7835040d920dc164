"""Scan the warehouse for personal data, column by column.

For each table and view of the chosen schemas (read from ``pg_catalog``), all
readable columns are fetched in ONE bounded, reproducible sample query
(``TABLESAMPLE SYSTEM (p) REPEATABLE (seed)`` plus a row cap; a plain
``LIMIT`` for small tables and views), so the cost grows with the number of
columns and the sample size, not with the table. If that query fails, each
column is retried alone in its own savepoint, so one broken column (or view)
does not hide the rest. Problems are reported, never raised.

Only counts leave this module: no sampled value is kept, logged or reported,
and database error messages are stripped of anything in quotes.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from steward.catalogue import categories, name_rules, sampling, scoring
from steward.catalogue.name_rules import NameRules, NameVerdict
from steward.catalogue.sampling import ColumnInfo, TableInfo
from steward.catalogue.validators import ValueContext

log = logging.getLogger(__name__)

DEFAULT_SEED = 20240601
DEFAULT_EXCLUDED_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")
UNDEFINED_TABLE = "42P01"


@dataclass(frozen=True)
class ColumnFinding:
    schema: str
    table: str
    column: str
    category: str
    confidence: float
    is_pii: bool
    evidence: dict[str, Any]


@dataclass(frozen=True)
class ColumnStatus:
    schema: str
    table: str
    column: str
    type_name: str
    status: str  # scanned | skipped | failed
    reason: str | None = None


@dataclass(frozen=True)
class ScanProblem:
    schema: str
    table: str
    column: str | None
    kind: str
    detail: str


@dataclass
class ScanReport:
    findings: list[ColumnFinding] = field(default_factory=list)
    columns: list[ColumnStatus] = field(default_factory=list)
    problems: list[ScanProblem] = field(default_factory=list)
    timings: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)

    def pii(self) -> list[ColumnFinding]:
        """The best PII category per column, for columns reported as PII."""
        best: dict[tuple[str, str, str], ColumnFinding] = {}
        for finding in self.findings:
            if not finding.is_pii:
                continue
            key = (finding.schema, finding.table, finding.column)
            if key not in best or finding.confidence > best[key].confidence:
                best[key] = finding
        return list(best.values())

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, default=str, **kwargs)


def describe_error(exc: BaseException) -> tuple[str, str]:
    """(SQLSTATE or class name, first line of the message with quoted parts removed).

    PostgreSQL quotes offending values in its messages (``invalid input syntax
    for type integer: "Jane"``); those must not reach the report.
    """
    original = getattr(exc, "orig", None) or exc
    code = getattr(original, "pgcode", None) or type(original).__name__
    first_line = (str(original).strip().splitlines() or [""])[0]
    first_line = re.sub(r"\"[^\"]*\"|'[^']*'|\([^)]*\)=\([^)]*\)", "…", first_line)
    return code, first_line[:200]


def scan_schemas(
    engine: sa.Engine,
    schemas: list[str],
    *,
    sample_rows: int = 1000,
    seed: int = DEFAULT_SEED,
    exclude_schemas: list[str] | tuple[str, ...] = DEFAULT_EXCLUDED_SCHEMAS,
    full_scan: bool = False,
    phone_regions: tuple[str, ...] = ("US",),
    rules: NameRules | None = None,
    statement_timeout_ms: int = 120_000,
) -> ScanReport:
    """Scan every table and view of ``schemas``; see the module docstring.

    ``full_scan=True`` validates every value instead of a sample (the baseline
    the sampled scan is compared against).
    """
    started = time.perf_counter()
    with engine.connect() as conn, conn.begin():
        tables = sampling.list_tables(conn, list(schemas), list(exclude_schemas))
    catalogue_seconds = time.perf_counter() - started
    report = scan_tables(
        engine,
        tables,
        sample_rows=sample_rows,
        seed=seed,
        full_scan=full_scan,
        phone_regions=phone_regions,
        rules=rules,
        statement_timeout_ms=statement_timeout_ms,
    )
    report.parameters |= {"schemas": list(schemas), "exclude_schemas": list(exclude_schemas)}
    report.timings["catalogue_seconds"] = round(catalogue_seconds, 4)
    report.timings["total_seconds"] = round(time.perf_counter() - started, 4)
    return report


def scan_tables(
    engine: sa.Engine,
    tables: list[TableInfo],
    *,
    sample_rows: int = 1000,
    seed: int = DEFAULT_SEED,
    full_scan: bool = False,
    phone_regions: tuple[str, ...] = ("US",),
    rules: NameRules | None = None,
    statement_timeout_ms: int = 120_000,
) -> ScanReport:
    """Scan already-listed tables (``scan_schemas`` lists them from the catalogue)."""
    rules = rules or name_rules.default_rules()
    report = ScanReport(
        parameters={
            "sample_rows": sample_rows,
            "seed": seed,
            "mode": "full" if full_scan else "sample",
            "phone_regions": list(phone_regions),
            "threshold": scoring.PII_THRESHOLD,
        }
    )
    per_table: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    with engine.connect() as conn:
        for table in tables:
            table_started = time.perf_counter()
            timing = _scan_table(
                conn,
                table,
                rules,
                report,
                sample_rows,
                seed,
                full_scan,
                phone_regions,
                statement_timeout_ms,
            )
            timing["seconds"] = round(time.perf_counter() - table_started, 4)
            per_table[f"{table.schema}.{table.name}"] = timing
    report.timings |= {
        "scan_seconds": round(time.perf_counter() - started, 4),
        "tables": len(tables),
        "columns": sum(len(t.columns) for t in tables),
        "per_table": per_table,
    }
    return report


def _scan_table(
    conn: sa.Connection,
    table: TableInfo,
    rules: NameRules,
    report: ScanReport,
    sample_rows: int,
    seed: int,
    full_scan: bool,
    phone_regions: tuple[str, ...],
    statement_timeout_ms: int,
) -> dict[str, Any]:
    verdicts = {c.name: rules.evaluate(c.name, table.name) for c in table.columns}
    to_read: list[ColumnInfo] = []
    tallies: dict[str, scoring.ColumnTally] = {}
    contexts: dict[str, ValueContext] = {}
    for column in table.columns:
        verdict = verdicts[column.name]
        reason = _skip_reason(column, verdict)
        if reason:
            report.columns.append(_status(table, column, "skipped", reason))
            if column.read_as == sampling.SKIP and not column.type_name.startswith("boolean"):
                # A bytea "recording" column is still worth a name-only finding.
                _record(report, table, column, rules, verdict, None, unreadable=True)
            continue
        numeric = column.read_as == sampling.READ_NUMBER
        validators = scoring.validators_to_run(rules, verdict, numeric)
        if column.read_as == sampling.READ_TEMPORAL:
            validators = ("date_of_birth",)
        tallies[column.name] = scoring.ColumnTally(
            validators=validators,
            scan_spans=column.read_as in (sampling.READ_TEXT, sampling.READ_SPANS_ONLY),
            whole_values=column.read_as != sampling.READ_SPANS_ONLY,
        )
        contexts[column.name] = ValueContext(numeric=numeric, phone_regions=phone_regions)
        to_read.append(column)

    plan = sampling.plan_sample(table, sample_rows, full_scan)
    timing: dict[str, Any] = {"method": plan.method, "rows": 0, "query_seconds": 0.0}
    failed: dict[str, str] = {}
    if to_read:
        ok = _read_into(
            conn,
            table,
            to_read,
            plan,
            seed,
            tallies,
            contexts,
            timing,
            statement_timeout_ms,
            report,
            column=None,
        )
        if ok is False and timing.get("vanished"):
            for column in to_read:
                failed[column.name] = "table disappeared during the scan"
        elif ok is False:
            # Retry column by column: one failing expression must not hide the others.
            for column in to_read:
                tallies[column.name] = tallies[column.name].fresh()
                single = _read_into(
                    conn,
                    table,
                    [column],
                    plan,
                    seed,
                    tallies,
                    contexts,
                    timing,
                    statement_timeout_ms,
                    report,
                    column=column.name,
                )
                if not single:
                    failed[column.name] = "sample query failed"
    validate_started = time.perf_counter()
    for column in to_read:
        if column.name in failed:
            report.columns.append(_status(table, column, "failed", failed[column.name]))
            continue
        report.columns.append(_status(table, column, "scanned", None))
        _record(report, table, column, rules, verdicts[column.name], tallies[column.name])
    timing["score_seconds"] = round(time.perf_counter() - validate_started, 4)
    return timing


def _skip_reason(column: ColumnInfo, verdict: NameVerdict) -> str | None:
    if column.read_as == sampling.SKIP:
        return column.skip_reason
    if (
        column.read_as == sampling.READ_TEMPORAL
        and categories.DATE_OF_BIRTH not in verdict.evidence
    ):
        return "date/time values are only checked when the name says date of birth"
    return None


def _read_into(
    conn: sa.Connection,
    table: TableInfo,
    columns: list[ColumnInfo],
    plan: sampling.SamplePlan,
    seed: int,
    tallies: dict[str, scoring.ColumnTally],
    contexts: dict[str, ValueContext],
    timing: dict[str, Any],
    statement_timeout_ms: int,
    report: ScanReport,
    column: str | None,
) -> bool:
    """Sample ``columns`` into their tallies; False (and a problem recorded) on failure."""
    query_started = time.perf_counter()
    rows_seen = 0
    try:
        with conn.begin():
            query = sampling.sample_query(table, columns, plan, seed)
            rows = sampling.read_rows(
                conn, query, statement_timeout_ms, stream=plan.method == "full"
            )
            for row in rows:
                rows_seen += 1
                for info, value in zip(columns, row, strict=True):
                    tallies[info.name].add(value, contexts[info.name])
            if (
                plan.method == "tablesample"
                and rows_seen < min(plan.row_cap or 0, table.estimated_rows) / 4
            ):
                # Page sampling came back thin (stale statistics): read the first rows instead.
                for info in columns:
                    tallies[info.name] = tallies[info.name].fresh()
                fallback = sampling.SamplePlan("limit", None, plan.row_cap)
                rows_seen = 0
                for row in sampling.read_rows(
                    conn,
                    sampling.sample_query(table, columns, fallback, seed),
                    statement_timeout_ms,
                    stream=False,
                ):
                    rows_seen += 1
                    for info, value in zip(columns, row, strict=True):
                        tallies[info.name].add(value, contexts[info.name])
                timing["method"] = "limit (tablesample returned too few rows)"
    except sa.exc.DBAPIError as exc:
        code, message = describe_error(exc)
        vanished = code == UNDEFINED_TABLE
        timing["vanished"] = timing.get("vanished", False) or vanished
        report.problems.append(
            ScanProblem(
                table.schema,
                table.name,
                column,
                "table disappeared" if vanished else "query failed",
                f"{code}: {message}",
            )
        )
        log.warning(
            "catalogue scan: %s.%s%s: %s",
            table.schema,
            table.name,
            f".{column}" if column else "",
            code,
        )
        return False
    finally:
        timing["query_seconds"] = round(
            timing["query_seconds"] + time.perf_counter() - query_started, 4
        )
    timing["rows"] = max(timing["rows"], rows_seen)
    return True


def _status(table: TableInfo, column: ColumnInfo, status: str, reason: str | None) -> ColumnStatus:
    return ColumnStatus(table.schema, table.name, column.name, column.type_name, status, reason)


def _record(
    report: ScanReport,
    table: TableInfo,
    column: ColumnInfo,
    rules: NameRules,
    verdict: NameVerdict,
    tally: scoring.ColumnTally | None,
    unreadable: bool = False,
) -> None:
    for finding in scoring.score_column(rules, verdict, tally, unreadable=unreadable):
        if finding.confidence <= 0:
            continue
        report.findings.append(
            ColumnFinding(
                schema=table.schema,
                table=table.name,
                column=column.name,
                category=finding.category,
                confidence=finding.confidence,
                is_pii=finding.is_pii,
                evidence=finding.evidence,
            )
        )
