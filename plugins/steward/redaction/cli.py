"""``steward redact``: card data, CVVs, SSNs and bank details out of free text."""

from __future__ import annotations

import getpass
import json
import os

import typer

redact_app = typer.Typer(
    help="Redact card numbers, CVVs, SSNs and bank details in free text (PCI DSS); "
    "report and, once approved, truncate full card numbers in card columns."
)
APPLY_ENV = "STEWARD_REDACTION_APPLY"


def _print(result: dict, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result, indent=2, default=str))
        return
    mode = "DRY RUN (nothing changed)" if result["dry_run"] else "APPLIED"
    typer.echo(f"redaction {mode}  run {result['run_id']}")
    typer.echo(f"{'column':36} {'candidates':>10} {'held':>5}  found")
    for location, planned in result["candidates"].items():
        found = ", ".join(
            f"{k} {v:,}" for k, v in sorted(result["redacted"].get(location, {}).items())
        )
        typer.echo(f"{location:36} {planned:>10,} {result['held'].get(location, 0):>5,}  {found}")
    typer.echo(f"rows changed: {result['rows_changed']:,}")
    for location, rows in result["violations"].items():
        truncated = result["truncated"].get(location, 0)
        typer.echo(
            f"PCI violation: {location} holds {rows:,} full card numbers"
            + (
                f", {truncated:,} truncated"
                if truncated
                else f" (truncate after `steward redact approve {location}`)"
            )
        )
    if result["unchecked_tables"]:
        typer.echo(
            "not rewritten (no retention rule, holds unknown): "
            + ", ".join(result["unchecked_tables"])
        )


def _run(apply: bool, batch_size: int, max_rows: int, as_json: bool) -> None:
    from steward import warehouse
    from steward.engine import CircuitBreakerError
    from steward.redaction import runner

    try:
        result = runner.run(
            warehouse.engine(), apply=apply, batch_size=batch_size, max_rows=max_rows
        )
    except (CircuitBreakerError, runner.RedactionError) as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    _print(result.as_dict(), as_json)


@redact_app.command("plan")
def plan_command(
    max_rows: int = typer.Option(200_000, help="Circuit breaker: most plan rows."),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """What a run would redact, per column and kind (counts only). Changes nothing."""
    _run(False, 1_000, max_rows, as_json)


@redact_app.command("run")
def run_command(
    apply: bool = typer.Option(False, "--apply", help="Change data (default: dry run)."),
    batch_size: int = typer.Option(1_000, help="Rows per batch."),
    max_rows: int = typer.Option(200_000, help="Circuit breaker: most plan rows."),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Redact: a dry run unless --apply; an interrupted applied run resumes."""
    _run(apply, batch_size, max_rows, as_json)


@redact_app.command("approve")
def approve_command(
    column: str = typer.Argument(..., help="The card column, schema.table.column."),
    approved_by: str = typer.Option(None, "--by", help="Who approves (default: the OS user)."),
) -> None:
    """Allow the next applied run to truncate a card column's full numbers to first 6 / last 4."""
    from steward import warehouse
    from steward.redaction import runner

    try:
        runner.approve(warehouse.engine(), column, approved_by or getpass.getuser())
    except runner.RedactionError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"approved: the next `steward redact run --apply` truncates {column}")


def apply_from_env() -> bool:
    return os.environ.get(APPLY_ENV, "").lower() in {"1", "true", "yes"}
