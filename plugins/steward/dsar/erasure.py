"""Deletion: erase the subject's rows, keep what the law says to keep, prove it.

From the rows the finder recorded (phase ``find``) a plan is written to
``steward.dsar_erasure_plan``, one row per table row, set-based:

* ``retain`` with the reason, when an exemption applies: an active legal hold
  on the subject, on the record or on the table's date range
  (``compliance.legal_holds``), or a statutory minimum retention period
  (``is_statutory_minimum`` rules of ``retention_rules.csv``) not yet elapsed;
* else the table's retention action from the data map: ``delete``,
  ``anonymise`` (personal columns set to null) or ``delete_file`` (the
  recording file, then the row);
* ``redact`` for other people's rows that only mention the subject in free
  text: the subject's phones, e-mails and name are replaced inside the text.

Execution works table by table in batches; each batch changes the rows and
marks its plan rows done in one transaction, so a crash leaves a consistent
state and a rerun resumes where it stopped (files already gone are fine). A
circuit breaker refuses plans larger than ``max_rows``. ``dry_run`` computes the
plan and rolls it back. Then a suppression entry (keyed hashes of the
identifiers) and a verification re-scan: every row still found must be
retained under a recorded exemption, or anonymised.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

import sqlalchemy as sa
from psycopg2 import sql

from steward import audit, datamap
from steward.dsar import finder
from steward.dsar.finder import SubjectIdentity, dbapi

log = logging.getLogger(__name__)

LEGAL_HOLDS_TABLE = ("compliance", "legal_holds")
SUPPRESSION_SALT_ENV = "STEWARD_DSAR_SUPPRESSION_SALT"
DEFAULT_BATCH_SIZE = 1_000
DEFAULT_MAX_ROWS = 50_000
RECORDING = "user.content.call_recording"

_DDL = """
create table if not exists steward.dsar_erasure_plan (
    request_id bigint not null,
    table_name text not null,
    row_key jsonb not null,
    action text not null,       -- delete | anonymise | delete_file | redact | retain
    reason text not null,
    file_path text,             -- delete_file: the recording, checked gone by the verification
    done boolean not null default false,
    primary key (request_id, table_name, row_key)
);
create table if not exists steward.dsar_suppressions (
    identifier_kind text not null,
    identifier_hash text not null,
    request_id bigint not null,
    created_at timestamptz not null default now(),
    primary key (identifier_kind, identifier_hash)
);
create table if not exists steward.dsar_settings (
    setting_name text primary key,
    setting_value text not null
);
"""


class CircuitBreakerError(RuntimeError):
    """The plan is larger than the configured maximum: nothing was changed."""


@dataclass
class ErasureResult:
    """Counts per table and action, and why rows were kept. No personal data."""

    request_id: int
    dry_run: bool
    planned: dict[str, dict[str, int]] = field(default_factory=dict)  # table -> action -> rows
    kept: dict[str, dict[str, int]] = field(default_factory=dict)  # table -> reason -> rows
    executed_rows: int = 0
    files_deleted: int = 0
    suppressions: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def ensure_tables(engine: sa.Engine) -> None:
    finder.ensure_tables(engine)
    with dbapi(engine) as connection, connection.cursor() as cursor:
        cursor.execute("select pg_advisory_xact_lock(hashtext('steward.dsar.erasure'))")
        cursor.execute(_DDL)


def _clock(table: datamap.TableMap) -> tuple[sql.Composable, sql.Composable] | None:
    """(join clause, clock expression) of a table's retention clock, on alias ``t``."""
    if not table.retention_clock:
        return None
    if table.retention_clock_table:
        schema, name = table.retention_clock_table.split(".", 1)
        return (
            sql.SQL(" left join {} as c on c.{} = t.{}").format(
                sql.Identifier(schema, name),
                sql.Identifier(table.subject_key),
                sql.Identifier(table.subject_key),
            ),
            sql.SQL("c.{}").format(sql.Identifier(table.retention_clock)),
        )
    return sql.SQL(""), sql.SQL("t.{}").format(sql.Identifier(table.retention_clock))


def _plan_join(table: datamap.TableMap) -> sql.Composable:
    """Join plan rows ``p`` to their table rows ``t`` through the typed primary key."""
    record = sql.SQL("jsonb_populate_record(null::{}, p.row_key)").format(
        sql.Identifier(table.schema, table.name)
    )
    equal = sql.SQL(" and ").join(
        sql.SQL("t.{0} = r.{0}").format(sql.Identifier(column)) for column in table.primary_key
    )
    return sql.SQL("cross join lateral {} as r join {} as t on {}").format(
        record, sql.Identifier(table.schema, table.name), equal
    )


def _legal_holds_exist(cursor) -> bool:
    cursor.execute("select to_regclass(%s) is not null", (".".join(LEGAL_HOLDS_TABLE),))
    return bool(cursor.fetchone()[0])


def build_plan(
    cursor,
    request_id: int,
    identity: SubjectIdentity,
    data_map: datamap.DataMap,
) -> None:
    """Write the plan of one request (inside the caller's transaction)."""
    holds = sql.Identifier(*LEGAL_HOLDS_TABLE)
    has_holds = _legal_holds_exist(cursor)
    active_hold = sql.SQL(
        "h.released_at is null and (h.expires_at is null or h.expires_at > now())"
    )
    by_name = {table.qualified_name: table for table in data_map.tables}
    for table in finder.subject_tables(data_map):
        rule = data_map.retention_rules.get(table.retention_rule or "")
        default_action = rule.action if rule else "delete"
        params = {
            "request_id": request_id,
            "table": table.qualified_name,
            "ids": identity.customer_ids,
        }
        # Rows the subject owns or is identified in get the table's action; rows
        # that only mention them in free text get their text redacted.
        cursor.execute(
            "insert into steward.dsar_erasure_plan"
            " (request_id, table_name, row_key, action, reason)"
            " select request_id, table_name, row_key,"
            " case when bool_or(matched_by <> 'mention') then %(action)s else 'redact' end,"
            " case when bool_or(matched_by <> 'mention') then %(why)s"
            "  else 'mentions the subject in free text' end"
            " from steward.dsar_subject_rows"
            " where request_id = %(request_id)s and phase = 'find' and table_name = %(table)s"
            " group by request_id, table_name, row_key"
            " on conflict do nothing",
            {**params, "action": default_action, "why": f"erasure request: {default_action}"},
        )
        join = _plan_join(table)
        where_plan = sql.SQL(
            "p.request_id = %(request_id)s and p.table_name = %(table)s and not p.done"
        )
        clock = _clock(table)
        clock_join = clock[0] if clock else sql.SQL("")
        if has_holds:
            owned = finder._owned_condition(table, by_name)
            if owned is not None and identity.customer_ids:
                # Only the hold on this subject, over the rows they own.
                cursor.execute(
                    sql.SQL(
                        "update steward.dsar_erasure_plan as u set action = 'retain',"
                        " reason = 'legal hold ' || h.hold_id || ' on the subject'"
                        " from steward.dsar_erasure_plan as p {join}, {holds} as h"
                        " where {where_plan} and u.request_id = p.request_id"
                        " and u.table_name = p.table_name and u.row_key = p.row_key"
                        " and h.scope = 'subject' and h.customer_id = any(%(ids)s)"
                        " and {active} and {owned}"
                    ).format(
                        join=join,
                        holds=holds,
                        where_plan=where_plan,
                        active=active_hold,
                        owned=owned[0],
                    ),
                    params,
                )
            if len(table.primary_key) == 1:
                cursor.execute(
                    sql.SQL(
                        "update steward.dsar_erasure_plan as p set action = 'retain',"
                        " reason = 'legal hold ' || h.hold_id || ' on the record'"
                        " from {holds} as h where {where_plan} and h.scope = 'record'"
                        " and h.source_table = %(table)s and {active}"
                        " and h.record_key = p.row_key ->> {pk}"
                    ).format(
                        holds=holds,
                        where_plan=where_plan,
                        active=active_hold,
                        pk=sql.Literal(table.primary_key[0]),
                    ),
                    params,
                )
            if clock is not None:
                cursor.execute(
                    sql.SQL(
                        "update steward.dsar_erasure_plan as u set action = 'retain',"
                        " reason = 'legal hold ' || h.hold_id || ' on the table'"
                        " from steward.dsar_erasure_plan as p {join}{clock_join}, {holds} as h"
                        " where {where_plan} and u.request_id = p.request_id"
                        " and u.table_name = p.table_name and u.row_key = p.row_key"
                        " and h.scope = 'table' and h.source_table = %(table)s and {active}"
                        " and {clock}::date between h.date_from and h.date_to"
                    ).format(
                        join=join,
                        clock_join=clock_join,
                        holds=holds,
                        where_plan=where_plan,
                        active=active_hold,
                        clock=clock[1],
                    ),
                    params,
                )
        if rule is not None and rule.is_statutory_minimum and clock is not None:
            interval = f"{rule.period_count} {rule.period_unit}s"
            cursor.execute(
                sql.SQL(
                    "update steward.dsar_erasure_plan as u set action = 'retain',"
                    " reason = %(reason)s"
                    " from steward.dsar_erasure_plan as p {join}{clock_join}"
                    " where {where_plan} and p.action <> 'retain'"
                    " and u.request_id = p.request_id"
                    " and u.table_name = p.table_name and u.row_key = p.row_key"
                    " and ({clock} is null or {clock} + cast(%(interval)s as interval) > now())"
                ).format(join=join, clock_join=clock_join, where_plan=where_plan, clock=clock[1]),
                {
                    **params,
                    "interval": interval,
                    "reason": f"statutory minimum retention: {rule.name} "
                    f"({rule.period_count} {rule.period_unit}s, {rule.legal_basis})",
                },
            )
        recording_columns = [c.name for c in table.columns if c.data_category == RECORDING]
        if recording_columns:
            cursor.execute(
                sql.SQL(
                    "update steward.dsar_erasure_plan as u set file_path = t.{col}"
                    " from steward.dsar_erasure_plan as p {join}"
                    " where {where_plan} and u.request_id = p.request_id"
                    " and u.table_name = p.table_name and u.row_key = p.row_key"
                ).format(
                    col=sql.Identifier(recording_columns[0]), join=join, where_plan=where_plan
                ),
                params,
            )


def _anonymisable_columns(cursor, table: datamap.TableMap) -> list[str]:
    """Personal columns that may be set to null (not keys, not NOT NULL)."""
    cursor.execute(
        "select column_name from information_schema.columns"
        " where table_schema = %s and table_name = %s and is_nullable = 'YES'",
        (table.schema, table.name),
    )
    nullable = {row[0] for row in cursor.fetchall()}
    keys = set(table.primary_key) | {table.subject_key}
    return [c.name for c in table.columns if c.name in nullable and c.name not in keys]


def _redaction(table: datamap.TableMap, identity: SubjectIdentity) -> tuple[list, dict]:
    """Assignments replacing the subject's identifiers inside free-text columns."""
    params: dict = {}
    assignments = []
    patterns = []
    for index, phone in enumerate(identity.phones):
        params[f"rp{index}"] = finder.phone_mention_pattern(phone)
        patterns.append((f"rp{index}", "[redacted phone]", "g"))
    for index, email in enumerate(identity.emails):
        params[f"re{index}"] = finder.literal_pattern(email)
        patterns.append((f"re{index}", "[redacted e-mail]", "gi"))
    for index, name in enumerate(identity.names):
        params[f"rn{index}"] = "\\m" + finder.literal_pattern(name) + "\\M"
        patterns.append((f"rn{index}", "[redacted name]", "gi"))
    for column in finder.columns_of(table, finder.FREE_TEXT):
        expression: sql.Composable = sql.SQL("t.{}").format(sql.Identifier(column))
        for key, replacement, flags in patterns:
            expression = sql.SQL("regexp_replace({}, %({})s, {}, {})").format(
                expression, sql.SQL(key), sql.Literal(replacement), sql.Literal(flags)
            )
        assignments.append(sql.SQL("{} = {}").format(sql.Identifier(column), expression))
    return assignments, params


def _execute_table(
    connection, request_id: int, table: datamap.TableMap, identity, batch_size: int
) -> tuple[int, int]:
    """Run the pending plan rows of one table in batches; (rows, files) changed."""
    rows_changed = files_deleted = 0
    target = sql.Identifier(table.schema, table.name)
    with connection.cursor() as cursor:
        anonymise = _anonymisable_columns(cursor, table)
    redact, redact_params = _redaction(table, identity)
    equal = sql.SQL(" and ").join(
        sql.SQL("t.{0} = r.{0}").format(sql.Identifier(column)) for column in table.primary_key
    )
    record = sql.SQL("jsonb_populate_record(null::{}, b.row_key)").format(target)
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "select row_key::text, action, file_path from steward.dsar_erasure_plan"
                " where request_id = %s and table_name = %s and not done and action <> 'retain'"
                " order by row_key limit %s for update skip locked",
                (request_id, table.qualified_name, batch_size),
            )
            batch = cursor.fetchall()
            if not batch:
                connection.commit()
                return rows_changed, files_deleted
            cursor.execute(
                "create temp table if not exists dsar_batch (row_key jsonb, action text)"
                " on commit delete rows"
            )
            cursor.execute("delete from dsar_batch")
            cursor.executemany(
                "insert into dsar_batch values (%s::jsonb, %s)", [(k, a) for k, a, _ in batch]
            )
            for action in ("delete", "delete_file"):
                cursor.execute(
                    sql.SQL(
                        "delete from {target} as t using dsar_batch as b"
                        " cross join lateral {record} as r"
                        " where b.action = %(action)s and {equal}"
                    ).format(target=target, record=record, equal=equal),
                    {"action": action},
                )
                rows_changed += cursor.rowcount
            if anonymise:
                cursor.execute(
                    sql.SQL(
                        "update {target} as t set {assign} from dsar_batch as b"
                        " cross join lateral {record} as r where b.action = 'anonymise' and {equal}"
                    ).format(
                        target=target,
                        assign=sql.SQL(", ").join(
                            sql.SQL("{} = null").format(sql.Identifier(c)) for c in anonymise
                        ),
                        record=record,
                        equal=equal,
                    )
                )
                rows_changed += cursor.rowcount
            if redact:
                cursor.execute(
                    sql.SQL(
                        "update {target} as t set {assign} from dsar_batch as b"
                        " cross join lateral {record} as r where b.action = 'redact' and {equal}"
                    ).format(
                        target=target,
                        assign=sql.SQL(", ").join(redact),
                        record=record,
                        equal=equal,
                    ),
                    redact_params,
                )
                rows_changed += cursor.rowcount
            # Files go before the commit: a crash after this leaves rows whose files
            # are gone, which the rerun deletes (a missing file is not an error).
            for _, action, file_path in batch:
                if action == "delete_file" and file_path:
                    path = Path(file_path)
                    if path.exists():
                        path.unlink()
                        files_deleted += 1
            cursor.execute(
                "update steward.dsar_erasure_plan as p set done = true from dsar_batch as b"
                " where p.request_id = %s and p.table_name = %s and p.row_key = b.row_key",
                (request_id, table.qualified_name),
            )
        connection.commit()


def suppression_salt(engine: sa.Engine) -> bytes:
    """The key of the suppression hashes: the env var, else one generated per warehouse."""
    configured = os.environ.get(SUPPRESSION_SALT_ENV)
    if configured:
        return configured.encode()
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into steward.dsar_settings values ('suppression_salt', :salt)"
                " on conflict do nothing"
            ),
            {"salt": secrets.token_hex(32)},
        )
        value = conn.execute(
            sa.text(
                "select setting_value from steward.dsar_settings"
                " where setting_name = 'suppression_salt'"
            )
        ).scalar_one()
    return value.encode()


def suppression_hash(salt: bytes, kind: str, value: str) -> str:
    """HMAC-SHA256 of a normalised identifier: re-ingested data can be matched, not read."""
    return hmac.new(salt, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def add_suppressions(engine: sa.Engine, request_id: int, identity: SubjectIdentity) -> int:
    salt = suppression_salt(engine)
    entries = (
        [("customer_id", str(value)) for value in identity.customer_ids]
        + [("email", value) for value in identity.emails]
        + [("phone", value) for value in identity.phones]
    )
    with engine.begin() as conn:
        for kind, value in entries:
            conn.execute(
                sa.text(
                    "insert into steward.dsar_suppressions (identifier_kind, identifier_hash,"
                    " request_id) values (:kind, :hash, :request_id) on conflict do nothing"
                ),
                {
                    "kind": kind,
                    "hash": suppression_hash(salt, kind, value),
                    "request_id": request_id,
                },
            )
    return len(entries)


def plan_summary(cursor, request_id: int) -> tuple[dict, dict]:
    cursor.execute(
        "select table_name, action, count(*) from steward.dsar_erasure_plan"
        " where request_id = %s group by 1, 2 order by 1, 2",
        (request_id,),
    )
    planned: dict[str, dict[str, int]] = {}
    for name, action, count in cursor.fetchall():
        planned.setdefault(name, {})[action] = count
    cursor.execute(
        "select table_name, reason, count(*) from steward.dsar_erasure_plan"
        " where request_id = %s and action = 'retain' group by 1, 2 order by 1, 2",
        (request_id,),
    )
    kept: dict[str, dict[str, int]] = {}
    for name, reason, count in cursor.fetchall():
        kept.setdefault(name, {})[reason] = count
    return planned, kept


def erase(
    engine: sa.Engine,
    request_id: int,
    identity: SubjectIdentity,
    data_map: datamap.DataMap,
    *,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_rows: int = DEFAULT_MAX_ROWS,
    actor: str = "steward.dsar",
) -> ErasureResult:
    """Plan (once) and execute the erasure of a request's found rows; resumable."""
    ensure_tables(engine)
    result = ErasureResult(request_id=request_id, dry_run=dry_run)
    with dbapi(engine) as connection:
        with connection.cursor() as cursor:
            cursor.execute(
                "select pg_advisory_xact_lock(hashtext('steward.dsar.erasure'), %s::int)",
                (request_id,),
            )
            cursor.execute(
                "select count(*) from steward.dsar_erasure_plan where request_id = %s",
                (request_id,),
            )
            if cursor.fetchone()[0] == 0:
                build_plan(cursor, request_id, identity, data_map)
            result.planned, result.kept = plan_summary(cursor, request_id)
        to_change = sum(
            count
            for actions in result.planned.values()
            for action, count in actions.items()
            if action != "retain"
        )
        if dry_run:
            connection.rollback()
            return result
        if to_change > max_rows:
            connection.rollback()
            raise CircuitBreakerError(
                f"request {request_id}: {to_change} rows to change exceeds the limit of "
                f"{max_rows}; nothing changed (raise max_rows after checking the plan)"
            )
        connection.commit()
        audit.record(
            engine,
            actor,
            "dsar.erasure.planned",
            {"request_id": request_id, "planned": result.planned, "kept": result.kept},
        )
        for table in finder.subject_tables(data_map):
            if table.qualified_name not in result.planned:
                continue
            changed, files = _execute_table(connection, request_id, table, identity, batch_size)
            result.executed_rows += changed
            result.files_deleted += files
    result.suppressions = add_suppressions(engine, request_id, identity)
    audit.record(
        engine,
        actor,
        "dsar.erasure.executed",
        {
            "request_id": request_id,
            "rows_changed": result.executed_rows,
            "files_deleted": result.files_deleted,
            "suppression_entries": result.suppressions,
        },
    )
    log.info(
        "request %s erased: %d rows changed, %d files deleted",
        request_id,
        result.executed_rows,
        result.files_deleted,
    )
    return result


def verify_erasure(
    engine: sa.Engine, request_id: int, identity: SubjectIdentity, data_map: datamap.DataMap
) -> dict:
    """Re-scan for the subject; residual rows are those neither retained nor anonymised."""
    finder.find_rows(engine, request_id, identity, data_map, phase="verify")
    with dbapi(engine) as connection, connection.cursor() as cursor:
        cursor.execute(
            "select v.table_name, count(distinct v.row_key)"
            " from steward.dsar_subject_rows as v"
            " left join steward.dsar_erasure_plan as p on p.request_id = v.request_id"
            " and p.table_name = v.table_name and p.row_key = v.row_key"
            " where v.request_id = %s and v.phase = 'verify'"
            " and not (p.action = 'retain' or (p.action = 'anonymise' and p.done"
            "   and v.matched_by in ('subject_key', 'reference')))"
            " group by 1 order by 1",
            (request_id,),
        )
        residual = dict(cursor.fetchall())
        cursor.execute(
            "select file_path from steward.dsar_erasure_plan where request_id = %s"
            " and action = 'delete_file' and file_path is not null",
            (request_id,),
        )
        files_left = sum(1 for (path,) in cursor.fetchall() if Path(path).exists())
        anonymised_left = 0
        for table in finder.subject_tables(data_map):
            columns = _anonymisable_columns(cursor, table)
            if not columns:
                continue
            cursor.execute(
                sql.SQL(
                    "select count(*) from steward.dsar_erasure_plan as p {join}"
                    " where p.request_id = %(request_id)s and p.table_name = %(table)s"
                    " and p.action = 'anonymise' and ({any_left})"
                ).format(
                    join=_plan_join(table),
                    any_left=sql.SQL(" or ").join(
                        sql.SQL("t.{} is not null").format(sql.Identifier(c)) for c in columns
                    ),
                ),
                {"request_id": request_id, "table": table.qualified_name},
            )
            anonymised_left += cursor.fetchone()[0]
    report = {
        "request_id": request_id,
        "residual_rows": residual,
        "residual_total": sum(residual.values()),
        "recording_files_left": files_left,
        "anonymised_rows_with_personal_data": anonymised_left,
    }
    report["verified"] = report["residual_total"] == 0 and files_left == 0 and anonymised_left == 0
    audit.record(engine, "steward.dsar", "dsar.erasure.verified", report)
    return report
