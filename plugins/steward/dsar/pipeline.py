"""The steps of one data-subject request, as plain callables for the DAG and the CLI.

validate -> register -> find -> fulfil -> verify. Each step takes the request
id (identifiers stay in the register, never in XComs or logs) and returns a
JSON-serialisable summary of counts, digests and statuses.

Re-running is safe: the register is keyed by the ticket reference, a completed
or rejected request is not processed again, and an erasure resumes its plan.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import sqlalchemy as sa

from steward import audit, datamap, warehouse
from steward.dsar import erasure, finder, handlers, intake, keys, outcomes, register
from steward.dsar.finder import SubjectIdentity

log = logging.getLogger(__name__)

ACTOR = "steward.dsar"
# How a request searches: auto | live | index (see search_mode).
SEARCH_ENV = "STEWARD_DSAR_SEARCH"
SEARCH_MODES = ("auto", "live", "index")
# Older spelling of STEWARD_DSAR_SEARCH=index.
USE_SUBJECT_INDEX_ENV = "STEWARD_DSAR_USE_SUBJECT_INDEX"


def search_mode(engine: sa.Engine, data_map: datamap.DataMap) -> str:
    """'live' or 'index': how this request finds the subject's rows.

    ``auto`` (the default) searches the live tables when every identifier
    column the finder looks up by is indexed (``finder_indexes.ensure_finder_indexes``),
    and takes the nightly subject index where one is not (source tables a
    governance tool may not index): there it saves a scan per identifier
    column. Either way the deletion's verification re-scan is live.
    """
    from steward.dsar import finder_indexes

    configured = os.environ.get(SEARCH_ENV, "").strip().lower()
    if not configured and os.environ.get(USE_SUBJECT_INDEX_ENV, "").lower() in {"1", "true"}:
        configured = "index"
    configured = configured or "auto"
    if configured not in SEARCH_MODES:
        raise ValueError(f"{SEARCH_ENV}={configured!r}: expected one of {', '.join(SEARCH_MODES)}")
    if configured != "auto":
        return configured
    return "index" if finder_indexes.missing_finder_indexes(engine, data_map) else "live"


def _engine(url: str | None = None) -> sa.Engine:
    return warehouse.engine(url)


def validate(fields: dict[str, Any], data_map: datamap.DataMap | None = None) -> intake.DsarRequest:
    """Validate submitted fields against the jurisdiction rules and the data map."""
    data_map = data_map or datamap.load_data_map()
    return intake.validate_request(
        fields, correctable_categories=intake.correctable_categories_of(data_map)
    )


def validation_summary(request: intake.DsarRequest) -> dict:
    """What may be logged about a valid request: no identifier, only which kinds were given."""
    return {
        "ticket_reference": request.ticket_reference,
        "request_type": request.request_type,
        "jurisdiction": request.jurisdiction,
        "identifiers_given": [
            kind
            for kind, value in (
                ("customer_id", request.customer_id),
                ("email", request.email),
                ("phone", request.phone),
            )
            if value is not None
        ],
        "corrections": sorted(request.corrections),
    }


def submit(fields: dict[str, Any], url: str | None = None, actor: str = ACTOR) -> dict:
    """Validate and register (idempotent on the ticket reference).

    Raises intake.IntakeError (invalid fields) or keys.MissingKeyError (no subject
    key configured) before anything is written.
    """
    request = validate(fields)
    keys.subject_key()
    submission = register.submit(_engine(url), request, actor=actor)
    return {
        "request_id": submission.request_id,
        "created": submission.created,
        "status": submission.status,
        "due_on": register.status_summary(_engine(url), submission.request_id)["due_on"],
    }


def should_process(request_id: int, url: str | None = None) -> bool:
    """False when the request is already finished: completed, not found or rejected."""
    return register.get(_engine(url), request_id)["status"] not in register.TERMINAL


def start(request_id: int, url: str | None = None, *, actor: str = ACTOR) -> str:
    """Move a new request on according to its identity verification; return its status."""
    engine = _engine(url)
    row = register.get(engine, request_id)
    status = row["status"]
    if status in register.TERMINAL or status in ("in_progress", "extended"):
        return status
    if row["verification_status"] == "failed":
        register.transition(
            engine, request_id, "rejected", "identity could not be verified", actor=actor
        )
        return "rejected"
    if row["verification_status"] != "verified":
        if status != "awaiting_verification":
            register.transition(
                engine, request_id, "awaiting_verification", "identity pending", actor=actor
            )
        return "awaiting_verification"
    register.transition(engine, request_id, "in_progress", "identity verified", actor=actor)
    return "in_progress"


def identity_of(engine: sa.Engine, request_id: int) -> SubjectIdentity:
    row = register.get(engine, request_id)
    if row["resolved_identity"] is None:
        raise RuntimeError(f"request {request_id}: the subject was not looked up yet")
    return SubjectIdentity.from_json(row["resolved_identity"])


def find(
    request_id: int, url: str | None = None, refresh_lookup: bool = True, *, actor: str = ACTOR
) -> dict:
    """Resolve the subject and record every row of theirs; counts per table.

    Nothing found, and no earlier erasure of the identifiers on record: the
    request ends ``not_found`` (terminal; its letter in the result; no suppression
    entry, nothing else changed), and :func:`fulfil` and :func:`verify_and_complete`
    do nothing for it.
    """
    engine = _engine(url)
    data_map = datamap.load_data_map()
    row = register.get(engine, request_id)
    if row["status"] == "not_found":
        return {"request_id": request_id, "status": "not_found", "rows": 0}
    if row["resolved_identity"] is not None:
        identity = SubjectIdentity.from_json(row["resolved_identity"])
    else:
        if refresh_lookup:
            finder.refresh_lookup(engine)
        finder.ensure_tables(engine)
        identity = finder.resolve_identity(
            engine, intake.DsarRequest.from_register_row(row), data_map
        )
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "update steward.dsar_requests set resolved_identity = cast(:identity as jsonb)"
                    " where request_id = :id"
                ),
                {"identity": identity.as_json(), "id": request_id},
            )
    mode = search_mode(engine, data_map)
    if mode == "index":
        counts = finder.find_with_index(engine, request_id, identity, data_map)
    else:
        counts = finder.find_rows(engine, request_id, identity, data_map)
    summary = {
        "request_id": request_id,
        "search": mode,
        "identity": identity.counts(),
        "tables": counts,
        "rows": sum(c["rows"] for c in counts.values()),
    }
    audit.record(
        engine,
        actor,
        "dsar.subject.found",
        {**summary, "identity_digest": keys.keyed_digest(identity.as_json())},
    )
    if outcomes.end_if_not_found(engine, request_id, identity, summary["rows"], actor=actor):
        summary["status"] = "not_found"
    return summary


def _context(
    engine: sa.Engine,
    request_id: int,
    row: dict,
    data_map: datamap.DataMap,
    *,
    actor: str = ACTOR,
    dry_run: bool = False,
    max_rows: int = erasure.DEFAULT_MAX_ROWS,
) -> handlers.RequestContext:
    return handlers.RequestContext(
        engine=engine,
        request_id=request_id,
        row=row,
        identity=identity_of(engine, request_id),
        data_map=data_map,
        actor=actor,
        dry_run=dry_run,
        max_rows=max_rows,
    )


def fulfil(
    request_id: int,
    url: str | None = None,
    *,
    dry_run: bool = False,
    max_rows: int = erasure.DEFAULT_MAX_ROWS,
    actor: str = ACTOR,
) -> dict:
    """Do what the request asks, through its request type's handler (handlers.HANDLERS)."""
    engine = _engine(url)
    row = register.get(engine, request_id)
    kind = row["request_type"]
    if row["status"] == "not_found":
        return {"request_type": kind, "status": "not_found"}
    handler = handlers.handler_for(kind)
    context = _context(
        engine,
        request_id,
        row,
        datamap.load_data_map(),
        dry_run=dry_run,
        max_rows=max_rows,
        actor=actor,
    )
    return handler.fulfil(context)


def verify_and_complete(request_id: int, url: str | None = None, *, actor: str = ACTOR) -> dict:
    """Prove the outcome; complete the request when it holds, fail loudly when not.

    Once complete, every finished register row of the subject keeps only the keyed
    digest of its identifiers (register.forget_subject).
    """
    engine = _engine(url)
    row = register.get(engine, request_id)
    kind = row["request_type"]
    if row["status"] == "not_found":
        return {"request_id": request_id, "request_type": kind, "status": "not_found"}
    if row["status"] == "completed":
        return {"request_id": request_id, "request_type": kind, **(row["result"] or {})}
    context = _context(engine, request_id, row, datamap.load_data_map(), actor=actor)
    result = handlers.handler_for(kind).verify(context)
    return complete(engine, request_id, kind, result, context.identity, actor=actor)


def complete(
    engine: sa.Engine,
    request_id: int,
    kind: str,
    result: dict,
    identity: SubjectIdentity,
    *,
    actor: str = ACTOR,
) -> dict:
    """Mark a proven request completed, then drop the subject's identifiers from the register."""
    if register.get(engine, request_id)["status"] not in register.TERMINAL:
        register.transition(
            engine, request_id, "completed", f"{kind} fulfilled", actor=actor, result=result
        )
    register.forget_subject(engine, request_id, identity)
    return {"request_id": request_id, "request_type": kind, **result}


def process(request_id: int, url: str | None = None, *, actor: str = ACTOR) -> dict:
    """Run every step of one registered request (the CLI's ``steward dsar run``)."""
    if not should_process(request_id, url):
        return {"request_id": request_id, "skipped": "already finished"}
    status = start(request_id, url, actor=actor)
    if status not in ("in_progress", "extended"):
        return {"request_id": request_id, "status": status}
    found = find(request_id, url, actor=actor)
    if found.get("status") == "not_found":
        return {"found": found, "status": "not_found"}
    fulfilled = fulfil(request_id, url, actor=actor)
    verified = verify_and_complete(request_id, url, actor=actor)
    return {"found": found, "fulfilled": fulfilled, "verified": verified}
