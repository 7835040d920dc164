"""Every DAG in dags/ loads, and follows the house rules for production DAGs."""

from __future__ import annotations

import pytest

from steward import airflow_support, paths


@pytest.fixture(scope="module")
def dag_bag(airflow_settings):
    from airflow.dag_processing.dagbag import DagBag

    # Examples are off through AIRFLOW__CORE__LOAD_EXAMPLES in airflow_settings.
    return DagBag(dag_folder=str(paths.dags_dir()))


def _dags(dag_bag):
    assert dag_bag.dags, "no DAG found in dags/"
    return list(dag_bag.dags.values())


def test_dags_import_without_errors(dag_bag):
    assert dag_bag.import_errors == {}


def test_nightly_dag_is_loaded(dag_bag):
    assert airflow_support.NIGHTLY_DAG_ID in dag_bag.dag_ids


def test_every_dag_is_documented_and_tagged(dag_bag):
    for dag in _dags(dag_bag):
        assert dag.doc_md and len(dag.doc_md.strip()) > 40, dag.dag_id
        assert dag.tags, dag.dag_id


def test_every_task_has_a_real_owner(dag_bag):
    for dag in _dags(dag_bag):
        for task in dag.tasks:
            assert task.owner not in ("", "airflow"), f"{dag.dag_id}.{task.task_id}"


def test_no_dag_catches_up_on_missed_runs(dag_bag):
    for dag in _dags(dag_bag):
        assert dag.catchup is False, dag.dag_id


def test_every_dag_has_a_retry_policy(dag_bag):
    for dag in _dags(dag_bag):
        assert dag.default_args.get("retries", 0) > 0, dag.dag_id
        assert dag.default_args.get("retry_delay"), dag.dag_id


def test_nightly_dag_validates_the_data_map_before_anything_else(dag_bag):
    dag = dag_bag.get_dag(airflow_support.NIGHTLY_DAG_ID)
    validation = dag.get_task("validate_data_map")
    assert validation.upstream_task_ids == set()
    # A malformed map does not heal itself: no retries on this task.
    assert validation.retries == 0
    others = {task.task_id for task in dag.tasks} - {"validate_data_map"}
    assert others <= validation.get_flat_relative_ids(upstream=False)


def test_nightly_dag_renders_dbt_models_and_tests(dag_bag):
    dag = dag_bag.get_dag(airflow_support.NIGHTLY_DAG_ID)
    dbt_tasks = [task for task in dag.tasks if task.task_id.startswith("dbt_staging.")]
    run_tasks = [task for task in dbt_tasks if task.task_id.endswith("_run")]
    test_tasks = [task for task in dbt_tasks if task.task_id.endswith("_test")]
    assert run_tasks, "Cosmos rendered no dbt model"
    assert test_tasks, "Cosmos rendered no dbt test task"
    summary = dag.get_task("summarise_staging")
    assert {task.task_id for task in dbt_tasks} <= summary.get_flat_relative_ids(upstream=True)
