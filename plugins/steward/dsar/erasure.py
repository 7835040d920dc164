"""Deletion: erase the subject's rows, keep what the law says to keep, prove it.

From the rows the finder recorded (phase ``find``) a plan is written to
``steward.dsar_erasure_plan``, one row per table row, set-based:

* ``retain`` with the reason, when an exemption applies: an active legal hold
  (whether a row is held is dbt's answer, ``intermediate.int_retention__held_rows``,
  the definition retention uses too: see :mod:`steward.engine.holds`), or a
  statutory minimum retention period (``is_statutory_minimum`` rules of
  ``retention_rules.csv``) not yet elapsed;
* else the table's retention action from the data map: ``delete``,
  ``anonymise`` (every personal column the data map or the PII catalogue
  knows, masked by the strategy of its data category: :mod:`steward.engine.masking`)
  or ``delete_file`` (the row, then its recording file);
* ``redact`` for other people's rows that only mention the subject in free
  text: the subject's phones, e-mails and name are replaced inside the text.

Execution goes through :mod:`steward.engine`, as retention's does: table by
table in batches; each batch changes the rows, marks its plan rows done and
appends its row to the hash-chained audit log in one transaction, so a crash
leaves a consistent state and a rerun resumes where it stopped. Recording files
are removed through fsspec after their batch committed, each outcome recorded
(a file that cannot be removed makes the request not verified). A circuit
breaker refuses plans larger than ``max_rows``. ``dry_run`` computes the plan
and rolls it back. Then a suppression entry (keyed hashes of the identifiers)
and a verification re-scan: every row still found must be retained under a
recorded exemption, or anonymised in every column the map and the catalogue know.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

import sqlalchemy as sa
from psycopg2 import sql

from steward import audit, datamap, schema
from steward.dsar import finder, keys
from steward.dsar.erasure_plan import (
    RECORDING,
    _hold_tables,
    _plan_join,
    build_plan,
    plan_summary,
)
from steward.dsar.finder import SubjectIdentity, dbapi
from steward.engine import CircuitBreakerError, batches, files, holds, masking

log = logging.getLogger(__name__)

CATALOGUE = "steward.pii_catalogue"
ACTOR = "steward.dsar"
SUPPRESSION_SALT_ENV = keys.SUPPRESSION_KEY_ENV
DEFAULT_BATCH_SIZE = 1_000
DEFAULT_MAX_ROWS = 50_000
PLAN_TABLE = "steward.dsar_erasure_plan"

__all__ = [
    "RECORDING",
    "CircuitBreakerError",
    "ErasureResult",
    "build_plan",
    "erase",
    "plan_summary",
    "verify_erasure",
]


@dataclass
class ErasureResult:
    """Counts per table and action, and why rows were kept. No personal data."""

    request_id: int
    dry_run: bool
    planned: dict[str, dict[str, int]] = field(default_factory=dict)  # table -> action -> rows
    kept: dict[str, dict[str, int]] = field(default_factory=dict)  # table -> reason -> rows
    executed_rows: int = 0
    files_deleted: int = 0
    files_failed: int = 0
    suppressions: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def ensure_tables(engine: sa.Engine, data_map: datamap.DataMap | None = None) -> None:
    """Steward's schema up to date, and dbt's legal-hold views (built when missing)."""
    schema.upgrade(engine)
    data_map = data_map or datamap.load_data_map()
    holds.ensure_views(
        engine, engine.url.render_as_string(hide_password=False), _hold_tables(data_map)
    )


def _column_info(cursor, table: datamap.TableMap) -> dict[str, tuple[str, bool]]:
    cursor.execute(
        "select column_name, data_type, is_nullable = 'YES' from information_schema.columns"
        " where table_schema = %s and table_name = %s",
        (table.schema, table.name),
    )
    return {name: (data_type, nullable) for name, data_type, nullable in cursor.fetchall()}


def catalogue_built(cursor) -> bool:
    cursor.execute("select to_regclass(%s) is not null", (CATALOGUE,))
    return bool(cursor.fetchone()[0])


def _catalogue_columns(cursor, table: datamap.TableMap) -> list[tuple[str, str]]:
    """Personal columns the PII catalogue holds for ``table`` (declared or not), not rejected."""
    if not catalogue_built(cursor):
        return []
    cursor.execute(
        "select column_name, min(category) from steward.pii_catalogue"
        " where schema_name = %s and table_name = %s and status <> 'rejected'"
        " group by column_name order by column_name",
        (table.schema, table.name),
    )
    return [(name, category) for name, category in cursor.fetchall()]


def anonymisation_columns(
    cursor, table: datamap.TableMap, key=None, policies=None
) -> list[masking.MaskedColumn]:
    """What anonymising a row of ``table`` masks: every personal column of the data map
    and of the PII catalogue, each by its category's strategy (the one registry).
    Keys stay (the row is kept, de-identified); columns that cannot be handled carry
    a ``problem`` and make the request not verified."""
    policies = policies or masking.policy_set()
    declared = [(c.name, c.data_category) for c in table.columns if c.data_category]
    names = {name for name, _ in declared}
    keys = set(table.primary_key) | ({table.subject_key} if table.subject_key else set())
    catalogued = [
        (name, category)
        for name, category in _catalogue_columns(cursor, table)
        if name not in names and name not in keys
    ]
    wanted = [(name, category) for name, category in declared if name not in keys] + catalogued
    return masking.plan_columns(wanted, _column_info(cursor, table), keys, policies, key)


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


def _hmac_key(policies=None):
    try:
        return (policies or masking.policy_set()).hmac_key()
    except Exception:  # no secret source: the registry falls back to nullify
        return None


def _remove_pending_files(connection, request_id: int, table_name: str) -> tuple[int, int]:
    """Remove the files of committed delete_file rows not removed yet; (removed, failed)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "select file_path from steward.dsar_erasure_plan where request_id = %s"
            " and table_name = %s and done and action = 'delete_file' and file_path is not null"
            " and (file_outcome is null or file_outcome = %s) order by file_path",
            (request_id, table_name, files.FAILED),
        )
        pending = [row[0] for row in cursor.fetchall()]
    connection.commit()
    removed = failed = 0
    for path, outcome, error in files.remove(pending):
        batches.crashpoint("file_removed")
        with connection.cursor() as cursor:
            cursor.execute(
                "update steward.dsar_erasure_plan set file_outcome = %s, file_error = %s"
                " where request_id = %s and table_name = %s and file_path = %s",
                (outcome, error, request_id, table_name, path),
            )
        connection.commit()
        removed += outcome == files.REMOVED
        failed += outcome == files.FAILED
    return removed, failed


def _execute_table(
    connection,
    request_id: int,
    table: datamap.TableMap,
    identity,
    batch_size: int,
    *,
    actor: str = ACTOR,
    key=None,
    policies=None,
) -> tuple[int, int]:
    """Run the pending plan rows of one table in batches through the engine; (rows, files).

    Each batch: change the rows, mark the plan rows done, append the audit row;
    one transaction. Then the batch's files go (fsspec), outcomes recorded.
    """
    target = sql.Identifier(table.schema, table.name)
    # Files of batches a crash interrupted between their commit and the removal.
    files_deleted, _ = _remove_pending_files(connection, request_id, table.qualified_name)
    with connection.cursor() as cursor:
        cursor.execute(
            "select exists (select from steward.dsar_erasure_plan where request_id = %s"
            " and table_name = %s and action = 'anonymise' and not done)",
            (request_id, table.qualified_name),
        )
        anonymise: list[masking.MaskedColumn] = []
        if cursor.fetchone()[0]:
            policies = policies or masking.policy_set()
            key = key if key is not None else _hmac_key(policies)
            anonymise = [
                c for c in anonymisation_columns(cursor, table, key, policies) if c.problem is None
            ]
    connection.commit()
    redact, redact_params = _redaction(table, identity)
    equal = sql.SQL(" and ").join(
        sql.SQL("t.{0} = r.{0}").format(sql.Identifier(column)) for column in table.primary_key
    )
    record = sql.SQL("jsonb_populate_record(null::{}, b.row_key)").format(target)
    staged = sql.Identifier(batches.STAGING_TABLE)

    def apply(cursor) -> dict[str, int]:
        changed: dict[str, int] = {}
        for action in ("delete", "delete_file"):
            cursor.execute(
                sql.SQL(
                    "delete from {target} as t using {staged} as b"
                    " cross join lateral {record} as r"
                    " where b.action = %(action)s and {equal}"
                ).format(target=target, staged=staged, record=record, equal=equal),
                {"action": action},
            )
            changed[action] = cursor.rowcount
        for action, assignments, params in (
            (
                "anonymise",
                [c.assignment(key) for c in anonymise],
                key.params if key is not None else {},
            ),
            ("redact", redact, redact_params),
        ):
            if not assignments:
                continue
            cursor.execute(
                sql.SQL(
                    "update {target} as t set {assign} from {staged} as b"
                    " cross join lateral {record} as r where b.action = %(action)s and {equal}"
                ).format(
                    target=target,
                    assign=sql.SQL(", ").join(assignments),
                    staged=staged,
                    record=record,
                    equal=equal,
                ),
                {**params, "action": action},
            )
            changed[action] = cursor.rowcount
        return changed

    def details(changed: dict[str, int]) -> dict:
        return {
            "request_id": request_id,
            "table": table.qualified_name,
            "masked_columns": {c.column: c.strategy for c in anonymise}
            if changed.get("anonymise")
            else {},
        }

    def remove_files(changed: dict[str, int]) -> None:
        nonlocal files_deleted
        if changed.get("delete_file"):
            removed, _ = _remove_pending_files(connection, request_id, table.qualified_name)
            files_deleted += removed

    rows_changed = batches.run_batches(
        connection,
        plan_of(request_id, table.qualified_name),
        apply,
        batch_size=batch_size,
        actor=actor,
        audit_action="dsar.erasure.batch",
        details=details,
        after_commit=remove_files,
    )
    return rows_changed, files_deleted


def plan_of(request_id: int, table_name: str) -> batches.Plan:
    """The erasure plan rows of one request and table, as the engine runs them."""
    return batches.Plan(PLAN_TABLE, {"request_id": request_id, "table_name": table_name})


def suppression_salt(engine: sa.Engine) -> bytes:
    """The key of the suppression hashes: configured, never generated or stored (see keys)."""
    return keys.suppression_key()


def suppression_hash(salt: bytes, kind: str, value: str) -> str:
    """HMAC-SHA256 of a normalised identifier: re-ingested data can be matched, not read."""
    return keys.identifier_hash(salt, kind, value)


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
    ensure_tables(engine, data_map)
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
        batches.crashpoint("plan_committed")
        audit.record(
            engine,
            actor,
            "dsar.erasure.planned",
            {"request_id": request_id, "planned": result.planned, "kept": result.kept},
        )
        # The HMAC key is looked up by the tables that anonymise, when they do.
        policies, key = masking.policy_set(data_map), None
        for table in finder.subject_tables(data_map):
            if table.qualified_name not in result.planned:
                continue
            changed, removed = _execute_table(
                connection,
                request_id,
                table,
                identity,
                batch_size,
                actor=actor,
                key=key,
                policies=policies,
            )
            result.executed_rows += changed
            result.files_deleted += removed
        with connection.cursor() as cursor:
            cursor.execute(
                "select count(*) from steward.dsar_erasure_plan where request_id = %s"
                " and file_outcome = %s",
                (request_id, files.FAILED),
            )
            result.files_failed = cursor.fetchone()[0]
        connection.commit()
    result.suppressions = add_suppressions(engine, request_id, identity)
    audit.record(
        engine,
        actor,
        "dsar.erasure.executed",
        {
            "request_id": request_id,
            "rows_changed": result.executed_rows,
            "files_deleted": result.files_deleted,
            "files_failed": result.files_failed,
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
            "select file_path, file_outcome from steward.dsar_erasure_plan"
            " where request_id = %s and action = 'delete_file' and file_path is not null",
            (request_id,),
        )
        plan_files = cursor.fetchall()
        files_failed = sum(1 for _, outcome in plan_files if outcome == files.FAILED)
        files_left = sum(1 for path, _ in plan_files if files.exists(path))
        has_catalogue = catalogue_built(cursor)
        policies, key, key_looked_up = masking.policy_set(data_map), None, False
        anonymised_left = 0
        unhandled: dict[str, str] = {}
        checked: list[str] = []
        for table in finder.subject_tables(data_map):
            cursor.execute(
                "select count(*) from steward.dsar_erasure_plan where request_id = %s"
                " and table_name = %s and action = 'anonymise'",
                (request_id, table.qualified_name),
            )
            if not cursor.fetchone()[0]:
                continue
            if not key_looked_up:
                key, key_looked_up = _hmac_key(policies), True
            columns = anonymisation_columns(cursor, table, key, policies)
            for column in columns:
                if column.problem:
                    unhandled[f"{table.qualified_name}.{column.column}"] = column.problem
            masked = [c for c in columns if c.problem is None]
            checked += [f"{table.qualified_name}.{c.column}" for c in masked]
            if not masked:
                continue
            cursor.execute(
                sql.SQL(
                    "select count(*) from steward.dsar_erasure_plan as p {join}"
                    " where p.request_id = %(request_id)s and p.table_name = %(table)s"
                    " and p.action = 'anonymise' and not ({all_masked})"
                ).format(
                    join=_plan_join(table),
                    all_masked=sql.SQL(" and ").join(c.masked_check() for c in masked),
                ),
                {"request_id": request_id, "table": table.qualified_name},
            )
            anonymised_left += cursor.fetchone()[0]
    report = {
        "request_id": request_id,
        "residual_rows": residual,
        "residual_total": sum(residual.values()),
        "recording_files_left": files_left,
        "recording_files_failed": files_failed,
        "anonymised_rows_with_personal_data": anonymised_left,
        "anonymised_columns_checked": sorted(checked),
        "columns_not_handled": unhandled,
        "pii_catalogue": "checked"
        if has_catalogue
        else "not built yet: only the data map's columns were checked",
    }
    report["verified"] = (
        report["residual_total"] == 0
        and files_left == 0
        and files_failed == 0
        and anonymised_left == 0
        and not unhandled
    )
    audit.record(engine, ACTOR, "dsar.erasure.verified", report)
    return report
