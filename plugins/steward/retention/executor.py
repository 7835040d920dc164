"""Apply retention: delete or anonymise the due rows dbt computed, safely.

dbt's ``steward.retention_due_keys`` holds the due rows of every policy (keys
only, holds excluded). The executor walks each policy's keys in keyset batches
ordered by ``(sort_key, record_key)`` (primary-key ranges). One batch is ONE SQL
statement in one transaction: the DELETE (or UPDATE plus the anonymisation
ledger), the queue of files to remove, and the audit row carrying the batch's
key range and the sha256 of its keys. The audit row is the commit marker:
a run killed at any point resumes after the last audited key of each policy,
so nothing is done twice or skipped. Files are removed after their batch
commits; a file already gone is not an error.

Safety: dry run by default (plans, changes nothing); a circuit breaker stops a
policy whose due rows exceed ``max_share`` of its table until someone runs
``steward retention approve``; one executor at a time (advisory lock).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import time
import uuid
from typing import Any

import sqlalchemy as sa
from psycopg2 import sql

from steward import schema, warehouse
from steward.engine import batches, files
from steward.retention import dbt_runner, strategies
from steward.retention.approvals import approve
from steward.retention.batch_sql import SAFE_TYPE, batch_statement
from steward.retention.policies import Policy, PolicySet, load_policies
from steward.retention.run_model import (
    PolicyOutcome,
    RetentionError,
    RunOptions,
    RunTimings,
    summarise,
    totals_from_audit,
)

# Callers import these from here; they live with what they are for.
__all__ = [
    "SAFE_TYPE",
    "Executor",
    "PolicyOutcome",
    "RetentionError",
    "RunOptions",
    "RunTimings",
    "approve",
    "batch_statement",
    "run",
    "summarise",
    "totals_from_audit",
]

log = logging.getLogger(__name__)

# Crash-test hook: "POINT:N" or "POINT:N@schema.table" kills this process with
# SIGKILL at POINT of its N-th batch (of that policy); POINT is before_commit,
# after_commit or after_files; "after_plan:1" kills once the plan is recorded.
KILL_HOOK_ENV = "STEWARD_RETENTION_KILL_AT"
RUN_LOCK = "steward.retention.executor"
# The legal holds as dbt's staging view shows them; a digest of them is taken
# when the plan is built and re-checked inside every batch before it commits.
HOLDS_VIEW = ("staging", "stg_compliance__legal_holds")
# The same expression as the retention_plan mart's holds_digest.
HOLDS_DIGEST = sql.SQL(
    "select md5(coalesce(string_agg(legal_holds::text, '|' order by legal_holds.hold_id), ''))"
    " from {} as legal_holds"
).format(sql.Identifier(*HOLDS_VIEW))
LOCK_TIMEOUT = "10s"
ACTOR = "steward.retention"


def _kill_point(point: str, counter: int, policy_counter: int = 0, policy: str = "") -> None:
    # Every named point is also one of the engine's numbered crash points.
    batches.crashpoint(f"retention_{point}")
    hook = os.environ.get(KILL_HOOK_ENV, "")
    if hook and hook in (f"{point}:{counter}", f"{point}:{policy_counter}@{policy}"):
        os.kill(os.getpid(), signal.SIGKILL)


def _execution_order(policies: list[Policy]) -> list[Policy]:
    """Children first: a table others reach their clock or subject through goes last
    (recordings before calls), so a later plan can still find a row's subject."""
    from steward import datamap

    data_map = datamap.load_data_map()
    referenced = set()
    for table in data_map.tables:
        if table.subject_key_references:
            referenced.add(table.subject_key_references)
        if table.retention_clock_table:
            referenced.add(table.retention_clock_table)
    return sorted(policies, key=lambda p: (p.name in referenced, p.name))


class Executor:
    """One retention run over one warehouse."""

    def __init__(self, url: str | None = None, policy_set: PolicySet | None = None) -> None:
        self.url = url or warehouse.database_url()
        self.engine = warehouse.engine(self.url)
        self.policy_set = policy_set or load_policies()
        self.batch_counter = 0
        self.timings = RunTimings()
        self.holds_digest = ""

    # -- the connection ---------------------------------------------------------

    def _connect(self):
        conn = warehouse.psycopg2_connect(self.url)
        conn.autocommit = False
        return conn

    def _log(self, run_id: str | None, event: str, policy: str | None = None, **detail) -> None:
        log.info("retention %s %s %s", event, policy or "", detail)
        with self.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "insert into steward.retention_log (run_id, policy_name, event, detail)"
                    " values (:run_id, :policy, :event, cast(:detail as jsonb))"
                ),
                {
                    "run_id": run_id,
                    "policy": policy,
                    "event": event,
                    "detail": json.dumps(detail, default=str),
                },
            )

    # -- the run ----------------------------------------------------------------

    def run(self, options: RunOptions) -> dict[str, Any]:
        """Plan (and with ``options.apply`` execute) retention; return the summary."""
        selected = self.policy_set.select(list(options.policies) or None)
        from steward.retention.policies import check_against_warehouse

        column_types = check_against_warehouse(self.policy_set, self.engine)
        schema.upgrade(self.engine)
        lock = self._connect()
        lock.autocommit = True
        try:
            with lock.cursor() as cur:
                cur.execute("select pg_try_advisory_lock(hashtext(%s))", (RUN_LOCK,))
                if not cur.fetchone()[0]:
                    raise RetentionError("another retention run holds the executor lock")
            return self._run_locked(options, selected, column_types)
        finally:
            lock.close()

    def next_as_of(self, apply: bool) -> dt.datetime:
        """The as-of instant the next run (``options.as_of`` unset) will plan for:
        an interrupted applied run's own, when an applied run resumes, else now.

        The nightly DAG asks before Cosmos builds the retention models, builds them
        for this instant, then runs with ``as_of`` set to it and ``build=False``.
        """
        from steward.retention.policies import check_against_warehouse

        check_against_warehouse(self.policy_set, self.engine)  # fail before dbt runs
        schema.upgrade(self.engine)
        if apply:
            with self.engine.connect() as conn:
                resumed = conn.execute(
                    sa.text(
                        "select as_of from steward.retention_runs where run_mode = 'apply'"
                        " and run_status = 'running' order by started_at desc limit 1"
                    )
                ).scalar()
            if resumed is not None:
                return resumed
        return dt.datetime.now(dt.UTC).replace(microsecond=0)

    def _start_or_resume(self, options: RunOptions, selected: list[Policy]) -> tuple[dict, bool]:
        mode = "apply" if options.apply else "dry_run"
        with self.engine.begin() as conn:
            if options.apply:
                row = (
                    conn.execute(
                        sa.text(
                            "select run_id, as_of, max_share, batch_size, policy_filter"
                            " from steward.retention_runs where run_mode = 'apply'"
                            " and run_status = 'running' order by started_at desc limit 1"
                        )
                    )
                    .mappings()
                    .first()
                )
                if row is not None:
                    conn.execute(
                        sa.text(
                            "update steward.retention_runs set attempts = attempts + 1"
                            " where run_id = :run_id"
                        ),
                        {"run_id": row["run_id"]},
                    )
                    return dict(row), True
            as_of = options.as_of or dt.datetime.now(dt.UTC).replace(microsecond=0)
            if as_of.tzinfo is None:
                as_of = as_of.replace(tzinfo=dt.UTC)
            run = {
                "run_id": uuid.uuid4().hex,
                "as_of": as_of,
                "max_share": (
                    options.max_share
                    if options.max_share is not None
                    else self.policy_set.max_share
                ),
                "batch_size": options.batch_size or self.policy_set.batch_size,
                "policy_filter": [p.name for p in selected] if options.policies else None,
            }
            conn.execute(
                sa.text(
                    "insert into steward.retention_runs (run_id, run_mode, run_status, as_of,"
                    " max_share, batch_size, policy_filter) values (:run_id, :mode, 'running',"
                    " :as_of, :max_share, :batch_size, :policy_filter)"
                ),
                {**run, "mode": mode},
            )
            return run, False

    def _run_locked(self, options, selected, column_types) -> dict[str, Any]:
        run, resumed = self._start_or_resume(options, selected)
        run_id = run["run_id"]
        if resumed:  # the interrupted run's own selection, whatever this call asked
            selected = self.policy_set.select(run["policy_filter"] or None)
        as_of_text = run["as_of"].isoformat()
        overrides = self.policy_set.period_overrides()
        self._log(
            run_id,
            "run_resumed" if resumed else "run_started",
            mode="apply" if options.apply else "dry_run",
            as_of=as_of_text,
            policies=len(selected),
        )
        started = time.monotonic()
        try:
            if options.build:
                dbt_runner.build(self.url, as_of_text, overrides)
            self._check_plan_as_of(run["as_of"])
            self.holds_digest = self._plan_holds_digest()
            outcomes = self._plan(run, selected, options.apply)
            _kill_point("after_plan", 1)
            if options.apply:
                key = self._hmac_key_if_needed(selected, outcomes)
                for policy in _execution_order(selected):
                    outcome = outcomes[policy.name]
                    if outcome.status in ("pending", "running"):
                        self._execute_policy(run, policy, outcome, column_types, key)
                        outcome.status = "done"
            totals_from_audit(self.engine, run_id, outcomes)
            verification = None
            if options.apply and options.verify and options.build:
                completed = [name for name, o in outcomes.items() if o.status == "done"]
                verification = dbt_runner.verify(self.url, as_of_text, overrides, completed)
            summary = summarise(
                run, options.apply, resumed, outcomes, verification, started, self.timings
            )
        except BaseException as exc:
            if not options.apply:
                self._finish(run_id, "failed", None)
            self._log(run_id, "run_failed", error=type(exc).__name__)
            raise
        self._finish(run_id, "done", summary)
        self._log(run_id, "run_done", **summary["totals"])
        return summary

    def _holds_digest(self, cur=None) -> str:
        if cur is not None:
            cur.execute(HOLDS_DIGEST)
            return cur.fetchone()[0]
        conn = self._connect()
        try:
            with conn.cursor() as own:
                return self._holds_digest(own)
        finally:
            conn.close()

    def _plan_holds_digest(self) -> str:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.text("select max(holds_digest) from steward.retention_plan")
            ).scalar()

    def _check_plan_as_of(self, as_of: dt.datetime) -> None:
        with self.engine.connect() as conn:
            built = conn.execute(sa.text("select max(as_of) from steward.retention_plan")).scalar()
        if built is not None and built != as_of:
            raise RetentionError(
                f"steward.retention_plan was built for {built.isoformat()}, the run is for "
                f"{as_of.isoformat()}: build the retention models with this as-of"
            )

    def _hmac_key_if_needed(self, selected, outcomes) -> strategies.HmacKey | None:
        needs = [
            p
            for p in selected
            if outcomes[p.name].status in ("pending", "running")
            and any(strategies.STRATEGIES[m.strategy].needs_secret for m in p.masking)
        ]
        if not needs:
            return None
        key = self.policy_set.hmac_key()
        if key is None:
            raise RetentionError(
                f"policies {', '.join(p.name for p in needs)} hash with HMAC but no secret is "
                f"set ({self.policy_set.secret_env} or Airflow connection "
                f"{self.policy_set.secret_airflow_connection})"
            )
        return key

    # -- planning and the circuit breaker --------------------------------------

    def _plan(self, run: dict, selected: list[Policy], apply: bool) -> dict[str, PolicyOutcome]:
        run_id = run["run_id"]
        with self.engine.begin() as conn:
            plan = {
                row["policy_name"]: row
                for row in conn.execute(sa.text("select * from steward.retention_plan")).mappings()
            }
            recorded = {
                row["policy_name"]: row
                for row in conn.execute(
                    sa.text("select * from steward.retention_run_policies where run_id = :r"),
                    {"r": run_id},
                ).mappings()
            }
            outcomes: dict[str, PolicyOutcome] = {}
            for policy in selected:
                if policy.name in recorded:  # resumed: the first attempt's decision stands
                    row = recorded[policy.name]
                    outcomes[policy.name] = PolicyOutcome(
                        policy.name,
                        policy.rule_name,
                        policy.action,
                        row["policy_status"],
                        overdue=row["overdue_rows"],
                        held_back=row["held_rows"],
                        due=row["due_rows"],
                        table_rows=row["table_rows"],
                        due_share=row["due_share"],
                        stopped_by_breaker=row["policy_status"] == "stopped_by_breaker",
                    )
                    continue
                row = plan.get(policy.name)
                if row is None:
                    raise RetentionError(f"{policy.name}: not in steward.retention_plan")
                outcome = PolicyOutcome(
                    policy.name,
                    policy.rule_name,
                    policy.action,
                    "pending",
                    overdue=int(row["overdue_rows"]),
                    held_back=int(row["held_rows"]),
                    due=int(row["due_rows"]),
                    table_rows=int(row["table_rows"]),
                    due_share=float(row["due_share"]),
                )
                approval_id = None
                if not policy.enabled:
                    outcome.status = "disabled"
                elif outcome.due == 0:
                    outcome.status = "done" if apply else "nothing_due"
                elif outcome.due_share > run["max_share"]:
                    approval_id = conn.execute(
                        sa.text(
                            "select approval_id from steward.retention_approvals"
                            " where policy_name = :p and consumed_by_run is null"
                            " and approved_due_rows >= :due order by approved_at desc limit 1"
                        ),
                        {"p": policy.name, "due": outcome.due},
                    ).scalar()
                    if approval_id is None:
                        outcome.status = "stopped_by_breaker"
                        outcome.stopped_by_breaker = True
                if outcome.status == "pending" and not apply:
                    outcome.status = "would_run"
                outcomes[policy.name] = outcome
                conn.execute(
                    sa.text(
                        "insert into steward.retention_run_policies (run_id, policy_name,"
                        " rule_name, retention_action, policy_status, overdue_rows, held_rows,"
                        " due_rows, table_rows, due_share, approval_id) values (:run_id, :policy,"
                        " :rule, :action, :status, :overdue, :held, :due, :table_rows, :share,"
                        " :approval_id)"
                    ),
                    {
                        "run_id": run_id,
                        "policy": policy.name,
                        "rule": policy.rule_name,
                        "action": policy.action,
                        "status": outcome.status,
                        "overdue": outcome.overdue,
                        "held": outcome.held_back,
                        "due": outcome.due,
                        "table_rows": outcome.table_rows,
                        "share": outcome.due_share,
                        "approval_id": approval_id,
                    },
                )
        for outcome in outcomes.values():
            if outcome.stopped_by_breaker:
                self._log(
                    run_id,
                    "stopped_by_breaker",
                    outcome.policy,
                    due=outcome.due,
                    table_rows=outcome.table_rows,
                    share=round(outcome.due_share, 4),
                    max_share=run["max_share"],
                )
        return outcomes

    # -- execution ---------------------------------------------------------------

    def _set_status(self, run_id: str, policy: str, status: str, conn=None) -> None:
        statement = (
            "update steward.retention_run_policies set policy_status = %s,"
            " updated_at = clock_timestamp() where run_id = %s and policy_name = %s"
        )
        if conn is not None:
            with conn.cursor() as cur:
                cur.execute(statement, (status, run_id, policy))
            return
        own = self._connect()
        try:
            with own.cursor() as cur:
                cur.execute(statement, (status, run_id, policy))
            own.commit()
        finally:
            own.close()

    def _execute_policy(self, run, policy: Policy, outcome, column_types, key) -> None:
        run_id = run["run_id"]
        self._set_status(run_id, policy.name, "running")
        self._log(run_id, "policy_started", policy.name, due=outcome.due)
        statement = batch_statement(policy, column_types[policy.name], key)
        # Files queued by a batch whose process died before removing them.
        self._remove_files(run_id, policy.name)
        conn = self._connect()
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "select batch_no, last_sort_key, last_record_key from steward.retention_audit"
                    " where run_id = %s and policy_name = %s order by batch_no desc limit 1",
                    (run_id, policy.name),
                )
                last = cur.fetchone()
            conn.commit()
            batch_no, after_sort, after_key = last if last else (0, -(2**63), "")
            policy_batches = 0
            while True:
                batch_no += 1
                self.batch_counter += 1
                policy_batches += 1
                here = (self.batch_counter, policy_batches, policy.name)
                began = time.monotonic()
                with conn.cursor() as cur:
                    cur.execute(
                        sql.SQL("set local lock_timeout = {}").format(sql.Literal(LOCK_TIMEOUT))
                    )
                    cur.execute(
                        statement,
                        {
                            "run_id": run_id,
                            "policy": policy.name,
                            "rule": policy.rule_name,
                            "action": policy.action,
                            "batch_no": batch_no,
                            "after_sort": after_sort,
                            "after_key": after_key,
                            "limit": run["batch_size"],
                            **(key.params if key is not None else {}),
                        },
                    )
                    row = cur.fetchone()
                if row is None:  # no keys left after the last batch
                    conn.rollback()
                    break
                with conn.cursor() as cur:
                    if self._holds_digest(cur) != self.holds_digest:
                        # A hold changed since the plan: undo this batch; the next
                        # run rebuilds the plan with it and resumes here.
                        conn.rollback()
                        raise RetentionError(
                            "legal holds changed during the run: rerun to rebuild the plan"
                        )
                # The human audit trail: this batch, in the same transaction.
                batches.audit_batch(
                    conn,
                    ACTOR,
                    f"retention.{policy.action}.batch",
                    {
                        "run_id": run_id,
                        "policy": policy.name,
                        "rule": policy.rule_name,
                        "batch_no": batch_no,
                        "rows": int(row[0]),
                        "keys_sha256": row[3],
                    },
                )
                _kill_point("before_commit", *here)
                conn.commit()
                elapsed = time.monotonic() - began
                self.timings.batches += 1
                self.timings.batch_seconds += elapsed
                self.timings.longest_batch_seconds = max(
                    self.timings.longest_batch_seconds, elapsed
                )
                _kill_point("after_commit", *here)
                after_sort, after_key = row[1], row[2]
                if policy.file_column:
                    self._remove_files(run_id, policy.name, batch_no)
                    _kill_point("after_files", *here)
            with conn.cursor() as cur:
                self._set_status(run_id, policy.name, "done", conn)
                cur.execute(
                    "update steward.retention_approvals set consumed_by_run = %s"
                    " where approval_id = (select approval_id from steward.retention_run_policies"
                    " where run_id = %s and policy_name = %s)",
                    (run_id, run_id, policy.name),
                )
            conn.commit()
        finally:
            conn.close()
        self._log(run_id, "policy_done", policy.name)

    def _remove_files(self, run_id: str, policy: str, batch_no: int | None = None) -> None:
        """Remove queued files (fsspec: local paths and s3:// alike); missing is fine."""
        conn = self._connect()
        try:
            with conn.cursor() as cur:
                query = (
                    "select storage_path from steward.retention_files where run_id = %s"
                    " and policy_name = %s and removed_at is null"
                )
                params: tuple = (run_id, policy)
                if batch_no is not None:
                    query += " and batch_no = %s"
                    params = (*params, batch_no)
                cur.execute(query + " order by storage_path", params)
                pending = [row[0] for row in cur.fetchall()]
            conn.commit()
            # fsspec, after the batch committed; a failure stays queued (retried by
            # the next run) with its error class, and the run is not verified.
            for path, outcome, error in files.remove(pending):
                batches.crashpoint("retention_file_removed")
                with conn.cursor() as cur:
                    cur.execute(
                        "update steward.retention_files set removed_at = case when %s"
                        " then clock_timestamp() end, outcome = %s"
                        " where run_id = %s and policy_name = %s and storage_path = %s",
                        (
                            outcome in files.DONE_OUTCOMES,
                            outcome if error is None else f"{outcome}: {error}",
                            run_id,
                            policy,
                            path,
                        ),
                    )
            conn.commit()
        finally:
            conn.close()

    def _finish(self, run_id: str, status: str, summary: dict | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "update steward.retention_runs set run_status = :status,"
                    " finished_at = clock_timestamp(), summary = cast(:summary as jsonb)"
                    " where run_id = :run_id"
                ),
                {
                    "status": status,
                    "run_id": run_id,
                    "summary": None if summary is None else json.dumps(summary, default=str),
                },
            )


def run(options: RunOptions, url: str | None = None) -> dict[str, Any]:
    """Validate the policies, then plan or apply retention (see :class:`Executor`)."""
    return Executor(url).run(options)
