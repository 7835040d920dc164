"""The identifier indexes the finder needs at scale, named deterministically.

The finder looks rows up by customer id or subject key, ``lower(email)`` and the
phone lookup's join key; on tens of millions of rows each needs an index.
:func:`ensure_finder_indexes` builds the missing ones ``CONCURRENTLY`` (the bulk
intake calls it before each run); :func:`missing_finder_indexes` tells the
single-request pipeline whether the live search may use them.
"""

from __future__ import annotations

import hashlib
import logging

import sqlalchemy as sa
from psycopg2 import sql

from steward import datamap
from steward.dsar import finder

log = logging.getLogger(__name__)


def _index_name(table: datamap.TableMap, column: str, kind: str) -> str:
    name = f"dsar_{table.schema}_{table.name}_{column}_{kind}"
    if len(name) <= 63:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:54]}_{digest}"


def finder_index_specs(data_map: datamap.DataMap) -> list[tuple[datamap.TableMap, str, str]]:
    """(table, column, kind) of every identifier the finder looks rows up by.

    ``key``: customer ids and subject keys (plain btree); ``email``: ``lower(col)``;
    ``phone``: ``steward.phone_raw_key(col)``, the phone lookup's join key.
    """
    specs: list[tuple[datamap.TableMap, str, str]] = []
    for table in finder.subject_tables(data_map):
        keys = {finder.owner_column(table), table.subject_key}
        for column in sorted(key for key in keys if key):
            specs.append((table, column, "key"))
        for column in finder.columns_of(table, finder.EMAIL):
            specs.append((table, column, "email"))
        for column in finder.columns_of(table, finder.PHONE):
            specs.append((table, column, "phone"))
    return specs


_INDEX_PRESENT_SQL = (
    "select exists (select from pg_index as i"
    " join pg_class as c on c.oid = i.indexrelid"
    " join pg_namespace as n on n.oid = c.relnamespace"
    " where n.nspname = %(schema)s and c.relname = %(name)s and i.indisvalid)"
    " or (%(kind)s = 'key' and exists (select from pg_index as i"
    " join pg_attribute as a on a.attrelid = i.indrelid"
    " and a.attnum = i.indkey[0]"
    " where i.indrelid = to_regclass(%(table)s) and a.attname = %(column)s))"
)


def _missing_specs(cursor, data_map: datamap.DataMap) -> list[tuple[datamap.TableMap, str, str]]:
    missing = []
    for table, column, kind in finder_index_specs(data_map):
        cursor.execute(
            _INDEX_PRESENT_SQL,
            {
                "schema": table.schema,
                "name": _index_name(table, column, kind),
                "kind": kind,
                "table": f'"{table.schema}"."{table.name}"',
                "column": column,
            },
        )
        if not cursor.fetchone()[0]:
            missing.append((table, column, kind))
    return missing


def missing_finder_indexes(engine: sa.Engine, data_map: datamap.DataMap) -> list[str]:
    """``schema.table.column`` of every identifier the finder would have to scan for."""
    with finder.dbapi(engine) as connection, connection.cursor() as cursor:
        return [
            f"{table.qualified_name}.{column}"
            for table, column, _ in _missing_specs(cursor, data_map)
        ]


def ensure_finder_indexes(engine: sa.Engine, data_map: datamap.DataMap) -> list[str]:
    """Create the finder's identifier indexes that are missing; return their names.

    Built ``CONCURRENTLY`` (writers are not blocked), named deterministically,
    skipped when a plain index already leads with the key column.
    """
    created: list[str] = []
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        raw = conn.connection.driver_connection
        with raw.cursor() as cursor:
            for table, column, kind in _missing_specs(cursor, data_map):
                name = _index_name(table, column, kind)
                expression = {
                    "key": sql.SQL("({})"),
                    "email": sql.SQL("(lower({}))"),
                    "phone": sql.SQL("(steward.phone_raw_key({}))"),
                }[kind].format(sql.Identifier(column))
                # An interrupted concurrent build leaves an invalid index behind.
                cursor.execute(
                    sql.SQL("drop index concurrently if exists {}").format(
                        sql.Identifier(table.schema, name)
                    )
                )
                cursor.execute(
                    sql.SQL("create index concurrently if not exists {} on {} {}").format(
                        sql.Identifier(name),
                        sql.Identifier(table.schema, table.name),
                        expression,
                    )
                )
                created.append(f"{table.schema}.{name}")
    if created:
        log.info("created %d finder indexes", len(created))
    return created
