"""The ``steward`` command line.

Each command is a thin wrapper: the work lives in the package modules, which
are imported lazily so that ``steward --help`` stays fast.
"""

from __future__ import annotations

import json
import sys

import typer

app = typer.Typer(
    help="Steward: data governance for call-centre warehouses.",
    no_args_is_help=True,
    add_completion=False,
)
warehouse_app = typer.Typer(help="The PostgreSQL warehouse (embedded unless STEWARD_DATABASE_URL).")
datamap_app = typer.Typer(help="The data map: who each table is about, and what it holds.")
app.add_typer(warehouse_app, name="warehouse")
app.add_typer(datamap_app, name="datamap")


def _register_area_commands() -> None:
    """Each area (catalogue, phones, ...) owns its sub-commands in its own module."""
    from steward.audit.cli import audit_app
    from steward.catalogue.cli import catalogue_app
    from steward.dashboard.cli import dashboard_app, report
    from steward.dedupe.cli import dedupe_app
    from steward.dsar.cli import dsar_app
    from steward.phones.cli import phones_app
    from steward.quality.cli import quality_app
    from steward.retention.cli import retention_app

    app.add_typer(catalogue_app, name="catalogue")
    app.add_typer(phones_app, name="phones")
    app.add_typer(dedupe_app, name="dedupe")
    app.add_typer(quality_app, name="quality")
    app.add_typer(retention_app, name="retention")
    app.add_typer(dsar_app, name="dsar")
    app.add_typer(audit_app, name="audit")
    app.add_typer(dashboard_app, name="dashboard")
    app.command("report")(report)


_register_area_commands()


def _fail(message: str, code: int = 1) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@warehouse_app.command("up")
def warehouse_up() -> None:
    """Start the embedded warehouse (if needed) and print its URL."""
    from steward import warehouse

    typer.echo(warehouse.up())


@warehouse_app.command("down")
def warehouse_down() -> None:
    """Stop the embedded warehouse."""
    from steward import warehouse

    try:
        stopped = warehouse.down()
    except warehouse.WarehouseError as exc:
        _fail(str(exc))
    typer.echo("stopped" if stopped else "not running")


@warehouse_app.command("url")
def warehouse_url(
    show_password: bool = typer.Option(False, help="Print the password too."),
) -> None:
    """Print the SQLAlchemy URL of the warehouse (starts the embedded one)."""
    from sqlalchemy.engine import make_url

    from steward import warehouse

    typer.echo(make_url(warehouse.database_url()).render_as_string(hide_password=not show_password))


@warehouse_app.command("status")
def warehouse_status(as_json: bool = typer.Option(False, "--json", help="JSON output.")) -> None:
    """Say what the warehouse is and whether it answers (never starts it)."""
    from steward import warehouse

    info = warehouse.status()
    if as_json:
        typer.echo(json.dumps(info, indent=2))
    else:
        for key, value in info.items():
            typer.echo(f"{key:15} {value}")
    if info.get("state") != "running":
        raise typer.Exit(3)


@app.command()
def seed(
    scale: str = typer.Option("s", help="s (~1k customers), m (~100k) or l (~1M, 10M calls)."),
    random_seed: int = typer.Option(42, "--seed", help="Random seed: same seed, same warehouse."),
    progress: bool = typer.Option(True, help="Show a progress display."),
) -> None:
    """(Re)create the call-centre source systems with realistic, planted data."""
    from steward.seed import generate

    if scale not in generate.SCALES:
        _fail(f"unknown scale {scale!r}; choose one of {', '.join(generate.SCALES)}")
    report = generate.seed_warehouse(scale=scale, seed=random_seed, progress=progress)
    typer.echo(report.summary())


@datamap_app.command("validate")
def datamap_validate(
    offline: bool = typer.Option(
        False, help="Check the map's own structure only, not the warehouse's tables."
    ),
) -> None:
    """Validate the data map (dbt source meta) against itself and the warehouse."""
    from steward import datamap

    try:
        data_map = datamap.load_data_map()
        if not offline:
            from steward import warehouse

            datamap.validate_against_warehouse(data_map, warehouse.engine())
    except datamap.DataMapError as exc:
        _fail(str(exc), code=2)
    typer.echo(
        f"data map OK: {len(data_map.tables)} tables, "
        f"{sum(len(t.columns) for t in data_map.tables)} personal columns"
    )


@datamap_app.command("show")
def datamap_show() -> None:
    """Print the data map as JSON."""
    from steward import datamap

    try:
        data_map = datamap.load_data_map()
    except datamap.DataMapError as exc:
        _fail(str(exc), code=2)
    typer.echo(json.dumps(data_map.to_dict(), indent=2, default=str))


@app.command()
def demo(
    scale: str = typer.Option("s", help="Warehouse size to seed: s, m or l."),
    random_seed: int = typer.Option(42, "--seed", help="Random seed for the generator."),
) -> None:
    """Start the warehouse, seed it, run the nightly DAG for real, print a summary."""
    from steward import demo as demo_module

    sys.exit(demo_module.run_demo(scale=scale, seed=random_seed))


# --- Airflow on this project (added with the nightly DAG) -----------------

airflow_app = typer.Typer(help="Airflow on this project: its environment and its UI.")
app.add_typer(airflow_app, name="airflow")


@airflow_app.command("env")
def airflow_env() -> None:
    """Print the shell exports that point Airflow at this project and the warehouse."""
    import shlex

    from steward import airflow_support

    for key, value in sorted(airflow_support.airflow_environment().items()):
        typer.echo(f"export {key}={shlex.quote(value)}")


@airflow_app.command("standalone")
def airflow_standalone() -> None:
    """Start Airflow (UI, scheduler, DAG processor) on 127.0.0.1:8080; Ctrl-C stops it."""
    import os
    from pathlib import Path

    from steward import airflow_support

    env = airflow_support.airflow_environment()
    airflow_support.apply_environment(env)
    airflow_support.ensure_airflow_db()
    typer.echo(f"Airflow UI on {airflow_support.ui_url()} (every local user is an admin)")
    airflow_executable = Path(sys.executable).with_name("airflow")
    # `airflow standalone` starts its components as `airflow ...` found on PATH.
    os.environ["PATH"] = os.pathsep.join([str(airflow_executable.parent), os.environ["PATH"]])
    # Replace this process: Ctrl-C and exit codes then belong to Airflow itself.
    os.execv(airflow_executable, [str(airflow_executable), "standalone"])  # noqa: S606


if __name__ == "__main__":
    app()
