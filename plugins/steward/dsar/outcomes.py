"""The "subject not found" outcome: a terminal state with its own letter.

A request whose search found no row of the subject, and whose identifiers
match no earlier erasure (:mod:`steward.dsar.held`), ends ``not_found``: not
``completed``/``verified`` (nothing was fulfilled), no erasure plan, no
suppression entry (a hash of identifiers nobody holds would only be a record
that someone asked), and the register keeps only the keyed digest. The letter
to the subject says so plainly, in the request's terms; it names no identifier.
"""

from __future__ import annotations

import sqlalchemy as sa

from steward.dsar import held, register
from steward.dsar.finder import SubjectIdentity

NOT_FOUND_REASON = "no data about the subject was found"

_WHAT = {
    "access": "a copy of the personal data we hold about you",
    "correction": "the correction of personal data we hold about you",
    "deletion": "the erasure of personal data we hold about you",
}


def not_found_letter(row: dict) -> str:
    """The response to the subject (no identifier in it: the request is named by number)."""
    received = row["received_on"].isoformat() if row.get("received_on") else "recently"
    what = _WHAT.get(row["request_type"], "your request about your personal data")
    return (
        f"Your request {row['ticket_reference']} (number {row['request_id']}), received "
        f"{received}, asked for {what}.\n\n"
        "We searched every system in which we hold personal data (customer records, "
        "calls and recordings, transcripts, billing, marketing lists and opt-outs, support "
        "tickets and consent records) for the details you gave us, in every spelling we "
        "store them, and found no personal data about you. We hold nothing to "
        + {
            "access": "send you",
            "correction": "correct",
            "deletion": "erase",
        }.get(row["request_type"], "act on")
        + ", so we have not kept any record of your details beyond this request itself, "
        "which we keep in a form that does not reveal them.\n\n"
        "If you have been in contact with us under other details (another e-mail address, "
        "phone number or customer number), please send them to us and we will search "
        "again.\n"
    )


def end_if_not_found(
    engine: sa.Engine,
    request_id: int,
    identity: SubjectIdentity,
    rows_found: int,
    *,
    actor: str = register.ACTOR,
) -> bool:
    """End the request ``not_found`` when nothing about the subject is held; True if so."""
    if rows_found:
        return False
    if held.earlier_erasures(engine, identity, exclude_request_id=request_id):
        # Erased before: what was kept under exemption is reported, not "nothing".
        return False
    row = register.get(engine, request_id)
    if row["status"] in register.TERMINAL:
        return row["status"] == "not_found"
    register.transition(
        engine,
        request_id,
        "not_found",
        NOT_FOUND_REASON,
        actor=actor,
        result={"rows_found": 0, "letter": not_found_letter(row)},
    )
    register.forget_subject(engine, request_id, identity)
    return True
