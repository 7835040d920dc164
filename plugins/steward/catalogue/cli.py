"""``steward catalogue ...``: the PII scan and its accuracy benchmark."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

catalogue_app = typer.Typer(help="The PII catalogue: which columns hold personal data.")


@catalogue_app.command("scan")
def scan(
    schemas: Annotated[list[str], typer.Argument(help="Schemas to scan.")],
    sample_rows: int = typer.Option(1000, help="Rows sampled per table."),
    seed: int = typer.Option(20240601, help="TABLESAMPLE REPEATABLE seed."),
    full_scan: bool = typer.Option(False, help="Validate every value (slow baseline)."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole report as JSON."),
) -> None:
    """Scan schemas and list the columns found to hold personal data."""
    from steward import warehouse
    from steward.catalogue.scanner import scan_schemas

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
