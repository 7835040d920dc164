"""Bulk intake: requests a web form or the CRM inserted into ``steward.dsar_requests``.

An outside system inserts a row with the request's fields and nothing else
(status ``received``, no due date). :func:`run_intake`, run by the
``steward_dsar_intake`` DAG every 15 minutes, takes such rows in batches:

1. **Claim and validate** (one short transaction). The pending rows are read
   ``FOR UPDATE SKIP LOCKED`` and each is also held by a session advisory lock
   for the whole run, so two intake runs never take the same request. Every
   row is checked by :func:`steward.dsar.intake.validate_request`: an invalid
   one is rejected with the reasons (field names, never the values) before any
   data is touched; a valid one is registered (normalised identifiers, legal
   due dates) and moved on by its identity verification.
2. **Find, set-based.** The open requests this intake registered (including
   those a crashed run left in progress) are resolved and found together:
   :func:`steward.dsar.finder.resolve_identities` and
   :func:`~steward.dsar.finder.find_rows_batch` join a temporary table of the
   batch's identifiers to each mapped table, one pass per table.
3. **Fulfil and complete**, request by request, with the single-request
   modules (export, erasure, correction); one failure does not stop the batch
   and the request stays open for the next run.

Step 1 lives in :mod:`steward.dsar.bulk_claim`, the finder's indexes (built before
each run) in :mod:`steward.dsar.finder_indexes`.

Requests registered by ``steward dsar submit`` or the ``steward_dsar`` DAG
always carry a due date, so the intake never takes them. Nothing is logged or
returned but request ids and counts.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from typing import Any

import sqlalchemy as sa

from steward import audit, datamap, warehouse
from steward.dsar import (
    bulk_claim,
    erasure,
    finder,
    finder_indexes,
    handlers,
    intake,
    keys,
    outcomes,
    register,
)
from steward.dsar.finder import SubjectIdentity

log = logging.getLogger(__name__)

ACTOR = "steward.dsar.intake"
DEFAULT_BATCH_SIZE = 1_000


# --- find and fulfil ----------------------------------------------------------------


def _request_rows(engine: sa.Engine, request_ids: list[int]) -> dict[int, dict]:
    with engine.connect() as conn:
        rows = (
            conn.execute(
                sa.text("select * from steward.dsar_requests where request_id = any(:ids)"),
                {"ids": request_ids},
            )
            .mappings()
            .all()
        )
    return {row["request_id"]: dict(row) for row in rows}


def find_batch(
    engine: sa.Engine, request_ids: list[int], data_map: datamap.DataMap, *, actor: str = ACTOR
) -> dict[int, dict]:
    """Resolve and find the subjects of many registered requests at once; counts per request."""
    if not request_ids:
        return {}
    finder.refresh_lookup(engine)
    finder.ensure_tables(engine)
    rows = _request_rows(engine, request_ids)
    identities: dict[int, SubjectIdentity] = {}
    to_resolve: dict[int, intake.DsarRequest] = {}
    for request_id, row in rows.items():
        if row["resolved_identity"] is not None:
            identities[request_id] = SubjectIdentity.from_json(row["resolved_identity"])
        else:
            to_resolve[request_id] = intake.DsarRequest.from_register_row(row)
    resolved = finder.resolve_identities(engine, to_resolve, data_map)
    if resolved:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "update steward.dsar_requests as r"
                    " set resolved_identity = v.identity, updated_at = now()"
                    " from jsonb_to_recordset(cast(:rows as jsonb))"
                    " as v(request_id bigint, identity jsonb) where r.request_id = v.request_id"
                ),
                {
                    "rows": json.dumps(
                        [
                            {"request_id": rid, "identity": json.loads(identity.as_json())}
                            for rid, identity in resolved.items()
                        ]
                    )
                },
            )
    identities.update(resolved)
    counts = finder.find_rows_batch(engine, identities, data_map)
    summaries: dict[int, dict] = {}
    with engine.begin() as conn:
        for request_id in sorted(identities):
            tables = counts.get(request_id, {})
            summary = {
                "request_id": request_id,
                "identity": identities[request_id].counts(),
                "tables": tables,
                "rows": sum(c["rows"] for c in tables.values()),
            }
            audit.record(
                engine,
                actor,
                "dsar.subject.found",
                {
                    **summary,
                    "identity_digest": keys.keyed_digest(identities[request_id].as_json()),
                },
                connection=conn,
            )
            summaries[request_id] = summary
    for request_id, summary in summaries.items():
        if outcomes.end_if_not_found(
            engine, request_id, identities[request_id], summary["rows"], actor=actor
        ):
            summary["status"] = "not_found"
    return summaries


def fulfil_and_complete(
    engine: sa.Engine,
    request_id: int,
    row: dict,
    identity: SubjectIdentity,
    data_map: datamap.DataMap,
    *,
    actor: str = ACTOR,
    max_rows: int = erasure.DEFAULT_MAX_ROWS,
) -> dict:
    """Fulfil one found request with its type's handler, prove the outcome, complete it."""
    from steward.dsar import pipeline

    handler = handlers.handler_for(row["request_type"])
    context = handlers.RequestContext(
        engine=engine,
        request_id=request_id,
        row=row,
        identity=identity,
        data_map=data_map,
        actor=actor,
        max_rows=max_rows,
    )
    handler.fulfil(context)
    result = handler.verify(context)
    return pipeline.complete(engine, request_id, row["request_type"], result, identity, actor=actor)


# --- the run -----------------------------------------------------------------------


def run_intake(
    url: str | None = None,
    *,
    limit: int = DEFAULT_BATCH_SIZE,
    create_indexes: bool = True,
    today: dt.date | None = None,
    actor: str = ACTOR,
) -> dict:
    """Take pending bulk requests: validate, register, find set-based, fulfil. Counts only."""
    started = time.perf_counter()
    # The register's digests need the subject key: without it, stop before claiming anything.
    keys.subject_key()
    engine = warehouse.engine(url)
    data_map = datamap.load_data_map()
    register.ensure_register(engine)
    finder.ensure_tables(engine)
    erasure.ensure_tables(engine)
    indexes = finder_indexes.ensure_finder_indexes(engine, data_map) if create_indexes else []
    summary: dict[str, Any] = {"indexes_created": len(indexes)}
    # This connection holds the advisory locks on the batch until the run ends.
    with engine.connect() as session:
        try:
            claimed = bulk_claim.claim_pending(session, data_map, limit, actor, today)
            batch = bulk_claim.open_batch(session, engine, limit, actor)
            summary.update(
                {
                    "registered": sum(
                        len(v) for k, v in claimed.items() if k != "rejected_invalid"
                    ),
                    "rejected_invalid": claimed.get("rejected_invalid", []),
                    "rejected_unverified": claimed.get("rejected", []),
                    "awaiting_verification": len(claimed.get("awaiting_verification", [])),
                    "batch": len(batch),
                }
            )
            found_started = time.perf_counter()
            found = find_batch(engine, batch, data_map, actor=actor)
            summary["find_seconds"] = round(time.perf_counter() - found_started, 2)
            summary["rows_found"] = sum(f["rows"] for f in found.values())
            rows = _request_rows(engine, batch)
            completed: list[int] = []
            failed: dict[int, str] = {}
            not_found = [rid for rid, f in found.items() if f.get("status") == "not_found"]
            summary["not_found"] = len(not_found)
            for request_id in batch:
                if request_id in not_found:
                    continue
                try:
                    identity = SubjectIdentity.from_json(rows[request_id]["resolved_identity"])
                    fulfil_and_complete(
                        engine, request_id, rows[request_id], identity, data_map, actor=actor
                    )
                    completed.append(request_id)
                except Exception as exc:  # one request's failure must not stop the batch
                    # The class only: a database message can quote the data.
                    failed[request_id] = type(exc).__name__
                    log.warning("request %s failed: %s", request_id, type(exc).__name__)
            summary["completed"] = len(completed)
            summary["failed"] = failed
        finally:
            session.rollback()
            session.execute(sa.text("select pg_advisory_unlock_all()"))
            session.commit()
    summary["seconds"] = round(time.perf_counter() - started, 2)
    log.info(
        "intake: %d registered, %d rejected, %d processed, %d completed, %d failed",
        summary.get("registered", 0),
        len(summary.get("rejected_invalid", [])),
        summary.get("batch", 0),
        summary.get("completed", 0),
        len(summary.get("failed", {})),
    )
    return summary
