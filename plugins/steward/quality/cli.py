"""``steward quality``: run the Great Expectations checkpoint on the phone marts."""

from __future__ import annotations

import json

import typer

quality_app = typer.Typer(help="Data quality: Great Expectations suites pushed down to PostgreSQL.")


@quality_app.callback()
def quality() -> None:
    """Data quality checks (a group, so that `steward quality run` keeps its name)."""


@quality_app.command("run")
def run(as_json: bool = typer.Option(False, "--json", help="JSON output.")) -> None:
    """Validate phone_quality, build Data Docs, store a summary in steward.quality_results."""
    from steward.quality.checkpoint import run_checkpoint

    summary = run_checkpoint()
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    typer.echo(
        f"{summary['suite']}: {summary['expectations']} expectations, "
        f"{summary['failed']} failed (run {summary['run_id']})"
    )
    for check, success in summary["checks"].items():
        typer.echo(f"  {'pass' if success else 'FAIL'}  {check}")
    typer.echo(f"Data Docs: {summary['data_docs']}/index.html")
