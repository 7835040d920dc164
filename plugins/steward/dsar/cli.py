"""``steward dsar``: submit, inspect and run data-subject requests."""

from __future__ import annotations

import json

import typer

dsar_app = typer.Typer(help="Data-subject requests: access, correction, deletion.")


def _print(value: dict) -> None:
    typer.echo(json.dumps(value, indent=2, default=str))


def _fail(message: str) -> typer.Exit:
    """One line on stderr, exit code 2 (a usage or state error: nothing was changed)."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(2)


def _parse_corrections(text: str | None) -> dict | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise _fail(
            f"--corrections is not valid JSON (line {getattr(exc, 'lineno', '?')}, column "
            f"{getattr(exc, 'colno', '?')}); expected an object such as "
            '\'{"last_name": "Smith"}\''
        ) from None
    if not isinstance(value, dict):
        raise _fail(
            '--corrections must be a JSON object of field -> new value, e.g. {"phone": "+1..."}'
        )
    return value


def _known_errors():
    """The errors a user can cause, mapped to a one-line message and exit code 2."""
    from steward.dsar import intake, keys, register

    return (
        intake.IntakeError,
        keys.MissingKeyError,
        register.TransitionError,
        KeyError,
    )


def _run_or_fail(action, request_id: int | None = None):
    """Run ``action``; a known error becomes one line and exit 2, never a traceback."""
    from steward.dsar import handlers, intake

    try:
        return action()
    except handlers.VerificationError as exc:
        # The request stays open: a run that could not prove its outcome, exit 1.
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    except intake.IntakeError as exc:
        for problem in exc.problems:
            typer.secho(f"error: {problem}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    except KeyError:
        raise _fail(f"no data-subject request {request_id}") from None
    except _known_errors() as exc:
        where = f"request {request_id}: " if request_id is not None else ""
        raise _fail(f"{where}{exc}") from None


def _cli_actor() -> str:
    """The audit trail's actor for a command typed by a person: their login."""
    import getpass

    return f"cli:{getpass.getuser()}"


@dsar_app.command("submit")
def submit(
    request_type: str = typer.Option(..., help="access | correction | deletion"),
    jurisdiction: str = typer.Option(..., help="GDPR, UK_GDPR, CCPA, VCDPA, CPA, LGPD, ..."),
    received_on: str = typer.Option(..., help="Date received (YYYY-MM-DD)."),
    ticket_reference: str = typer.Option(..., help="The privacy team's ticket (idempotency key)."),
    customer_id: int | None = typer.Option(None),
    email: str | None = typer.Option(None),
    phone: str | None = typer.Option(None),
    name: str | None = typer.Option(None),
    date_of_birth: str | None = typer.Option(None),
    verification_status: str = typer.Option("pending", help="verified | pending | failed"),
    verification_method: str = typer.Option("none"),
    corrections: str | None = typer.Option(None, help='JSON object, e.g. {"phone": "+1..."}'),
    actor: str | None = typer.Option(
        None, "--actor", help="Who submits, for the audit trail (default: cli:<login>)."
    ),
) -> None:
    """Validate and register a request (nothing is processed yet: `steward dsar run ID`)."""
    from steward.dsar import pipeline

    fields = {
        "request_type": request_type,
        "jurisdiction": jurisdiction,
        "received_on": received_on,
        "ticket_reference": ticket_reference,
        "customer_id": customer_id,
        "email": email,
        "phone": phone,
        "name": name,
        "date_of_birth": date_of_birth,
        "verification_status": verification_status,
        "verification_method": verification_method,
        "corrections": _parse_corrections(corrections),
    }
    _print(_run_or_fail(lambda: pipeline.submit(fields, actor=actor or _cli_actor())))


@dsar_app.command("status")
def status(request_id: int) -> None:
    """Status, deadlines and result of a request (no identifiers)."""
    from steward import warehouse
    from steward.dsar import register

    _print(
        _run_or_fail(lambda: register.status_summary(warehouse.engine(), request_id), request_id)
    )


def _change_status(
    request_id: int, target: str, reason: str, on: str | None, actor: str | None
) -> None:
    """One status change through the register's machine; exit 2 with the reason if refused."""
    import datetime as dt

    from steward import warehouse
    from steward.dsar import register
    from steward.dsar.intake import has_control_characters

    if has_control_characters(reason) or len(reason) > 1_000:
        raise _fail("--reason holds control characters or is longer than 1000 characters")
    if not reason.strip():
        typer.secho(
            "error: give a --reason (it goes to the register and the audit trail)",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(2)
    try:
        effective = dt.date.fromisoformat(on) if on else None
    except ValueError as exc:
        typer.secho(f"error: --on {on!r} is not a date (YYYY-MM-DD)", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    engine = warehouse.engine()
    try:
        previous = register.transition(
            engine,
            request_id,
            target,
            reason.strip(),
            actor=actor or _cli_actor(),
            on=effective,
        )
    except KeyError as exc:
        typer.secho(f"error: no data-subject request {request_id}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    except register.TransitionError as exc:
        typer.secho(f"error: request {request_id}: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    _print({"previous_status": previous, **register.status_summary(engine, request_id)})


_REASON = typer.Option(..., "--reason", help="Why (recorded in the register and the audit trail).")
_ON = typer.Option(None, "--on", help="Effective date, YYYY-MM-DD (default: today).")
_ACTOR = typer.Option(
    None, "--actor", help="Who made the change, for the audit trail (default: cli:<login>)."
)


@dsar_app.command("pause")
def pause(
    request_id: int, reason: str = _REASON, on: str | None = _ON, actor: str | None = _ACTOR
) -> None:
    """Stop the clock (only where the jurisdiction allows it, e.g. while identity is verified)."""
    _change_status(request_id, "paused", reason, on, actor)


@dsar_app.command("resume")
def resume(
    request_id: int,
    reason: str = _REASON,
    on: str | None = _ON,
    actor: str | None = _ACTOR,
    verified: bool = typer.Option(
        False, "--verified", help="Identity is now verified: resume as in progress."
    ),
) -> None:
    """Restart the clock of a paused request; the due date moves by the paused days."""
    target = "in_progress" if verified else "awaiting_verification"
    _change_status(request_id, target, reason, on, actor)


@dsar_app.command("extend")
def extend(
    request_id: int, reason: str = _REASON, on: str | None = _ON, actor: str | None = _ACTOR
) -> None:
    """Extend the deadline once, as the jurisdiction allows (notice inside its window)."""
    _change_status(request_id, "extended", reason, on, actor)


@dsar_app.command("reject")
def reject(
    request_id: int, reason: str = _REASON, on: str | None = _ON, actor: str | None = _ACTOR
) -> None:
    """Refuse a request (e.g. identity could not be verified, manifestly unfounded)."""
    _change_status(request_id, "rejected", reason, on, actor)


@dsar_app.command("run")
def run(request_id: int, actor: str | None = _ACTOR) -> None:
    """Find, fulfil and verify a registered request."""
    from steward.dsar import pipeline

    who = actor or _cli_actor()
    _print(_run_or_fail(lambda: pipeline.process(request_id, actor=who), request_id))


@dsar_app.command("intake")
def intake_pending(
    limit: int = typer.Option(1000, help="Requests taken by this run at most."),
    create_indexes: bool = typer.Option(
        True, help="Create the finder's identifier indexes that are missing first."
    ),
) -> None:
    """Process the requests a web form or the CRM inserted into steward.dsar_requests."""
    from steward.dsar import bulk

    summary = _run_or_fail(lambda: bulk.run_intake(limit=limit, create_indexes=create_indexes))
    _print(summary)
    if summary.get("failed"):
        raise typer.Exit(1)


@dsar_app.command("export")
def export(request_id: int) -> None:
    """(Re)build the encrypted access package of a request already looked up."""
    from steward import datamap, warehouse
    from steward.dsar import export as export_module

    result = _run_or_fail(
        lambda: export_module.build_package(
            warehouse.engine(), request_id, datamap.load_data_map()
        ),
        request_id,
    )
    _print(result.as_dict())


@dsar_app.command("deadlines")
def deadlines(within_days: int = typer.Option(7, help="'Due soon' horizon in days.")) -> None:
    """Open requests due soon or overdue; stores the day's SLA figures."""
    from steward.dsar import deadlines as watch

    _print(watch.run(within_days=within_days))


@dsar_app.command("rescan")
def rescan(
    apply: bool = typer.Option(
        False, "--apply", help="Erase the matches (default: a dry run that only counts them)."
    ),
    max_rows: int = typer.Option(50_000, help="Circuit breaker: refuse larger changes."),
) -> None:
    """Find data of erased subjects that was ingested again (suppression list)."""
    from steward.dsar import suppression

    _print(_run_or_fail(lambda: suppression.rescan(apply=apply, max_rows=max_rows)))
