"""Cosmos' watcher producer writes a node's ``_dbt_event`` XCom once, not on every lifecycle event.

Fed through Cosmos' own log handler (the one its producer calls for every dbt event),
with a task instance that records what would be written to XCom.
"""

from __future__ import annotations

import json

import pytest

from steward.airflow import cosmos_watcher

MODEL = "model.steward.stg_crm__customers"


class RecordingTaskInstance:
    def __init__(self) -> None:
        self.pushes: list[tuple[str, object]] = []

    def xcom_push(self, key: str, value: object) -> None:
        self.pushes.append((key, value))

    def xcom_pull(self, key: str | None = None, **_: object) -> object:
        return None


def _event(name: str, status: str, message: str | None = None) -> str:
    return json.dumps(
        {
            "info": {"name": name, "msg": f"{name} {MODEL}", "level": "debug"},
            "data": {
                "node_info": {
                    "unique_id": MODEL,
                    "node_status": status,
                    "resource_type": "model",
                    "node_started_at": "2026-12-07T05:00:00",
                    "node_finished_at": "2026-12-07T05:00:01" if name == "NodeFinished" else "",
                },
                "run_result": {"message": message} if message else {},
            },
        }
    )


def _lifecycle(final_status: str = "success", message: str | None = None) -> list[str]:
    return [
        _event("NodeStart", "started"),
        _event("NodeCompiling", "compiling"),
        _event("NodeExecuting", "executing"),
        _event("NodeFinished", final_status, message),
    ]


@pytest.fixture
def cosmos_defaults():
    """Cosmos' allowlist as shipped, restored after each test."""
    from cosmos.operators._watcher import base

    shipped = base._DBT_EVENT_ALLOWLIST
    base._DBT_EVENT_ALLOWLIST = base._DBT_ERROR_EVENTS_TYPES | base._DBT_NODE_STATUS_EVENT_TYPES
    yield base
    base._DBT_EVENT_ALLOWLIST = shipped


def _run(lines: list[str]) -> RecordingTaskInstance:
    from cosmos.operators._watcher.base import store_dbt_resource_status_from_log

    ti = RecordingTaskInstance()
    for line in lines:
        store_dbt_resource_status_from_log(line, {"context": {"ti": ti}})
    return ti


def _keys(ti: RecordingTaskInstance, suffix: str) -> list[str]:
    return [key for key, _ in ti.pushes if key.endswith(suffix)]


def test_cosmos_as_shipped_writes_the_event_on_every_lifecycle_step(cosmos_defaults):
    # The behaviour this module exists for: if Cosmos stops doing this, drop the module.
    ti = _run(_lifecycle())
    assert len(_keys(ti, "_dbt_event")) == 4


def test_after_the_change_the_event_is_written_once_and_the_status_still_is(cosmos_defaults):
    assert cosmos_watcher.write_node_events_once() is True
    ti = _run(_lifecycle())
    events = [value for key, value in ti.pushes if key.endswith("_dbt_event")]
    assert len(events) == 1
    # What the model's sensor logs: the terminal status and its times.
    assert events[0]["status"] == "success"
    assert events[0]["start_time"] and events[0]["finish_time"]
    # What the sensor decides on is untouched.
    statuses = [value for key, value in ti.pushes if key.endswith("_status")]
    assert statuses == [{"status": "success", "outlet_uris": []}]


def test_a_failed_node_keeps_its_error_message(cosmos_defaults):
    cosmos_watcher.write_node_events_once()
    ti = _run(_lifecycle("error", "relation crm.missing does not exist"))
    events = [value for key, value in ti.pushes if key.endswith("_dbt_event")]
    assert [event["status"] for event in events] == ["error"]
    assert events[0]["msg"] == "relation crm.missing does not exist"
    assert [value["status"] for key, value in ti.pushes if key.endswith("_status")] == ["error"]


def test_dbt_error_events_are_still_written(cosmos_defaults):
    cosmos_watcher.write_node_events_once()
    ti = _run([_event("RunResultError", "error", "division by zero")])
    assert _keys(ti, "_dbt_event") == [f"{MODEL.replace('.', '__')}_dbt_event"]


def test_an_unknown_cosmos_layout_is_left_alone(cosmos_defaults, monkeypatch):
    monkeypatch.delattr(cosmos_defaults, "_DBT_EVENT_ALLOWLIST")
    assert cosmos_watcher.write_node_events_once() is False
    assert not hasattr(cosmos_defaults, "_DBT_EVENT_ALLOWLIST")
