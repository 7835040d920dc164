"""Alembic's environment for Steward's own tables (run by :func:`steward.schema.upgrade`).

Migrations run on the connection :func:`steward.schema.upgrade` opened, inside its
transaction and under its advisory lock. The version table is
``steward.schema_version``: Airflow's ``alembic_version`` is never touched.
Autogenerate compares :data:`steward.schema.tables.metadata` with the tables of
schema ``steward`` it lists, and ignores dbt's marts beside them.
"""

from __future__ import annotations

from alembic import context

from steward.schema import VERSION_TABLE, tables


def include_name(name, type_, parent_names) -> bool:
    if type_ == "schema":
        return name == tables.SCHEMA
    if type_ == "table":
        return f"{tables.SCHEMA}.{name}" in tables.metadata.tables
    return True


def skip_empty_revision(context, revision, directives) -> None:
    """``steward warehouse revision`` writes nothing when tables.py matches the migrations."""
    if directives[0].upgrade_ops.is_empty():
        directives[:] = []


def run_migrations() -> None:
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=tables.metadata,
        version_table=VERSION_TABLE,
        version_table_schema=tables.SCHEMA,
        include_schemas=True,
        include_name=include_name,
        compare_type=True,
        process_revision_directives=skip_empty_revision,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Steward's migrations run online only: steward warehouse upgrade")
run_migrations()
