"""Each DAG family's default_args, read at parse time from the environment only."""

from __future__ import annotations

import pytest

from steward.airflow import dag_defaults


def test_the_privacy_dags_retry_sooner_than_the_nightly_batch(monkeypatch):
    monkeypatch.delenv(dag_defaults.TASK_RETRIES_ENV, raising=False)
    nightly = dag_defaults.nightly_default_args()
    privacy = dag_defaults.privacy_default_args()
    assert nightly["retries"] == privacy["retries"] == 2
    assert privacy["retry_delay"] < nightly["retry_delay"]
    assert privacy["max_retry_delay"] < nightly["max_retry_delay"]
    assert nightly["owner"] == privacy["owner"] == "steward"


def test_task_retries_come_from_the_environment(monkeypatch):
    monkeypatch.setenv(dag_defaults.TASK_RETRIES_ENV, "0")
    assert dag_defaults.nightly_default_args()["retries"] == 0
    monkeypatch.setenv(dag_defaults.TASK_RETRIES_ENV, "two")
    with pytest.raises(ValueError, match="STEWARD_TASK_RETRIES='two'"):
        dag_defaults.privacy_default_args()
