"""Scan the warehouse for personal data, column by column.

For each table and view of the chosen schemas (read from ``pg_catalog``), all
readable columns are fetched in ONE bounded, reproducible sample query
(``TABLESAMPLE SYSTEM (p) REPEATABLE (seed)`` plus a row cap; a plain
``LIMIT`` for small tables and views), so the cost grows with the number of
columns and the sample size, not with the table. If that query fails, each
column is retried alone in its own savepoint, so one broken column (or view)
does not hide the rest. Problems are reported, never raised.

Incremental rescans: each column gets a *fingerprint* (its type, the scan
parameters, the name rules and an order-independent digest of its sampled
values). Given the fingerprints of the previous run, a column whose
fingerprint is unchanged is reported ``unchanged`` and not validated again;
new tables and columns have no previous fingerprint and are always validated.
A table sampled by pages is fingerprinted by PostgreSQL's own count of the
writes to it instead: a quiet night does not read it at all, and which pages a
sample picks (it follows the planner's row estimate) cannot turn an untouched
table into a rescanned one.

Only counts leave this module: no sampled value is kept, logged or reported,
and database error messages are stripped of anything in quotes.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from steward.catalogue import calibration, categories, name_rules, regions, sampling, scoring
from steward.catalogue.name_rules import NameRules, NameVerdict
from steward.catalogue.sampling import ColumnInfo, TableInfo
from steward.catalogue.validators import ValueContext

log = logging.getLogger(__name__)

DEFAULT_SEED = 20240601
DEFAULT_EXCLUDED_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")
UNDEFINED_TABLE = "42P01"
# Bump when scoring changes in a way that must invalidate every stored fingerprint.
FINGERPRINT_VERSION = "3"
ColumnKey = tuple[str, str, str]  # (schema, table, column)


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
    status: str  # scanned | skipped | failed | unchanged
    reason: str | None = None
    fingerprint: str | None = None  # None: always rescan (failed, or a full read)


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
    phone_regions: tuple[str, ...] | None = None,
    rules: NameRules | None = None,
    statement_timeout_ms: int = 120_000,
    previous_fingerprints: Mapping[ColumnKey, str] | None = None,
) -> ScanReport:
    """Scan every table and view of ``schemas``; see the module docstring.

    ``full_scan=True`` validates every value instead of a sample (the baseline
    the sampled scan is compared against). ``previous_fingerprints`` (from the
    last run) turns on incremental rescans: unchanged columns are skipped.
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
        previous_fingerprints=previous_fingerprints,
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
    phone_regions: tuple[str, ...] | None = None,
    rules: NameRules | None = None,
    statement_timeout_ms: int = 120_000,
    previous_fingerprints: Mapping[ColumnKey, str] | None = None,
) -> ScanReport:
    """Scan already-listed tables (``scan_schemas`` lists them from the catalogue).

    ``phone_regions``: the warehouse's regions (default: ``regions.configured_regions()``);
    each column adds the regions its own values and its table's country column show.
    """
    rules = rules or name_rules.default_rules()
    if phone_regions is None:
        phone_regions = regions.configured_regions()
    phone_regions = tuple(phone_regions)
    context = _ScanContext(
        rules=rules,
        sample_rows=sample_rows,
        seed=seed,
        full_scan=full_scan,
        phone_regions=tuple(phone_regions),
        statement_timeout_ms=statement_timeout_ms,
        previous=previous_fingerprints,
        salt=_fingerprint_salt(rules, sample_rows, seed, phone_regions),
    )
    report = ScanReport(
        parameters={
            "sample_rows": sample_rows,
            "seed": seed,
            "mode": "full" if full_scan else "sample",
            "phone_regions": list(phone_regions),
            "threshold": scoring.PII_THRESHOLD,
            "incremental": previous_fingerprints is not None and not full_scan,
        }
    )
    per_table: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    with engine.connect() as conn:
        for table in tables:
            table_started = time.perf_counter()
            timing = _scan_table(conn, table, context, report)
            timing["seconds"] = round(time.perf_counter() - table_started, 4)
            per_table[f"{table.schema}.{table.name}"] = timing
    report.timings |= {
        "scan_seconds": round(time.perf_counter() - started, 4),
        "tables": len(tables),
        "columns": sum(len(t.columns) for t in tables),
        "per_table": per_table,
    }
    return report


@dataclass(frozen=True)
class _ScanContext:
    rules: NameRules
    sample_rows: int
    seed: int
    full_scan: bool
    phone_regions: tuple[str, ...]
    statement_timeout_ms: int
    previous: Mapping[ColumnKey, str] | None
    salt: str

    def fingerprint(self, column: ColumnInfo, verdict: NameVerdict, digest: str) -> str:
        # The name verdict depends on the sibling columns' names too (a "name" beside an "ssn"),
        # so a column added to the table can change it.
        text = f"{self.salt}|{column.type_name}|{column.read_as}|{verdict!r}|{digest}"
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()

    def unchanged(self, table: TableInfo, column: ColumnInfo, fingerprint: str | None) -> bool:
        if self.previous is None or self.full_scan or fingerprint is None:
            return False
        return self.previous.get((table.schema, table.name, column.name)) == fingerprint


def _fingerprint_salt(
    rules: NameRules, sample_rows: int, seed: int, phone_regions: Sequence[str]
) -> str:
    """What besides the data decides a column's result: rules, sample size, seed, regions."""
    rules_digest = hashlib.blake2b(repr(rules).encode(), digest_size=8).hexdigest()
    return (
        f"v{FINGERPRINT_VERSION}|{rules_digest}|{sample_rows}|{seed}|{','.join(phone_regions)}"
        f"|calibration {calibration.version()}"
    )


def sample_digest(values: Sequence[str | None]) -> str:
    """An order-independent digest of one column's sampled values (no value recoverable)."""
    total = 0
    nulls = 0
    for value in values:
        if value is None:
            nulls += 1
            continue
        digest = hashlib.blake2b(value.encode(), digest_size=16).digest()
        total = (total + int.from_bytes(digest, "big")) % (1 << 128)
    return f"{len(values)}:{nulls}:{total:032x}"


def _scan_table(
    conn: sa.Connection, table: TableInfo, context: _ScanContext, report: ScanReport
) -> dict[str, Any]:
    rules = context.rules
    verdicts = rules.evaluate_table(table.name, [c.name for c in table.columns])
    to_read: list[ColumnInfo] = []
    tallies: dict[str, scoring.ColumnTally] = {}
    contexts: dict[str, ValueContext] = {}
    timing: dict[str, Any] = {"rows": 0, "query_seconds": 0.0, "unchanged": 0}
    for column in table.columns:
        verdict = verdicts[column.name]
        reason = _skip_reason(column, verdict)
        if reason:
            # Not read: only its type and name decide, so that is its fingerprint.
            fingerprint = context.fingerprint(column, verdict, "not read")
            if context.unchanged(table, column, fingerprint):
                timing["unchanged"] += 1
                report.columns.append(_status(table, column, "unchanged", reason, fingerprint))
                continue
            report.columns.append(_status(table, column, "skipped", reason, fingerprint))
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
        contexts[column.name] = ValueContext(numeric=numeric, phone_regions=context.phone_regions)
        to_read.append(column)

    plan = sampling.plan_sample(table, context.sample_rows, context.full_scan)
    timing["method"] = plan.method
    failed: dict[str, str] = {}
    fingerprints: dict[str, str] = {}
    pinned: dict[str, str] | None = None
    if plan.method == "tablesample" and table.write_counters:
        pinned = {
            column.name: context.fingerprint(
                column, verdicts[column.name], f"writes {table.write_counters}"
            )
            for column in to_read
        }
        fingerprints.update(pinned)
    if pinned is not None and all(
        context.unchanged(table, column, pinned[column.name]) for column in to_read
    ):
        timing["method"] = "not read: no writes counted since the last scan"
    elif to_read:
        read = functools.partial(
            _read_into,
            conn,
            table,
            plan=plan,
            context=context,
            tallies=tallies,
            contexts=contexts,
            timing=timing,
            report=report,
            fingerprints=fingerprints,
            verdicts=verdicts,
            pinned=pinned,
        )
        ok = read(to_read)
        if ok is False and timing.get("vanished"):
            for column in to_read:
                failed[column.name] = "table disappeared during the scan"
        elif ok is False:
            # Retry column by column: one failing expression must not hide the others.
            for column in to_read:
                tallies[column.name] = tallies[column.name].fresh()
                single = read([column], column=column.name)
                if not single:
                    failed[column.name] = "sample query failed"
    validate_started = time.perf_counter()
    for column in to_read:
        fingerprint = fingerprints.get(column.name)
        if column.name in failed:
            report.columns.append(_status(table, column, "failed", failed[column.name]))
            continue
        if context.unchanged(table, column, fingerprint):
            timing["unchanged"] += 1
            report.columns.append(_status(table, column, "unchanged", None, fingerprint))
            continue
        report.columns.append(_status(table, column, "scanned", None, fingerprint))
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


def _fetch_sample(
    conn: sa.Connection,
    table: TableInfo,
    columns: list[ColumnInfo],
    plan: sampling.SamplePlan,
    context: _ScanContext,
    timing: dict[str, Any],
) -> list[tuple]:
    """The bounded sample as rows (at most the row cap: small enough to hold)."""
    timeout = context.statement_timeout_ms
    query = sampling.sample_query(table, columns, plan, context.seed)
    rows = list(sampling.read_rows(conn, query, timeout, stream=False))
    if (
        plan.method == "tablesample"
        and len(rows) < min(plan.row_cap or 0, table.estimated_rows) / 4
    ):
        # Page sampling came back thin (stale statistics): read the first rows instead.
        fallback = sampling.SamplePlan("limit", None, plan.row_cap)
        query = sampling.sample_query(table, columns, fallback, context.seed)
        rows = list(sampling.read_rows(conn, query, timeout, stream=False))
        timing["method"] = "limit (tablesample returned too few rows)"
    return rows


def _read_into(
    conn: sa.Connection,
    table: TableInfo,
    columns: list[ColumnInfo],
    plan: sampling.SamplePlan,
    context: _ScanContext,
    tallies: dict[str, scoring.ColumnTally],
    contexts: dict[str, ValueContext],
    timing: dict[str, Any],
    report: ScanReport,
    fingerprints: dict[str, str],
    verdicts: Mapping[str, NameVerdict],
    column: str | None = None,
    pinned: Mapping[str, str] | None = None,
) -> bool:
    """Sample ``columns`` into their tallies; False (and a problem recorded) on failure.

    Sampled reads also fingerprint each column (by its values, unless ``pinned``
    gives the table's fingerprints); a column whose fingerprint is unchanged
    since the previous run is not validated (its tally stays empty).
    """
    query_started = time.perf_counter()
    rows_seen = 0
    try:
        with conn.begin():
            if plan.method == "full":
                query = sampling.sample_query(table, columns, plan, context.seed)
                for row in sampling.read_rows(conn, query, context.statement_timeout_ms, True):
                    rows_seen += 1
                    for info, value in zip(columns, row, strict=True):
                        tallies[info.name].add(value, contexts[info.name])
            else:
                rows = _fetch_sample(conn, table, columns, plan, context, timing)
                rows_seen = len(rows)
                _infer_regions(table, columns, rows, context, contexts)
                for index, info in enumerate(columns):
                    values = [row[index] for row in rows]
                    if pinned is not None:
                        fingerprint = pinned[info.name]
                    else:
                        fingerprint = context.fingerprint(
                            info, verdicts[info.name], sample_digest(values)
                        )
                    fingerprints[info.name] = fingerprint
                    if context.unchanged(table, info, fingerprint):
                        continue
                    tally, value_context = tallies[info.name], contexts[info.name]
                    for value in values:
                        tally.add(value, value_context)
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


def _infer_regions(
    table: TableInfo,
    columns: list[ColumnInfo],
    rows: list[tuple],
    context: _ScanContext,
    contexts: dict[str, ValueContext],
) -> None:
    """Add to each column's phone regions what its values and its table's country column say."""
    table_regions: tuple[str, ...] = ()
    for index, info in enumerate(columns):
        if regions.is_country_column(name_rules.normalize(info.name)):
            table_regions = regions.merge(
                table_regions, regions.from_country_values([row[index] for row in rows])
            )
    for index, info in enumerate(columns):
        own = regions.from_phone_values(row[index] for row in rows)
        if own or table_regions:
            contexts[info.name] = dataclasses.replace(
                contexts[info.name],
                phone_regions=regions.merge(context.phone_regions, own, table_regions),
            )


def _status(
    table: TableInfo,
    column: ColumnInfo,
    status: str,
    reason: str | None,
    fingerprint: str | None = None,
) -> ColumnStatus:
    return ColumnStatus(
        table.schema, table.name, column.name, column.type_name, status, reason, fingerprint
    )


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
        # The evidence rule decides PII or not; the calibration says how often that was
        # right on labelled corpora (it never crosses the threshold, see calibration).
        confidence = calibration.calibrate(finding.confidence, finding.evidence.get("rule"))
        report.findings.append(
            ColumnFinding(
                schema=table.schema,
                table=table.name,
                column=column.name,
                category=finding.category,
                confidence=confidence,
                is_pii=finding.is_pii,
                evidence={**finding.evidence, "raw_confidence": finding.confidence},
            )
        )
