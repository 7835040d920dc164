"""Correction: the new value goes to every copy of the field, in every system.

A correction names a data category (``user.contact.phone_number``, or its
short name ``phone``); every column of that category in the subject's rows
gets the validated new value: the phone in the CRM, the campaign lists, the
opt-outs and the consents alike. When the request names the subject's old
phone (or e-mail), only copies of that value change, so a customer's other
numbers stay as they are. The audit trail records digests of the old and new
values, never the values.
"""

from __future__ import annotations

import sqlalchemy as sa
from psycopg2 import sql

from steward import audit, datamap
from steward.dsar import finder
from steward.dsar.finder import SubjectIdentity, dbapi

# Old values already in the warehouse are compared in their normalised form.
_MATCH_OLD = {
    finder.PHONE: "steward.phone_raw_key(t.{col}) = any(%(old_phone_keys)s)",
    finder.EMAIL: "lower(t.{col}) = any(%(old_emails)s)",
}


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
) -> dict:
    """Apply the corrections to the request's found rows; counts per table and field."""
    changed: dict[str, dict[str, int]] = {}
    audit_entries: list[dict] = []
    with dbapi(engine) as connection, connection.cursor() as cursor:
        old_phone_keys = finder._phone_raw_keys(cursor, [old_phone]) if old_phone else []
        for category, new_value in sorted(corrections.items()):
            old_values: set[str] = set()
            field_changed: dict[str, int] = {}
            for table in finder.subject_tables(data_map):
                columns = [c.name for c in table.columns if c.data_category == category]
                for column in columns:
                    condition = sql.SQL("")
                    if category == finder.PHONE and old_phone:
                        condition = sql.SQL(" and " + _MATCH_OLD[finder.PHONE]).format(
                            col=sql.Identifier(column)
                        )
                    if category == finder.EMAIL and old_email:
                        condition = sql.SQL(" and " + _MATCH_OLD[finder.EMAIL]).format(
                            col=sql.Identifier(column)
                        )
                    key_match = sql.SQL(" and ").join(
                        sql.SQL("t.{0} = r.{0}").format(sql.Identifier(pk))
                        for pk in table.primary_key
                    )
                    target = sql.Identifier(table.schema, table.name)
                    # Old values are read for their digest, inside the same transaction.
                    cursor.execute(
                        sql.SQL(
                            "with subject as (select distinct row_key from"
                            " steward.dsar_subject_rows where request_id = %(request_id)s"
                            " and phase = 'find' and table_name = %(table)s"
                            " and matched_by <> 'mention'),"
                            " old as (select t.{col}::text as value from subject as k"
                            " cross join lateral jsonb_populate_record(null::{target}, k.row_key)"
                            " as r join {target} as t on {key_match}"
                            " where t.{col} is not null and t.{col} is distinct from %(new)s"
                            "{condition} for update of t)"
                            " select value from old"
                        ).format(
                            col=sql.Identifier(column),
                            target=target,
                            key_match=key_match,
                            condition=condition,
                        ),
                        {
                            "request_id": request_id,
                            "table": table.qualified_name,
                            "new": new_value,
                            "old_phone_keys": old_phone_keys,
                            "old_emails": [old_email] if old_email else [],
                        },
                    )
                    old_values.update(str(row[0]) for row in cursor.fetchall() if row[0])
                    cursor.execute(
                        sql.SQL(
                            "update {target} as t set {col} = %(new)s"
                            " from (select distinct row_key from steward.dsar_subject_rows"
                            " where request_id = %(request_id)s and phase = 'find'"
                            " and table_name = %(table)s and matched_by <> 'mention') as k"
                            " cross join lateral jsonb_populate_record(null::{target}, k.row_key)"
                            " as r where {key_match} and t.{col} is not null"
                            " and t.{col} is distinct from %(new)s"
                            "{condition}"
                        ).format(
                            col=sql.Identifier(column),
                            target=target,
                            key_match=key_match,
                            condition=condition,
                        ),
                        {
                            "request_id": request_id,
                            "table": table.qualified_name,
                            "new": new_value,
                            "old_phone_keys": old_phone_keys,
                            "old_emails": [old_email] if old_email else [],
                        },
                    )
                    if cursor.rowcount:
                        changed.setdefault(table.qualified_name, {})[column] = cursor.rowcount
                        field_changed[table.qualified_name] = (
                            field_changed.get(table.qualified_name, 0) + cursor.rowcount
                        )
            audit_entries.append(
                {
                    "request_id": request_id,
                    "field": category,
                    "old_values_digest": audit.digest(sorted(old_values)),
                    "old_value_count": len(old_values),
                    "new_value_digest": audit.digest(new_value),
                    "rows_changed": field_changed,
                }
            )
    # Audited once committed: the trail never records a change that rolled back.
    for entry in audit_entries:
        audit.record(engine, actor, "dsar.correction.applied", entry)
    return {
        "request_id": request_id,
        "rows_changed": changed,
        "total": sum(sum(c.values()) for c in changed.values()),
    }
