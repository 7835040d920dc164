"""The nightly DAG stopped by a malformed data map: Airflow's ``dag.test()`` in-process.

The whole night, run for real (real dbt, real PostgreSQL), and what it leaves in
the warehouse are tested in ``test_nightly_celery.py``: one run of the night,
under the CeleryExecutor as in production, serves both. The session database is
seeded at scale s; Airflow gets a throw-away home with a SQLite metadata database
(shared with tests/dags through its folder name).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from steward import paths
from steward.airflow import bootstrap, dag_defaults

pytestmark = [pytest.mark.integration, pytest.mark.slow]

VALIDATION_TASK = "validate_data_map"


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


def test_malformed_data_map_stops_the_run_before_dbt(airflow_environment, tmp_path, monkeypatch):
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
