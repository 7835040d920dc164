"""The request register ``steward.dsar_requests`` and its status machine.

Every request has one row, keyed by its ``ticket_reference`` (the idempotency
key: a second submission of the same ticket returns the existing request and
processes nothing twice). Status changes go through :func:`transition`, which
refuses transitions :data:`TRANSITIONS` does not allow and writes each change
to ``steward.dsar_status_history`` and the audit trail in one transaction.

Deadlines are absolute dates: ``due_on`` starts as the jurisdiction's period
from receipt, moves to the extended date on :func:`extend` (once, with notice
inside the window the law gives), and moves by the paused days on resume
(only where the law lets the clock stop while identity is verified).

The register holds the subject's identifiers while the request is open (they
are needed to fulfil it); once a request of the subject is finished, every
finished row of theirs keeps only the keyed digest (:func:`forget_subject`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import sqlalchemy as sa

from steward import audit, schema
from steward.dsar import jurisdictions, keys
from steward.dsar.intake import DsarRequest

STATUSES: tuple[str, ...] = (
    "received",
    "awaiting_verification",
    "in_progress",
    "extended",
    "paused",
    "completed",
    "not_found",
    "rejected",
)
# not_found: the search found no data about the subject (its own letter, no suppression).
TERMINAL: frozenset[str] = frozenset({"completed", "not_found", "rejected"})
TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"awaiting_verification", "paused", "in_progress", "rejected"}),
    "awaiting_verification": frozenset({"paused", "in_progress", "rejected"}),
    "paused": frozenset({"awaiting_verification", "in_progress", "rejected"}),
    "in_progress": frozenset({"extended", "paused", "completed", "not_found", "rejected"}),
    "extended": frozenset({"in_progress", "paused", "completed", "not_found", "rejected"}),
    "completed": frozenset(),
    "not_found": frozenset(),
    "rejected": frozenset(),
}
ACTOR = "steward.dsar"


class TransitionError(ValueError):
    """The status machine does not allow this change."""


@dataclass(frozen=True)
class Submission:
    request_id: int
    created: bool  # False: the ticket was already registered (nothing new happened)
    status: str


def ensure_register(engine: sa.Engine) -> None:
    """The register's tables and the audit trail exist: Steward's schema is up to date.

    The status check (steward.schema.tables) lists :data:`STATUSES`; a new status
    comes with a revision that rewrites it.
    """
    schema.upgrade(engine)


def subject_digest(request: DsarRequest) -> str:
    """The keyed digest of the identifiers (:func:`keys.subject_digest`): lets the register
    and the audit refer to the subject without naming them; not re-computable without the key."""
    return keys.subject_digest(request.customer_id, request.email, request.phone)


def check_transition(current: str, target: str) -> None:
    if target not in STATUSES:
        raise TransitionError(f"unknown status {target!r}")
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none: it is final"
        raise TransitionError(f"cannot go from {current} to {target} (allowed: {allowed})")


def submit(engine: sa.Engine, request: DsarRequest, actor: str = ACTOR) -> Submission:
    """Register a validated request, or return the existing one with the same ticket."""
    digest = subject_digest(request)  # no key: MissingKeyError before anything is written
    ensure_register(engine)
    rule = jurisdictions.rule_for(request.jurisdiction, request.request_type)
    due_on = rule.due_on(request.received_on)
    values = {
        "ticket": request.ticket_reference,
        "request_type": request.request_type,
        "jurisdiction": request.jurisdiction,
        "received_on": request.received_on,
        "due_on": due_on,
        "confirm_by": rule.confirm_by(request.received_on),
        "notice_by": rule.extension_notice_by(request.received_on),
        "verification_status": request.verification_status,
        "verification_method": request.verification_method,
        "customer_id": request.customer_id,
        "email": request.email,
        "phone": request.phone,
        "full_name": request.full_name,
        "date_of_birth": request.date_of_birth,
        "corrections": json.dumps(request.corrections) if request.corrections else None,
        "digest": digest,
    }
    with engine.begin() as conn:
        row = conn.execute(
            sa.text(
                "insert into steward.dsar_requests (ticket_reference, request_type, jurisdiction,"
                " received_on, original_due_on, due_on, confirm_by, extension_notice_by,"
                " verification_status, verification_method, customer_id, email, phone,"
                " full_name, date_of_birth, corrections, subject_digest)"
                " values (:ticket, :request_type, :jurisdiction, :received_on, :due_on, :due_on,"
                " :confirm_by, :notice_by, :verification_status, :verification_method,"
                " :customer_id, :email, :phone, :full_name, :date_of_birth,"
                " cast(:corrections as jsonb), :digest)"
                " on conflict (ticket_reference) do nothing returning request_id, status"
            ),
            values,
        ).first()
        if row is None:
            existing = conn.execute(
                sa.text(
                    "select request_id, status from steward.dsar_requests"
                    " where ticket_reference = :ticket"
                ),
                {"ticket": request.ticket_reference},
            ).one()
            return Submission(existing.request_id, created=False, status=existing.status)
        conn.execute(
            sa.text(
                "insert into steward.dsar_status_history (request_id, to_status, reason)"
                " values (:id, 'received', 'registered')"
            ),
            {"id": row.request_id},
        )
        audit.record(
            engine,
            actor,
            "dsar.registered",
            {
                "request_id": row.request_id,
                "request_type": request.request_type,
                "jurisdiction": request.jurisdiction,
                "due_on": due_on.isoformat(),
                "subject_digest": values["digest"],
            },
            connection=conn,
        )
    return Submission(row.request_id, created=True, status=row.status)


def get(engine: sa.Engine, request_id: int) -> dict:
    """The register row of a request (identifiers included: do not log it)."""
    ensure_register(engine)
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("select * from steward.dsar_requests where request_id = :id"),
            {"id": request_id},
        ).first()
    if row is None:
        raise KeyError(f"no data-subject request {request_id}")
    return dict(row._mapping)


def status_summary(engine: sa.Engine, request_id: int) -> dict:
    """What may be shown or logged about a request: no identifiers."""
    row = get(engine, request_id)
    keys = (
        "request_id",
        "ticket_reference",
        "request_type",
        "jurisdiction",
        "status",
        "received_on",
        "original_due_on",
        "due_on",
        "confirm_by",
        "extension_notice_by",
        "extended_at",
        "paused_at",
        "paused_days",
        "completed_at",
        "rejection_reason",
        "result",
    )
    return {
        key: (row[key].isoformat() if isinstance(row[key], dt.date) else row[key]) for key in keys
    }


def transition(
    engine: sa.Engine,
    request_id: int,
    target: str,
    reason: str,
    *,
    actor: str = ACTOR,
    on: dt.date | None = None,
    result: dict | None = None,
) -> str:
    """Move a request to ``target`` (checked against the status machine); return the old status.

    ``on`` is the effective date (default today) used for pauses and extensions.
    """
    ensure_register(engine)
    on = on or dt.date.today()
    with engine.begin() as conn:
        row = conn.execute(
            sa.text("select * from steward.dsar_requests where request_id = :id for update"),
            {"id": request_id},
        ).first()
        if row is None:
            raise KeyError(f"no data-subject request {request_id}")
        current = row.status
        check_transition(current, target)
        rule = jurisdictions.rule_for(row.jurisdiction, row.request_type)
        updates: dict = {}
        if target == "paused":
            if not rule.pause_allowed:
                raise TransitionError(
                    f"{row.jurisdiction} does not let the clock stop for {row.request_type}"
                )
            updates = {"paused_at": on, "pause_reason": reason}
        if current == "paused":
            paused_days = max(0, (on - row.paused_at).days)
            updates["paused_days"] = row.paused_days + paused_days
            updates["due_on"] = row.due_on + dt.timedelta(days=paused_days)
            updates["paused_at"] = None
        if target == "extended":
            extended = rule.extended_due_on(row.received_on)
            if extended is None:
                raise TransitionError(f"{row.jurisdiction} allows no extension")
            if row.extended_at is not None:
                raise TransitionError("the request was already extended once")
            notice_by = row.extension_notice_by
            if notice_by is not None and on > notice_by:
                raise TransitionError(f"the extension notice was due by {notice_by.isoformat()}")
            updates.update(
                {
                    "extended_at": on,
                    "extension_reason": reason,
                    "due_on": extended + dt.timedelta(days=row.paused_days),
                }
            )
        if target == "completed":
            updates["completed_at"] = dt.datetime.now(dt.UTC)
        if target == "rejected":
            updates["rejection_reason"] = reason
        if result is not None:
            updates["result"] = json.dumps(result, default=str)
        updates["status"] = target
        assignments = ", ".join(
            f"{name} = cast(:{name} as jsonb)" if name == "result" else f"{name} = :{name}"
            for name in updates
        )
        conn.execute(
            sa.text(
                f"update steward.dsar_requests set {assignments}, updated_at = now()"
                " where request_id = :request_id"
            ),
            {**updates, "request_id": request_id},
        )
        conn.execute(
            sa.text(
                "insert into steward.dsar_status_history"
                " (request_id, from_status, to_status, reason) values (:id, :from, :to, :reason)"
            ),
            {"id": request_id, "from": current, "to": target, "reason": reason},
        )
        audit.record(
            engine,
            actor,
            f"dsar.status.{target}",
            {"request_id": request_id, "from": current, "to": target},
            connection=conn,
        )
    return current


_IDENTIFIER_COLUMNS = (
    "customer_id = null, email = null, phone = null, full_name = null, date_of_birth = null,"
    " resolved_identity = null, corrections = null"
)


def forget_identifiers(engine: sa.Engine, request_id: int) -> None:
    """The request's register row keeps the keyed digest of its identifiers only."""
    forget_subject(engine, request_id)


def forget_subject(engine: sa.Engine, request_id: int, identity=None) -> int:
    """Once a request is finished: every finished register row of its subject (this one and
    earlier ones, access requests included) drops e-mail, phone, name, birth date, resolved
    identity and corrections, keeping only the keyed digest of the identifiers it gave.

    The subject is the request's resolved identity (``identity``, a
    :class:`~steward.dsar.finder.SubjectIdentity`, default: the row's own); rows
    of open requests keep their identifiers (they are still needed). Returns the
    number of rows cleared.
    """
    key = keys.subject_key()
    with engine.begin() as conn:
        row = conn.execute(
            sa.text(
                "select customer_id, email, phone, resolved_identity from steward.dsar_requests"
                " where request_id = :id for update"
            ),
            {"id": request_id},
        ).one()
        resolved = identity.__dict__ if identity is not None else (row.resolved_identity or {})
        ids = sorted({*resolved.get("customer_ids", []), row.customer_id} - {None})
        emails = sorted(
            {e.lower() for e in [*resolved.get("emails", []), row.email] if e is not None}
        )
        phones = sorted({p for p in [*resolved.get("phones", []), row.phone] if p is not None})
        matches = conn.execute(
            sa.text(
                "select request_id, customer_id, email, phone from steward.dsar_requests as r"
                " where (r.request_id = :id or r.status in ('completed', 'not_found', 'rejected'))"
                " and (r.request_id = :id or r.customer_id = any(:ids)"
                "  or lower(r.email) = any(:emails) or r.phone = any(:phones)"
                "  or exists (select from jsonb_array_elements_text("
                "   coalesce(r.resolved_identity -> 'customer_ids', '[]')) as c(v)"
                "   where c.v::bigint = any(:ids)))"
                " and (r.email is not null or r.phone is not null or r.customer_id is not null"
                "  or r.full_name is not null or r.date_of_birth is not null"
                "  or r.resolved_identity is not null)"
                " for update"
            ),
            {"id": request_id, "ids": ids, "emails": emails, "phones": phones},
        ).all()
        rows = [
            {
                "request_id": match.request_id,
                "digest": keys.subject_digest(match.customer_id, match.email, match.phone, key),
            }
            for match in matches
        ]
        if rows:
            conn.execute(
                sa.text(
                    f"update steward.dsar_requests as r set {_IDENTIFIER_COLUMNS},"
                    " subject_digest = v.digest, updated_at = now()"
                    " from jsonb_to_recordset(cast(:rows as jsonb)) as v(request_id bigint,"
                    " digest text) where r.request_id = v.request_id"
                ),
                {"rows": json.dumps(rows)},
            )
    return len(rows)
