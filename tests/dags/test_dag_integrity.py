"""Every DAG in dags/ loads, and follows the house rules for production DAGs."""

from __future__ import annotations

import pytest

from steward import paths
from steward.airflow import dag_defaults


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
    assert dag_defaults.NIGHTLY_DAG_ID in dag_bag.dag_ids


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
    dag = dag_bag.get_dag(dag_defaults.NIGHTLY_DAG_ID)
    validation = dag.get_task("validate_data_map")
    assert validation.upstream_task_ids == set()
    # A malformed map does not heal itself: no retries on this task.
    assert validation.retries == 0
    others = {task.task_id for task in dag.tasks} - {"validate_data_map"}
    assert others <= validation.get_flat_relative_ids(upstream=False)


def test_nightly_dag_renders_dbt_models_and_tests(dag_bag):
    dag = dag_bag.get_dag(dag_defaults.NIGHTLY_DAG_ID)
    dbt_tasks = [task for task in dag.tasks if task.task_id.startswith("dbt_staging.")]
    run_tasks = [task for task in dbt_tasks if task.task_id.endswith(".run")]
    test_tasks = [task for task in dbt_tasks if task.task_id.endswith(".test")]
    assert run_tasks, "Cosmos rendered no dbt model"
    assert test_tasks, "Cosmos rendered no dbt test task"
    summary = dag.get_task("summarise_staging")
    assert {task.task_id for task in dbt_tasks} <= summary.get_flat_relative_ids(upstream=True)


def test_each_dbt_task_group_runs_one_dbt_build_before_its_model_tasks(dag_bag):
    """Watcher mode: one producer per group runs dbt; every model task waits for it."""
    from cosmos.operators.watcher import DbtConsumerWatcherSensor, DbtProducerWatcherOperator

    dag = dag_bag.get_dag(dag_defaults.NIGHTLY_DAG_ID)
    producers = {
        task.task_id: task for task in dag.tasks if isinstance(task, DbtProducerWatcherOperator)
    }
    # One per dbt task group: staging, catalogue, phones, dedupe, subject index,
    # retention, access.
    assert len(producers) == 7, sorted(producers)
    sensors = [task for task in dag.tasks if isinstance(task, DbtConsumerWatcherSensor)]
    assert sensors
    for sensor in sensors:
        assert sensor.producer_task_id in producers, sensor.task_id
        # Started after its producer: dag.test() and workers without a triggerer find
        # the model's result at the first look instead of waiting for it.
        assert sensor.producer_task_id in sensor.upstream_task_ids, sensor.task_id
        assert sensor.trigger_rule == "none_failed", sensor.task_id
    for producer in producers.values():
        # Every dbt node of the group is built (and tested) by its producer only.
        assert producer.base_cmd == ["build"], producer.task_id


DSAR_DAG_IDS = ("steward_dsar", "steward_dsar_intake", "steward_dsar_deadlines")


def test_the_request_dag_takes_a_request_id_only(dag_bag):
    """Identifiers never enter Airflow: the run conf of steward_dsar is a request id."""
    dag = dag_bag.get_dag("steward_dsar")
    assert set(dag.params.keys()) == {"request_id"}
    schema = dag.params.get_param("request_id").schema
    assert schema["type"] == "integer"
    assert schema["minimum"] == 1
    # Triggered per request by Steward: no backfill, no schedule.
    assert {str(kind.value) for kind in dag.allowed_run_types} == {"manual"}


def test_every_param_explains_itself(dag_bag):
    for dag in _dags(dag_bag):
        for name in dag.params:
            param = dag.params.get_param(name)
            assert len(param.description or "") > 20, f"{dag.dag_id}: param {name}"


def test_dag_files_use_no_value_that_changes_at_every_parse():
    """A runtime-varying default (today's date) makes a new DAG version at every parse."""
    from airflow.utils.dag_version_inflation_checker import check_dag_file_stability

    for path in sorted(paths.dags_dir().glob("*.py")):
        result = check_dag_file_stability(path)
        assert not result.runtime_varying_values, f"{path.name}: {result.format_warnings()}"


def test_request_dags_are_not_paused_when_first_loaded(dag_bag):
    """Steward triggers steward_dsar itself: a paused DAG would leave its runs queued."""
    for dag_id in DSAR_DAG_IDS:
        assert dag_bag.get_dag(dag_id).is_paused_upon_creation is False, dag_id


def test_nightly_retention_runs_its_dbt_models_through_cosmos(dag_bag):
    """Retention's models are Cosmos tasks (selector `retention`) built for the
    as-of prepare_retention chose; the executor runs after them, then the
    verification test (selector `retention_verification`)."""
    from steward.retention import dbt_runner as retention_dbt

    dag = dag_bag.get_dag(dag_defaults.NIGHTLY_DAG_ID)
    dbt_tasks = [t for t in dag.tasks if t.task_id.startswith("retention.dbt_retention.")]
    ids = " ".join(t.task_id for t in dbt_tasks)
    for node in ("retention_plan", "retention_due_keys", "int_retention__due", "retention_rules"):
        assert f"retention.dbt_retention.{node}" in ids, node
    assert "stg_" not in ids  # staging is built once, before
    prepare = dag.get_task("retention.prepare_retention")
    enforce = dag.get_task("retention.enforce_retention")
    verify = dag.get_task("retention.verify_retention")
    dbt_operators = [task for task in dbt_tasks if hasattr(task, "env")]
    assert any(task.task_id.endswith("dbt_producer_watcher") for task in dbt_operators)
    for task in dbt_operators:  # every task that may run dbt builds for that as-of
        assert set(task.env) == set(retention_dbt.RETENTION_ENV), task.task_id
        assert all("prepare_retention" in value for value in task.env.values()), task.task_id
        # Not dbt vars: those would make every retention build parse the whole project.
        assert not task.vars, task.task_id
    assert set(verify.env) == set(retention_dbt.RETENTION_ENV)
    assert all("enforce_retention" in value for value in verify.env.values())
    assert not verify.vars
    for task in dbt_tasks:
        assert task.task_id in prepare.get_flat_relative_ids(upstream=False)
        assert task.task_id in enforce.get_flat_relative_ids(upstream=True)
    assert verify.selector == "retention_verification"
    assert enforce.task_id in verify.upstream_task_ids


def test_a_parse_decodes_the_manifest_once_and_reads_no_variable(dag_bag, monkeypatch):
    """Every Celery task and the DAG processor parse the nightly DAG file again: its
    seven task groups share one decode of manifest.json, and Cosmos keeps its parsed
    selectors nowhere in Airflow's database (no I/O at parse time)."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.variable import Variable
    from cosmos.dbt.graph import DbtGraph

    from steward.airflow import cosmos_config

    decode = DbtGraph._load_manifest_from_file
    decodes, variables = [], []

    def counted(graph, manifest_path):
        decodes.append(str(manifest_path))
        return decode(graph, manifest_path)

    def no_variable(*args, **kwargs):
        variables.append(args)
        raise AssertionError("an Airflow Variable was read while parsing")

    monkeypatch.setattr(DbtGraph, "_load_manifest_from_file", counted)
    monkeypatch.setattr(Variable, "get", no_variable)
    monkeypatch.setattr(cosmos_config, "_DECODED_MANIFEST", {})
    bag = DagBag(dag_folder=str(paths.dags_dir() / "steward_nightly.py"))

    assert bag.import_errors == {}
    groups = {
        task.task_group.group_id.split(".")[-1]
        for task in bag.get_dag(dag_defaults.NIGHTLY_DAG_ID).tasks
        if task.task_id.endswith("dbt_producer_watcher")
    }
    assert len(groups) == 7
    assert len(decodes) == 1
    assert variables == []
    # Outside a task group's build, Cosmos reads its manifest as it always did.
    assert DbtGraph._load_manifest_from_file is counted


def _dbt_group_of(task) -> str | None:
    """The id of the dbt task group (the one with a producer) a task belongs to."""
    from cosmos.constants import PRODUCER_WATCHER_TASK_ID

    group = task.task_group
    while group is not None and group.group_id:
        if any(child.endswith(f".{PRODUCER_WATCHER_TASK_ID}") for child in group.children):
            return group.group_id
        group = group.parent_group
    return None


def test_a_worker_parse_renders_only_the_dbt_group_of_its_task(dag_bag, monkeypatch):
    """A worker parses the DAG file again for each task (Celery, LocalExecutor) and
    Airflow tells it which task: the parse renders that task's dbt group alone (a
    Python task's parse none) and yields the same task as the full parse."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk.definitions.context import (
        _AIRFLOW_PARSING_CONTEXT_DAG_ID,
        _AIRFLOW_PARSING_CONTEXT_TASK_ID,
    )
    from cosmos.constants import PRODUCER_WATCHER_TASK_ID

    from steward.airflow import cosmos_config

    full = dag_bag.get_dag(dag_defaults.NIGHTLY_DAG_ID)
    groups = {_dbt_group_of(task) for task in full.tasks} - {None}
    assert len(groups) == 7
    # Per dbt group its producer, a model's sensor and a test's sensor; the Python
    # tasks, the lone dbt test operator and the end markers.
    samples = ["validate_data_map", "retention.enforce_retention", "retention.verify_retention"]
    for group in sorted(groups):
        members = sorted(t.task_id for t in full.tasks if _dbt_group_of(t) == group)
        samples.append(f"{group}.{PRODUCER_WATCHER_TASK_ID}")
        samples.append(next(t for t in members if t.endswith(".run")))
        samples.extend([t for t in members if t.endswith(".test")][:1])
    monkeypatch.setenv(_AIRFLOW_PARSING_CONTEXT_DAG_ID, dag_defaults.NIGHTLY_DAG_ID)
    for task_id in samples:
        monkeypatch.setenv(_AIRFLOW_PARSING_CONTEXT_TASK_ID, task_id)
        bag = DagBag(dag_folder=str(paths.dags_dir() / "steward_nightly.py"))
        assert bag.import_errors == {}, task_id
        dag = bag.dags[dag_defaults.NIGHTLY_DAG_ID]
        task, original = dag.task_dict[task_id], full.task_dict[task_id]
        own_group = _dbt_group_of(original)
        rendered = {_dbt_group_of(t) for t in dag.tasks} - {None}
        assert rendered == ({own_group} if own_group else set()), task_id
        if own_group:
            # The whole group, as in the full parse.
            assert {t.task_id for t in dag.tasks if _dbt_group_of(t) == own_group} == {
                t.task_id for t in full.tasks if _dbt_group_of(t) == own_group
            }
        stand_ins = {t.task_id for t in dag.tasks if t.task_id not in full.task_dict}
        assert all(t.endswith(cosmos_config.NOT_RENDERED_TASK_ID) for t in stand_ins), task_id
        assert len(stand_ins) == len(groups) - len(rendered)
        assert type(task) is type(original)
        assert task.upstream_task_ids == original.upstream_task_ids or not own_group
        for field in (*task.template_fields, "trigger_rule", "retries", "queue", "pool"):
            value = getattr(task, field, None)
            if not callable(value):
                assert value == getattr(original, field, None), (task_id, field)
