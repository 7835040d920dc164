"""The nightly DAG, run for real: Airflow's ``dag.test()``, real dbt, real PostgreSQL.

The session database is seeded at scale s; Airflow gets a throw-away home with
a SQLite metadata database (shared with tests/dags through its folder name).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from steward import paths
from steward.airflow import bootstrap, dag_defaults

pytestmark = [pytest.mark.integration, pytest.mark.slow]

VALIDATION_TASK = "validate_data_map"
SUMMARY_TASK = "summarise_staging"


@pytest.fixture(scope="module")
def airflow_environment(
    seeded_warehouse, warehouse_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    home = tmp_path_factory.getbasetemp() / "airflow_home"
    env = {
        **bootstrap.airflow_environment(url=warehouse_url, home=home),
        dag_defaults.TASK_RETRIES_ENV: "0",
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        bootstrap.apply_environment(env)
        bootstrap.ensure_airflow_db(home)
        yield env


def run_nightly_dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(paths.dags_dir()))
    assert bag.import_errors == {}
    return bag.get_dag(dag_defaults.NIGHTLY_DAG_ID).test()


def task_states(dag_run) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


def summary_xcom(dag_run) -> dict:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    query = XComModel.get_many(
        run_id=dag_run.run_id,
        dag_ids=dag_run.dag_id,
        task_ids=SUMMARY_TASK,
        key="return_value",
    )
    with create_session() as session:
        row = session.scalars(query).first()
        assert row is not None, "the summary task returned nothing"
        return XComModel.deserialize_value(row)


@pytest.fixture(scope="module")
def nightly_run(airflow_environment):
    return run_nightly_dag()


def test_nightly_run_succeeds(nightly_run):
    states = task_states(nightly_run)
    assert str(nightly_run.state) == "success", states
    assert set(states.values()) == {"success"}, states
    assert any(task.startswith("dbt_staging.") for task in states)


def test_every_source_table_has_a_staging_view_with_all_its_rows(
    nightly_run, seeded_warehouse, warehouse_url
):
    engine = sa.create_engine(warehouse_url)
    try:
        with engine.connect() as conn:
            # PostgreSQL's own record of which views read which tables, so the
            # check does not trust the code under test to find the views.
            usage = conn.execute(
                sa.text(
                    "select table_schema, table_name, view_schema, view_name "
                    "from information_schema.view_table_usage"
                )
            ).all()
            views_of: dict[str, list[tuple[str, str]]] = {}
            for table_schema, table_name, view_schema, view_name in usage:
                if view_schema != "staging":
                    continue  # intermediate views read sources too, filtered
                views_of.setdefault(f"{table_schema}.{table_name}", []).append(
                    (view_schema, view_name)
                )
            for source, source_rows in seeded_warehouse.row_counts.items():
                assert source_rows > 0, source
                assert views_of.get(source), f"no staging view reads {source}"
                for view_schema, view_name in views_of[source]:
                    query = sa.select(sa.func.count()).select_from(
                        sa.table(view_name, schema=view_schema)
                    )
                    assert conn.execute(query).scalar_one() == source_rows, view_name
    finally:
        engine.dispose()


def test_summary_reports_counts_per_staging_view(nightly_run, seeded_warehouse):
    summary = summary_xcom(nightly_run)
    assert summary["mismatched_models"] == []
    assert summary["staging_models"] == len(summary["models"]) > 0
    sources = {row["source"] for row in summary["models"].values()}
    assert sources == set(seeded_warehouse.row_counts)
    for row in summary["models"].values():
        assert row["rows"] == row["source_rows"] == seeded_warehouse.row_counts[row["source"]]
    # Counts and names of relations only: nothing that could carry personal data.
    assert set().union(*(row.keys() for row in summary["models"].values())) == {
        "relation",
        "rows",
        "source",
        "source_rows",
    }


def test_malformed_data_map_stops_the_run_before_dbt(
    nightly_run, airflow_environment, tmp_path, monkeypatch
):
    project_copy = tmp_path / "dbt_project"
    shutil.copytree(
        paths.dbt_project_dir(), project_copy, ignore=shutil.ignore_patterns("target", "logs")
    )
    corrupt_data_map(project_copy)
    monkeypatch.setenv("STEWARD_DBT_PROJECT_DIR", str(project_copy))

    dag_run = run_nightly_dag()

    states = task_states(dag_run)
    assert str(dag_run.state) == "failed"
    assert states.pop(VALIDATION_TASK) == "failed"
    # Nothing downstream ran: every other task is upstream_failed.
    assert set(states.values()) == {"upstream_failed"}, states


def corrupt_data_map(project_dir: Path) -> None:
    """Describe a personal column the warehouse does not have.

    dbt still parses the project (source columns are documentation to dbt), so
    the DAG loads; only the data-map validation can, and must, notice.
    """
    for path in sorted(project_dir.rglob("*.yml")):
        document = yaml.safe_load(path.read_text()) or {}
        for source in document.get("sources") or []:
            for table in source.get("tables") or []:
                columns = table.get("columns") or []
                if columns:
                    phantom = {**columns[0], "name": "column_missing_from_warehouse"}
                    columns.append(phantom)
                    path.write_text(yaml.safe_dump(document, sort_keys=False))
                    return
    raise AssertionError(f"no source table with columns in {project_dir}: nothing to corrupt")
