"""What a retention run takes and reports: its options, each policy's outcome, the summary."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa


class RetentionError(RuntimeError):
    """The run cannot proceed (another executor runs, no secret, dbt failed ...)."""


@dataclass
class PolicyOutcome:
    policy: str
    rule: str
    action: str
    status: str
    overdue: int = 0
    held_back: int = 0
    due: int = 0
    table_rows: int = 0
    due_share: float = 0.0
    deleted: int = 0
    anonymised: int = 0
    files_removed: int = 0
    files_missing: int = 0
    files_failed: int = 0
    batches: int = 0
    stopped_by_breaker: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "rule": self.rule,
            "action": self.action,
            "status": self.status,
            "overdue": self.overdue,
            "held_back": self.held_back,
            "due": self.due,
            "table_rows": self.table_rows,
            "due_share": round(self.due_share, 6),
            "deleted": self.deleted,
            "anonymised": self.anonymised,
            "files_removed": self.files_removed,
            "files_missing": self.files_missing,
            "files_failed": self.files_failed,
            "batches": self.batches,
            "stopped_by_breaker": self.stopped_by_breaker,
        }


@dataclass
class RunTimings:
    longest_batch_seconds: float = 0.0
    batch_seconds: float = 0.0
    batches: int = 0


@dataclass
class RunOptions:
    apply: bool = False
    max_share: float | None = None
    policies: tuple[str, ...] = ()
    batch_size: int | None = None
    as_of: dt.datetime | None = None
    build: bool = True
    verify: bool = True


@dataclass
class _Batch:
    number: int
    after_sort: int
    after_key: str
    timings: RunTimings = field(default_factory=RunTimings)


def totals_from_audit(engine: sa.Engine, run_id: str, outcomes: dict[str, PolicyOutcome]) -> None:
    with engine.connect() as conn:
        for policy, action, rows, batch_count in conn.execute(
            sa.text(
                "select policy_name, retention_action, sum(row_count), count(*)"
                " from steward.retention_audit where run_id = :r group by 1, 2"
            ),
            {"r": run_id},
        ):
            if policy not in outcomes:
                continue
            if action == "anonymise":
                outcomes[policy].anonymised = int(rows)
            else:
                outcomes[policy].deleted = int(rows)
            outcomes[policy].batches = int(batch_count)
        for policy, outcome, count in conn.execute(
            sa.text(
                "select policy_name, outcome, count(*) from steward.retention_files"
                " where run_id = :r and removed_at is not null group by 1, 2"
            ),
            {"r": run_id},
        ):
            if policy in outcomes:
                if outcome == "removed":
                    outcomes[policy].files_removed = int(count)
                else:
                    outcomes[policy].files_missing = int(count)
        for policy, count in conn.execute(
            sa.text(
                "select policy_name, count(*) from steward.retention_files"
                " where run_id = :r and removed_at is null and outcome like 'failed%'"
                " group by 1"
            ),
            {"r": run_id},
        ):
            if policy in outcomes:
                outcomes[policy].files_failed = int(count)


def summarise(run, apply, resumed, outcomes, verification, started, timings) -> dict[str, Any]:
    rows = [outcomes[name].to_dict() for name in sorted(outcomes)]
    totals = {
        key: sum(row[key] for row in rows)
        for key in (
            "deleted",
            "anonymised",
            "held_back",
            "files_removed",
            "files_missing",
            "files_failed",
        )
    }
    if verification is not None and totals["files_failed"]:
        # A file that could not be removed: the run did not do all it had to.
        verification = {**verification, "passed": False, "files_failed": totals["files_failed"]}
    totals["due"] = sum(row["due"] for row in rows)
    totals["stopped_by_breaker"] = sum(row["stopped_by_breaker"] for row in rows)
    return {
        "run_id": run["run_id"],
        "mode": "apply" if apply else "dry_run",
        "resumed": resumed,
        "as_of": run["as_of"].isoformat(),
        "max_share": run["max_share"],
        "batch_size": run["batch_size"],
        "policies": rows,
        "totals": totals,
        "stopped_by_breaker": [row["policy"] for row in rows if row["stopped_by_breaker"]],
        "verification": verification,
        "seconds": round(time.monotonic() - started, 3),
        "longest_batch_seconds": round(timings.longest_batch_seconds, 4),
    }
