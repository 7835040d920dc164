"""The data map against real PostgreSQL catalogues: the seeded warehouse, and broken ones."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from steward import datamap, paths, warehouse
from steward.cli import app

pytestmark = pytest.mark.integration

SCHEMA_SQL = paths.project_root() / "plugins" / "steward" / "seed" / "schema.sql"


def test_data_map_validates_against_the_seeded_warehouse(seeded_warehouse, warehouse_url):
    data_map = datamap.load_data_map()
    datamap.validate_against_warehouse(data_map, warehouse.engine(warehouse_url))


def test_cli_validate_says_ok_on_the_seeded_warehouse(seeded_warehouse):
    # warehouse_url is exported as STEWARD_DATABASE_URL: the CLI lands there.
    result = CliRunner().invoke(app, ["datamap", "validate"])
    assert result.exit_code == 0, result.output
    assert "data map OK: 16 tables" in result.output


def test_declared_categories_match_the_generators_ground_truth_except_the_planted_gap(
    seeded_warehouse, warehouse_url
):
    """The map declares every personal column the generator planted, but the legacy SSN."""
    with warehouse.engine(warehouse_url).connect() as conn:
        planted = {
            (f"{schema}.{table}", column): category
            for schema, table, column, category in conn.execute(
                sa.text(
                    "select schema_name, table_name, column_name, category"
                    " from steward_ground_truth.pii_columns"
                )
            )
        }
    declared = {
        (table.qualified_name, column.name): column.data_category
        for table, column in datamap.load_data_map().personal_columns()
    }
    assert set(planted.items()) - set(declared.items()) == {
        (("crm.customers", "attr_3"), "user.government_id.national_id")
    }
    assert set(declared.items()) <= set(planted.items())


@pytest.fixture
def source_systems(empty_database: str) -> sa.Engine:
    """The raw source systems of schema.sql, created empty."""
    engine = warehouse.engine(empty_database)
    with engine.begin() as conn:
        conn.exec_driver_sql(SCHEMA_SQL.read_text())
    return engine


def test_data_map_validates_against_bare_schema_sql(source_systems):
    datamap.validate_against_warehouse(datamap.load_data_map(), source_systems)


def test_every_mismatch_with_the_warehouse_is_reported_by_name(source_systems):
    with source_systems.begin() as conn:
        conn.execute(sa.text("alter table crm.customers drop column email"))
        conn.execute(sa.text("alter table telephony.calls rename column started_at to began_at"))
        conn.execute(sa.text("alter table crm.customers drop column closed_at"))
        conn.execute(sa.text("drop table support.tickets"))
        conn.execute(sa.text("create table crm.loyalty_cards (card_id bigint, holder text)"))

    with pytest.raises(datamap.DataMapError) as caught:
        datamap.validate_against_warehouse(datamap.load_data_map(), source_systems)

    problems = caught.value.problems
    assert "crm.customers.email: identifier email not found in the warehouse" in problems
    assert "telephony.calls.started_at: retention clock not found in the warehouse" in problems
    assert "support.tickets: table not found in the warehouse" in problems
    assert "crm.loyalty_cards: table in the warehouse but not in the data map" in problems
    # A clock kept in another table is reported once per table that relies on it.
    assert (
        "crm.customers.closed_at: retention clock of crm.customer_phones not found in the warehouse"
        in problems
    )
    assert "crm.customers.closed_at: retention clock not found in the warehouse" in problems
    assert len(problems) == 7, problems
