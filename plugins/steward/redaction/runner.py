"""The nightly redaction policy, run through the change engine.

Plan (set work in the warehouse): for every free-text column (data category
``user.content.free_text`` in the data map, or so flagged by the PII
catalogue ``steward.pii_catalogue``) the rows whose text passes the regex
prefilter (:data:`steward.redaction.text.PREFILTER_SQL`) become plan rows of
``steward.redaction_plan`` (keys only, never text), and so do the rows of
structured card-number columns (``user.financial.card_number``) that hold a
full-length digit run. A row under an active legal hold (dbt's
``int_retention__held_rows``, :mod:`steward.engine.holds`) is planned
``held`` and never rewritten; a table without a retention rule cannot be
checked for holds and is not rewritten either.

Execution: batches by key. Each batch reads its rows' current text, Python
confirms (Luhn, SSN rules, schwifty for IBANs, via the catalogue's
detectors), writes the redacted text back, marks the plan rows done and
appends one audit row (counts only) in the same transaction; a crash loses
the whole batch and a rerun resumes the open run. Structured card numbers
are reported in ``steward.pci_violations`` (counts and location only) and
truncated to first six / last four only once a steward approved the column
(``steward redact approve``). Dry run by default; a plan larger than
``max_rows`` changes nothing (circuit breaker).

Applying goes through the engine's one batch loop
(:func:`steward.engine.batches.run_batches`, which passes the crash points);
its ``apply`` joins the staged ``engine_batch`` keys to the target table, reads
the current text, confirms and rewrites it in Python within the batch's
transaction and returns rows changed per action. The dry run walks the plan by
key, reading the text to count, and marks nothing done.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import asdict, dataclass, field

import sqlalchemy as sa
from psycopg2 import sql

from steward import audit, datamap, schema
from steward.catalogue.categories import FREE_TEXT
from steward.dsar.finder import dbapi
from steward.engine import CircuitBreakerError, batches, holds
from steward.redaction.text import PREFILTER_SQL, redact, truncate_card

log = logging.getLogger(__name__)

ACTOR = "steward.redaction"
CARD_NUMBER = "user.financial.card_number"
CATALOGUE = "steward.pii_catalogue"
DEFAULT_BATCH_SIZE = 1_000
DEFAULT_MAX_ROWS = 200_000
# A structured card column holds a full number when it is 13-19 digits, spaced or dashed.
FULL_CARD_SQL = r"^[0-9]([ -]?[0-9]){12,18}$"

_PLAN_ROWS = sql.SQL(
    "p.run_id = %(run)s and p.table_name = %(table)s and p.column_name = %(column)s"
)


class RedactionError(ValueError):
    """A bad request (unknown column, nothing to approve): nothing was changed."""


@dataclass(frozen=True)
class Target:
    table: datamap.TableMap
    column: str
    structured: bool  # a card-number column, not free text

    @property
    def location(self) -> str:
        return f"{self.table.qualified_name}.{self.column}"


@dataclass
class RedactionResult:
    """Counts per column and kind; never a value."""

    dry_run: bool
    run_id: int | None = None
    candidates: dict[str, int] = field(default_factory=dict)  # location -> plan rows
    held: dict[str, int] = field(default_factory=dict)  # location -> rows kept by a hold
    redacted: dict[str, dict[str, int]] = field(default_factory=dict)  # location -> kind -> n
    rows_changed: int = 0
    violations: dict[str, int] = field(default_factory=dict)  # location -> full card rows
    truncated: dict[str, int] = field(default_factory=dict)
    unchecked_tables: list[str] = field(default_factory=list)  # no retention rule: not touched

    def as_dict(self) -> dict:
        return asdict(self)


def ensure_tables(engine: sa.Engine, data_map: datamap.DataMap) -> None:
    """Steward's schema up to date, and dbt's legal-hold views (built when missing)."""
    schema.upgrade(engine)
    holds.ensure_views(
        engine,
        engine.url.render_as_string(hide_password=False),
        [t.qualified_name for t in data_map.tables if t.retention_rule],
    )


def targets(cursor, data_map: datamap.DataMap) -> list[Target]:
    """Free-text columns (data map and catalogue) and structured card-number columns."""
    flagged: set[tuple[str, str, str]] = set()
    cursor.execute("select to_regclass(%s) is not null", (CATALOGUE,))
    if cursor.fetchone()[0]:
        cursor.execute(
            "select distinct schema_name, table_name, column_name from steward.pii_catalogue"
            " where category = %s and status <> 'rejected'",
            (FREE_TEXT,),
        )
        flagged = {tuple(row) for row in cursor.fetchall()}
    found: list[Target] = []
    for table in data_map.tables:
        if not table.primary_key:
            continue
        names = {c.name for c in table.columns if c.data_category == FREE_TEXT}
        names |= {c for s, t, c in flagged if (s, t) == (table.schema, table.name)}
        found += [Target(table, name, False) for name in sorted(names)]
        found += [
            Target(table, c.name, True) for c in table.columns if c.data_category == CARD_NUMBER
        ]
    return found


def _row_key(table: datamap.TableMap) -> sql.Composable:
    return sql.SQL("jsonb_build_object({})").format(
        sql.SQL(", ").join(
            sql.SQL("{}, t.{}").format(sql.Literal(c), sql.Identifier(c)) for c in table.primary_key
        )
    )


def _record_key(table: datamap.TableMap) -> sql.Composable:
    """The plan row's key as dbt's record_key: primary-key parts as text joined by '|'."""
    return sql.SQL(" || '|' || ").join(
        sql.SQL("(p.row_key ->> {})").format(sql.Literal(c)) for c in table.primary_key
    )


def _approved(cursor, target: Target) -> bool:
    cursor.execute(
        "select approved_at is not null from steward.pci_violations"
        " where table_name = %s and column_name = %s",
        (target.table.qualified_name, target.column),
    )
    row = cursor.fetchone()
    return bool(row and row[0])


def _set_aside_held(cursor, target: Target, where: sql.Composable, params: dict) -> None:
    """Plan rows (not done) of rows under an active legal hold now become ``held``."""
    table = target.table
    cursor.execute(
        sql.SQL(
            "select coalesce(array_agg({record_key}), '{{}}')"
            " from steward.redaction_plan as p where {where} and not p.done"
        ).format(record_key=_record_key(table), where=where),
        params,
    )
    keys = cursor.fetchone()[0]
    cursor.execute(
        sql.SQL(
            "update steward.redaction_plan as p set action = 'held'"
            " from (select distinct record_key from {held}"
            "  where policy_name = %(table)s and record_key = any(%(keys)s)) as h"
            " where {where} and not p.done and h.record_key = {record_key}"
        ).format(held=sql.Identifier(*holds.HELD_ROWS), where=where, record_key=_record_key(table)),
        {**params, "keys": keys},
    )


def _plan(cursor, run_id: int, target: Target, result: RedactionResult) -> None:
    """Insert the target's candidate keys (SQL prefilter), then set aside held rows."""
    table = target.table
    action = "redact"
    pattern, operator = PREFILTER_SQL, sql.SQL("~*")
    if target.structured:
        action = "truncate" if _approved(cursor, target) else "report"
        pattern, operator = FULL_CARD_SQL, sql.SQL("~")
    cursor.execute(
        sql.SQL(
            "insert into steward.redaction_plan (run_id, table_name, column_name, row_key, action)"
            " select %(run)s, %(table)s, %(column)s, {key}, %(action)s from {target} as t"
            " where t.{column} {operator} %(pattern)s on conflict do nothing"
        ).format(
            key=_row_key(table),
            target=sql.Identifier(table.schema, table.name),
            column=sql.Identifier(target.column),
            operator=operator,
        ),
        {
            "run": run_id,
            "table": table.qualified_name,
            "column": target.column,
            "action": action,
            "pattern": pattern,
        },
    )
    where = _PLAN_ROWS
    params = {"run": run_id, "table": table.qualified_name, "column": target.column}
    if not table.retention_rule:
        # The hold views cover tables with a retention rule; without one no hold
        # can be ruled out, so nothing of the table is rewritten.
        cursor.execute(
            sql.SQL("update steward.redaction_plan as p set action = 'held' where {}").format(
                where
            ),
            params,
        )
        result.unchecked_tables.append(table.qualified_name)
    else:
        _set_aside_held(cursor, target, where, params)
    cursor.execute(
        sql.SQL(
            "select count(*) filter (where action <> 'held'),"
            " count(*) filter (where action = 'held')"
            " from steward.redaction_plan as p where {}"
        ).format(where),
        params,
    )
    planned, held = cursor.fetchone()
    result.candidates[target.location] = planned
    result.held[target.location] = held


def _confirm(rows, structured: bool) -> tuple[Counter, list[tuple[str, str, str]]]:
    """Python's verdict on ``(row_key, action, text)`` rows: kinds found and rewrites.

    A rewrite is ``(row_key, action, new_text)``; a ``report`` row is counted,
    never rewritten.
    """
    counts: Counter = Counter()
    rewrites: list[tuple[str, str, str]] = []
    for row_key, action, text in rows:
        if text is None:
            continue
        if action == "redact":
            redaction = redact(text)
            if redaction.changed:
                counts.update(redaction.counts)
                rewrites.append((row_key, action, redaction.text))
        else:
            truncated = truncate_card(text)
            if truncated is not None:
                counts["full_card_number"] += 1
                if action == "truncate":
                    rewrites.append((row_key, action, truncated))
    return counts, rewrites


def _tally(result: RedactionResult, target: Target, counts: Counter, rewritten: int) -> None:
    kinds = result.redacted.setdefault(target.location, {})
    for kind, count in counts.items():
        kinds[kind] = kinds.get(kind, 0) + count
    if target.structured:
        result.violations[target.location] = (
            result.violations.get(target.location, 0) + counts["full_card_number"]
        )
        if rewritten:
            result.truncated[target.location] = result.truncated.get(target.location, 0) + rewritten


def _sql_parts(target: Target) -> dict[str, sql.Composable]:
    table = target.table
    relation = sql.Identifier(table.schema, table.name)
    return {
        "relation": relation,
        "column": sql.Identifier(target.column),
        "equal": sql.SQL(" and ").join(
            sql.SQL("t.{0} = r.{0}").format(sql.Identifier(c)) for c in table.primary_key
        ),
        "record": sql.SQL("jsonb_populate_record(null::{}, p.row_key)").format(relation),
    }


def _dry_run(connection, run_id: int, target: Target, batch_size: int, result: RedactionResult):
    """Count what the target's pending plan rows would yield; reads the text, marks nothing."""
    table = target.table
    last_key = None  # a dry run marks nothing done: it walks the plan by key instead
    result.redacted.setdefault(target.location, {})
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL(
                    "select p.row_key::text, p.action, t.{column}"
                    " from steward.redaction_plan as p cross join lateral {record} as r"
                    " join {relation} as t on {equal}"
                    " where p.run_id = %s and p.table_name = %s and p.column_name = %s"
                    " and not p.done and p.action <> 'held'"
                    " and (%s::jsonb is null or p.row_key > %s::jsonb)"
                    " order by p.row_key limit %s for update of p skip locked"
                ).format(**_sql_parts(target)),
                (run_id, table.qualified_name, target.column, last_key, last_key, batch_size),
            )
            rows = cursor.fetchall()
        if not rows:
            return
        last_key = rows[-1][0]
        counts, rewrites = _confirm(rows, target.structured)
        _tally(result, target, counts, len(rewrites))


def _apply(connection, run_id: int, target: Target, batch_size: int, result: RedactionResult):
    """Rewrite the target's pending plan rows through the engine's batch loop."""
    table = target.table
    parts = _sql_parts(target)
    batch: dict = {}  # this batch's findings, tallied into ``result`` once committed

    def apply(cursor) -> dict[str, int]:
        cursor.execute(
            sql.SQL(
                "select p.row_key::text, p.action, t.{column}"
                " from {staged} as p cross join lateral {record} as r"
                " join {relation} as t on {equal} order by p.row_key"
            ).format(staged=sql.Identifier(batches.STAGING_TABLE), **parts)
        )
        rows = cursor.fetchall()
        counts, rewrites = _confirm(rows, target.structured)
        cursor.execute(
            "create temp table if not exists redaction_batch"
            " (row_key jsonb, action text, new_text text) on commit delete rows"
        )
        cursor.execute("delete from redaction_batch")
        cursor.executemany("insert into redaction_batch values (%s::jsonb, %s, %s)", rewrites)
        cursor.execute(
            sql.SQL(
                "update {relation} as t set {column} = p.new_text"
                " from redaction_batch as p cross join lateral {record} as r where {equal}"
                " returning p.action"
            ).format(**parts)
        )
        changed = Counter(action for (action,) in cursor.fetchall())
        batch.update(rows_read=len(rows), counts=counts, rewritten=len(rewrites))
        return {"redact": changed["redact"], "truncate": changed["truncate"]}

    def details(changed: dict[str, int]) -> dict:
        return {
            "run_id": run_id,
            "table": table.qualified_name,
            "column": target.column,
            "rows_read": batch["rows_read"],
            "rows_changed": sum(changed.values()),
            "found": dict(sorted(batch["counts"].items())),
        }

    def after_commit(changed: dict[str, int]) -> None:
        _tally(result, target, batch["counts"], batch["rewritten"])

    result.redacted.setdefault(target.location, {})
    result.rows_changed += batches.run_batches(
        connection,
        batches.Plan(
            "steward.redaction_plan",
            {"run_id": run_id, "table_name": table.qualified_name, "column_name": target.column},
            skip_actions=("held",),
        ),
        apply,
        batch_size=batch_size,
        actor=ACTOR,
        audit_action="redaction.truncate.batch" if target.structured else "redaction.batch",
        details=details,
        after_commit=after_commit,
    )


def run(
    engine: sa.Engine,
    *,
    apply: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_rows: int = DEFAULT_MAX_ROWS,
    data_map: datamap.DataMap | None = None,
) -> RedactionResult:
    """Plan and (with ``apply``) execute the redaction; a rerun resumes an unfinished run."""
    if batch_size < 1:
        raise RedactionError("batch_size must be at least 1")
    data_map = data_map or datamap.load_data_map()
    ensure_tables(engine, data_map)
    result = RedactionResult(dry_run=not apply)
    with dbapi(engine) as connection:
        with connection.cursor() as cursor:
            cursor.execute("select pg_advisory_lock(hashtext('steward.redaction.run'))")
            found = targets(cursor, data_map)
            cursor.execute(
                "select run_id from steward.redaction_runs where status = 'running'"
                " order by run_id limit 1"
            )
            open_run = cursor.fetchone() if apply else None
            if open_run:
                run_id = open_run[0]
                log.info("resuming redaction run %s", run_id)
                holds.as_of_now(cursor)
                for target in found:
                    if target.table.retention_rule:
                        # A hold placed since the plan was written still keeps its rows.
                        _set_aside_held(
                            cursor,
                            target,
                            _PLAN_ROWS,
                            {
                                "run": run_id,
                                "table": target.table.qualified_name,
                                "column": target.column,
                            },
                        )
                    cursor.execute(
                        "select count(*) filter (where action <> 'held'),"
                        " count(*) filter (where action = 'held') from steward.redaction_plan"
                        " where run_id = %s and table_name = %s and column_name = %s",
                        (run_id, target.table.qualified_name, target.column),
                    )
                    planned, held = cursor.fetchone()
                    result.candidates[target.location] = planned
                    result.held[target.location] = held
            else:
                if not holds.views_ready(
                    cursor, [t.qualified_name for t in data_map.tables if t.retention_rule]
                ):
                    raise holds.HoldsUnavailableError("the legal-hold views are missing")
                holds.as_of_now(cursor)
                cursor.execute("insert into steward.redaction_runs default values returning run_id")
                run_id = cursor.fetchone()[0]
                for target in found:
                    _plan(cursor, run_id, target, result)
                planned = sum(result.candidates.values())
                if planned > max_rows:
                    connection.rollback()
                    raise CircuitBreakerError(
                        f"redaction plan has {planned:,} rows, more than the maximum "
                        f"{max_rows:,}: nothing was changed"
                    )
        result.run_id = run_id
        if apply:
            connection.commit()  # the plan survives a crash; batches resume from it
            batches.crashpoint("plan_committed")
        for target in found:
            if target.structured:
                result.violations[target.location] = 0
        try:
            for target in found:
                if apply:
                    _apply(connection, run_id, target, batch_size, result)
                else:
                    _dry_run(connection, run_id, target, batch_size, result)
            if not apply:
                connection.rollback()
                return result
            with connection.cursor() as cursor:
                _record_violations(cursor, result)
                cursor.execute(
                    "update steward.redaction_runs set status = 'finished', finished_at = now()"
                    " where run_id = %s",
                    (run_id,),
                )
                audit.record_on_dbapi(
                    connection,
                    ACTOR,
                    "redaction.run",
                    {
                        "run_id": run_id,
                        "rows_changed": result.rows_changed,
                        "held": {k: v for k, v in result.held.items() if v},
                        "violations": result.violations,
                    },
                )
            connection.commit()
        finally:
            with connection.cursor() as cursor:
                cursor.execute("select pg_advisory_unlock(hashtext('steward.redaction.run'))")
            connection.commit()
    return result


def _record_violations(cursor, result: RedactionResult) -> None:
    for location, rows in result.violations.items():
        table_name, column = location.rsplit(".", 1)
        cursor.execute(
            "insert into steward.pci_violations"
            " (table_name, column_name, full_card_rows, held_rows, checked_at, truncated_rows)"
            " values (%(t)s, %(c)s, %(n)s, %(h)s, now(), %(x)s)"
            " on conflict (table_name, column_name) do update set"
            " full_card_rows = excluded.full_card_rows - excluded.truncated_rows,"
            " held_rows = excluded.held_rows, checked_at = now(),"
            " truncated_rows = steward.pci_violations.truncated_rows + excluded.truncated_rows",
            {
                "t": table_name,
                "c": column,
                "n": rows,
                "h": result.held.get(location, 0),
                "x": result.truncated.get(location, 0),
            },
        )


def approve(engine: sa.Engine, location: str, approved_by: str) -> None:
    """Allow the next applied run to truncate a structured card column to first 6 / last 4."""
    if not approved_by.strip():
        raise RedactionError("approve needs the name of who approves (--by)")
    data_map = datamap.load_data_map()
    ensure_tables(engine, data_map)
    with dbapi(engine) as connection, connection.cursor() as cursor:
        known = {t.location for t in targets(cursor, data_map) if t.structured}
        if location not in known:
            raise RedactionError(
                f"{location!r} is not a card-number column of the data map"
                f" (known: {', '.join(sorted(known)) or 'none'})"
            )
        table_name, column = location.rsplit(".", 1)
        cursor.execute(
            "insert into steward.pci_violations (table_name, column_name, approved_by, approved_at)"
            " values (%s, %s, %s, now()) on conflict (table_name, column_name) do update set"
            " approved_by = excluded.approved_by, approved_at = excluded.approved_at",
            (table_name, column, approved_by.strip()),
        )
        audit.record_on_dbapi(
            connection, approved_by.strip(), "redaction.approve_truncation", {"column": location}
        )


def nightly(apply: bool = False) -> dict:
    """The nightly DAG's redaction step: counts per column and kind, never a value.

    A plan over the circuit breaker changes nothing and is reported, not raised,
    so the rest of the night still runs.
    """
    from steward import warehouse
    from steward.dashboard import governance, marts

    try:
        result = run(warehouse.engine(), apply=apply)
    except CircuitBreakerError as exc:
        return {"mode": "apply" if apply else "dry_run", "stopped_by_breaker": str(exc)}
    # The dashboard's views over this job's tables, once they exist (models/marts/redaction).
    marts.ensure_views("redaction_marts", governance.REDACTION_TABLES)
    found: Counter = Counter()
    for kinds in result.redacted.values():
        found.update(kinds)
    return {
        "mode": "dry_run" if result.dry_run else "apply",
        "run_id": result.run_id,
        "found": dict(sorted((k, v) for k, v in found.items() if k != "full_card_number")),
        "rows_changed": result.rows_changed,
        "held_rows": sum(result.held.values()),
        "pci_violations": result.violations,
        "truncated": result.truncated,
        "stopped_by_breaker": None,
    }
