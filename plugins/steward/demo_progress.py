"""Progress of a DAG run as Airflow users read it: task groups done of total, the running one.

``make demo`` runs the nightly DAG with ``dag.test()`` in its own process, its
output going to a log file. :class:`RunProgress` watches the run from a thread:
it polls Airflow's metadata database (the task instances of the newest run of
the DAG) and writes a line to the terminal when a task group starts or ends, a
task fails, and every ``heartbeat`` seconds while nothing changes. Only task
ids, states and counts are printed: never data.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TextIO

FINISHED = frozenset({"success", "skipped", "failed", "upstream_failed", "removed"})
FAILED = frozenset({"failed", "upstream_failed"})
RUNNING = frozenset({"running", "queued", "up_for_retry", "up_for_reschedule", "deferred"})


def group_of(task_id: str) -> str:
    """The top-level task group of a task (``phone_quality.dbt_phones.x`` -> ``phone_quality``).

    A task outside any group is its own unit.
    """
    return task_id.split(".", 1)[0]


def groups_in_order(task_ids: Iterable[str]) -> dict[str, list[str]]:
    """Top-level groups, in the DAG's order, with their task ids."""
    groups: dict[str, list[str]] = {}
    for task_id in task_ids:
        groups.setdefault(group_of(task_id), []).append(task_id)
    return groups


@dataclass(frozen=True)
class GroupState:
    name: str
    tasks: int
    finished: int
    running: bool
    failed: tuple[str, ...]

    @property
    def done(self) -> bool:
        return self.finished == self.tasks


def group_states(
    groups: Mapping[str, list[str]], states: Mapping[str, str | None]
) -> list[GroupState]:
    """Each group's progress from the task instances' states (task id -> state)."""
    result = []
    for name, task_ids in groups.items():
        task_states = [str(states.get(task_id) or "") for task_id in task_ids]
        result.append(
            GroupState(
                name=name,
                tasks=len(task_ids),
                finished=sum(state in FINISHED for state in task_states),
                running=any(state in RUNNING for state in task_states),
                failed=tuple(
                    task_id
                    for task_id, state in zip(task_ids, task_states, strict=True)
                    if state in FAILED
                ),
            )
        )
    return result


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}"


def progress_lines(
    before: list[GroupState] | None, now: list[GroupState], elapsed: float
) -> list[str]:
    """The lines to print for the change from ``before`` to ``now`` (none if nothing changed)."""
    total = len(now)
    done = sum(group.done for group in now)
    previous = {group.name: group for group in before or []}
    failed, finished, started = [], [], []
    prefix = f"  [{done}/{total} groups] {_clock(elapsed)}"
    for group in now:
        was = previous.get(group.name)
        for task_id in group.failed:
            if was is None or task_id not in was.failed:
                failed.append(f"{prefix}  FAILED {task_id}")
        if group.done and (was is None or not was.done):
            finished.append(f"{prefix}  done     {group.name}{_tasks(group)}")
        elif group.running and (was is None or (not was.running and was.finished == 0)):
            # Once, when the group starts: the heartbeat counts its tasks from then on.
            started.append(f"{prefix}  running  {group.name}{_tasks(group)}")
    # What ended before what began, as it happened between two polls.
    return failed + finished + started


def heartbeat_line(now: list[GroupState], elapsed: float) -> str:
    total = len(now)
    done = sum(group.done for group in now)
    # Started and not done: between two of its tasks a group is not "running".
    running = [f"{g.name}{_tasks(g)}" for g in now if not g.done and (g.running or g.finished)]
    return f"  [{done}/{total} groups] {_clock(elapsed)}  still running: " + (
        ", ".join(running) if running else "(scheduling)"
    )


def _tasks(group: GroupState) -> str:
    if group.tasks == 1:
        return ""
    return f" ({group.finished} of {group.tasks} tasks)"


class RunProgress(threading.Thread):
    """Polls the newest run of ``dag`` that starts after it, printing progress to ``out``."""

    def __init__(self, dag, out: TextIO, *, interval: float = 1.0, heartbeat: float = 15.0) -> None:
        super().__init__(name="steward-demo-progress", daemon=True)
        self.dag_id = dag.dag_id
        self.groups = groups_in_order(task.task_id for task in dag.tasks)
        self.out = out
        self.interval = interval
        self.heartbeat = heartbeat
        self.started = time.monotonic()
        self._stopping = threading.Event()
        self._last_run_id = self._newest_run_id()
        self._seen: list[GroupState] | None = None

    def stop(self) -> None:
        """Stop polling, print the final state once, and wait for the thread."""
        self._stopping.set()
        if self.is_alive():
            self.join(timeout=10)
        self._poll()

    def run(self) -> None:
        last_line = time.monotonic()
        while not self._stopping.wait(self.interval):
            if self._poll():
                last_line = time.monotonic()
            elif time.monotonic() - last_line >= self.heartbeat and self._seen is not None:
                self._write([heartbeat_line(self._seen, time.monotonic() - self.started)])
                last_line = time.monotonic()

    def _poll(self) -> bool:
        """Read the states; print what changed; True if anything was printed."""
        try:
            states = self._task_states()
        except Exception:  # the metadata DB may be busy (SQLite): try again next time
            return False
        if states is None:
            return False
        now = group_states(self.groups, states)
        lines = progress_lines(self._seen, now, time.monotonic() - self.started)
        self._seen = now
        self._write(lines)
        return bool(lines)

    def _write(self, lines: list[str]) -> None:
        for line in lines:
            self.out.write(line + "\n")
        self.out.flush()

    def _newest_run_id(self) -> int:
        import sqlalchemy as sa
        from airflow.models.dagrun import DagRun
        from airflow.utils.session import create_session

        with create_session() as session:
            newest = session.scalar(
                sa.select(sa.func.max(DagRun.id)).where(DagRun.dag_id == self.dag_id)
            )
        return int(newest or 0)

    def _task_states(self) -> dict[str, str | None] | None:
        import sqlalchemy as sa
        from airflow.models.dagrun import DagRun
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.session import create_session

        with create_session() as session:
            run_id = session.scalar(
                sa.select(DagRun.run_id)
                .where(DagRun.dag_id == self.dag_id, DagRun.id > self._last_run_id)
                .order_by(DagRun.id.desc())
                .limit(1)
            )
            if run_id is None:
                return None
            rows = session.execute(
                sa.select(TaskInstance.task_id, TaskInstance.state).where(
                    TaskInstance.dag_id == self.dag_id, TaskInstance.run_id == run_id
                )
            ).all()
        # TaskInstanceState is a str enum: its value is the state's name.
        return {task_id: getattr(state, "value", state) for task_id, state in rows}
