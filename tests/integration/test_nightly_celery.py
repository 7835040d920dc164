"""The nightly DAG under the CeleryExecutor: Redis, an API server and two Celery workers.

What the production stack (docker-compose.yml) does, on this machine: Airflow's
metadata in a PostgreSQL database of its own (the CeleryExecutor refuses SQLite),
the machine's Redis as broker (``STEWARD_TEST_REDIS_URL``, default a random
empty database 1-15 of ``redis://127.0.0.1:6379``, so no other worker takes its tasks),
an ``airflow api-server`` (Airflow 3's workers run tasks
through its execution API) and two ``airflow celery worker`` processes.
``dag.test(use_executor=True)`` then queues every task through the executor instead
of running it in-process. Bounded in time; every process it started is stopped.

This one run of the night (real dbt, real PostgreSQL, the warehouse seeded at
scale s) is also the one whose results are checked here: every staging view, the
staging summary. A second, in-process run would test the same DAG again.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from steward import paths
from steward.airflow import bootstrap, dag_defaults

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.longest]

REDIS_URL_ENV = "STEWARD_TEST_REDIS_URL"
WORKERS = 2
WORKER_CONCURRENCY = 2
# The nightly on `s` takes 2-3 minutes in-process; each Celery task also starts a
# fresh interpreter. Past this the run is abandoned and the test fails.
RUN_TIMEOUT_SECONDS = 1500
STARTUP_TIMEOUT_SECONDS = 180


def _redis_url() -> str:
    """The broker: the configured URL, else a Redis database of its own on the machine's Redis.

    Tasks go to Airflow's ``default`` queue (the task SDK reads the default queue once,
    when first imported), so a database of its own keeps them from other workers.
    """
    import redis

    configured = os.environ.get(REDIS_URL_ENV)
    if configured:
        return configured
    # An empty database (so emptying it afterwards touches nobody else's keys).
    for number in sorted(range(1, 16), key=lambda _: secrets.randbelow(1000)):
        url = f"redis://127.0.0.1:6379/{number}"
        try:
            if redis.Redis.from_url(url, socket_connect_timeout=2).dbsize() == 0:
                return url
        except redis.RedisError:
            break
    return "redis://127.0.0.1:6379/15"


def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    """Stop a process this test started, and its children (its own process group)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _wait_until(check, timeout: float, what: str, processes: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                log = Path(process.stdout_path).read_text(errors="replace")[-3000:]
                raise AssertionError(f"{process.args[3:5]} exited waiting for {what}:\n{log}")
        if check():
            return
        time.sleep(2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def celery_airflow(
    seeded_warehouse, warehouse_url: str, server_admin_url: str, tmp_path_factory
) -> Iterator[dict]:
    from tests.conftest import create_database, drop_database

    broker = _redis_url()
    if not _redis_answers(broker):
        pytest.skip(f"no Redis answers at {broker} (set {REDIS_URL_ENV})")
    home = tmp_path_factory.mktemp("airflow_celery_home")
    metadata_url = create_database(server_admin_url, prefix="steward_test_airflow")
    port = _free_port()
    queue = f"steward-test-{uuid.uuid4().hex[:8]}"
    driverless = metadata_url.replace("postgresql+psycopg2://", "postgresql://", 1)
    env = {
        **bootstrap.airflow_environment(url=warehouse_url, home=home),
        dag_defaults.TASK_RETRIES_ENV: "0",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": broker,
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{driverless}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        # Shared by the process that signs the tasks' tokens and the API server.
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__CORE__FERNET_KEY": "",
        # The first parse renders every dbt task group (Cosmos' `dbt ls`); on a busy
        # machine that outlasts the usual timeout. The workers reuse its cache.
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "1200",
        "PYTHONPATH": os.pathsep.join([str(paths.plugins_dir()), str(paths.project_root())]),
    }
    processes: list[subprocess.Popen] = []
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        bootstrap.apply_environment(env)
        try:
            subprocess.run(
                [sys.executable, "-m", "airflow", "db", "migrate"],
                env={**os.environ, **env},
                check=True,
                capture_output=True,
                timeout=600,
            )

            def start(name: str, *arguments: str) -> subprocess.Popen:
                log = (home / f"{name}.log").open("wb")
                process = subprocess.Popen(
                    [sys.executable, "-m", "airflow", *arguments],
                    env={**os.environ, **env},
                    cwd=paths.project_root(),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                process.stdout_path = str(home / f"{name}.log")
                processes.append(process)
                return process

            start("api-server", "api-server", "--port", str(port))
            for number in range(1, WORKERS + 1):
                start(
                    f"worker{number}",
                    "celery",
                    "worker",
                    "--queues",
                    f"default,{queue}",
                    "--celery-hostname",
                    f"steward-test-w{number}-{queue}@%h",
                    "--concurrency",
                    str(WORKER_CONCURRENCY),
                    "--skip-serve-logs",
                    # Each worker its own pid file (the default one would stop the second).
                    "--pid",
                    str(home / f"worker{number}.pid"),
                )

            def api_up() -> bool:
                import urllib.request

                try:
                    with urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/api/v2/version", timeout=5
                    ) as response:
                        return response.status == 200
                except OSError:
                    return False

            def workers_up() -> bool:
                from airflow.providers.celery.executors.celery_executor import app

                replies = app.control.inspect(timeout=3).ping() or {}
                return sum(queue in name for name in replies) == WORKERS

            _wait_until(api_up, STARTUP_TIMEOUT_SECONDS, "the API server", processes)
            _wait_until(workers_up, STARTUP_TIMEOUT_SECONDS, "two Celery workers", processes)
            yield {"home": home, "queue": queue, "processes": processes}
        finally:
            for process in processes:
                _stop(process)
            drop_database(server_admin_url, metadata_url)
            if REDIS_URL_ENV not in os.environ:
                import redis

                # The database this test picked for itself: leave no queue behind.
                redis.Redis.from_url(broker).flushdb()


class _RunTimeoutError(Exception):
    pass


@pytest.fixture(scope="module")
def celery_run(celery_airflow):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(paths.dags_dir()))
    assert bag.import_errors == {}
    dag = bag.get_dag(dag_defaults.NIGHTLY_DAG_ID)

    def give_up(signum, frame):
        raise _RunTimeoutError(f"the nightly DAG did not finish in {RUN_TIMEOUT_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(RUN_TIMEOUT_SECONDS)
    started = time.monotonic()
    try:
        dag_run = dag.test(use_executor=True)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return {"dag_run": dag_run, "seconds": time.monotonic() - started}


def test_nightly_succeeds_on_two_celery_workers(celery_run, celery_airflow):
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    dag_run = celery_run["dag_run"]
    with create_session() as session:
        instances = session.scalars(
            sa.select(TaskInstance).where(
                TaskInstance.dag_id == dag_run.dag_id, TaskInstance.run_id == dag_run.run_id
            )
        ).all()
        states = {ti.task_id: str(ti.state) for ti in instances}
        executors = {ti.executor or "" for ti in instances}
        queues = {ti.queue for ti in instances}
        workers = {ti.hostname for ti in instances}
        pids = {ti.pid for ti in instances}
    worker_logs = [
        (Path(celery_airflow["home"]) / f"worker{number}.log").read_text(errors="replace")
        for number in range(1, WORKERS + 1)
    ]
    assert str(dag_run.state) == "success", states
    assert set(states.values()) == {"success"}, states
    assert len(states) > 40
    assert any(task.startswith("dbt_staging.") for task in states)
    # Every task went through the broker; none ran in this process.
    assert queues <= {"default", celery_airflow["queue"]}
    assert executors <= {"", "CeleryExecutor"}
    assert os.getpid() not in pids
    assert all(workers)
    # Both workers took tasks off the queue.
    for log in worker_logs:
        assert "execute_workload" in log and "received" in log.lower()


def test_every_started_process_is_still_ours_and_running(celery_airflow):
    for process in celery_airflow["processes"]:
        assert process.poll() is None, process.args
    logs = {path.name for path in Path(celery_airflow["home"]).glob("worker*.log")}
    assert logs == {f"worker{number}.log" for number in range(1, WORKERS + 1)}


def test_every_source_table_has_a_staging_view_with_all_its_rows(
    celery_run, seeded_warehouse, warehouse_url
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


def _returned(dag_run, task_id: str) -> dict:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    query = XComModel.get_many(
        run_id=dag_run.run_id, dag_ids=dag_run.dag_id, task_ids=task_id, key="return_value"
    )
    with create_session() as session:
        row = session.scalars(query).first()
        assert row is not None, f"{task_id} returned nothing"
        return XComModel.deserialize_value(row)


def test_summary_reports_counts_per_staging_view(celery_run, seeded_warehouse):
    summary = _returned(celery_run["dag_run"], "summarise_staging")
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
