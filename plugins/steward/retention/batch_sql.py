"""One retention batch as ONE SQL statement: the change, its ledger or file queue, the audit row."""

from __future__ import annotations

import re

from psycopg2 import sql

from steward.retention import strategies
from steward.retention.policies import Policy
from steward.retention.run_model import RetentionError

SAFE_TYPE = re.compile(r"^[a-z][a-z0-9 ]*$")


def batch_statement(policy: Policy, types: dict[str, str], key) -> sql.Composed:
    """One batch of ``policy`` as ONE statement: change the rows, queue files, audit."""
    table = sql.Identifier(policy.schema, policy.table)
    matches = []
    for position, column in enumerate(policy.primary_key, start=1):
        data_type = types[column]
        if not SAFE_TYPE.match(data_type):
            raise RetentionError(f"{policy.name}.{column}: unexpected type {data_type!r}")
        matches.append(
            sql.SQL("t.{column} = cast(b.key_parts[{position}] as {data_type})").format(
                column=sql.Identifier(column),
                position=sql.Literal(position),
                data_type=sql.SQL(data_type),
            )
        )
    match = sql.SQL(" and ").join(matches)
    if len(policy.primary_key) == 1:
        # One key column: probe its index with `= any(array(...))`; a join
        # lets the planner hash the batch against a full scan of the table.
        (column,) = policy.primary_key
        where = sql.SQL(
            "t.{column} = any(array(select cast(b.key_parts[1] as {data_type}) from batch as b))"
        ).format(column=sql.Identifier(column), data_type=sql.SQL(types[column]))
        from_batch, using_batch = sql.SQL(""), sql.SQL("")
        record_key = sql.SQL("t.{column}::text").format(column=sql.Identifier(column))
    else:
        where, record_key = match, sql.SQL("b.record_key")
        from_batch, using_batch = sql.SQL(" from batch as b"), sql.SQL(" using batch as b")
    extra_ctes = sql.SQL("")
    if policy.action == "anonymise":
        assignments = sql.SQL(", ").join(
            sql.SQL("{column} = {expression}").format(
                column=sql.Identifier(masked.column),
                expression=strategies.STRATEGIES[masked.strategy].sql(
                    sql.SQL("t.") + sql.Identifier(masked.column),
                    types[masked.column],
                    masked.params,
                    key,
                ),
            )
            for masked in policy.masking
        )
        change = sql.SQL(
            "update {table} as t set {assignments}{from_} where {where}"
            " returning {record_key} as record_key"
        ).format(
            table=table,
            assignments=assignments,
            from_=from_batch,
            where=where,
            record_key=record_key,
        )
        extra_ctes = sql.SQL(
            ", ledger as (insert into steward.retention_anonymised (policy_name, record_key,"
            " run_id) select %(policy)s, record_key, %(run_id)s from affected"
            " on conflict do nothing)"
        )
    else:
        returning = sql.SQL("{record_key} as record_key").format(record_key=record_key)
        if policy.file_column:
            returning += sql.SQL(", t.{file_column} as file_path").format(
                file_column=sql.Identifier(policy.file_column)
            )
            extra_ctes = sql.SQL(
                ", files as (insert into steward.retention_files (run_id, policy_name,"
                " batch_no, storage_path) select %(run_id)s, %(policy)s, %(batch_no)s,"
                " file_path from affected where file_path is not null on conflict do nothing)"
            )
        change = sql.SQL("delete from {table} as t{using_} where {where} returning {ret}").format(
            table=table,
            using_=using_batch,
            where=where,
            ret=returning,
        )
    return sql.SQL(
        """
        with batch as materialized (
            select d.record_key, d.key_parts, d.sort_key
            from steward.retention_due_keys as d
            where d.policy_name = %(policy)s
              and (d.sort_key, d.record_key) > (%(after_sort)s, %(after_key)s)
            order by d.sort_key, d.record_key
            limit %(limit)s
        ),
        affected as ({change}){extra_ctes},
        first_row as (
            select sort_key, record_key from batch order by sort_key, record_key limit 1
        ),
        last_row as (
            select sort_key, record_key from batch
            order by sort_key desc, record_key desc limit 1
        ),
        bounds as (
            select
                first_row.sort_key as first_sort, first_row.record_key as first_key,
                last_row.sort_key as last_sort, last_row.record_key as last_key,
                1 as batch_rows
            from first_row cross join last_row
        )
        insert into steward.retention_audit (run_id, policy_name, rule_name,
            retention_action, batch_no, row_count, keys_sha256, first_sort_key,
            first_record_key, last_sort_key, last_record_key, started_at)
        select %(run_id)s, %(policy)s, %(rule)s, %(action)s, %(batch_no)s,
            (select count(*) from affected),
            encode(sha256(convert_to(coalesce(
                (select string_agg(record_key, E'\\n' order by record_key) from affected),
                ''), 'UTF8')), 'hex'),
            bounds.first_sort, bounds.first_key, bounds.last_sort, bounds.last_key,
            statement_timestamp()
        from bounds
        where bounds.batch_rows > 0
        returning row_count, last_sort_key, last_record_key, keys_sha256
        """
    ).format(change=change, extra_ctes=extra_ctes)
