"""Checking the data map against the warehouse's catalogue (``information_schema`` only)."""

from __future__ import annotations

import sqlalchemy as sa

from steward.datamap.model import DataMap, DataMapError


def validate_against_warehouse(data_map: DataMap, engine: sa.Engine) -> None:
    """Check that every mapped table, and every column the map names, exists.

    Reads the database catalogue (``information_schema``) only. Also reports
    tables of the mapped schemas that the map does not describe. Raises
    :class:`DataMapError` listing every problem, each naming ``schema.table.column``.
    """
    catalogue = _warehouse_columns(engine, data_map.schemas)
    problems: list[str] = []
    for table in data_map.tables:
        columns = catalogue.get((table.schema, table.name))
        if columns is None:
            problems.append(f"{table.qualified_name}: table not found in the warehouse")
            continue
        for name, role in table.referenced_columns().items():
            if name not in columns:
                problems.append(f"{table.qualified_name}.{name}: {role} not found in the warehouse")
        if table.retention_clock_table:
            clock_table = data_map.table(table.retention_clock_table)
            clock_columns = catalogue.get((clock_table.schema, clock_table.name))
            if clock_columns is not None and table.retention_clock not in clock_columns:
                problems.append(
                    f"{clock_table.qualified_name}.{table.retention_clock}: retention clock "
                    f"of {table.qualified_name} not found in the warehouse"
                )
    mapped = {(table.schema, table.name) for table in data_map.tables}
    for schema, name in sorted(set(_warehouse_base_tables(engine, data_map.schemas)) - mapped):
        problems.append(f"{schema}.{name}: table in the warehouse but not in the data map")
    if problems:
        raise DataMapError(problems)


def _warehouse_columns(engine: sa.Engine, schemas: list[str]) -> dict[tuple[str, str], set[str]]:
    query = sa.text(
        "select table_schema, table_name, column_name from information_schema.columns"
        " where table_schema in :schemas"
    ).bindparams(sa.bindparam("schemas", expanding=True))
    catalogue: dict[tuple[str, str], set[str]] = {}
    with engine.connect() as conn:
        for schema, table, column in conn.execute(query, {"schemas": schemas}):
            catalogue.setdefault((schema, table), set()).add(column)
    return catalogue


def _warehouse_base_tables(engine: sa.Engine, schemas: list[str]) -> list[tuple[str, str]]:
    query = sa.text(
        "select table_schema, table_name from information_schema.tables"
        " where table_schema in :schemas and table_type = 'BASE TABLE'"
    ).bindparams(sa.bindparam("schemas", expanding=True))
    with engine.connect() as conn:
        return [(schema, name) for schema, name in conn.execute(query, {"schemas": schemas})]
