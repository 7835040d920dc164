"""The incident register: ``steward.breach_incidents`` with a status machine and deadlines.

An incident holds no personal data: a reference, a summary (refused when it
looks like it names a person's e-mail, phone, card or national id), when the
organisation became aware, and the exposure as names only (tables, columns, a
database role, a time window). Its assessment's results live beside it:
``steward.breach_impacts`` (subjects by country, region and data category),
``steward.breach_notifications`` (per law and recipient: required or not,
affected count, due time, notified time) and ``steward.breach_affected_subjects``
(who, for the notification list; never leaves the warehouse but encrypted).

Status machine::

    open -> assessed -> notifying -> notified -> closed
    open | assessed -> dismissed          (not a notifiable breach; a reason is required)
    assessed | notifying -> assessed      (re-assessed on new facts)

Every change is a row of the audit trail (``steward.audit_log``), with counts only.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from steward import audit, schema
from steward.catalogue import free_text

ACTOR = "steward.breach"
STATUSES = ("open", "assessed", "notifying", "notified", "closed", "dismissed")
TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"assessed", "dismissed"}),
    "assessed": frozenset({"assessed", "notifying", "dismissed"}),
    "notifying": frozenset({"assessed", "notified"}),
    "notified": frozenset({"closed"}),
    "closed": frozenset(),
    "dismissed": frozenset(),
}
OPEN_STATUSES = ("open", "assessed", "notifying")


class IncidentError(ValueError):
    """A request about an incident is invalid (unknown incident, refused transition)."""


@dataclass(frozen=True)
class Incident:
    incident_id: int
    reference: str
    summary: str
    status: str
    aware_at: dt.datetime
    exposure: dict[str, Any]
    hipaa: bool

    @classmethod
    def from_row(cls, row) -> Incident:
        exposure = row.exposure if isinstance(row.exposure, dict) else json.loads(row.exposure)
        return cls(
            row.incident_id,
            row.reference,
            row.summary,
            row.status,
            row.aware_at,
            exposure,
            row.hipaa,
        )


def check_summary(summary: str) -> str:
    """A summary says what happened, never who: refuse one holding identifiers."""
    summary = (summary or "").strip()
    if not summary:
        raise IncidentError("summary: describe what happened (no personal data)")
    if len(summary) > 2000:
        raise IncidentError("summary: at most 2,000 characters")
    found = free_text.pii_kinds(summary)
    if found:
        raise IncidentError(
            f"summary: looks like it holds personal data ({', '.join(sorted(found))}); "
            "describe the incident without identifying anyone"
        )
    return summary


def create(
    engine: sa.Engine,
    *,
    reference: str,
    summary: str,
    aware_at: dt.datetime,
    exposure: dict[str, Any],
    hipaa: bool = False,
    actor: str = ACTOR,
) -> int:
    """Register an incident (status ``open``); return its id."""
    schema.upgrade(engine)
    summary = check_summary(summary)
    reference = (reference or "").strip()
    if not reference or len(reference) > 64 or free_text.pii_kinds(reference):
        raise IncidentError("reference: a ticket reference of at most 64 characters")
    if aware_at.tzinfo is None:
        raise IncidentError("aware_at: give a time zone (e.g. 2026-12-04T09:30:00+00:00)")
    with engine.begin() as conn:
        exists = conn.execute(
            sa.text("select incident_id from steward.breach_incidents where reference = :r"),
            {"r": reference},
        ).scalar_one_or_none()
        if exists is not None:
            raise IncidentError(f"reference {reference!r} is already incident {exists}")
        incident_id = conn.execute(
            sa.text(
                "insert into steward.breach_incidents"
                " (reference, summary, aware_at, exposure, hipaa)"
                " values (:reference, :summary, :aware_at, cast(:exposure as jsonb), :hipaa)"
                " returning incident_id"
            ),
            {
                "reference": reference,
                "summary": summary,
                "aware_at": aware_at,
                "exposure": json.dumps(exposure),
                "hipaa": hipaa,
            },
        ).scalar_one()
        audit.record(
            engine,
            actor,
            "breach.incident.registered",
            {"incident_id": incident_id, "reference": reference, "hipaa": hipaa},
            connection=conn,
        )
    return incident_id


def get(engine: sa.Engine, incident_id: int, *, connection=None) -> Incident:
    schema.upgrade(engine)
    query = sa.text("select * from steward.breach_incidents where incident_id = :i")
    if connection is not None:
        row = connection.execute(query, {"i": incident_id}).one_or_none()
    else:
        with engine.connect() as conn:
            row = conn.execute(query, {"i": incident_id}).one_or_none()
    if row is None:
        raise IncidentError(f"no incident {incident_id}")
    return Incident.from_row(row)


def check_transition(current: str, target: str) -> None:
    if target not in STATUSES:
        raise IncidentError(f"unknown status {target!r} (known: {', '.join(STATUSES)})")
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none: the incident is final"
        raise IncidentError(f"an incident {current} cannot become {target} (allowed: {allowed})")


def transition(
    conn: sa.Connection,
    engine: sa.Engine,
    incident_id: int,
    target: str,
    *,
    reason: str | None = None,
    actor: str = ACTOR,
    details: dict[str, Any] | None = None,
) -> None:
    """Move an incident to ``target`` inside the caller's transaction, audited."""
    current = conn.execute(
        sa.text("select status from steward.breach_incidents where incident_id = :i for update"),
        {"i": incident_id},
    ).scalar_one_or_none()
    if current is None:
        raise IncidentError(f"no incident {incident_id}")
    check_transition(current, target)
    if target == "dismissed" and not (reason or "").strip():
        raise IncidentError("dismissing an incident needs a reason")
    if reason:
        check_summary(reason)
    conn.execute(
        sa.text(
            "update steward.breach_incidents set status = :s, status_reason = :reason,"
            " updated_at = now(),"
            " closed_at = case when :s in ('closed', 'dismissed') then now() end"
            " where incident_id = :i"
        ),
        {"s": target, "reason": reason, "i": incident_id},
    )
    audit.record(
        engine,
        actor,
        f"breach.incident.{target}",
        {"incident_id": incident_id, "from": current, **(details or {})},
        connection=conn,
    )


def change_status(
    engine: sa.Engine, incident_id: int, target: str, *, reason: str | None = None
) -> None:
    schema.upgrade(engine)
    with engine.begin() as conn:
        transition(conn, engine, incident_id, target, reason=reason)


def mark_notified(
    engine: sa.Engine,
    incident_id: int,
    law_code: str,
    recipient: str,
    *,
    notified_at: dt.datetime | None = None,
    actor: str = ACTOR,
) -> dict[str, Any]:
    """Record a notice as given; the incident becomes ``notified`` once every required one is."""
    schema.upgrade(engine)
    notified_at = notified_at or dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        incident = get(engine, incident_id, connection=conn)
        if incident.status not in ("assessed", "notifying"):
            raise IncidentError(f"incident {incident_id} is {incident.status}: assess it first")
        updated = (
            conn.execute(
                sa.text(
                    "update steward.breach_notifications set notified_at = :at"
                    " where incident_id = :i and law_code = :law and recipient = :recipient"
                    " and is_required and notified_at is null returning rule_key"
                ),
                {"at": notified_at, "i": incident_id, "law": law_code, "recipient": recipient},
            )
            .scalars()
            .all()
        )
        if not updated:
            raise IncidentError(
                f"incident {incident_id} has no pending required notice to {recipient} "
                f"under {law_code}"
            )
        if incident.status == "assessed":
            transition(conn, engine, incident_id, "notifying", actor=actor)
        audit.record(
            engine,
            actor,
            "breach.notice.given",
            {"incident_id": incident_id, "law_code": law_code, "recipient": recipient},
            connection=conn,
        )
        pending = conn.execute(
            sa.text(
                "select count(*) from steward.breach_notifications"
                " where incident_id = :i and is_required and notified_at is null"
            ),
            {"i": incident_id},
        ).scalar_one()
        if pending == 0:
            transition(conn, engine, incident_id, "notified", actor=actor)
    return {"incident_id": incident_id, "pending_required_notices": pending}
