"""`dbt build` on the seeded warehouse: every staging view, data test and unit test passes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from steward import datamap, dbt_runner, warehouse

pytestmark = pytest.mark.integration

# The planted undeclared column (crm.customers.attr_3) makes this test warn after any
# catalogue scan of the session database; its severity is tested in test_catalogue_nightly.
DRIFT_TEST = "catalogue_drift_gaps"


def run_dbt(url: str, arguments: list[str], scratch: Path):
    """Run dbt in-process on ``url``; artefacts go to ``scratch``, not the project."""
    return dbt_runner.run(arguments, url, scratch=scratch, quiet=False)


@pytest.fixture(scope="module")
def dbt_build(seeded_warehouse, warehouse_url, tmp_path_factory):
    scratch = tmp_path_factory.mktemp("dbt")
    result = run_dbt(warehouse_url, ["build"], scratch)
    manifest = json.loads((scratch / "target" / "manifest.json").read_text())
    return result, manifest


def staging_models(manifest: dict) -> dict[str, dict]:
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["name"].startswith("stg_")
    }


def test_dbt_build_passes_every_node(dbt_build):
    result, _ = dbt_build
    assert result.success, result.exception
    statuses = {
        str(node.status)
        for node in result.result.results
        if node.node.name != DRIFT_TEST  # warns by design once a scan has found the gap
    }
    assert statuses <= {"success", "pass"}, statuses
    kinds = {node.node.resource_type for node in result.result.results}
    assert {"model", "test", "seed", "unit_test"} <= {str(kind) for kind in kinds}


def test_every_mapped_table_has_a_staging_view_reading_it(dbt_build):
    _, manifest = dbt_build
    sources = manifest["sources"]
    read = set()
    for model in staging_models(manifest).values():
        upstream = [sources[uid] for uid in model["depends_on"]["nodes"] if uid in sources]
        assert len(upstream) == 1, model["name"]
        read.add(f"{upstream[0]['schema']}.{upstream[0]['identifier']}")
        assert model["config"]["materialized"] == "view"
        assert model["schema"] == "staging"
    assert read == {table.qualified_name for table in datamap.load_data_map().tables}


def test_staging_views_hold_every_source_row(dbt_build, warehouse_url):
    _, manifest = dbt_build
    sources = manifest["sources"]
    counted = 0
    with warehouse.engine(warehouse_url).connect() as conn:

        def count(schema: str, table: str) -> int:
            query = sa.select(sa.func.count()).select_from(sa.table(table, schema=schema))
            return conn.execute(query).scalar_one()

        for name, model in sorted(staging_models(manifest).items()):
            source = next(sources[uid] for uid in model["depends_on"]["nodes"] if uid in sources)
            source_rows = count(source["schema"], source["identifier"])
            assert count(model["schema"], model["alias"]) == source_rows, name
            counted += source_rows
    assert counted > 10_000  # scale s: ten thousand calls alone


def test_retention_rules_land_in_the_steward_schema_with_intervals(dbt_build, warehouse_url):
    with warehouse.engine(warehouse_url).connect() as conn:
        rows = dict(
            conn.execute(
                sa.text(
                    "select rule_name, extract(epoch from retention_period)::bigint / 86400"
                    " from steward.retention_periods"
                )
            ).all()
        )
        seeded = conn.execute(sa.text("select count(*) from steward.retention_rules")).scalar_one()
    assert seeded == len(rows) == len(datamap.load_data_map().retention_rules)
    assert rows["call_recordings"] == 90
    assert rows["billing_records"] == 7 * 365 + 7 // 4  # 7 years of 365.25 days, in whole days


def test_card_expiry_is_parsed_on_real_rows(dbt_build, warehouse_url):
    with warehouse.engine(warehouse_url).connect() as conn:
        unparsed = conn.execute(
            sa.text(
                "select count(*) from staging.stg_billing__payments"
                " where card_expiry is not null and card_expires_on is null"
            )
        ).scalar_one()
    assert unparsed == 0


def test_a_failing_data_test_fails_the_build(seeded_warehouse, warehouse_url, tmp_path):
    """The data tests bite: a duplicated customer id makes `dbt build` fail."""
    engine = warehouse.engine(warehouse_url)
    duplicate = sa.text(
        "insert into crm.customers select * from crm.customers"
        " where customer_id = (select min(customer_id) from crm.customers)"
    )
    with engine.begin() as conn:
        # keys.sql made customer_id the primary key; drop it for this test only.
        conn.execute(sa.text("alter table crm.customers drop constraint customers_pkey"))
        conn.execute(duplicate)
    try:
        result = run_dbt(warehouse_url, ["build", "--select", "stg_crm__customers"], tmp_path)
        failed = {
            node.node.name
            for node in result.result.results
            if str(node.status) in {"fail", "error"}
        }
    finally:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "delete from crm.customers where ctid not in"
                    " (select min(ctid) from crm.customers group by customer_id)"
                )
            )
            conn.execute(sa.text("alter table crm.customers add primary key (customer_id)"))
    assert not result.success
    assert "unique_stg_crm__customers_customer_id" in failed
