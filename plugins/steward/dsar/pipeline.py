"""The steps of one data-subject request, as plain callables for the DAG and the CLI.

validate -> register -> find -> fulfil -> verify. Each step takes the request
id (identifiers stay in the register, never in XComs or logs) and returns a
JSON-serialisable summary of counts, digests and statuses.

Re-running is safe: the register is keyed by the ticket reference, a completed
or rejected request is not processed again, and an erasure resumes its plan.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import sqlalchemy as sa

from steward import audit, datamap, warehouse
from steward.dsar import correction, erasure, export, finder, intake, register
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
    column the finder looks up by is indexed (``bulk.ensure_finder_indexes``),
    and takes the nightly subject index where one is not (source tables a
    governance tool may not index): there it saves a scan per identifier
    column. Either way the deletion's verification re-scan is live.
    """
    from steward.dsar import bulk

    configured = os.environ.get(SEARCH_ENV, "").strip().lower()
    if not configured and os.environ.get(USE_SUBJECT_INDEX_ENV, "").lower() in {"1", "true"}:
        configured = "index"
    configured = configured or "auto"
    if configured not in SEARCH_MODES:
        raise ValueError(f"{SEARCH_ENV}={configured!r}: expected one of {', '.join(SEARCH_MODES)}")
    if configured != "auto":
        return configured
    return "index" if bulk.missing_finder_indexes(engine, data_map) else "live"


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
    """Validate and register (idempotent on the ticket reference)."""
    request = validate(fields)
    submission = register.submit(_engine(url), request, actor=actor)
    return {
        "request_id": submission.request_id,
        "created": submission.created,
        "status": submission.status,
        "due_on": register.status_summary(_engine(url), submission.request_id)["due_on"],
    }


def should_process(request_id: int, url: str | None = None) -> bool:
    """False when the request is already completed or rejected (a second trigger)."""
    return register.get(_engine(url), request_id)["status"] not in register.TERMINAL


def start(request_id: int, url: str | None = None) -> str:
    """Move a new request on according to its identity verification; return its status."""
    engine = _engine(url)
    row = register.get(engine, request_id)
    status = row["status"]
    if status in register.TERMINAL or status in ("in_progress", "extended"):
        return status
    if row["verification_status"] == "failed":
        register.transition(engine, request_id, "rejected", "identity could not be verified")
        return "rejected"
    if row["verification_status"] != "verified":
        if status != "awaiting_verification":
            register.transition(engine, request_id, "awaiting_verification", "identity pending")
        return "awaiting_verification"
    register.transition(engine, request_id, "in_progress", "identity verified")
    return "in_progress"


def identity_of(engine: sa.Engine, request_id: int) -> SubjectIdentity:
    row = register.get(engine, request_id)
    if row["resolved_identity"] is None:
        raise RuntimeError(f"request {request_id}: the subject was not looked up yet")
    return SubjectIdentity.from_json(row["resolved_identity"])


def find(request_id: int, url: str | None = None, refresh_lookup: bool = True) -> dict:
    """Resolve the subject and record every row of theirs; counts per table."""
    engine = _engine(url)
    data_map = datamap.load_data_map()
    row = register.get(engine, request_id)
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
        ACTOR,
        "dsar.subject.found",
        {**summary, "identity_digest": audit.digest(identity.as_json())},
    )
    return summary


def fulfil(
    request_id: int,
    url: str | None = None,
    *,
    dry_run: bool = False,
    max_rows: int = erasure.DEFAULT_MAX_ROWS,
) -> dict:
    """Do what the request asks: export, erase or correct."""
    engine = _engine(url)
    data_map = datamap.load_data_map()
    row = register.get(engine, request_id)
    kind = row["request_type"]
    if kind == "access":
        return {
            "request_type": kind,
            **export.build_package(engine, request_id, data_map).as_dict(),
        }
    identity = identity_of(engine, request_id)
    if kind == "deletion":
        result = erasure.erase(
            engine, request_id, identity, data_map, dry_run=dry_run, max_rows=max_rows
        )
        return {"request_type": kind, **result.as_dict()}
    corrections = row["corrections"] or {}
    result = correction.correct(
        engine,
        request_id,
        corrections,
        identity,
        data_map,
        old_phone=row["phone"],
        old_email=row["email"],
    )
    return {"request_type": kind, **result}


def verify_and_complete(request_id: int, url: str | None = None) -> dict:
    """Prove the outcome; complete the request when it holds, fail loudly when not."""
    engine = _engine(url)
    data_map = datamap.load_data_map()
    row = register.get(engine, request_id)
    kind = row["request_type"]
    if kind == "deletion":
        report = erasure.verify_erasure(
            engine, request_id, identity_of(engine, request_id), data_map
        )
        if not report["verified"]:
            raise RuntimeError(
                f"request {request_id}: erasure verification found residual data: "
                + json.dumps({k: v for k, v in report.items() if k != "request_id"})
            )
        with finder.dbapi(engine) as connection, connection.cursor() as cursor:
            planned, kept = erasure.plan_summary(cursor, request_id)
        result = {"verified": True, "planned": planned, "kept": kept}
    elif kind == "access":
        path = export.export_dir() / f"dsar_{request_id}_access.zip"
        result = {"verified": path.exists(), "package": path.name}
        if not path.exists():
            raise RuntimeError(f"request {request_id}: the export package is missing")
    else:
        result = {"verified": True}
    if register.get(engine, request_id)["status"] not in register.TERMINAL:
        register.transition(engine, request_id, "completed", f"{kind} fulfilled", result=result)
    if kind == "deletion":
        register.forget_identifiers(engine, request_id)
    return {"request_id": request_id, "request_type": kind, **result}


def process(request_id: int, url: str | None = None) -> dict:
    """Run every step of one registered request (the CLI's ``steward dsar run``)."""
    if not should_process(request_id, url):
        return {"request_id": request_id, "skipped": "already completed or rejected"}
    status = start(request_id, url)
    if status not in ("in_progress", "extended"):
        return {"request_id": request_id, "status": status}
    found = find(request_id, url)
    fulfilled = fulfil(request_id, url)
    verified = verify_and_complete(request_id, url)
    return {"found": found, "fulfilled": fulfilled, "verified": verified}
