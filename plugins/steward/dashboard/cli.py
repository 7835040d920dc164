"""Command line of the dashboard: ``steward report`` and ``steward dashboard snapshot``.

The lead registers them in ``steward.cli``::

    from steward.dashboard.cli import dashboard_app, report
    app.command("report")(report)
    app.add_typer(dashboard_app, name="dashboard")
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

OutOption = Annotated[Path, typer.Option("--out", help="Folder to write the HTML report to.")]
dashboard_app = typer.Typer(help="The stewards' dashboard (the Airflow plugin's page).")


def report(
    out: OutOption,
) -> None:
    """Write the stewards' dashboard as a static HTML report (counts only, no personal data)."""
    from steward.dashboard.report import write_report

    summary = write_report(out)
    typer.echo(f"report written to {summary['report']} (copy: {summary['archived']})")
    for key, state in summary["sections"].items():
        typer.echo(f"  {key}: {state.replace('_', ' ')}")


@dashboard_app.command("snapshot")
def snapshot_command() -> None:
    """Store today's aggregate figures in steward.dashboard_snapshots (the trend lines)."""
    from steward.dashboard.snapshot import snapshot

    typer.echo(json.dumps(snapshot(), indent=2, default=str))


@dashboard_app.command("report")
def report_command(
    out: OutOption,
) -> None:
    """Same as ``steward report --out DIR``."""
    report(out)
