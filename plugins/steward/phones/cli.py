"""``steward phones``: refresh the phone lookup, or see how one value parses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

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


@phones_app.command("import-dnc")
def import_dnc(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A registry download.")],
    changes: bool = typer.Option(
        False, "--changes", help="A change list (adds/deletes), not a full list."
    ),
    deletions: bool = typer.Option(
        False, "--deletions", help="Change-list lines without an action field are deletions."
    ),
    snapshot_date: str | None = typer.Option(
        None, "--snapshot-date", help="The download's date, YYYY-MM-DD (default: today)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count everything, change nothing."),
    max_delist_share: float = typer.Option(
        0.2, help="Refuse a full list that would delist more than this share of the listings."
    ),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Import a national Do-Not-Call registry file into steward.dnc_registry (counts only)."""
    import datetime as dt

    from steward.phones.dnc import RegistryImportError, import_registry_file

    try:
        date = dt.date.fromisoformat(snapshot_date) if snapshot_date else None
    except ValueError as exc:
        typer.secho(f"error: --snapshot-date: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    try:
        report = import_registry_file(
            file,
            changes=changes,
            deletions=deletions,
            snapshot_date=date,
            dry_run=dry_run,
            max_delist_share=max_delist_share,
        )
    except (RegistryImportError, ValueError) as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
        return
    typer.echo(
        f"{report.import_kind} import of {report.source_file} (snapshot {report.snapshot_date})"
        f"{' [dry run: nothing changed]' if report.dry_run else ''}: {report.lines_read:,} lines,"
        f" {report.numbers_accepted:,} numbers accepted, {report.lines_rejected:,} lines"
        f" rejected; {report.numbers_added:,} added, {report.numbers_removed:,} removed,"
        f" {report.listed_after:,} listed"
    )
    for reason, count in report.rejected_by_reason.items():
        lines = ", ".join(str(n) for n in report.rejected_line_numbers.get(reason, []))
        typer.echo(f"  rejected {reason:18} {count:,} (first lines: {lines})")


@phones_app.command("summary")
def summary(as_json: bool = typer.Option(False, "--json", help="JSON output.")) -> None:
    """Counts from the phone marts: valid rate, duplicates, inactive, DNC, registry age."""
    from steward.phones.nightly import summarise

    result = summarise()
    if as_json or not result.get("available"):
        typer.echo(json.dumps(result, indent=2))
        return
    registry = result["dnc_registry"]
    stale = ", STALE" if registry.get("is_stale") else ""
    typer.echo(
        f"{result['phone_records']:,} phone records, valid rate {result['valid_rate']:.2%};"
        f" duplicate groups {result['duplicate_groups']}; inactive {result['inactive_total']:,};"
        f" contactable {result['contactable']:,} of {result['contact_checked']:,};"
        f" DNC violations {result['dnc_violations_total']:,};"
        f" recording consent violations {result['recording_consent_violations']:,};"
        f" registry snapshot {registry.get('latest_snapshot_on')}"
        f" ({registry.get('snapshot_age_days')} days old{stale})"
    )
