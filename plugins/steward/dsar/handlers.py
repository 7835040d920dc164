"""One table of request-type handlers: what fulfils each kind of request and what proves it.

:data:`HANDLERS` maps every request type of ``steward.dsar.jurisdictions`` to a
:class:`RequestHandler`; the single-request pipeline (``pipeline.fulfil`` and
``pipeline.verify_and_complete``) and the bulk intake (``bulk``) both dispatch
through :func:`handler_for`, so a new request type is one entry here.

A handler's ``fulfil`` does the work (idempotent: a rerun after a crash resumes)
and returns a JSON-serialisable summary of counts; ``verify`` proves the outcome
and raises :class:`VerificationError` when it does not hold. Preconditions that
must hold before anything changes (a configured key) are checked first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from steward import datamap
from steward.dsar import correction, derived, erasure, export, held, jurisdictions, keys
from steward.dsar.finder import SubjectIdentity, dbapi


class VerificationError(RuntimeError):
    """The outcome of a request could not be proven: it stays open."""


@dataclass(frozen=True)
class RequestContext:
    """What a handler works with: the register row holds identifiers (never log it)."""

    engine: sa.Engine
    request_id: int
    row: dict
    identity: SubjectIdentity
    data_map: datamap.DataMap
    actor: str
    dry_run: bool = False
    max_rows: int = erasure.DEFAULT_MAX_ROWS


@dataclass(frozen=True)
class RequestHandler:
    request_type: str
    fulfil: Callable[[RequestContext], dict]
    verify: Callable[[RequestContext], dict]
    description: str


# --- access -------------------------------------------------------------------------


def _fulfil_access(ctx: RequestContext) -> dict:
    kept = held.kept_after_erasure(ctx.engine, ctx.identity, exclude_request_id=ctx.request_id)
    package = export.build_package(
        ctx.engine, ctx.request_id, ctx.data_map, actor=ctx.actor, kept=kept
    )
    return {"request_type": "access", **package.as_dict(), "kept_after_erasure": kept["total"]}


def _verify_access(ctx: RequestContext) -> dict:
    path = export.export_dir() / export.package_name(ctx.request_id)
    if not path.exists():
        raise VerificationError(f"request {ctx.request_id}: the export package is missing")
    return {"verified": True, "package": path.name}


# --- correction ---------------------------------------------------------------------


def _fulfil_correction(ctx: RequestContext) -> dict:
    result = correction.correct(
        ctx.engine,
        ctx.request_id,
        ctx.row["corrections"] or {},
        ctx.identity,
        ctx.data_map,
        old_phone=ctx.row["phone"],
        old_email=ctx.row["email"],
        actor=ctx.actor,
        dry_run=ctx.dry_run,
        max_rows=ctx.max_rows,
    )
    return {"request_type": "correction", **result}


def _verify_correction(ctx: RequestContext) -> dict:
    # Every planned copy was changed by an audited engine batch: none left pending.
    left = correction.pending_rows(ctx.engine, ctx.request_id)
    if left:
        raise VerificationError(
            f"request {ctx.request_id}: {left} planned correction rows not applied yet"
        )
    return {"verified": True}


# --- deletion -----------------------------------------------------------------------


def _fulfil_deletion(ctx: RequestContext) -> dict:
    # The suppression entries need the key: without it, stop before anything is erased.
    keys.suppression_key()
    result = erasure.erase(
        ctx.engine,
        ctx.request_id,
        ctx.identity,
        ctx.data_map,
        dry_run=ctx.dry_run,
        max_rows=ctx.max_rows,
        actor=ctx.actor,
    )
    summary = {"request_type": "deletion", **result.as_dict()}
    if ctx.dry_run:
        summary["derived_copies"] = derived.count(ctx.engine, ctx.request_id, ctx.identity)
    else:
        # Steward's own copies (subject index, phone marts, dedupe pairs, ...) go in the
        # same run, after the sources and before the verification.
        summary["derived_copies"] = derived.purge(
            ctx.engine, ctx.request_id, ctx.identity, actor=ctx.actor
        )
    return summary


def _verify_deletion(ctx: RequestContext) -> dict:
    report = erasure.verify_erasure(ctx.engine, ctx.request_id, ctx.identity, ctx.data_map)
    copies_left = derived.count(ctx.engine, ctx.request_id, ctx.identity)
    if not report["verified"] or any(copies_left.values()):
        residual = {k: v for k, v in report.items() if k not in ("request_id", "verified")}
        raise VerificationError(
            f"request {ctx.request_id}: erasure verification found residual data: "
            f"{residual}, derived copies left: { {k: v for k, v in copies_left.items() if v} }"
        )
    with dbapi(ctx.engine) as connection, connection.cursor() as cursor:
        planned, kept = erasure.plan_summary(cursor, ctx.request_id)
    return {"verified": True, "planned": planned, "kept": kept, "derived_copies_left": 0}


HANDLERS: dict[str, RequestHandler] = {
    handler.request_type: handler
    for handler in (
        RequestHandler(
            "access",
            _fulfil_access,
            _verify_access,
            "an encrypted export of the subject's rows, and what is kept after an erasure",
        ),
        RequestHandler(
            "correction",
            _fulfil_correction,
            _verify_correction,
            "the new value in every copy of the field",
        ),
        RequestHandler(
            "deletion",
            _fulfil_deletion,
            _verify_deletion,
            "erasure under exemptions, Steward's own copies purged, a verification re-scan",
        ),
    )
}
if set(HANDLERS) != set(jurisdictions.REQUEST_TYPES):  # pragma: no cover - a coding error
    raise RuntimeError("every request type needs exactly one handler")


def handler_for(request_type: str) -> RequestHandler:
    try:
        return HANDLERS[request_type]
    except KeyError:
        raise ValueError(
            f"unknown request type {request_type!r} (known: {', '.join(sorted(HANDLERS))})"
        ) from None
