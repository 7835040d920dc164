"""Where Airflow lives for Steward: its home, settings, metadata database and sign-in.

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
import subprocess
import sys
from pathlib import Path

from steward import paths, warehouse

METADATA_DB_FILE = "airflow.db"
# Written after a successful migration; holds the Airflow version it migrated to,
# so a reused AIRFLOW_HOME skips the (slow) migration until Airflow is upgraded.
MIGRATED_MARKER_FILE = ".steward-db-migrated"
DAG_FILE_PARSE_TIMEOUT_SECONDS = 300
UI_HOST = "127.0.0.1"
UI_PORT = 8080


# The simple auth manager's users (name -> role): an administrator, and the privacy
# team's account, which may trigger DAG runs and submit requests but not administer.
LOGIN_USERS = {"admin": "admin", "privacy": "user"}
PASSWORDS_FILE = "simple_auth_manager_passwords.json"
# Unambiguous letters and digits (no 0/O, 1/l/I).
PASSWORD_ALPHABET = "abcdefghkmnpqrstuvwxyzABCDEFGHKMNPQRSTUVWXYZ23456789"  # noqa: S105
PASSWORD_LENGTH = 20
# LocalExecutor worker processes per CPU core, and the ceiling: Steward's tasks wait
# on PostgreSQL and dbt, so a few per core keep the machine responsive.
WORKERS_PER_CORE = 2
MAX_LOCAL_WORKERS = 8


class AirflowSetupError(RuntimeError):
    """Airflow's metadata database could not be prepared."""


def metadata_db_path(home: Path | None = None) -> Path:
    return (home or paths.airflow_home()) / METADATA_DB_FILE


# A task's supervisor waits in `select()` for its task process for up to
# `[workers] min_heartbeat_interval` (default 5 s). When the process has closed
# its sockets but not yet exited, nothing is left to wake that wait: the slot is
# held 5 s after the task ended (a third of the nightly's 150 tasks under Celery,
# most of them 0.5 s sensors). 1 s bounds that stall; the cost is at most one
# heartbeat a second per running task.
TASK_SUPERVISOR_SETTINGS = {"AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1"}


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
        # Sign-in required, also on the loopback interface: every local user (and
        # every web page the browser opens) would otherwise be an admin who can
        # read every run's conf. Passwords: ensure_login_passwords().
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(
            f"{user}:{role}" for user, role in LOGIN_USERS.items()
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_path(home)),
        # LocalExecutor starts `parallelism` worker processes (Airflow's default: 32).
        "AIRFLOW__CORE__PARALLELISM": str(local_parallelism()),
        "AIRFLOW__API__HOST": UI_HOST,
        "AIRFLOW__API__PORT": str(UI_PORT),
        # Cosmos caches `dbt ls` and partial parses here rather than in /tmp, so
        # a `make clean` resets it with the rest of Airflow's state.
        "AIRFLOW__COSMOS__CACHE_DIR": str(home / "cosmos_cache"),
        # Cosmos' watcher producer would rewrite one Airflow Variable holding every
        # node's XComs after each XCom it writes (for a retry after a hard kill):
        # quadratic in the nodes of a group. Off, it writes the Variable once, when
        # the producer fails; after a hard kill the model tasks run their own models.
        "AIRFLOW__COSMOS__ENABLE_WATCHER_RELIABLE_RETRY": "False",
        # Cosmos would keep each task group's parsed selectors in an Airflow Variable:
        # a metadata-database (or, in a task, an API) read per group at every parse of
        # the DAG file, which costs more than parsing selectors.yml from the manifest
        # (nightly parse 1.6 s -> 1.0 s). Off: no I/O at parse time.
        "AIRFLOW__COSMOS__ENABLE_CACHE_DBT_YAML_SELECTORS": "False",
        **TASK_SUPERVISOR_SETTINGS,
        # A governance tool phones no one home: no usage statistics from Airflow,
        # Cosmos or dbt (they would leave the machine with every run).
        "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "SCARF_NO_ANALYTICS": "true",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }


def local_parallelism(cpu_count: int | None = None) -> int:
    """Task slots (= LocalExecutor worker processes): a couple per core, a handful at most."""
    cores = cpu_count or os.cpu_count() or 1
    return max(2, min(MAX_LOCAL_WORKERS, cores * WORKERS_PER_CORE))


def passwords_path(home: Path | None = None) -> Path:
    """The simple auth manager's password file (JSON user -> password, mode 0600)."""
    return (home or paths.airflow_home()).resolve() / PASSWORDS_FILE


def ensure_login_passwords(home: Path | None = None) -> dict[str, str]:
    """Give every user of :data:`LOGIN_USERS` a password; return only the new ones.

    Steward writes the file before Airflow starts (owner-only, 0600), so Airflow
    finds every user there and neither generates nor prints a password itself.
    The caller shows the returned passwords once; afterwards they are only in the file.
    """
    import json
    import secrets

    file = passwords_path(home)
    file.parent.mkdir(parents=True, exist_ok=True)
    existing: dict[str, str] = {}
    if file.exists():
        try:
            existing = json.loads(file.read_text() or "{}")
        except json.JSONDecodeError as exc:
            raise AirflowSetupError(f"{file} is not a JSON object of user -> password") from exc
    created = {
        user: "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))
        for user in LOGIN_USERS
        if not existing.get(user)
    }
    descriptor = os.open(file, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        if created:
            handle.truncate()
            handle.write(json.dumps({**existing, **created}) + "\n")
    os.chmod(file, 0o600)  # an older file may have been created world-readable
    return created


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
