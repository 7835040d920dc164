"""The audit trail: ``steward.audit_log``, append-only and hash-chained.

One row per action (who, what, counts and digests: never personal data). Each
row stores ``row_hash = sha256(prev_hash || canonical JSON of the row)``, the
canonical JSON being PostgreSQL's ``jsonb`` text of ``{seq, recorded_at, actor,
action, details}`` (keys in jsonb's fixed order, UTC timestamp), so Python and
SQL agree on it byte for byte. ``seq`` has no gaps: rows are appended under an
advisory lock with ``seq = last + 1``.

Rows cannot be changed: a trigger refuses ``UPDATE``, ``DELETE`` and
``TRUNCATE`` and the privileges are revoked from ``PUBLIC``. The role that
created the table owns it, and an owner may drop triggers: :func:`protect`
(``steward audit protect --app-role ROLE``, run once by a DBA) hands the table,
its trigger function and the ``steward`` schema to a separate role that cannot
log in, and leaves the application role (the one in Steward's connection)
``SELECT`` and ``INSERT`` on the log, ``SELECT`` on the schema's revision
(``steward.schema_version``) and ``USAGE``, ``CREATE`` on the schema
(dbt builds its marts there): it can append and verify, and cannot update,
delete, truncate, drop or disarm the log. A superuser can still get round all of
it (disabling triggers, ``session_replication_role``); :func:`verify` then finds
the altered or missing rows by recomputing the chain.
Removing the newest rows is only detectable against a head hash kept elsewhere:
:func:`verify` returns it for the caller to record (the Airflow task log does).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa

from steward import schema

AUDIT_SCHEMA = "steward"
AUDIT_TABLE = "audit_log"
GENESIS_HASH = "0" * 64
_LOCK_KEY = "steward.audit_log"
# Canonical JSON of a row, the same expression in record() and verify().
_CANONICAL_SQL = (
    "jsonb_build_object('seq', {seq}, 'recorded_at', "
    "to_char({recorded_at} at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
    "'actor', {actor}, 'action', {action}, 'details', {details})::text"
)


class AuditError(RuntimeError):
    """The audit trail cannot be written."""


@dataclass
class VerifyReport:
    """The outcome of :func:`verify`: counts, sequence numbers and hashes only."""

    rows: int
    ok: bool
    head_seq: int | None
    head_hash: str | None
    broken_seqs: list[int] = field(default_factory=list)  # rows whose hash does not match
    missing_seqs: list[int] = field(default_factory=list)  # gaps: deleted rows

    def as_dict(self) -> dict:
        return asdict(self)


DEFAULT_OWNER_ROLE = "steward_audit_owner"


class ProtectError(ValueError):
    """The roles given cannot protect the audit trail."""


def protect(engine: sa.Engine, app_role: str, owner_role: str = DEFAULT_OWNER_ROLE) -> dict:
    """Make the audit trail unchangeable by ``app_role`` (run by a role that may grant).

    ``owner_role`` (created without login when missing) takes over the audit
    table, its trigger function and the ``steward`` schema; ``app_role`` keeps
    what Steward needs. Idempotent. Refuses an application role that is a
    superuser or a member of the owner role: either could still change the log.
    """
    schema.upgrade(engine)
    with engine.begin() as conn:
        app = conn.execute(
            sa.text("select rolsuper from pg_roles where rolname = :r"), {"r": app_role}
        ).one_or_none()
        if app is None:
            raise ProtectError(f"no role {app_role!r} on this server")
        if app.rolsuper:
            raise ProtectError(f"{app_role!r} is a superuser: nothing can stop it")
        if app_role == owner_role:
            raise ProtectError("the application role cannot be the owner role")
        created = False
        if conn.execute(
            sa.text("select not exists (select from pg_roles where rolname = :r)"),
            {"r": owner_role},
        ).scalar_one():
            conn.exec_driver_sql(f"create role {_identifier(conn, owner_role)} nologin")
            created = True
        if conn.execute(
            sa.text("select pg_has_role(:app, :owner, 'MEMBER')"),
            {"app": app_role, "owner": owner_role},
        ).scalar_one():
            raise ProtectError(f"{app_role!r} is a member of {owner_role!r}: it would own the log")
        owner = _identifier(conn, owner_role)
        app_id = _identifier(conn, app_role)
        for statement in (
            f"alter schema steward owner to {owner}",
            f"alter table steward.audit_log owner to {owner}",
            f"alter function steward.audit_log_refuse_change() owner to {owner}",
            "revoke all on steward.audit_log from public",
            f"revoke all on steward.audit_log from {app_id}",
            f"grant select, insert on steward.audit_log to {app_id}",
            f"grant usage, create on schema steward to {app_id}",
            # Every entry point reads the schema's revision before it starts.
            f"grant select on steward.{schema.VERSION_TABLE} to {app_id}",
        ):
            conn.exec_driver_sql(statement)
    return {"app_role": app_role, "owner_role": owner_role, "owner_role_created": created}


def _identifier(conn, name: str) -> str:
    return conn.execute(sa.text("select quote_ident(:n)"), {"n": name}).scalar_one()


def canonical_json(value: Any) -> str:
    """Compact, key-sorted JSON (for digests of structured values)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def digest(value: Any) -> str:
    """sha256 hex of a value's canonical JSON: what the audit stores instead of data."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def record(
    engine: sa.Engine, actor: str, action: str, details: dict | None = None, *, connection=None
) -> dict:
    """Append one audit row; return its ``seq`` and ``row_hash``.

    ``details`` must hold counts, names and digests only. With ``connection``
    (an open SQLAlchemy connection inside a transaction) the row commits or rolls
    back with the caller's work: an action is audited exactly when it happened.
    """
    if not actor or not action:
        raise AuditError("an audit row needs an actor and an action")
    payload = json.loads(canonical_json(details or {}))
    if connection is None:
        schema.upgrade(engine)
        with engine.begin() as conn:
            return _append(conn, actor, action, payload)
    return _append(connection, actor, action, payload)


def _append(conn, actor: str, action: str, details: dict) -> dict:
    conn.execute(sa.text("select pg_advisory_xact_lock(hashtext(:key))"), {"key": _LOCK_KEY})
    last = conn.execute(
        sa.text("select seq, row_hash from steward.audit_log order by seq desc limit 1")
    ).first()
    seq = 1 if last is None else last.seq + 1
    prev_hash = GENESIS_HASH if last is None else last.row_hash
    canonical = _CANONICAL_SQL.format(
        seq=":seq",
        recorded_at="now()",
        actor=":actor",
        action=":action",
        details="cast(:details as jsonb)",
    )
    row = conn.execute(
        sa.text(
            "insert into steward.audit_log"
            " (seq, recorded_at, actor, action, details, prev_hash, row_hash)"
            " select :seq, now(), :actor, :action, cast(:details as jsonb), :prev,"
            f" encode(sha256(convert_to(:prev || {canonical}, 'UTF8')), 'hex')"
            " returning seq, row_hash"
        ),
        {
            "seq": seq,
            "actor": actor,
            "action": action,
            "details": json.dumps(details),
            "prev": prev_hash,
        },
    ).one()
    return {"seq": row.seq, "row_hash": row.row_hash}


def record_on_dbapi(connection, actor: str, action: str, details: dict | None = None) -> dict:
    """:func:`record` on an open psycopg2 connection, inside its transaction.

    The engine's destructive batches run on psycopg2 connections; their audit
    row must commit or roll back with the batch. The table must exist
    (:func:`steward.schema.upgrade`).
    """
    if not actor or not action:
        raise AuditError("an audit row needs an actor and an action")
    payload = canonical_json(details or {})
    canonical = _CANONICAL_SQL.format(
        seq="%(seq)s",
        recorded_at="now()",
        actor="%(actor)s",
        action="%(action)s",
        details="cast(%(details)s as jsonb)",
    )
    with connection.cursor() as cursor:
        cursor.execute("select pg_advisory_xact_lock(hashtext(%s))", (_LOCK_KEY,))
        cursor.execute("select seq, row_hash from steward.audit_log order by seq desc limit 1")
        last = cursor.fetchone()
        seq = 1 if last is None else last[0] + 1
        prev_hash = GENESIS_HASH if last is None else last[1]
        cursor.execute(
            "insert into steward.audit_log"
            " (seq, recorded_at, actor, action, details, prev_hash, row_hash)"
            " select %(seq)s, now(), %(actor)s, %(action)s, cast(%(details)s as jsonb), %(prev)s,"
            f" encode(sha256(convert_to(%(prev)s || {canonical}, 'UTF8')), 'hex')"
            " returning seq, row_hash",
            {"seq": seq, "actor": actor, "action": action, "details": payload, "prev": prev_hash},
        )
        row = cursor.fetchone()
    return {"seq": row[0], "row_hash": row[1]}


def verify(engine: sa.Engine) -> VerifyReport:
    """Recompute the whole chain in the warehouse; report altered and missing rows."""
    schema.upgrade(engine)
    canonical = _CANONICAL_SQL.format(
        seq="seq", recorded_at="recorded_at", actor="actor", action="action", details="details"
    )
    query = sa.text(
        "with chained as ("
        " select seq, prev_hash, row_hash,"
        f" encode(sha256(convert_to(prev_hash || {canonical}, 'UTF8')), 'hex') as recomputed,"
        " lag(row_hash) over (order by seq) as previous_row_hash,"
        " lag(seq) over (order by seq) as previous_seq"
        " from steward.audit_log)"
        " select seq, recomputed <> row_hash"
        "   or prev_hash <> coalesce(previous_row_hash, :genesis) as broken,"
        " coalesce(previous_seq, 0) as previous_seq"
        " from chained"
        " where recomputed <> row_hash or prev_hash <> coalesce(previous_row_hash, :genesis)"
        "   or seq <> coalesce(previous_seq, 0) + 1"
        " order by seq"
    )
    with engine.connect() as conn:
        problems = conn.execute(query, {"genesis": GENESIS_HASH}).all()
        head = conn.execute(
            sa.text(
                "select count(*) as n, max(seq) as head_seq,"
                " (select row_hash from steward.audit_log order by seq desc limit 1) as head_hash"
                " from steward.audit_log"
            )
        ).one()
    broken = [row.seq for row in problems if row.broken]
    missing: list[int] = []
    for row in problems:
        missing.extend(range(row.previous_seq + 1, row.seq))
    return VerifyReport(
        rows=int(head.n),
        ok=not broken and not missing,
        head_seq=head.head_seq,
        head_hash=head.head_hash,
        broken_seqs=broken,
        missing_seqs=missing,
    )
