"""Airflow for the DAG tests: a throw-away Airflow home per test session.

The home sits in pytest's session temp folder under a fixed name, so the
integration tests reuse its migrated metadata database instead of migrating again.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from steward.airflow import bootstrap


@pytest.fixture(scope="session")
def airflow_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Airflow configured on this project without a warehouse (enough to parse DAGs)."""
    home = tmp_path_factory.getbasetemp() / "airflow_home"
    settings = bootstrap.airflow_settings(home)
    with pytest.MonkeyPatch.context() as patch:
        for key, value in settings.items():
            patch.setenv(key, value)
        bootstrap.apply_environment(settings)
        bootstrap.ensure_airflow_db(Path(settings["AIRFLOW_HOME"]))
        yield settings
