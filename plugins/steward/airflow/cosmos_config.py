"""Cosmos' configuration of Steward's dbt task groups (how dbt models become Airflow tasks).

Each group runs in Cosmos' **watcher** execution mode: one producer task runs a
single ``dbt build`` of the group's selection (models, seeds and their data tests,
``THREADS`` at a time), and every model keeps an Airflow task of its own, a sensor
that reports the model's result from the producer's XComs (and, cleared or retried
after the producer finished, runs that one model again). One dbt process per group
instead of one per model: on the ``s`` warehouse most of a model's time was dbt
starting up, not building.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from steward import paths, warehouse

if TYPE_CHECKING:
    from cosmos import DbtTaskGroup

DBT_PROFILE_NAME = "steward"
DBT_TARGET_NAME = "nightly"
DBT_TARGET_SCHEMA = "steward"
# dbt's threads in a group's one `dbt build`: models without a dependency between
# them are built side by side (the warehouse does the work; dbt mostly waits).
THREADS = 4
# Under Cosmos' cache folder: the dbt partial parse the task groups without vars share.
SHARED_PARTIAL_PARSE_DIR = "steward_partial_parse"
# The one task of a dbt group not rendered in a worker's parse for another task.
NOT_RENDERED_TASK_ID = "not_rendered_in_this_parse"


def dbt_task_group(group_id: str, selector: str, operator_args: dict | None = None) -> DbtTaskGroup:
    """A ``DbtTaskGroup`` of the dbt nodes of ``selector`` (a selector of
    ``dbt_project/selectors.yml``), its producer first.

    Cosmos starts a task group's model sensors alongside its producer and lets them
    wait for it in the triggerer. Here every sensor waits for the producer as an
    ordinary upstream task instead: ``dag.test()`` runs one task at a time (a sensor
    started first would wait forever for a producer that cannot start), and a sensor
    started after the producer reads its model's result at once, without a triggerer.
    The group's result is the same: its last task ends when the last model has.
    """
    from airflow.sdk import TaskGroup
    from cosmos import DbtTaskGroup
    from cosmos.constants import PRODUCER_WATCHER_DONE_TASK_ID, PRODUCER_WATCHER_TASK_ID

    if not _rendered_for_the_task_being_run(group_id):
        return _stand_in_group(group_id)
    with _manifest_decoded_once():
        group = DbtTaskGroup(group_id=group_id, **dbt_task_group_kwargs(selector, operator_args))
    producer = group.tasks_map[PRODUCER_WATCHER_TASK_ID]
    if not (operator_args or {}).get("vars"):
        # (Retention passes its run's parameters as environment variables, not vars.)
        _share_partial_parse(group)
    for node_id, task_or_group in group.tasks_map.items():
        if node_id in (PRODUCER_WATCHER_TASK_ID, PRODUCER_WATCHER_DONE_TASK_ID):
            continue
        tasks = (
            list(task_or_group.children.values())
            if isinstance(task_or_group, TaskGroup)
            else [task_or_group]
        )
        for sensor in tasks:
            if getattr(sensor, "producer_task_id", None) != producer.task_id:
                continue  # not a watcher sensor (the group's test task runs dbt itself)
            producer >> sensor
            # A producer skipped on a retry (Cosmos never runs `dbt build` twice) lets
            # the sensors run their own models; a failed one fails them.
            sensor.trigger_rule = "none_failed"
    return group


def _rendered_for_the_task_being_run(group_id: str) -> bool:
    """Whether this parse needs the dbt task group ``group_id`` rendered.

    A worker parses the DAG file again for every task it runs (each Celery task,
    each LocalExecutor task), and Airflow tells that parse which task it is for
    (``get_parsing_context()``). Rendering the seven dbt groups was almost all of a
    parse (1.3 of 1.4 s a task in the Celery test), but a task needs only its own
    group, and a Python task none. Every other parse (the DAG processor's, the
    scheduler's, ``dag.test()``) has no task in its context and renders them all, so
    the DAG's structure, its serialised version and the UI are unchanged.
    """
    from airflow.sdk import get_parsing_context
    from airflow.sdk.definitions._internal.contextmanager import TaskGroupContext

    task_id = get_parsing_context().task_id
    if not task_id:
        return True
    parent = TaskGroupContext.get_current()
    full_group_id = parent.child_id(group_id) if parent is not None else group_id
    return task_id.startswith(f"{full_group_id}.")


def _stand_in_group(group_id: str):
    """The group as a worker running another task sees it: one empty task, so the
    DAG file's ``>>`` wiring around it works as with the real group (an empty
    group would pass dependencies through to odd places, even into cycles)."""
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.sdk import TaskGroup

    with TaskGroup(group_id=group_id) as group:
        EmptyOperator(task_id=NOT_RENDERED_TASK_ID)
    return group


# The last decoded manifest.json, by its path: {path: manifest}.
_DECODED_MANIFEST: dict[str, dict] = {}


@contextlib.contextmanager
def _manifest_decoded_once():
    """While a task group is built, Cosmos' read of ``manifest.json`` reuses the last decode.

    Cosmos reads and decodes the 1.7 MB manifest once per task group: seven times
    per parse of the nightly DAG file, which every Celery task and the DAG processor
    parse again (a quarter of a parse's 1 s). A manifest's path names a digest of
    the project's files (:func:`dbt_manifest_path`): a path is one content, and one
    decode serves every group. Cosmos builds its nodes from the dict and never
    changes it. Scoped to the build: Cosmos is left as it was.
    """
    from cosmos.dbt.graph import DbtGraph

    decode = DbtGraph._load_manifest_from_file

    def decoded_once(graph, manifest_path):
        key = str(manifest_path)  # Cosmos passes an ObjectStoragePath
        if key not in _DECODED_MANIFEST:
            _DECODED_MANIFEST.clear()
            _DECODED_MANIFEST[key] = decode(graph, manifest_path)
        return _DECODED_MANIFEST[key]

    DbtGraph._load_manifest_from_file = decoded_once
    try:
        yield
    finally:
        DbtGraph._load_manifest_from_file = decode


def _share_partial_parse(group: DbtTaskGroup) -> None:
    """One dbt partial parse for every group run without vars, instead of one per group.

    Cosmos keeps a group's ``partial_parse.msgpack`` in a cache folder of the group's
    own, so each group's first ``dbt build`` parsed the whole project again (about
    2 s each on ``s``). The groups read one project with one profile: dbt accepts
    one group's parse for another. A group run with vars keeps its own folder (dbt
    rejects a partial parse made with other vars, and would then overwrite the
    shared one).
    """
    from cosmos import settings

    shared = Path(settings.cache_dir) / SHARED_PARTIAL_PARSE_DIR
    for task in _tasks(group):
        if getattr(task, "cache_dir", None) is not None:
            task.cache_dir = shared


def _tasks(group) -> list:
    from airflow.sdk import TaskGroup

    found = []
    for child in group.children.values():
        found.extend(_tasks(child) if isinstance(child, TaskGroup) else [child])
    return found


def dbt_task_group_kwargs(selector: str, operator_args: dict | None = None) -> dict:
    """Cosmos ``DbtTaskGroup`` arguments for the dbt nodes of ``selector``.

    ``selector``: the name of a selector of ``dbt_project/selectors.yml``, where
    every selection is defined. ``operator_args``: passed to every task (``vars``
    may be a template, rendered when the task runs).

    Parsing needs neither the network nor the warehouse: Cosmos reads the groups
    from one ``manifest.json`` that dbt parses once per version of the project
    (:func:`dbt_manifest_path`), instead of a ``dbt ls`` (a full dbt parse each,
    when cold) per task group.
    """
    from cosmos import ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior
    from cosmos.profiles import PostgresUserPasswordProfileMapping

    from steward.airflow import cosmos_watcher

    # In every process that parses the DAG, so also in the one running a producer.
    cosmos_watcher.write_node_events_once()

    project_dir = paths.dbt_project_dir()
    dbt_executable = dbt_executable_path()
    kwargs = {
        "project_config": ProjectConfig(
            dbt_project_path=project_dir,
            manifest_path=dbt_manifest_path(project_dir),
            install_dbt_deps=False,
        ),
        "profile_config": ProfileConfig(
            profile_name=DBT_PROFILE_NAME,
            target_name=DBT_TARGET_NAME,
            profile_mapping=PostgresUserPasswordProfileMapping(
                conn_id=warehouse.AIRFLOW_CONN_ID,
                profile_args={"schema": DBT_TARGET_SCHEMA, "threads": THREADS},
            ),
        ),
        "execution_config": ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER,
            invocation_mode=InvocationMode.DBT_RUNNER,
            dbt_executable_path=dbt_executable,
        ),
        "render_config": RenderConfig(
            # Cosmos would emit an Airflow asset per model named after the connection's
            # host, and the embedded warehouse has none (a Unix socket): the asset URI
            # is rejected and the task fails after dbt succeeded. Steward's tasks are
            # chained explicitly, so nothing consumes those assets.
            emit_datasets=False,
            load_method=LoadMode.DBT_MANIFEST,
            invocation_mode=InvocationMode.DBT_RUNNER,
            selector=selector,
            # The data tests run inside the producer's `dbt build`, each right after
            # its model (a failed test stops what is built on it); one sensor per
            # tested model reports them.
            test_behavior=TestBehavior.AFTER_EACH,
        ),
    }
    if operator_args:
        kwargs["operator_args"] = operator_args
    return kwargs


def selected_nodes(selector: str) -> tuple[list[dict], dict]:
    """The dbt nodes ``selector`` selects, as the task groups render them, and the manifest.

    Read from the same ``manifest.json`` and resolved by Cosmos as a group's render
    is: no dbt parse, no warehouse (a ``dbt ls`` took 3-11 s, most of a task's time).
    Returns the selected models', seeds' and tests' manifest entries (sorted by id)
    and the decoded manifest, whose ``sources`` they refer to.
    """
    from cosmos.dbt.graph import DbtGraph

    kwargs = dbt_task_group_kwargs(selector)
    # As Cosmos' converter does before it renders a group.
    for config in (kwargs["render_config"], kwargs["execution_config"]):
        config.project_path = kwargs["project_config"].dbt_project_path
    graph = DbtGraph(
        project=kwargs["project_config"],
        render_config=kwargs["render_config"],
        execution_config=kwargs["execution_config"],
        profile_config=kwargs["profile_config"],
    )
    with _manifest_decoded_once():
        graph.load_from_dbt_manifest()
        manifest = _DECODED_MANIFEST[str(kwargs["project_config"].manifest_path)]
    entries = manifest["nodes"]
    return [entries[uid] for uid in sorted(graph.filtered_nodes) if uid in entries], manifest


def dbt_test_operator(task_id: str, selector: str, env: dict[str, str]) -> object:
    """A Cosmos task running ``dbt test --selector selector`` with the environment
    variables ``env`` (templates): for a selection of tests only, which a task group
    renders as nothing. It shares the task groups' dbt partial parse."""
    from cosmos import settings
    from cosmos.operators.local import DbtTestLocalOperator

    group = dbt_task_group_kwargs(selector)
    execution = group["execution_config"]
    return DbtTestLocalOperator(
        task_id=task_id,
        project_dir=str(paths.dbt_project_dir()),
        profile_config=group["profile_config"],
        selector=selector,
        env=env,
        emit_datasets=False,
        invocation_mode=execution.invocation_mode,
        dbt_executable_path=execution.dbt_executable_path,
        install_deps=False,
        # Without a cache folder Cosmos gives a lone operator no partial parse at all.
        cache_dir=Path(settings.cache_dir) / SHARED_PARTIAL_PARSE_DIR,
    )


def dbt_executable_path() -> str:
    """dbt runs in-process, but Cosmos still checks that a ``dbt`` executable exists.

    The one installed next to this interpreter is found even when the virtualenv
    is not on ``PATH`` (``.venv/bin/steward demo``).
    """
    return shutil.which("dbt") or str(Path(sys.executable).with_name("dbt"))


# Parsed, never connected: dbt parse needs a profile of the right adapter, not a warehouse.
_PARSE_PROFILE = f"""{DBT_PROFILE_NAME}:
  target: {DBT_TARGET_NAME}
  outputs:
    {DBT_TARGET_NAME}:
      type: postgres
      host: localhost
      port: 5432
      user: steward
      password: parse-only
      dbname: steward
      schema: {DBT_TARGET_SCHEMA}
      threads: 1
"""
_NOT_PROJECT_FILES = {"target", "logs", "dbt_packages", ".user.yml"}


def dbt_manifest_path(project_dir: Path | None = None) -> Path:
    """dbt's ``manifest.json`` of the project as it is now: parsed once, then reused.

    Kept under Cosmos' cache folder by a digest of the project's files (and dbt's
    version), so every process on the machine (the scheduler, each Celery worker,
    ``dag.test()``) shares it and a changed project gets a new one. Written to a
    temporary folder and renamed: two processes parsing at once both succeed.
    """
    from cosmos import settings

    project_dir = Path(project_dir or paths.dbt_project_dir())
    folder = Path(settings.cache_dir) / "steward_manifests" / _project_digest(project_dir)
    manifest = folder / "manifest.json"
    if manifest.exists():
        return manifest
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent) as scratch:
        scratch_dir = Path(scratch)
        (scratch_dir / "profiles.yml").write_text(_PARSE_PROFILE)
        _dbt_parse(project_dir, scratch_dir)
        try:
            os.replace(scratch_dir / "target", folder)
        except OSError:
            if not manifest.exists():  # not another process's copy: a real failure
                raise
    return manifest


def _dbt_parse(project_dir: Path, scratch_dir: Path) -> None:
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(
        [
            "parse",
            "--project-dir",
            str(project_dir),
            "--profiles-dir",
            str(scratch_dir),
            "--profile",
            DBT_PROFILE_NAME,
            "--target",
            DBT_TARGET_NAME,
            "--target-path",
            str(scratch_dir / "target"),
            "--log-path",
            str(scratch_dir / "logs"),
            "--no-partial-parse",
            "--quiet",
        ]
    )
    if not result.success:
        raise RuntimeError(f"dbt parse of {project_dir} failed: {result.exception}")


def _project_digest(project_dir: Path) -> str:
    """A digest of the dbt project's files (names, sizes, modification times) and dbt's version.

    File metadata rather than contents: the DAG file is parsed often (by every task
    process under Celery), and an edited or checked-out file gets a new mtime.
    """
    from importlib.metadata import version

    digest = hashlib.sha256(version("dbt-core").encode())
    for path in sorted(project_dir.rglob("*")):
        relative = path.relative_to(project_dir)
        if _NOT_PROJECT_FILES & set(relative.parts) or not path.is_file():
            continue
        stat = path.stat()
        digest.update(f"{relative}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()[:16]
