"""``steward catalogue ...``: the PII scan, the catalogue, its drift and the benchmark."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

OVERRIDE_COLUMNS = (
    "schema_name",
    "table_name",
    "column_name",
    "category",
    "status",
    "reviewed_by",
    "reviewed_on",
    "note",
)

catalogue_app = typer.Typer(help="The PII catalogue: which columns hold personal data.")


@catalogue_app.command("scan")
def scan(
    schemas: Annotated[
        list[str] | None,
        typer.Argument(help="Schemas to scan (default with --persist: all but Steward's own)."),
    ] = None,
    sample_rows: int = typer.Option(1000, help="Rows sampled per table."),
    seed: int = typer.Option(20240601, help="TABLESAMPLE REPEATABLE seed."),
    full_scan: bool = typer.Option(False, help="Validate every value (slow baseline)."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole report as JSON."),
    persist: bool = typer.Option(
        False, help="Store the run in schema steward (incremental unless --full)."
    ),
    full: bool = typer.Option(False, help="With --persist: rescan unchanged columns too."),
) -> None:
    """Scan schemas and list the columns found to hold personal data."""
    from steward import warehouse
    from steward.catalogue.scanner import scan_schemas

    if persist:
        from steward.catalogue import nightly

        summary = nightly.run_scan(
            full=full, schemas=schemas or None, sample_rows=sample_rows, seed=seed
        )
        typer.echo(json.dumps(summary, indent=2, default=str))
        return
    if not schemas:
        raise typer.BadParameter("name the schemas to scan, or use --persist")
    report = scan_schemas(
        warehouse.engine(), schemas, sample_rows=sample_rows, seed=seed, full_scan=full_scan
    )
    if as_json:
        typer.echo(report.to_json(indent=2))
        return
    for finding in sorted(report.pii(), key=lambda f: (f.schema, f.table, f.column)):
        typer.echo(
            f"{finding.schema}.{finding.table}.{finding.column}\t{finding.category}"
            f"\t{finding.confidence:.2f}\t{finding.evidence.get('rule')}"
        )
    for problem in report.problems:
        typer.secho(
            f"problem: {problem.schema}.{problem.table}"
            f"{'.' + problem.column if problem.column else ''}: {problem.kind}: {problem.detail}",
            err=True,
            fg=typer.colors.YELLOW,
        )
    typer.echo(f"{len(report.pii())} PII columns in {report.timings['total_seconds']:.1f} s")


@catalogue_app.command("refresh")
def refresh(
    full: bool = typer.Option(False, help="Rescan unchanged columns too."),
    drift_severity: str = typer.Option("warn", help="Severity of the drift test: warn|error."),
) -> None:
    """Scan and persist, build the catalogue marts with dbt, print the summary."""
    from steward.catalogue import nightly

    scan_summary = nightly.run_scan(full=full)
    ok = nightly.build_marts(variables={"steward_catalogue_drift_severity": drift_severity})
    summary = {"scan": scan_summary, "catalogue": nightly.summarise() if ok else None}
    typer.echo(json.dumps(summary, indent=2, default=str))
    if not ok:
        typer.secho("dbt build of the catalogue marts failed", err=True, fg=typer.colors.RED)
        raise typer.Exit(1)


@catalogue_app.command("drift")
def drift(
    fail_on_gaps: bool = typer.Option(False, help="Exit 1 when there is a governance gap."),
) -> None:
    """List the drift between the catalogue and the data map (after the marts ran)."""
    from steward.catalogue import nightly

    summary = nightly.summarise()
    for row in summary["drift"]:
        typer.echo(
            f"{row['kind']}\t{row['column']}\tdeclared={row['declared_category'] or '-'}"
            f"\tfound={row['found_categories'] or '-'}"
        )
    typer.echo(json.dumps(summary["drift_counts"]))
    if fail_on_gaps and summary["gaps"]:
        raise typer.Exit(1)


def _write_override(path: Path, column: str, category: str, status: str, note: str) -> None:
    parts = column.split(".")
    if len(parts) != 3 or not all(parts):
        raise typer.BadParameter("expected SCHEMA.TABLE.COLUMN", param_hint="COLUMN")
    schema, table, name = parts
    rows: list[dict[str, str]] = []
    if path.exists():
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    key = (schema, table, name, category)
    rows = [
        r
        for r in rows
        if (r["schema_name"], r["table_name"], r["column_name"], r["category"]) != key
    ]
    rows.append(
        {
            "schema_name": schema,
            "table_name": table,
            "column_name": name,
            "category": category,
            "status": status,
            "reviewed_by": "steward-cli",
            "reviewed_on": dt.date.today().isoformat(),
            "note": note,
        }
    )
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=OVERRIDE_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    typer.echo(f"{status}: {column} {category} (in {path.name}; run dbt seed to apply)")


def _default_overrides_file() -> Path:
    from steward import paths

    return paths.dbt_project_dir() / "seeds" / "catalogue_overrides.csv"


@catalogue_app.command("confirm")
def confirm(
    column: Annotated[str, typer.Argument(help="SCHEMA.TABLE.COLUMN")],
    category: Annotated[str, typer.Argument(help="The data category, e.g. user.contact.email")],
    note: str = typer.Option("", help="Why (no personal data here)."),
    overrides_file: Annotated[Path | None, typer.Option(help="The overrides seed CSV.")] = None,
) -> None:
    """Record that COLUMN holds CATEGORY (the overrides seed)."""
    path = overrides_file or _default_overrides_file()
    _write_override(path, column, category, "confirmed", note)


@catalogue_app.command("reject")
def reject(
    column: Annotated[str, typer.Argument(help="SCHEMA.TABLE.COLUMN")],
    category: Annotated[str, typer.Argument(help="The data category the scanner suggested")],
    note: str = typer.Option("", help="Why (no personal data here)."),
    overrides_file: Annotated[Path | None, typer.Option(help="The overrides seed CSV.")] = None,
) -> None:
    """Record that COLUMN does not hold CATEGORY; later runs keep it rejected."""
    path = overrides_file or _default_overrides_file()
    _write_override(path, column, category, "rejected", note)


@catalogue_app.command("benchmark")
def benchmark_command(
    shared_dir: Annotated[
        Path | None, typer.Option(help="The labelled corpus (default: ../shared/...).")
    ] = None,
    sample_rows: int = typer.Option(1000, help="Rows sampled per table."),
    full_scan: bool = typer.Option(False, help="Validate every value."),
) -> None:
    """Measure precision/recall of the scan on the labelled PII-columns corpus."""
    from steward.catalogue import benchmark

    result = benchmark.run_benchmark(
        shared_dir or benchmark.DEFAULT_SHARED_DIR, sample_rows=sample_rows, full_scan=full_scan
    )
    typer.echo(benchmark.to_markdown(result))
    if not result.meets_targets:
        raise typer.Exit(1)


def run_benchmark(*args, **kwargs):
    """The benchmark as a function (same as ``steward.catalogue.benchmark.run_benchmark``)."""
    from steward.catalogue import benchmark

    return benchmark.run_benchmark(*args, **kwargs)
