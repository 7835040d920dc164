"""The demo's progress lines: task groups done of total, the running one, failures."""

from __future__ import annotations

import io
from types import SimpleNamespace

from steward import demo_progress as progress

TASKS = [
    "validate_data_map",
    "dbt_staging.stg_a_run",
    "dbt_staging.stg_b_run",
    "phone_quality.refresh_phone_lookup",
    "phone_quality.dbt_phones.marts_run",
    "nightly_summary",
]


def test_groups_are_the_top_level_task_groups_in_dag_order():
    groups = progress.groups_in_order(TASKS)
    assert list(groups) == ["validate_data_map", "dbt_staging", "phone_quality", "nightly_summary"]
    assert groups["phone_quality"] == [
        "phone_quality.refresh_phone_lookup",
        "phone_quality.dbt_phones.marts_run",
    ]


def test_lines_say_what_started_finished_and_failed():
    groups = progress.groups_in_order(TASKS)
    first = progress.group_states(
        groups, {"validate_data_map": "success", "dbt_staging.stg_a_run": "running"}
    )
    lines = progress.progress_lines(None, first, 7)
    assert lines == [
        "  [1/4 groups] 0:07  done     validate_data_map",
        "  [1/4 groups] 0:07  running  dbt_staging (0 of 2 tasks)",
    ]
    assert progress.progress_lines(first, first, 9) == []  # nothing changed, nothing said
    later = progress.group_states(
        groups,
        {
            "validate_data_map": "success",
            "dbt_staging.stg_a_run": "success",
            "dbt_staging.stg_b_run": "success",
            "phone_quality.refresh_phone_lookup": "failed",
            "phone_quality.dbt_phones.marts_run": "upstream_failed",
        },
    )
    lines = progress.progress_lines(first, later, 75)
    assert lines == [
        "  [3/4 groups] 1:15  FAILED phone_quality.refresh_phone_lookup",
        "  [3/4 groups] 1:15  FAILED phone_quality.dbt_phones.marts_run",
        "  [3/4 groups] 1:15  done     dbt_staging (2 of 2 tasks)",
        "  [3/4 groups] 1:15  done     phone_quality (2 of 2 tasks)",
    ]
    # A group between two of its tasks is not announced again.
    pause = progress.group_states(
        groups,
        {
            "validate_data_map": "success",
            "dbt_staging.stg_a_run": "success",
        },
    )
    resumed = progress.group_states(
        groups,
        {
            "validate_data_map": "success",
            "dbt_staging.stg_a_run": "success",
            "dbt_staging.stg_b_run": "running",
        },
    )
    assert progress.progress_lines(pause, resumed, 20) == []
    assert progress.heartbeat_line(first, 30) == (
        "  [1/4 groups] 0:30  still running: dbt_staging (0 of 2 tasks)"
    )


def test_the_thread_prints_to_the_terminal_it_was_given(monkeypatch):
    dag = SimpleNamespace(
        dag_id="nightly", tasks=[SimpleNamespace(task_id=task_id) for task_id in TASKS]
    )

    states = iter([None, {"validate_data_map": "running"}, {"validate_data_map": "success"}])
    monkeypatch.setattr(progress.RunProgress, "_newest_run_id", lambda self: 0)
    monkeypatch.setattr(progress.RunProgress, "_task_states", lambda self: next(states, None))
    out = io.StringIO()
    watcher = progress.RunProgress(dag, out, interval=0.01, heartbeat=60)
    watcher.start()
    while "done     validate_data_map" not in out.getvalue():
        watcher.join(0.01)
    watcher.stop()
    assert "running  validate_data_map" in out.getvalue()
    assert "@" not in out.getvalue()  # ids and states only
