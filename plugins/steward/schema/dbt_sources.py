"""Steward's own tables declared to dbt once: the internal source ``steward``.

The dbt models over what Steward's Python side writes (retention runs, quality
results, the DSAR register...) read it with ``source('steward', '<table>')``.
The source file is generated from :mod:`steward.schema.tables` (the tables as
the newest migration leaves them) by ``steward warehouse dbt-sources``, and
``tests/unit/test_schema_dbt_sources.py`` fails when the two differ, so they
cannot drift. It is not part of the data map: the source carries
``config.meta.steward_internal`` and :mod:`steward.datamap` skips it (these
tables are Steward's records, not the call centre's personal data).

The tables always exist when dbt runs: whatever runs dbt upgrades Steward's
schema first (:func:`steward.dbt_runner.run`, the nightly DAG's first task).
"""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy.dialects import postgresql

from steward import paths
from steward.schema.tables import SCHEMA, metadata

SOURCE_NAME = "steward"
# dbt's convention: the source's YAML in a staging folder named after it.
SOURCE_FILE = Path("models/staging/steward/_steward__sources.yml")
INTERNAL_META_KEY = "steward_internal"

HEADER = """\
# Generated from plugins/steward/schema/tables.py by `steward warehouse dbt-sources`:
# do not edit. Steward's own tables (schema `steward`, owned by its Alembic
# migrations), which its Python side writes and dbt models read with
# source('steward', ...). Not part of the data map (config.meta.steward_internal).
# tests/unit/test_schema_dbt_sources.py fails when this file and tables.py differ.
"""


def _column_type(column) -> str:
    return column.type.compile(dialect=postgresql.dialect()).lower()


def document() -> dict:
    """The source file's content, from the schema package's tables."""
    tables = []
    for table in sorted(metadata.sorted_tables, key=lambda t: t.name):
        tables.append(
            {
                "name": str(table.name),
                "columns": [
                    {"name": str(column.name), "data_type": _column_type(column)}
                    for column in table.columns
                ],
            }
        )
    return {
        "sources": [
            {
                "name": SOURCE_NAME,
                "description": (
                    "The tables Steward writes in schema steward (plugins/steward/schema):"
                    " runs, plans, audit, registers."
                ),
                "schema": SCHEMA,
                "config": {"meta": {INTERNAL_META_KEY: True}},
                "tables": tables,
            }
        ]
    }


def render() -> str:
    return HEADER + yaml.safe_dump(document(), sort_keys=False, width=100)


def path(project_dir: Path | None = None) -> Path:
    return Path(project_dir or paths.dbt_project_dir()) / SOURCE_FILE


def write(project_dir: Path | None = None) -> Path:
    """(Re)write the source file; return its path."""
    target = path(project_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render())
    return target


def is_current(project_dir: Path | None = None) -> bool:
    target = path(project_dir)
    return target.exists() and target.read_text() == render()
