"""A destructive batch: its changes, its plan rows and its audit row commit together.

The one batch loop of every job that changes personal data (DSAR erasure and
the suppression re-scan through it, correction, the purge of Steward's derived
copies, free-text redaction). A job writes a *plan*: rows of a plan table with
at least ``row_key jsonb``, ``action text`` and ``done boolean``, one per table
row to change (what to change is decided once, set-based, in SQL). Then
:func:`run_batches` executes the pending rows of one :class:`Plan` scope:

1. claim up to ``batch_size`` pending rows (``for update skip locked``, in
   ``row_key`` order) and stage them in the temporary table ``engine_batch``
   (``row_key jsonb, action text``);
2. call the job's ``apply(cursor)``: SQL joining ``engine_batch`` that changes
   the rows; it returns rows changed per action;
3. mark the staged plan rows done;
4. append ONE row to the hash-chained ``steward.audit_log``
   (``audit.record_on_dbapi``, on the batch's own connection): the job's
   details plus ``rows`` (changed per action) and ``keys_sha256`` (digest of
   the batch's plan keys, never the values);
5. commit, then ``after_commit(changed)`` (e.g. removing files through fsspec).

So the audit row exists exactly when the change does, a crash leaves a
consistent state and a rerun resumes with the rows not done; ``apply`` must be
idempotent on a row (a rerun of a committed batch never happens, but an
``apply`` must not depend on having run before). Dry run: :func:`pending_counts`
(count only, changes nothing). Circuit breaker: :func:`check_limit` before the
first batch.

:func:`crashpoint` lets the crash tests SIGKILL the process at its N-th crash
point (``STEWARD_ENGINE_KILL_AT=N``), wherever that falls; the runner passes
``batch_changed``, ``before_commit`` and ``after_commit`` in each batch.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field

from psycopg2 import sql

from steward import audit

KILL_AT_ENV = "STEWARD_ENGINE_KILL_AT"
_crashpoints = {"count": 0}
STAGING_TABLE = "engine_batch"


class CircuitBreakerError(RuntimeError):
    """The plan is larger than the configured maximum: nothing was changed."""


def crashpoint(name: str) -> None:
    """Count a crash point; SIGKILL this process at the N-th one when asked."""
    _crashpoints["count"] += 1
    target = os.environ.get(KILL_AT_ENV, "")
    if target.isdigit() and int(target) == _crashpoints["count"]:
        os.kill(os.getpid(), signal.SIGKILL)


def crashpoints_passed() -> int:
    return _crashpoints["count"]


def audit_batch(connection, actor: str, action: str, details: dict) -> dict:
    """Append the batch's audit row inside ``connection``'s open transaction."""
    return audit.record_on_dbapi(connection, actor, action, details)


@dataclass(frozen=True)
class Plan:
    """The pending rows of one scope of a plan table.

    ``table``: the plan table, schema-qualified (``steward.dsar_erasure_plan``);
    ``scope``: column -> value equalities picking one unit of work (e.g. a
    request's rows of one table). Rows whose action is in ``skip_actions`` (a
    ``retain`` decision) are never executed.
    """

    table: str
    scope: dict[str, object]
    skip_actions: tuple[str, ...] = field(default=("retain",))

    def _target(self) -> sql.Composable:
        return sql.Identifier(*self.table.split(".", 1))

    def where(self, alias: str = "p") -> tuple[sql.Composable, dict]:
        """``alias``'s pending rows of this scope, with their parameters."""
        params = {f"scope_{i}": value for i, value in enumerate(self.scope.values())}
        parts = [
            sql.SQL("{}.{} = %({})s").format(sql.Identifier(alias), sql.Identifier(c), sql.SQL(k))
            for c, k in zip(self.scope, params, strict=True)
        ]
        parts.append(sql.SQL("not {}.done").format(sql.Identifier(alias)))
        if self.skip_actions:
            parts.append(
                sql.SQL("{}.action <> all(%(skip_actions)s)").format(sql.Identifier(alias))
            )
            params["skip_actions"] = list(self.skip_actions)
        return sql.SQL(" and ").join(parts), params


def pending_counts(cursor, plan: Plan) -> dict[str, int]:
    """Dry run: pending rows per action of ``plan`` (nothing changes)."""
    where, params = plan.where()
    cursor.execute(
        sql.SQL("select action, count(*) from {} as p where {} group by 1 order by 1").format(
            plan._target(), where
        ),
        params,
    )
    return {action: int(n) for action, n in cursor.fetchall()}


def check_limit(to_change: int, max_rows: int, what: str) -> None:
    """The circuit breaker: refuse a plan changing more than ``max_rows`` rows."""
    if to_change > max_rows:
        raise CircuitBreakerError(
            f"{what}: {to_change} rows to change exceeds the limit of {max_rows}; "
            "nothing changed (raise max_rows after checking the plan)"
        )


def run_batches(
    connection,
    plan: Plan,
    apply: Callable[[object], dict[str, int]],
    *,
    batch_size: int,
    actor: str,
    audit_action: str,
    details: Callable[[dict[str, int]], dict],
    after_commit: Callable[[dict[str, int]], None] | None = None,
) -> int:
    """Execute ``plan``'s pending rows in batches on ``connection`` (psycopg2); rows changed.

    ``apply(cursor)`` changes the rows staged in ``engine_batch`` and returns
    rows changed per action; ``details(changed)`` is the audit row's details
    (counts and digests only: no personal data), to which ``rows`` and
    ``keys_sha256`` are added.
    """
    where, params = plan.where()
    target = plan._target()
    total = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL(
                    "select row_key::text, action from {} as p where {}"
                    " order by row_key limit %(batch_size)s for update skip locked"
                ).format(target, where),
                {**params, "batch_size": batch_size},
            )
            batch = cursor.fetchall()
            if not batch:
                connection.commit()
                return total
            cursor.execute(
                f"create temp table if not exists {STAGING_TABLE} (row_key jsonb, action text)"
                " on commit delete rows"
            )
            cursor.execute(f"delete from {STAGING_TABLE}")
            cursor.executemany(f"insert into {STAGING_TABLE} values (%s::jsonb, %s)", batch)
            changed = apply(cursor)
            cursor.execute(
                sql.SQL(
                    "update {} as p set done = true from {} as b where {} and p.row_key = b.row_key"
                ).format(target, sql.Identifier(STAGING_TABLE), where),
                params,
            )
            keys_digest = audit.digest(sorted(row_key for row_key, _ in batch))
        crashpoint("batch_changed")
        audit_batch(
            connection,
            actor,
            audit_action,
            {
                **details(changed),
                "rows": {k: v for k, v in changed.items() if v},
                "keys_sha256": keys_digest,
            },
        )
        crashpoint("before_commit")
        connection.commit()
        crashpoint("after_commit")
        total += sum(changed.values())
        if after_commit is not None:
            after_commit(changed)
