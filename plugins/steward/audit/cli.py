"""``steward audit``: check the hash chain of the audit trail."""

from __future__ import annotations

import json

import typer

audit_app = typer.Typer(help="The append-only, hash-chained audit trail.")


@audit_app.command("verify")
def verify_command(as_json: bool = typer.Option(False, "--json", help="JSON output.")) -> None:
    """Recompute the audit chain; exit 1 if any row was altered or removed."""
    from steward import audit, warehouse

    report = audit.verify(warehouse.engine())
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    elif report.ok:
        typer.echo(
            f"audit trail intact: {report.rows:,} rows, head #{report.head_seq} {report.head_hash}"
        )
    else:
        typer.secho(
            f"audit trail TAMPERED: altered rows {report.broken_seqs}, "
            f"missing rows {report.missing_seqs} (of {report.rows:,})",
            fg=typer.colors.RED,
            err=True,
        )
    if not report.ok:
        raise typer.Exit(1)
