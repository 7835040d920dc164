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

Requests registered by ``steward dsar submit`` or the ``steward_dsar`` DAG
always carry a due date, so the intake never takes them. Nothing is logged or
returned but request ids and counts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import time
from typing import Any

import sqlalchemy as sa
from psycopg2 import sql

from steward import audit, datamap, warehouse
from steward.dsar import correction, erasure, export, finder, intake, jurisdictions, register
from steward.dsar.finder import SubjectIdentity

log = logging.getLogger(__name__)

ACTOR = "steward.dsar.intake"
DEFAULT_BATCH_SIZE = 1_000
INTAKE_REASON = "registered by bulk intake"
_LOCK_NAMESPACE = "steward.dsar.intake"
_OPEN = ("in_progress", "extended")
_PENDING_SQL = "status = 'received' and due_on is null"
_BY_INTAKE_SQL = (
    "exists (select from steward.dsar_status_history as h where h.request_id = r.request_id"
    " and h.to_status = 'received' and h.reason = :intake_reason)"
)


# --- indexes the finder needs at scale ------------------------------------------


def _index_name(table: datamap.TableMap, column: str, kind: str) -> str:
    name = f"dsar_{table.schema}_{table.name}_{column}_{kind}"
    if len(name) <= 63:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:54]}_{digest}"


def finder_index_specs(data_map: datamap.DataMap) -> list[tuple[datamap.TableMap, str, str]]:
    """(table, column, kind) of every identifier the finder looks rows up by.

    ``key``: customer ids and subject keys (plain btree); ``email``: ``lower(col)``;
    ``phone``: ``steward.phone_raw_key(col)``, the phone lookup's join key.
    """
    specs: list[tuple[datamap.TableMap, str, str]] = []
    for table in finder.subject_tables(data_map):
        keys = {finder.owner_column(table), table.subject_key}
        for column in sorted(key for key in keys if key):
            specs.append((table, column, "key"))
        for column in finder.columns_of(table, finder.EMAIL):
            specs.append((table, column, "email"))
        for column in finder.columns_of(table, finder.PHONE):
            specs.append((table, column, "phone"))
    return specs


_INDEX_PRESENT_SQL = (
    "select exists (select from pg_index as i"
    " join pg_class as c on c.oid = i.indexrelid"
    " join pg_namespace as n on n.oid = c.relnamespace"
    " where n.nspname = %(schema)s and c.relname = %(name)s and i.indisvalid)"
    " or (%(kind)s = 'key' and exists (select from pg_index as i"
    " join pg_attribute as a on a.attrelid = i.indrelid"
    " and a.attnum = i.indkey[0]"
    " where i.indrelid = to_regclass(%(table)s) and a.attname = %(column)s))"
)


def _missing_specs(cursor, data_map: datamap.DataMap) -> list[tuple[datamap.TableMap, str, str]]:
    missing = []
    for table, column, kind in finder_index_specs(data_map):
        cursor.execute(
            _INDEX_PRESENT_SQL,
            {
                "schema": table.schema,
                "name": _index_name(table, column, kind),
                "kind": kind,
                "table": f'"{table.schema}"."{table.name}"',
                "column": column,
            },
        )
        if not cursor.fetchone()[0]:
            missing.append((table, column, kind))
    return missing


def missing_finder_indexes(engine: sa.Engine, data_map: datamap.DataMap) -> list[str]:
    """``schema.table.column`` of every identifier the finder would have to scan for."""
    with finder.dbapi(engine) as connection, connection.cursor() as cursor:
        return [
            f"{table.qualified_name}.{column}"
            for table, column, _ in _missing_specs(cursor, data_map)
        ]


def ensure_finder_indexes(engine: sa.Engine, data_map: datamap.DataMap) -> list[str]:
    """Create the finder's identifier indexes that are missing; return their names.

    Built ``CONCURRENTLY`` (writers are not blocked), named deterministically,
    skipped when a plain index already leads with the key column.
    """
    created: list[str] = []
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        raw = conn.connection.driver_connection
        with raw.cursor() as cursor:
            for table, column, kind in _missing_specs(cursor, data_map):
                name = _index_name(table, column, kind)
                expression = {
                    "key": sql.SQL("({})"),
                    "email": sql.SQL("(lower({}))"),
                    "phone": sql.SQL("(steward.phone_raw_key({}))"),
                }[kind].format(sql.Identifier(column))
                # An interrupted concurrent build leaves an invalid index behind.
                cursor.execute(
                    sql.SQL("drop index concurrently if exists {}").format(
                        sql.Identifier(table.schema, name)
                    )
                )
                cursor.execute(
                    sql.SQL("create index concurrently if not exists {} on {} {}").format(
                        sql.Identifier(name),
                        sql.Identifier(table.schema, table.name),
                        expression,
                    )
                )
                created.append(f"{table.schema}.{name}")
    if created:
        log.info("created %d finder indexes", len(created))
    return created


# --- claim, validate, register ------------------------------------------------


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


def _claim(
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


def _open_batch(session: sa.Connection, engine: sa.Engine, limit: int, actor: str) -> list[int]:
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
                {**summary, "identity_digest": audit.digest(identities[request_id].as_json())},
                connection=conn,
            )
            summaries[request_id] = summary
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
    """Export, erase or correct one found request, prove the outcome, complete it."""
    kind = row["request_type"]
    if kind == "access":
        package = export.build_package(engine, request_id, data_map, actor=actor)
        if not package.path.exists():
            raise RuntimeError(f"request {request_id}: the export package is missing")
        result = {"verified": True, "package": package.path.name, "sha256": package.sha256}
    elif kind == "deletion":
        erasure.erase(engine, request_id, identity, data_map, max_rows=max_rows, actor=actor)
        report = erasure.verify_erasure(engine, request_id, identity, data_map)
        if not report["verified"]:
            raise RuntimeError(f"request {request_id}: erasure verification found residual data")
        with finder.dbapi(engine) as connection, connection.cursor() as cursor:
            planned, kept = erasure.plan_summary(cursor, request_id)
        result = {"verified": True, "planned": planned, "kept": kept}
    else:
        changed = correction.correct(
            engine,
            request_id,
            row["corrections"] or {},
            identity,
            data_map,
            old_phone=row["phone"],
            old_email=row["email"],
            actor=actor,
        )
        result = {"verified": True, "changed": changed.get("total", 0)}
    register.transition(
        engine, request_id, "completed", f"{kind} fulfilled", actor=actor, result=result
    )
    if kind == "deletion":
        register.forget_identifiers(engine, request_id)
    return {"request_id": request_id, "request_type": kind, **result}


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
    engine = warehouse.engine(url)
    data_map = datamap.load_data_map()
    register.ensure_register(engine)
    finder.ensure_tables(engine)
    erasure.ensure_tables(engine)
    indexes = ensure_finder_indexes(engine, data_map) if create_indexes else []
    summary: dict[str, Any] = {"indexes_created": len(indexes)}
    # This connection holds the advisory locks on the batch until the run ends.
    with engine.connect() as session:
        try:
            claimed = _claim(session, data_map, limit, actor, today)
            batch = _open_batch(session, engine, limit, actor)
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
            for request_id in batch:
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
