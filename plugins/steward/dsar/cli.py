"""``steward dsar``: submit, inspect and run data-subject requests."""

from __future__ import annotations

import json

import typer

dsar_app = typer.Typer(help="Data-subject requests: access, correction, deletion.")


def _print(value: dict) -> None:
    typer.echo(json.dumps(value, indent=2, default=str))


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
) -> None:
    """Validate and register a request (nothing is processed yet)."""
    from steward.dsar import intake, pipeline

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
        "corrections": json.loads(corrections) if corrections else None,
    }
    try:
        _print(pipeline.submit(fields))
    except intake.IntakeError as exc:
        for problem in exc.problems:
            typer.secho(f"error: {problem}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc


@dsar_app.command("status")
def status(request_id: int) -> None:
    """Status, deadlines and result of a request (no identifiers)."""
    from steward import warehouse
    from steward.dsar import register

    _print(register.status_summary(warehouse.engine(), request_id))


@dsar_app.command("run")
def run(request_id: int) -> None:
    """Find, fulfil and verify a registered request."""
    from steward.dsar import pipeline

    _print(pipeline.process(request_id))


@dsar_app.command("intake")
def intake_pending(
    limit: int = typer.Option(1000, help="Requests taken by this run at most."),
    create_indexes: bool = typer.Option(
        True, help="Create the finder's identifier indexes that are missing first."
    ),
) -> None:
    """Process the requests a web form or the CRM inserted into steward.dsar_requests."""
    from steward.dsar import bulk

    summary = bulk.run_intake(limit=limit, create_indexes=create_indexes)
    _print(summary)
    if summary.get("failed"):
        raise typer.Exit(1)


@dsar_app.command("export")
def export(request_id: int) -> None:
    """(Re)build the encrypted access package of a request already looked up."""
    from steward import datamap, warehouse
    from steward.dsar import export as export_module

    result = export_module.build_package(warehouse.engine(), request_id, datamap.load_data_map())
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

    _print(suppression.rescan(apply=apply, max_rows=max_rows))
