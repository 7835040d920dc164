"""``steward audit``: check the hash chain of the audit trail, protect it from Steward's role."""

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


@audit_app.command("protect")
def protect_command(
    app_role: str = typer.Option(..., "--app-role", help="The role of Steward's connection."),
    owner_role: str = typer.Option(
        "steward_audit_owner", "--owner-role", help="Takes over the log (created, no login)."
    ),
) -> None:
    """Hand the audit trail to an owner role; the app role may only append and read it.

    Run once by a DBA (a role allowed to create roles and change owners), with
    STEWARD_DATABASE_URL pointing at the warehouse as that role.
    """
    from steward import audit, warehouse

    try:
        result = audit.protect(warehouse.engine(), app_role, owner_role)
    except audit.ProtectError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    typer.echo(json.dumps(result, indent=2))
