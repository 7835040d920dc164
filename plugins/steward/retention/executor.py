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
import re
import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from psycopg2 import sql

from steward import warehouse
from steward.retention import dbt_runner, store, strategies
from steward.retention.policies import Policy, PolicyError, PolicySet, load_policies

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
SAFE_TYPE = re.compile(r"^[a-z][a-z0-9 ]*$")
LOCK_TIMEOUT = "10s"
FILE_WORKERS = 8


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


def _kill_point(point: str, counter: int, policy_counter: int = 0, policy: str = "") -> None:
    hook = os.environ.get(KILL_HOOK_ENV, "")
    if hook and hook in (f"{point}:{counter}", f"{point}:{policy_counter}@{policy}"):
        os.kill(os.getpid(), signal.SIGKILL)


def _remove_file(path: str) -> str:
    """Remove one file by path or fsspec URL: ``removed`` or ``already_gone``."""
    import fsspec

    filesystem, local = fsspec.core.url_to_fs(path)
    try:
        filesystem.rm(local)
    except FileNotFoundError:
        return "already_gone"
    return "removed"


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
        store.ensure_tables(self.engine)
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
            self._totals_from_audit(run_id, outcomes)
            verification = None
            if options.apply and options.verify and options.build:
                completed = [name for name, o in outcomes.items() if o.status == "done"]
                verification = dbt_runner.verify(self.url, as_of_text, overrides, completed)
            summary = self._summary(run, options.apply, resumed, outcomes, verification, started)
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
        statement = self._batch_statement(policy, column_types[policy.name], key)
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

    def _batch_statement(self, policy: Policy, types: dict[str, str], key) -> sql.Composed:
        table = sql.Identifier(policy.schema, policy.table)
        matches = []
        for position, column in enumerate(policy.primary_key, start=1):
            data_type = types[column]
            if not SAFE_TYPE.match(data_type):
                raise RetentionError(f"{policy.name}.{column}: unexpected type {data_type!r}")
            matches.append(
                sql.SQL("t.{column} = cast(b.key_parts[{position}] as {data_type})").format(
                    column=sql.Identifier(column),
                    position=sql.Literal(position),
                    data_type=sql.SQL(data_type),
                )
            )
        match = sql.SQL(" and ").join(matches)
        if len(policy.primary_key) == 1:
            # One key column: probe its index with `= any(array(...))`; a join
            # lets the planner hash the batch against a full scan of the table.
            (column,) = policy.primary_key
            where = sql.SQL(
                "t.{column} = any(array(select cast(b.key_parts[1] as {data_type})"
                " from batch as b))"
            ).format(column=sql.Identifier(column), data_type=sql.SQL(types[column]))
            from_batch, using_batch = sql.SQL(""), sql.SQL("")
            record_key = sql.SQL("t.{column}::text").format(column=sql.Identifier(column))
        else:
            where, record_key = match, sql.SQL("b.record_key")
            from_batch, using_batch = sql.SQL(" from batch as b"), sql.SQL(" using batch as b")
        extra_ctes = sql.SQL("")
        if policy.action == "anonymise":
            assignments = sql.SQL(", ").join(
                sql.SQL("{column} = {expression}").format(
                    column=sql.Identifier(masked.column),
                    expression=strategies.STRATEGIES[masked.strategy].sql(
                        sql.SQL("t.") + sql.Identifier(masked.column),
                        types[masked.column],
                        masked.params,
                        key,
                    ),
                )
                for masked in policy.masking
            )
            change = sql.SQL(
                "update {table} as t set {assignments}{from_} where {where}"
                " returning {record_key} as record_key"
            ).format(
                table=table,
                assignments=assignments,
                from_=from_batch,
                where=where,
                record_key=record_key,
            )
            extra_ctes = sql.SQL(
                ", ledger as (insert into steward.retention_anonymised (policy_name, record_key,"
                " run_id) select %(policy)s, record_key, %(run_id)s from affected"
                " on conflict do nothing)"
            )
        else:
            returning = sql.SQL("{record_key} as record_key").format(record_key=record_key)
            if policy.file_column:
                returning += sql.SQL(", t.{file_column} as file_path").format(
                    file_column=sql.Identifier(policy.file_column)
                )
                extra_ctes = sql.SQL(
                    ", files as (insert into steward.retention_files (run_id, policy_name,"
                    " batch_no, storage_path) select %(run_id)s, %(policy)s, %(batch_no)s,"
                    " file_path from affected where file_path is not null on conflict do nothing)"
                )
            change = sql.SQL(
                "delete from {table} as t{using_} where {where} returning {ret}"
            ).format(
                table=table,
                using_=using_batch,
                where=where,
                ret=returning,
            )
        return sql.SQL(
            """
            with batch as materialized (
                select d.record_key, d.key_parts, d.sort_key
                from steward.retention_due_keys as d
                where d.policy_name = %(policy)s
                  and (d.sort_key, d.record_key) > (%(after_sort)s, %(after_key)s)
                order by d.sort_key, d.record_key
                limit %(limit)s
            ),
            affected as ({change}){extra_ctes},
            first_row as (
                select sort_key, record_key from batch order by sort_key, record_key limit 1
            ),
            last_row as (
                select sort_key, record_key from batch
                order by sort_key desc, record_key desc limit 1
            ),
            bounds as (
                select
                    first_row.sort_key as first_sort, first_row.record_key as first_key,
                    last_row.sort_key as last_sort, last_row.record_key as last_key,
                    1 as batch_rows
                from first_row cross join last_row
            )
            insert into steward.retention_audit (run_id, policy_name, rule_name,
                retention_action, batch_no, row_count, keys_sha256, first_sort_key,
                first_record_key, last_sort_key, last_record_key, started_at)
            select %(run_id)s, %(policy)s, %(rule)s, %(action)s, %(batch_no)s,
                (select count(*) from affected),
                encode(sha256(convert_to(coalesce(
                    (select string_agg(record_key, E'\\n' order by record_key) from affected),
                    ''), 'UTF8')), 'hex'),
                bounds.first_sort, bounds.first_key, bounds.last_sort, bounds.last_key,
                statement_timestamp()
            from bounds
            where bounds.batch_rows > 0
            returning row_count, last_sort_key, last_record_key
            """
        ).format(change=change, extra_ctes=extra_ctes)

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
            outcomes: dict[str, list[str]] = {"removed": [], "already_gone": []}
            # Removing a file is I/O wait (a round trip on S3): a few at a time.
            with ThreadPoolExecutor(max_workers=FILE_WORKERS) as pool:
                for path, outcome in zip(pending, pool.map(_remove_file, pending), strict=True):
                    outcomes[outcome].append(path)
            with conn.cursor() as cur:
                for outcome, paths in outcomes.items():
                    if paths:
                        cur.execute(
                            "update steward.retention_files set removed_at = clock_timestamp(),"
                            " outcome = %s where run_id = %s and policy_name = %s"
                            " and storage_path = any(%s)",
                            (outcome, run_id, policy, paths),
                        )
            conn.commit()
        finally:
            conn.close()

    # -- the summary --------------------------------------------------------------

    def _totals_from_audit(self, run_id: str, outcomes: dict[str, PolicyOutcome]) -> None:
        with self.engine.connect() as conn:
            for policy, action, rows, batches in conn.execute(
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
                outcomes[policy].batches = int(batches)
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

    def _summary(self, run, apply, resumed, outcomes, verification, started) -> dict[str, Any]:
        rows = [outcomes[name].to_dict() for name in sorted(outcomes)]
        totals = {
            key: sum(row[key] for row in rows)
            for key in ("deleted", "anonymised", "held_back", "files_removed", "files_missing")
        }
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
            "longest_batch_seconds": round(self.timings.longest_batch_seconds, 4),
        }

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


def approve(policy_name: str, approved_by: str, url: str | None = None) -> dict[str, Any]:
    """Approve a policy the circuit breaker stopped, up to the due rows it reported.

    The approval is consumed by the next applied run that completes the policy;
    a larger due count than approved stops it again.
    """
    policy_set = load_policies()
    matches = policy_set.select([policy_name])
    engine = warehouse.engine(url)
    store.ensure_tables(engine)
    approved = []
    with engine.begin() as conn:
        for policy in matches:
            stopped = (
                conn.execute(
                    sa.text(
                        "select rp.run_id, rp.due_rows from steward.retention_run_policies rp"
                        " join steward.retention_runs r using (run_id)"
                        " where rp.policy_name = :p and rp.policy_status = 'stopped_by_breaker'"
                        " order by r.started_at desc limit 1"
                    ),
                    {"p": policy.name},
                )
                .mappings()
                .first()
            )
            if stopped is None:
                continue
            approval_id = conn.execute(
                sa.text(
                    "insert into steward.retention_approvals (policy_name, approved_due_rows,"
                    " approved_by, stopped_run_id) values (:p, :due, :by, :run)"
                    " returning approval_id"
                ),
                {
                    "p": policy.name,
                    "due": stopped["due_rows"],
                    "by": approved_by,
                    "run": stopped["run_id"],
                },
            ).scalar()
            approved.append(
                {
                    "policy": policy.name,
                    "approved_due_rows": int(stopped["due_rows"]),
                    "approval_id": int(approval_id),
                }
            )
    if not approved:
        raise PolicyError([f"{policy_name}: no run stopped it at the circuit breaker"])
    return {"approved": approved}


def run(options: RunOptions, url: str | None = None) -> dict[str, Any]:
    """Validate the policies, then plan or apply retention (see :class:`Executor`)."""
    return Executor(url).run(options)
