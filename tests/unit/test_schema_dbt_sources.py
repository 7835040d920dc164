"""dbt's internal source `steward` and the schema package cannot drift apart."""

from __future__ import annotations

import re

import yaml

from steward import datamap, paths
from steward.schema import dbt_sources, tables


def _declared() -> dict[str, dict[str, str]]:
    document = yaml.safe_load(dbt_sources.path().read_text())
    (source,) = document["sources"]
    assert source["name"] == "steward" and source["schema"] == tables.SCHEMA
    return {
        table["name"]: {column["name"]: column["data_type"] for column in table["columns"]}
        for table in source["tables"]
    }


def test_the_source_file_is_generated_from_tables_py():
    """Regenerate with `steward warehouse dbt-sources` after changing tables.py."""
    assert dbt_sources.path().read_text() == dbt_sources.render()


def test_the_source_declares_every_table_and_column_of_the_schema_package():
    declared = _declared()
    assert set(declared) == {table.name for table in tables.metadata.sorted_tables}
    for table in tables.metadata.sorted_tables:
        assert list(declared[table.name]) == [column.name for column in table.columns]
    assert declared["retention_runs"]["started_at"] == "timestamp with time zone"


def test_the_internal_source_is_not_part_of_the_data_map():
    data_map = datamap.load_data_map()
    assert data_map.tables
    assert tables.SCHEMA not in {table.schema for table in data_map.tables}


def test_models_read_python_tables_through_the_source_not_probes():
    """No model or macro looks up whether a table of schema steward exists."""
    project = paths.dbt_project_dir()
    probe = re.compile(r"adapter\.get_relation\([^)]*schema='steward'|steward_table\(")
    offenders = [
        str(path.relative_to(project))
        for folder in ("models", "macros")
        for path in sorted((project / folder).rglob("*.sql"))
        if probe.search(path.read_text())
    ]
    assert offenders == []
    used = set()
    for folder in ("models", "macros"):
        for path in (project / folder).rglob("*.sql"):
            used |= set(re.findall(r"source\('steward', '(\w+)'\)", path.read_text()))
    assert used and used <= set(_declared())
