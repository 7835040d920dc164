"""The bulk intake's first step: claim pending requests, validate and register them.

Pending rows (inserted by a web form or the CRM: status ``received``, no due date)
are read ``FOR UPDATE SKIP LOCKED`` and each is held by a session advisory lock for
the whole run, so two intake runs never take the same request. Invalid requests are
rejected with the reasons (field names, never values) before any data is touched;
valid ones are registered and moved on by their identity verification.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from typing import Any

import sqlalchemy as sa

from steward import audit, datamap
from steward.dsar import intake, jurisdictions, register

INTAKE_REASON = "registered by bulk intake"
_LOCK_NAMESPACE = "steward.dsar.intake"
_PENDING_SQL = "status = 'received' and due_on is null"
_BY_INTAKE_SQL = (
    "exists (select from steward.dsar_status_history as h where h.request_id = r.request_id"
    " and h.to_status = 'received' and h.reason = :intake_reason)"
)


def _fields_of(row: dict) -> dict[str, Any]:
    corrections = row["corrections"]
    if isinstance(corrections, str):
        with contextlib.suppress(ValueError):
            corrections = json.loads(corrections)
    return {
        "request_type": row["request_type"],
        "jurisdiction": row["jurisdiction"],
        "received_on": row["received_on"],
        "ticket_reference": row["ticket_reference"],
        "verification_status": row["verification_status"],
        "verification_method": row["verification_method"],
        "customer_id": row["customer_id"],
        "email": row["email"],
        "phone": row["phone"],
        "name": row["full_name"],
        "date_of_birth": row["date_of_birth"],
        "corrections": corrections,
    }


def _target_status(request: intake.DsarRequest) -> tuple[str, str]:
    """The status a registered request moves to, as ``pipeline.start`` decides it."""
    if request.verification_status == "failed":
        return "rejected", "identity could not be verified"
    if request.verification_status != "verified":
        return "awaiting_verification", "identity pending"
    return "in_progress", "identity verified"


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def claim_pending(
    session: sa.Connection,
    data_map: datamap.DataMap,
    limit: int,
    actor: str,
    today: dt.date | None,
) -> dict[str, list[int]]:
    """Validate and register up to ``limit`` pending requests in one transaction."""
    rows = (
        session.execute(
            sa.text(
                f"select * from steward.dsar_requests where {_PENDING_SQL}"
                " order by request_id limit :limit for update skip locked"
            ),
            {"limit": limit},
        )
        .mappings()
        .all()
    )
    locked = set(
        session.execute(
            sa.text(
                "select request_id from unnest(cast(:ids as bigint[])) as r(request_id)"
                " where pg_try_advisory_lock(hashtext(:ns), request_id::int)"
            ),
            {"ids": [row["request_id"] for row in rows], "ns": _LOCK_NAMESPACE},
        ).scalars()
    )
    correctable = intake.correctable_categories_of(data_map)
    registered: list[dict] = []
    rejected: list[dict] = []
    for row in rows:
        if row["request_id"] not in locked:
            continue
        try:
            request = intake.validate_request(
                _fields_of(dict(row)), correctable_categories=correctable, today=today
            )
        except intake.IntakeError as exc:
            rejected.append(
                {
                    "request_id": row["request_id"],
                    "reason": "invalid request: " + "; ".join(exc.problems),
                }
            )
            continue
        rule = jurisdictions.rule_for(request.jurisdiction, request.request_type)
        status, reason = _target_status(request)
        register.check_transition("received", status)
        registered.append(
            {
                "request_id": row["request_id"],
                "jurisdiction": request.jurisdiction,
                "verification_status": request.verification_status,
                "verification_method": request.verification_method,
                "customer_id": request.customer_id,
                "email": request.email,
                "phone": request.phone,
                "full_name": request.full_name,
                "date_of_birth": _iso(request.date_of_birth),
                "corrections": request.corrections or None,
                "due_on": _iso(rule.due_on(request.received_on)),
                "confirm_by": _iso(rule.confirm_by(request.received_on)),
                "notice_by": _iso(rule.extension_notice_by(request.received_on)),
                "digest": register.subject_digest(request),
                "status": status,
                "reason": reason,
                "request_type": request.request_type,
            }
        )
    _write_claims(session, registered, rejected, actor)
    session.commit()
    by_status: dict[str, list[int]] = {"rejected_invalid": [r["request_id"] for r in rejected]}
    for entry in registered:
        by_status.setdefault(entry["status"], []).append(entry["request_id"])
    return by_status


def _write_claims(
    session: sa.Connection, registered: list[dict], rejected: list[dict], actor: str
) -> None:
    """The register, history and audit rows of a claim, set-based where SQL can."""
    if rejected:
        session.execute(
            sa.text(
                "update steward.dsar_requests as r set status = 'rejected',"
                " rejection_reason = v.reason, updated_at = now()"
                " from jsonb_to_recordset(cast(:rows as jsonb))"
                " as v(request_id bigint, reason text) where r.request_id = v.request_id"
            ),
            {"rows": json.dumps(rejected)},
        )
    if registered:
        session.execute(
            sa.text(
                "update steward.dsar_requests as r set jurisdiction = v.jurisdiction,"
                " verification_status = v.verification_status,"
                " verification_method = v.verification_method, customer_id = v.customer_id,"
                " email = v.email, phone = v.phone, full_name = v.full_name,"
                " date_of_birth = v.date_of_birth, corrections = v.corrections,"
                " original_due_on = v.due_on, due_on = v.due_on, confirm_by = v.confirm_by,"
                " extension_notice_by = v.notice_by, subject_digest = v.digest,"
                " status = v.status,"
                " rejection_reason = case when v.status = 'rejected' then v.reason end,"
                " updated_at = now()"
                " from jsonb_to_recordset(cast(:rows as jsonb)) as v(request_id bigint,"
                " jurisdiction text, verification_status text, verification_method text,"
                " customer_id bigint, email text, phone text, full_name text,"
                " date_of_birth date, corrections jsonb, due_on date, confirm_by date,"
                " notice_by date, digest text, status text, reason text)"
                " where r.request_id = v.request_id"
            ),
            {"rows": json.dumps(registered)},
        )
    history = [
        {"request_id": r["request_id"], "from": None, "to": "received", "reason": INTAKE_REASON}
        for r in (*registered, *rejected)
    ]
    history += [
        {
            "request_id": r["request_id"],
            "from": "received",
            "to": r["status"],
            "reason": r["reason"],
        }
        for r in registered
    ]
    history += [
        {"request_id": r["request_id"], "from": "received", "to": "rejected", "reason": r["reason"]}
        for r in rejected
    ]
    if history:
        session.execute(
            sa.text(
                "insert into steward.dsar_status_history"
                " (request_id, from_status, to_status, reason)"
                " select v.request_id, v.from, v.to, v.reason"
                " from jsonb_to_recordset(cast(:rows as jsonb))"
                ' as v(request_id bigint, "from" text, "to" text, reason text)'
            ),
            {"rows": json.dumps(history)},
        )
    # The audit trail: one row per action, as a single submission writes them.
    engine = session.engine
    for entry in rejected:
        audit.record(
            engine,
            actor,
            "dsar.intake.rejected",
            {"request_id": entry["request_id"], "reason": entry["reason"]},
            connection=session,
        )
    for entry in registered:
        audit.record(
            engine,
            actor,
            "dsar.registered",
            {
                "request_id": entry["request_id"],
                "request_type": entry["request_type"],
                "jurisdiction": entry["jurisdiction"],
                "due_on": entry["due_on"],
                "subject_digest": entry["digest"],
            },
            connection=session,
        )
        audit.record(
            engine,
            actor,
            f"dsar.status.{entry['status']}",
            {"request_id": entry["request_id"], "from": "received", "to": entry["status"]},
            connection=session,
        )


def open_batch(session: sa.Connection, engine: sa.Engine, limit: int, actor: str) -> list[int]:
    """Open requests this intake registered (new or left by a crashed run), locked for us."""
    # Identity verified (or failed) since the last run: move the request on.
    waiting = session.execute(
        sa.text(
            "select request_id, verification_status from (select request_id,"
            " verification_status from steward.dsar_requests as r"
            " where status = 'awaiting_verification'"
            " and verification_status in ('verified', 'failed') and "
            + _BY_INTAKE_SQL
            + " order by request_id limit :limit) as candidates"
            " where pg_try_advisory_lock(hashtext(:ns), request_id::int)"
        ),
        {"intake_reason": INTAKE_REASON, "ns": _LOCK_NAMESPACE, "limit": limit},
    ).all()
    session.commit()
    for request_id, verification in waiting:
        if verification == "failed":
            register.transition(
                engine, request_id, "rejected", "identity could not be verified", actor=actor
            )
        else:
            register.transition(engine, request_id, "in_progress", "identity verified", actor=actor)
    ids = list(
        session.execute(
            sa.text(
                "select request_id from (select request_id from steward.dsar_requests as r"
                " where status in ('in_progress', 'extended') and "
                + _BY_INTAKE_SQL
                + " order by request_id limit :limit) as candidates"
                " where pg_try_advisory_lock(hashtext(:ns), request_id::int)"
                " order by request_id"
            ),
            {"intake_reason": INTAKE_REASON, "ns": _LOCK_NAMESPACE, "limit": limit},
        ).scalars()
    )
    session.commit()
    return ids
