"""The ``steward`` command line.

Each command is a thin wrapper: the work lives in the package modules, which
are imported lazily so that ``steward --help`` stays fast.
"""

from __future__ import annotations

import json
import os
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
    from steward.access.cli import access_app
    from steward.audit.cli import audit_app
    from steward.breach.cli import breach_app
    from steward.catalogue.cli import catalogue_app
    from steward.dashboard.cli import dashboard_app, report
    from steward.dedupe.cli import dedupe_app
    from steward.dsar.cli import dsar_app
    from steward.phones.cli import phones_app
    from steward.quality.cli import quality_app
    from steward.redaction.cli import redact_app
    from steward.retention.cli import retention_app

    app.add_typer(catalogue_app, name="catalogue")
    app.add_typer(phones_app, name="phones")
    app.add_typer(dedupe_app, name="dedupe")
    app.add_typer(quality_app, name="quality")
    app.add_typer(retention_app, name="retention")
    app.add_typer(redact_app, name="redact")
    app.add_typer(dsar_app, name="dsar")
    app.add_typer(audit_app, name="audit")
    app.add_typer(access_app, name="access")
    app.add_typer(breach_app, name="breach")
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


@warehouse_app.command("upgrade")
def warehouse_upgrade(
    url: str = typer.Option(None, help="Another database than the warehouse (a SQLAlchemy URL)."),
) -> None:
    """Create Steward's tables, or upgrade them to the newest revision (idempotent)."""
    from steward import schema

    try:
        before = schema.upgrade(url)
    except schema.SchemaError as exc:
        _fail(str(exc))
    after = schema.head()
    typer.echo("up to date" if before == after else f"{before or 'nothing'} -> {after}")
    typer.echo(f"revision: {after}")


@warehouse_app.command("schema")
def warehouse_schema(
    url: str = typer.Option(None, help="Another database than the warehouse (a SQLAlchemy URL)."),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Say which revision of Steward's tables the warehouse is at (exit 1: upgrade needed)."""
    from steward import schema

    state = schema.status(url)
    if as_json:
        typer.echo(json.dumps(state.as_dict(), indent=2))
    else:
        typer.echo(f"revision: {state.current or 'none'} (newest: {state.head})")
        if state.pending:
            typer.echo(f"pending:  {', '.join(state.pending)} (`steward warehouse upgrade`)")
        if state.missing_tables:
            typer.echo(f"missing:  {', '.join(state.missing_tables)}")
    if not state.up_to_date:
        raise typer.Exit(1)


@warehouse_app.command("dbt-sources")
def warehouse_dbt_sources(
    check: bool = typer.Option(False, "--check", help="Only say whether it is current."),
) -> None:
    """(Developers) write dbt's internal source `steward` from steward/schema/tables.py."""
    from steward.schema import dbt_sources

    if check:
        if not dbt_sources.is_current():
            _fail(f"{dbt_sources.path()} differs from tables.py: run without --check")
        typer.echo("current")
        return
    typer.echo(f"wrote {dbt_sources.write()}")


@warehouse_app.command("revision")
def warehouse_revision(
    message: str = typer.Option(..., "--message", "-m", help="What the revision changes."),
) -> None:
    """(Developers) write the next migration from what steward/schema/tables.py changed."""
    from steward import schema

    try:
        path = schema.new_revision(message)
    except schema.SchemaError as exc:
        _fail(str(exc))
    typer.echo(f"wrote {path}: read it over, then commit it with the change to tables.py")


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

    from steward.airflow import bootstrap

    for key, value in sorted(bootstrap.airflow_environment().items()):
        typer.echo(f"export {key}={shlex.quote(value)}")


@airflow_app.command("standalone")
def airflow_standalone(
    port: int = typer.Option(None, help="Port of the UI and API (default 8080)."),
) -> None:
    """Start Airflow (UI and API, scheduler, DAG processor, triggerer); Ctrl-C stops it all.

    Sign-in is required. The first start creates a password for each user
    (admin, privacy) and prints it once; it is kept in .airflow/ (mode 0600).
    """
    from steward import paths, settings
    from steward.airflow import bootstrap, standalone

    env = bootstrap.airflow_environment()
    if port:
        env["AIRFLOW__API__PORT"] = str(port)
        # Tasks reach the scheduler's Execution API through the API server: same port.
        env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] = (
            f"http://{env['AIRFLOW__API__HOST']}:{port}/execution/"
        )
    bootstrap.apply_environment(env)
    bootstrap.ensure_airflow_db()
    created = bootstrap.ensure_login_passwords()
    passwords = bootstrap.passwords_path()
    ui = f"http://{env['AIRFLOW__API__HOST']}:{env['AIRFLOW__API__PORT']}"
    typer.echo(f"Airflow UI on {ui}: sign in as one of {', '.join(bootstrap.LOGIN_USERS)}")
    if created:
        typer.echo("New passwords (shown this once; kept only in the file below):")
        for user, password in created.items():
            typer.echo(f"  {user}: {password}")
    typer.echo(f"Passwords file: {passwords} (owner-only); delete a user's entry to get a new one")
    generated = settings.ensure_local_secrets()
    keys_file = settings.local_secrets_path()
    if generated:
        typer.echo(f"Generated keys {', '.join(generated)} into {keys_file} (owner-only)")
    typer.echo(
        f"Keys not set in the environment are read from {keys_file}; back it up: without the "
        "suppression key, earlier erasures can no longer be recognised"
    )
    typer.echo(
        f"Task slots: {env['AIRFLOW__CORE__PARALLELISM']} (LocalExecutor); "
        f"logs of the tasks under {paths.airflow_home() / 'logs'}"
    )
    raise typer.Exit(standalone.run({**os.environ, **env}))


if __name__ == "__main__":
    app()
