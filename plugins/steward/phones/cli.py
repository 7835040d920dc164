"""``steward phones``: refresh the phone lookup, or see how one value parses."""

from __future__ import annotations

import json

import typer

phones_app = typer.Typer(help="Phone numbers: E.164 normalisation and the lookup table.")


@phones_app.command("refresh")
def refresh(
    full: bool = typer.Option(False, "--full", help="Re-parse every value."),
    full_scan: bool | None = typer.Option(
        None,
        "--full-scan/--incremental",
        help="Read every source row (and prune), or only rows written since the last "
        "refresh. Default: incremental, with a full scan when due.",
    ),
    default_region: str = typer.Option("US", help="Region for values with no country hint."),
    workers: int | None = typer.Option(None, help="Parser processes (default: up to 2)."),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Bring steward.phone_lookup up to date with the data map's phone columns."""
    from steward.phones.lookup import refresh_phone_lookup

    report = refresh_phone_lookup(
        full=full, full_scan=full_scan, default_region=default_region, workers=workers
    )
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
        return
    typer.echo(
        f"{report.scan} scan of {report.sources} phone columns: {report.distinct_seen:,} "
        f"distinct values, {report.new_parsed:,} parsed, {report.reused:,} reused, "
        f"{report.pruned:,} pruned in {report.elapsed_seconds:.2f}s "
        f"(phonenumbers {report.library_version})"
    )
    for status, count in report.status_counts.items():
        typer.echo(f"  {status:22} {count:,}")


@phones_app.command("parse")
def parse(
    raw: str = typer.Argument(..., help="A phone number as typed."),
    region: str | None = typer.Option(None, help="Region hint (the customer's country)."),
    default_region: str = typer.Option("US", help="Region when the hint is missing or unknown."),
) -> None:
    """Show how Steward normalises one value (nothing is stored or logged)."""
    from dataclasses import asdict

    from steward.phones.normalise import normalise_raw

    try:
        parsed = normalise_raw(raw, region, default_region)
    except ValueError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    typer.echo(json.dumps({**asdict(parsed), "status": parsed.status.value}, indent=2))
