"""Correction: the new value goes to every copy of the field, in every system.

A correction names a data category (``user.contact.phone_number``, or its
short name ``phone``); every column of that category in the subject's rows
gets the validated new value: the phone in the CRM, the campaign lists, the
opt-outs and the consents alike. When the request names the subject's old
phone (or e-mail), only copies of that value change, so a customer's other
numbers stay as they are.

Through the engine (:mod:`steward.engine.batches`), like an erasure: the rows
to change are planned once, set-based, in ``steward.dsar_correction_plan``
(one row per table row and column; no values), then run table by column in
batches; each batch updates its rows, marks its plan rows done and appends a
``dsar.correction.batch`` row to the hash-chained audit log in one
transaction, so a crash resumes where it stopped. ``dry_run`` counts the plan
and changes nothing; ``max_rows`` is the circuit breaker. Per field, a
``dsar.correction.applied`` row records digests of the old values (taken when
the plan was made) and of the new value, never the values.
"""

from __future__ import annotations

import sqlalchemy as sa
from psycopg2 import sql

from steward import audit, datamap, schema
from steward.dsar import finder, keys
from steward.dsar.finder import SubjectIdentity, dbapi
from steward.engine import batches

PLAN_TABLE = "steward.dsar_correction_plan"
DEFAULT_BATCH_SIZE = 1_000
DEFAULT_MAX_ROWS = 50_000

# Old values already in the warehouse are compared in their normalised form.
_MATCH_OLD = {
    finder.PHONE: "steward.phone_raw_key(t.{col}) = any(%(old_phone_keys)s)",
    finder.EMAIL: "lower(t.{col}) = any(%(old_emails)s)",
}


def _targets(data_map: datamap.DataMap, corrections: dict[str, str]):
    """(category, new value, table, column) of every copy of every corrected field."""
    for category, new_value in sorted(corrections.items()):
        for table in finder.subject_tables(data_map):
            for column in [c.name for c in table.columns if c.data_category == category]:
                yield category, new_value, table, column


def _key_match(table: datamap.TableMap) -> sql.Composable:
    return sql.SQL(" and ").join(
        sql.SQL("t.{0} = r.{0}").format(sql.Identifier(pk)) for pk in table.primary_key
    )


def _plan(cursor, request_id, corrections, data_map, old_phone, old_email) -> None:
    """Plan the rows holding an old value of each field (in the caller's transaction).

    Re-planning is idempotent: a row already corrected no longer matches; a
    done row that holds an old value again (re-ingested) is planned again.
    """
    old_phone_keys = finder._phone_raw_keys(cursor, [old_phone]) if old_phone else []
    old_values: dict[str, set[str]] = {category: set() for category in corrections}
    for category, new_value, table, column in _targets(data_map, corrections):
        condition = sql.SQL("")
        if category == finder.PHONE and old_phone:
            condition = sql.SQL(" and " + _MATCH_OLD[finder.PHONE]).format(
                col=sql.Identifier(column)
            )
        if category == finder.EMAIL and old_email:
            condition = sql.SQL(" and " + _MATCH_OLD[finder.EMAIL]).format(
                col=sql.Identifier(column)
            )
        target = sql.Identifier(table.schema, table.name)
        params = {
            "request_id": request_id,
            "table": table.qualified_name,
            "column": column,
            "field": category,
            "new": new_value,
            "old_phone_keys": old_phone_keys,
            "old_emails": [old_email] if old_email else [],
        }
        # The old values are read for their digest only, in the planning transaction.
        cursor.execute(
            sql.SQL(
                "with subject as (select distinct row_key from steward.dsar_subject_rows"
                " where request_id = %(request_id)s and phase = 'find'"
                " and table_name = %(table)s and matched_by <> 'mention'),"
                " planned as (insert into steward.dsar_correction_plan"
                " (request_id, table_name, column_name, row_key, field)"
                " select %(request_id)s, %(table)s, %(column)s, k.row_key, %(field)s"
                " from subject as k"
                " cross join lateral jsonb_populate_record(null::{target}, k.row_key) as r"
                " join {target} as t on {key_match}"
                " where t.{col} is not null and t.{col} is distinct from %(new)s{condition}"
                " on conflict (request_id, table_name, column_name, row_key)"
                " do update set done = false returning row_key)"
                " select t.{col}::text from planned as p"
                " cross join lateral jsonb_populate_record(null::{target}, p.row_key) as r"
                " join {target} as t on {key_match}"
            ).format(
                col=sql.Identifier(column),
                target=target,
                key_match=_key_match(table),
                condition=condition,
            ),
            params,
        )
        old_values[category].update(str(row[0]) for row in cursor.fetchall() if row[0])
    for category, values in old_values.items():
        cursor.execute(
            "insert into steward.dsar_correction_fields values (%s, %s, %s, %s, %s)"
            " on conflict do nothing",
            (
                request_id,
                category,
                keys.keyed_digest(sorted(values)),
                len(values),
                keys.keyed_digest(corrections[category]),
            ),
        )


def _run_column(connection, request_id, category, new_value, table, column, batch_size, actor):
    target = sql.Identifier(table.schema, table.name)
    new_digest = keys.keyed_digest(new_value)

    def apply(cursor) -> dict[str, int]:
        cursor.execute(
            sql.SQL(
                "update {target} as t set {col} = %(new)s from {staged} as b"
                " cross join lateral jsonb_populate_record(null::{target}, b.row_key) as r"
                " where {key_match} and t.{col} is distinct from %(new)s"
            ).format(
                target=target,
                col=sql.Identifier(column),
                staged=sql.Identifier(batches.STAGING_TABLE),
                key_match=_key_match(table),
            ),
            {"new": new_value},
        )
        return {"correct": cursor.rowcount}

    return batches.run_batches(
        connection,
        batches.Plan(
            PLAN_TABLE,
            {"request_id": request_id, "table_name": table.qualified_name, "column_name": column},
        ),
        apply,
        batch_size=batch_size,
        actor=actor,
        audit_action="dsar.correction.batch",
        details=lambda changed: {
            "request_id": request_id,
            "table": table.qualified_name,
            "column": column,
            "field": category,
            "new_value_digest": new_digest,
        },
    )


def correct(
    engine: sa.Engine,
    request_id: int,
    corrections: dict[str, str],
    identity: SubjectIdentity,
    data_map: datamap.DataMap,
    *,
    old_phone: str | None = None,
    old_email: str | None = None,
    actor: str = "steward.dsar",
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> dict:
    """Plan and apply the corrections to the request's found rows; resumable.

    Returns rows changed per table and column (``dry_run``: rows that would be).
    """
    schema.upgrade(engine)
    with dbapi(engine) as connection:
        with connection.cursor() as cursor:
            cursor.execute(
                "select pg_advisory_xact_lock(hashtext('steward.dsar.correction'), %s::int)",
                (request_id,),
            )
            _plan(cursor, request_id, corrections, data_map, old_phone, old_email)
            pending = batches.pending_counts(
                cursor, batches.Plan(PLAN_TABLE, {"request_id": request_id})
            )
            to_change = sum(pending.values())
            if dry_run:
                cursor.execute(
                    "select table_name, column_name, count(*) from steward.dsar_correction_plan"
                    " where request_id = %s and not done group by 1, 2 order by 1, 2",
                    (request_id,),
                )
                would: dict[str, dict[str, int]] = {}
                for name, column, n in cursor.fetchall():
                    would.setdefault(name, {})[column] = n
                connection.rollback()
                return {
                    "request_id": request_id,
                    "dry_run": True,
                    "rows_changed": would,
                    "total": to_change,
                }
        try:
            batches.check_limit(to_change, max_rows, f"correction {request_id}")
        except batches.CircuitBreakerError:
            connection.rollback()
            raise
        connection.commit()
        batches.crashpoint("plan_committed")
        for category, new_value, table, column in _targets(data_map, corrections):
            _run_column(
                connection, request_id, category, new_value, table, column, batch_size, actor
            )
        with connection.cursor() as cursor:
            cursor.execute(
                "select field, table_name, column_name, count(*)"
                " from steward.dsar_correction_plan where request_id = %s and done"
                " group by 1, 2, 3 order by 1, 2, 3",
                (request_id,),
            )
            done_rows = cursor.fetchall()
            cursor.execute(
                "select field, old_values_digest, old_value_count, new_value_digest"
                " from steward.dsar_correction_fields where request_id = %s order by field",
                (request_id,),
            )
            fields = cursor.fetchall()
        connection.commit()
    changed: dict[str, dict[str, int]] = {}
    per_field: dict[str, dict[str, int]] = {}
    for category, name, column, n in done_rows:
        changed.setdefault(name, {})[column] = n
        per_field.setdefault(category, {})[name] = per_field.get(category, {}).get(name, 0) + n
    # One summary per field, once its batches committed (each batch is audited too).
    for category, old_digest, old_count, new_digest in fields:
        if category not in corrections:
            continue
        audit.record(
            engine,
            actor,
            "dsar.correction.applied",
            {
                "request_id": request_id,
                "field": category,
                "old_values_digest": old_digest,
                "old_value_count": old_count,
                "new_value_digest": new_digest,
                "rows_changed": per_field.get(category, {}),
            },
        )
    return {
        "request_id": request_id,
        "rows_changed": changed,
        "total": sum(sum(c.values()) for c in changed.values()),
    }


def pending_rows(engine: sa.Engine, request_id: int) -> int:
    """Planned rows of a correction not applied yet (0 once it has run to the end)."""
    schema.upgrade(engine)
    with dbapi(engine) as connection, connection.cursor() as cursor:
        return sum(
            batches.pending_counts(
                cursor, batches.Plan(PLAN_TABLE, {"request_id": request_id})
            ).values()
        )
