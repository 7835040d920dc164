"""The erasure plan of one request: what to do with each found row, and why.

Written set-based to ``steward.dsar_erasure_plan`` (see :mod:`steward.dsar.erasure`
for the rules and how the plan is executed).
"""

from __future__ import annotations

from psycopg2 import sql

from steward import datamap
from steward.dsar import finder
from steward.dsar.finder import SubjectIdentity
from steward.engine import holds

RECORDING = "user.content.call_recording"


def _hold_tables(data_map: datamap.DataMap) -> list[str]:
    """The subject tables the hold views cover (those with a retention rule: all, today)."""
    return [t.qualified_name for t in finder.subject_tables(data_map) if t.retention_rule]


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


def _record_key(table: datamap.TableMap) -> sql.Composable:
    """The plan row's key as dbt's record_key: primary-key parts as text joined by '|'."""
    return sql.SQL(" || '|' || ").join(
        sql.SQL("(p.row_key ->> {})").format(sql.Literal(column)) for column in table.primary_key
    )


def build_plan(
    cursor,
    request_id: int,
    identity: SubjectIdentity,
    data_map: datamap.DataMap,
) -> None:
    """Write the plan of one request (inside the caller's transaction)."""
    if not holds.views_ready(cursor, _hold_tables(data_map)):
        raise holds.HoldsUnavailableError(
            "the legal-hold views are missing or out of date: erasure.ensure_tables() builds them"
        )
    # The hold views answer as of now, whatever as-of the last retention run built them with.
    holds.as_of_now(cursor)
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
        # Held rows: dbt's answer (the same definition retention applies).
        if table.retention_rule:
            # The keys as constants, so PostgreSQL filters the view's arm of this
            # table by them instead of working out every held row of the table.
            cursor.execute(
                sql.SQL(
                    "select coalesce(array_agg({record_key}), '{{}}')"
                    " from steward.dsar_erasure_plan as p where {where_plan}"
                ).format(record_key=_record_key(table), where_plan=where_plan),
                params,
            )
            keys = cursor.fetchone()[0]
            cursor.execute(
                sql.SQL(
                    "update steward.dsar_erasure_plan as p set action = 'retain',"
                    " reason = 'legal hold ' || h.hold_ids"
                    " from (select record_key, hold_ids from {held}"
                    "  where policy_name = %(table)s and record_key = any(%(keys)s)) as h"
                    " where {where_plan} and h.record_key = {record_key}"
                ).format(
                    held=sql.Identifier(*holds.HELD_ROWS),
                    where_plan=where_plan,
                    record_key=_record_key(table),
                ),
                {**params, "keys": keys},
            )
        else:
            # The hold views cover tables with a retention rule; without one, no hold
            # can be ruled out, so nothing of the table is erased.
            cursor.execute(
                sql.SQL(
                    "update steward.dsar_erasure_plan as p set action = 'retain',"
                    " reason = 'no retention rule: legal holds cannot be checked'"
                    " where {where_plan}"
                ).format(where_plan=where_plan),
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
