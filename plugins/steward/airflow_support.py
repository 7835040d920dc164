"""Airflow's environment for Steward: one place that says where Airflow lives.

The demo and the tests run Airflow inside the project: ``AIRFLOW_HOME`` is
``.airflow/`` (git-ignored), the metadata database is SQLite under it, the DAGs
come from ``dags/`` and the plugins from ``plugins/``. Airflow reads all of this
from environment variables, so :func:`airflow_environment` builds them and
:func:`apply_environment` installs them in ``os.environ``; call it *before*
importing ``airflow`` (Airflow reads its home and database at import).

The docker-compose stack does not use this module: it sets the same variables
itself and keeps its metadata in PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from steward import paths, warehouse

METADATA_DB_FILE = "airflow.db"
# Written after a successful migration; holds the Airflow version it migrated to,
# so a reused AIRFLOW_HOME skips the (slow) migration until Airflow is upgraded.
MIGRATED_MARKER_FILE = ".steward-db-migrated"
NIGHTLY_DAG_ID = "steward_nightly"
DAG_FILE_PARSE_TIMEOUT_SECONDS = 300
UI_HOST = "127.0.0.1"
UI_PORT = 8080


class AirflowSetupError(RuntimeError):
    """Airflow's metadata database could not be prepared."""


def metadata_db_path(home: Path | None = None) -> Path:
    return (home or paths.airflow_home()) / METADATA_DB_FILE


def airflow_settings(home: Path | None = None) -> dict[str, str]:
    """Airflow's own settings for this project (no warehouse involved).

    ``home`` is the Airflow home (default: :func:`steward.paths.airflow_home`).
    """
    home = (home or paths.airflow_home()).resolve()
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(paths.dags_dir()),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(paths.plugins_dir()),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # Cosmos renders each dbt task group with `dbt ls` when the nightly DAG file is
        # parsed (cached afterwards): a cold parse on a busy 2-core machine outlasts
        # Airflow's 30 s default.
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": str(DAG_FILE_PARSE_TIMEOUT_SECONDS),
        "AIRFLOW__DAG_PROCESSOR__DAG_FILE_PROCESSOR_TIMEOUT": str(
            DAG_FILE_PARSE_TIMEOUT_SECONDS + 60
        ),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{metadata_db_path(home)}",
        # The demo's UI listens on the loopback interface only, and with the simple
        # auth manager every local user is an admin: no password to hand out.
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__API__HOST": UI_HOST,
        "AIRFLOW__API__PORT": str(UI_PORT),
        # Cosmos caches `dbt ls` and partial parses here rather than in /tmp, so
        # a `make clean` resets it with the rest of Airflow's state.
        "AIRFLOW__COSMOS__CACHE_DIR": str(home / "cosmos_cache"),
        # A governance tool phones no one home: no usage statistics from Airflow,
        # Cosmos or dbt (they would leave the machine with every run).
        "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "SCARF_NO_ANALYTICS": "true",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }


def airflow_environment(url: str | None = None, home: Path | None = None) -> dict[str, str]:
    """Environment variables that run Airflow on this project against the warehouse.

    :func:`airflow_settings` plus the ``steward_warehouse`` connection and the
    variables dbt's ``profiles.yml`` reads. ``url`` is the warehouse (default:
    :func:`steward.warehouse.database_url`, which starts the embedded one).
    """
    return {
        **airflow_settings(home),
        **warehouse.airflow_env(url),
        **warehouse.dbt_env(url),
    }


def apply_environment(env: dict[str, str]) -> None:
    """Install ``env`` in ``os.environ``, before Airflow is imported if possible.

    If ``airflow`` was already imported in this process (by a test collected
    earlier, say), its cached settings are pointed at the new home and database.
    """
    os.environ.update(env)
    if "airflow.settings" in sys.modules:
        _reconfigure_imported_airflow()


def ensure_airflow_db(home: Path | None = None) -> Path:
    """Create or upgrade Airflow's metadata database; instant when already done.

    Runs ``airflow db migrate`` in a subprocess with :func:`airflow_settings`,
    so it works whether or not ``airflow`` is already imported here, and never
    needs the warehouse.
    """
    home = (home or paths.airflow_home()).resolve()
    database = metadata_db_path(home)
    marker = home / MIGRATED_MARKER_FILE
    version = _installed_airflow_version()
    if database.exists() and marker.exists() and marker.read_text().strip() == version:
        return database
    home.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        env={**os.environ, **airflow_settings(home)},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-15:])
        raise AirflowSetupError(f"`airflow db migrate` failed in {home}:\n{tail}")
    marker.write_text(version + "\n")
    return database


def ui_url() -> str:
    return f"http://{UI_HOST}:{UI_PORT}"


def _installed_airflow_version() -> str:
    from importlib.metadata import version

    return version("apache-airflow")


def _reconfigure_imported_airflow() -> None:
    from airflow import settings

    settings.configure_vars()
    settings.reconfigure_orm()


# --- the nightly DAG's building blocks ------------------------------------
# dags/steward_nightly.py only wires these together; the work lives here so it
# can be read, reused and tested without Airflow's scheduler.

DBT_PROFILE_NAME = "steward"
DBT_TARGET_NAME = "nightly"
DBT_TARGET_SCHEMA = "steward"
STAGING_SELECTOR = "path:models/staging"
# Each stage's dbt nodes; a node's data tests come along with it.
CATALOGUE_SELECTOR = ["path:seeds/catalogue_overrides.csv", "path:models/marts/catalogue"]
PHONES_SELECTOR = [
    "path:models/intermediate/phones",
    "path:models/marts/phones",
    "path:models/intermediate/dedupe",
]
DEDUPE_SELECTOR = ["path:models/marts/dedupe"]
DSAR_SELECTOR = ["path:models/marts/dsar"]
# The task whose return value is each stage's part of the nightly summary.
SUMMARY_TASKS = {
    "staging": "summarise_staging",
    "catalogue": "pii_catalogue.summarise_catalogue",
    "phones": "phone_quality.summarise_phones",
    "dedupe": "phone_quality.match_duplicate_customers",
    "quality": "phone_quality.run_quality_checks",
    "suppression": "data_subject_requests.rescan_suppressed_subjects",
    "retention": "retention.enforce_retention",
}

# The demo and the tests set this to 0: `dag.test()` would otherwise sit out the
# retry delay of a failed task before reporting it.
TASK_RETRIES_ENV = "STEWARD_TASK_RETRIES"


def nightly_default_args() -> dict:
    """``default_args`` of Steward's DAGs, read when the DAG file is parsed."""
    return {
        "owner": "steward",
        # Warehouse hiccups (a restart, a lock timeout) clear up; retry a few minutes later.
        "retries": int(os.environ.get(TASK_RETRIES_ENV, "2")),
        "retry_delay": timedelta(minutes=5),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=30),
    }


def dbt_task_group_kwargs(select: list[str]) -> dict:
    """Cosmos ``DbtTaskGroup`` arguments for the dbt nodes matching ``select``.

    Parsing needs neither the network nor the warehouse: Cosmos runs ``dbt ls``
    in-process with a mock profile and caches the result until the project changes.
    """
    from cosmos import ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import InvocationMode, LoadMode, TestBehavior
    from cosmos.profiles import PostgresUserPasswordProfileMapping

    project_dir = paths.dbt_project_dir()
    dbt_executable = dbt_executable_path()
    return {
        "project_config": ProjectConfig(dbt_project_path=project_dir, install_dbt_deps=False),
        "profile_config": ProfileConfig(
            profile_name=DBT_PROFILE_NAME,
            target_name=DBT_TARGET_NAME,
            profile_mapping=PostgresUserPasswordProfileMapping(
                conn_id=warehouse.AIRFLOW_CONN_ID,
                profile_args={"schema": DBT_TARGET_SCHEMA},
            ),
        ),
        "execution_config": ExecutionConfig(
            invocation_mode=InvocationMode.DBT_RUNNER, dbt_executable_path=dbt_executable
        ),
        "render_config": RenderConfig(
            # Cosmos would emit an Airflow asset per model named after the connection's
            # host, and the embedded warehouse has none (a Unix socket): the asset URI
            # is rejected and the task fails after dbt succeeded. Steward's tasks are
            # chained explicitly, so nothing consumes those assets.
            emit_datasets=False,
            load_method=LoadMode.DBT_LS,
            invocation_mode=InvocationMode.DBT_RUNNER,
            select=select,
            # One test task after all the models: a failed test still fails the
            # run, at a fraction of the cost of a dbt invocation per model.
            test_behavior=TestBehavior.AFTER_ALL,
        ),
    }


def dbt_executable_path() -> str:
    """dbt runs in-process, but Cosmos still checks that a ``dbt`` executable exists.

    The one installed next to this interpreter is found even when the virtualenv
    is not on ``PATH`` (``.venv/bin/steward demo``).
    """
    return shutil.which("dbt") or str(Path(sys.executable).with_name("dbt"))


def collect_summaries(ti) -> dict:
    """The night's summary: each stage's own summary (counts only), by stage."""
    return {stage: ti.xcom_pull(task_ids=task_id) for stage, task_id in SUMMARY_TASKS.items()}


def validate_data_map() -> dict[str, int]:
    """Load the data map and check it against the warehouse; raise on any problem.

    Returns counts only (the map describes personal data; it holds none).
    """
    from airflow.sdk.exceptions import AirflowFailException

    from steward import datamap

    try:
        data_map = datamap.load_data_map()
        datamap.validate_against_warehouse(data_map, warehouse.engine())
    except datamap.DataMapError as exc:
        # A malformed map will not fix itself: fail now, without retries.
        raise AirflowFailException(f"the data map is invalid: {exc}") from exc
    return {
        "tables": len(data_map.tables),
        "personal_columns": sum(len(table.columns) for table in data_map.tables),
    }


@dataclass(frozen=True)
class StagingModel:
    name: str
    schema: str
    relation: str  # the view's name in the warehouse
    source_schema: str
    source_table: str


def staging_models(select: str = STAGING_SELECTOR) -> list[StagingModel]:
    """The staging models and the source table each reads, as dbt's graph says."""
    nodes = _dbt_ls_json(
        ["--resource-type", "model", "--resource-type", "source", "--select", f"+{select}"]
    )
    sources = {node["unique_id"]: node for node in nodes if node.get("resource_type") == "source"}
    models = []
    for node in nodes:
        if node.get("resource_type") != "model":
            continue
        upstream = [sources[uid] for uid in node["depends_on"]["nodes"] if uid in sources]
        if len(upstream) != 1:
            continue  # not a one-source staging view
        models.append(
            StagingModel(
                name=node["name"],
                schema=node["schema"],
                relation=node["alias"],
                source_schema=upstream[0]["schema"],
                source_table=upstream[0]["identifier"],
            )
        )
    return sorted(models, key=lambda model: model.name)


def staging_summary(url: str | None = None) -> dict:
    """Row counts of every staging view next to its source table (counts only, no data)."""
    engine = warehouse.engine(url)
    rows = {}
    with engine.connect() as conn:
        for model in staging_models():
            rows[model.name] = {
                "relation": f"{model.schema}.{model.relation}",
                "rows": _count(conn, model.schema, model.relation),
                "source": f"{model.source_schema}.{model.source_table}",
                "source_rows": _count(conn, model.source_schema, model.source_table),
            }
    mismatched = sorted(name for name, row in rows.items() if row["rows"] != row["source_rows"])
    return {
        "staging_models": len(rows),
        "staging_rows": sum(row["rows"] for row in rows.values()),
        "mismatched_models": mismatched,
        "models": rows,
    }


def _count(conn, schema: str, table: str) -> int:
    import sqlalchemy as sa

    query = sa.select(sa.func.count()).select_from(sa.table(table, schema=schema))
    return int(conn.execute(query).scalar_one())


def _dbt_ls_json(arguments: list[str]) -> list[dict]:
    """Run ``dbt ls`` in-process against the warehouse; return its JSON nodes."""
    import json

    from steward import dbt_runner

    keys = ["unique_id", "resource_type", "name", "schema", "alias", "identifier", "depends_on"]
    command = [
        "ls",
        "--output",
        "json",
        "--output-keys",
        *keys,
        # `ls` prints every node even with --quiet; the caller wants data, not output.
        "--log-level",
        "none",
        *arguments,
    ]
    result = dbt_runner.run(command, quiet=False)
    if not result.success:
        raise AirflowSetupError(f"dbt ls failed: {dbt_runner.failure_summary(result)}")
    return [json.loads(line) for line in result.result]
