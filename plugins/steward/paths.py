"""Where Steward keeps things on disk.

Everything lives under the project folder (``STEWARD_HOME``, by default the
checkout this package sits in), so a fresh clone runs with no setup and a
`git clean` resets it. Runtime data goes under ``.steward/`` (git-ignored).
"""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The project checkout: ``STEWARD_HOME`` if set, else two levels above this package."""
    configured = os.environ.get("STEWARD_HOME")
    if configured:
        return Path(configured).resolve()
    return Path(__file__).resolve().parents[2]


def data_dir() -> Path:
    """Runtime state (embedded PostgreSQL, recordings, exports); git-ignored."""
    configured = os.environ.get("STEWARD_DATA_DIR")
    return Path(configured).resolve() if configured else project_root() / ".steward"


def pgdata_dir() -> Path:
    return data_dir() / "pgdata"


def recordings_dir() -> Path:
    """Where the generator writes call-recording files (the ``storage_path`` targets)."""
    return data_dir() / "recordings"


def dbt_project_dir() -> Path:
    """The dbt project (and data map): ``STEWARD_DBT_PROJECT_DIR`` if set, else ``dbt_project/``.

    The override lets tests run the nightly DAG on a modified copy of the project.
    """
    configured = os.environ.get("STEWARD_DBT_PROJECT_DIR")
    return Path(configured).resolve() if configured else project_root() / "dbt_project"


def dags_dir() -> Path:
    return project_root() / "dags"


def plugins_dir() -> Path:
    return project_root() / "plugins"


def airflow_home() -> Path:
    configured = os.environ.get("AIRFLOW_HOME")
    return Path(configured).resolve() if configured else project_root() / ".airflow"
