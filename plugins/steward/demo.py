"""``make demo``: the whole pipeline, for real, on this machine, in a few minutes.

Starts the warehouse, checks the data map, seeds the call-centre source systems,
then runs the nightly Airflow DAG once (``dag.test()``: real tasks, real dbt, real
PostgreSQL, no scheduler) and prints what happened in plain words. Airflow's
and dbt's chatter goes to a log file, not the screen. Nothing printed here
contains personal data: only counts, states and locations.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from steward import paths, settings, warehouse
from steward.airflow import bootstrap, dag_defaults

RULE = "-" * 64


class DemoFailedError(Exception):
    """An expected failure: explained to the reader, no traceback."""


def run_demo(scale: str = "s", seed: int = 42) -> int:
    """Run the demo end to end; return the process exit code (0 = all good)."""
    started = time.monotonic()
    try:
        _run(scale, seed)
    except DemoFailedError as exc:
        _say(f"\nThe demo stopped: {exc}")
        return 1
    _say(f"\nDemo finished in {time.monotonic() - started:.0f} s.")
    return 0


def _run(scale: str, seed: int) -> None:
    from steward import datamap
    from steward.seed import generate

    if scale not in generate.SCALES:
        raise DemoFailedError(
            f"unknown scale {scale!r}; choose one of {', '.join(generate.SCALES)}"
        )

    _heading("1. Warehouse")
    try:
        location = warehouse.up()
    except Exception as exc:  # explain, don't dump: the reader may not be an engineer
        raise DemoFailedError(f"the warehouse did not start ({type(exc).__name__}: {exc})") from exc
    url = warehouse.database_url()
    _say(f"PostgreSQL at {location}")
    generated = settings.ensure_local_secrets()
    if generated:
        _say(
            f"Generated {len(generated)} keys for this machine in "
            f"{_relative(settings.local_secrets_path())}"
            " (owner-only; never in the warehouse)"
        )

    _heading("2. Data map")
    try:
        data_map = datamap.load_data_map()
    except datamap.DataMapError as exc:
        raise DemoFailedError(f"the data map is invalid:\n{exc}") from exc
    _say(
        f"{len(data_map.tables)} tables described, "
        f"{sum(len(table.columns) for table in data_map.tables)} personal columns"
    )

    _heading(f"3. Seeding the source systems (scale {scale}, seed {seed})")
    report = generate.seed_warehouse(scale=scale, seed=seed, url=url, progress=True)
    _say(report.summary())
    try:
        datamap.validate_against_warehouse(data_map, warehouse.engine(url))
    except datamap.DataMapError as exc:
        raise DemoFailedError(f"the data map does not match the warehouse:\n{exc}") from exc
    _say("The data map matches the warehouse.")

    _heading("4. The nightly Airflow DAG")
    summary = _run_nightly_dag(url)

    _heading("5. What the night found")
    _print_night(summary)
    _print_breaches(_read_breach_register(warehouse.engine(url)))

    _heading("Where things are")
    _say(f"Warehouse:       {location}")
    _say("                 (`steward warehouse status`; stop it with `steward warehouse down`)")
    _say(f"Airflow home:    {paths.airflow_home()}")
    _say(f"Airflow UI:      run `{_steward_command()} airflow standalone`, then open")
    _say(f"                 {bootstrap.ui_url()}, DAG {dag_defaults.NIGHTLY_DAG_ID}")
    users = ", ".join(bootstrap.LOGIN_USERS)
    _say(f"Sign-in:         as {users}; the first start prints their passwords once, then")
    _say(f"                 they are only in {_relative(bootstrap.passwords_path())}")
    _say(
        f"Keys:            {_relative(settings.local_secrets_path())} "
        "(every `steward` command reads it; an exported variable wins)"
    )
    _say(f"Dashboard:       {bootstrap.ui_url()}/plugin/steward (menu entry Steward)")
    _say(
        f"Requests:        {bootstrap.ui_url()}/plugin/steward-request "
        "(menu entry New data-subject request)"
    )
    report_dir = paths.project_root() / "reports"
    _say(f"Static report:   `{_steward_command()} report --out {_relative(report_dir)}`")
    data_docs = summary.get("quality", {}).get("data_docs")
    if data_docs:
        _say(f"Data Docs:       {_relative(Path(data_docs))}/index.html")
    _say(f"dbt and Airflow: {_relative(paths.airflow_home() / 'logs' / 'demo-nightly-run.log')}")


def _print_night(summary: dict) -> None:
    """The nightly summary in plain words: counts only, never a value."""
    staging = summary["staging"]
    _say(f"Staging: {staging['staging_models']} dbt views, {staging['staging_rows']:,} rows")
    if staging["mismatched_models"]:
        raise DemoFailedError(
            "some staging views do not hold every source row: "
            + ", ".join(staging["mismatched_models"])
        )
    catalogue = summary.get("catalogue") or {}
    if catalogue:
        run = catalogue.get("latest_run", {})
        _say(
            f"PII catalogue: {run.get('columns_scanned', 0)} columns scanned "
            f"({run.get('columns_unchanged', 0)} unchanged since the last scan), "
            f"{run.get('pii_columns', 0)} hold personal data"
        )
        for gap in catalogue.get("drift", []):
            _say(
                f"  governance gap: {gap['column']} holds {gap['found_categories']} "
                f"({gap['kind']}: the data map does not say so)"
            )
    phones = summary.get("phones") or {}
    if phones.get("available"):
        duplicates = sum(phones["duplicate_groups"].values())
        violations = sum(phones["dnc_violations"].values())
        _say(
            f"Phones: {phones['phone_records']:,} numbers, {phones['valid_rate']:.1%} valid, "
            f"{duplicates} duplicate groups, {phones['inactive_total']:,} inactive, "
            f"{phones['contactable']:,} of {phones['contact_checked']:,} lawful to dial"
        )
        _say(f"  {violations} campaign calls to numbers that were not contactable at the time")
    dedupe = summary.get("dedupe") or {}
    if dedupe:
        _say(
            f"Duplicate customers: {dedupe['clusters']} clusters holding "
            f"{dedupe['clustered_records']} of {dedupe['records']:,} records "
            "(proposed for review, nothing merged)"
        )
    retention = summary.get("retention") or {}
    if retention:
        totals = retention["totals"]
        if retention["mode"] == "dry_run":
            outcome = "dry run: nothing changed (`steward retention run --apply` enforces)"
        else:
            outcome = f"{totals['deleted']:,} deleted, {totals['anonymised']:,} anonymised"
        _say(
            f"Retention: {totals['due']:,} rows past their retention period, "
            f"{totals['held_back']:,} more held back by legal holds; {outcome}"
        )
        if retention["stopped_by_breaker"]:
            _say(
                f"  circuit breaker: {len(retention['stopped_by_breaker'])} policies would remove "
                f"more than {retention['max_share']:.0%} of their table and wait for approval "
                "(`steward retention approve POLICY`)"
            )
    _print_redaction(summary.get("redaction") or {})
    _print_access(summary.get("access") or {})
    quality = summary.get("quality") or {}
    if quality:
        failed = sorted(name for name, ok in quality.get("checks", {}).items() if not ok)
        _say(
            f"Great Expectations ({quality['suite']}): "
            f"{quality['expectations'] - quality['failed']} of {quality['expectations']} passed"
            + (f"; failed: {', '.join(failed)}" if failed else "")
        )


def _print_access(access: dict) -> None:
    if not access.get("available"):
        return
    hidden = len(access["undeclared_columns"])
    _say(
        f"Access: {access['views']} governed views for {len(access['roles'])} roles; "
        f"{hidden} undeclared column{'' if hidden == 1 else 's'} hidden until declared"
    )
    _say(
        f"  access review: {access['roles_reading_directly']} roles can read "
        f"{access['personal_columns_read']} personal columns directly, "
        f"{access['violations']} violations of the policy"
    )


def _read_breach_register(engine) -> dict:
    """Open incidents and the next notice due, from the breach register: counts only."""
    import sqlalchemy as sa

    from steward.breach.register import OPEN_STATUSES

    with engine.connect() as conn:
        if conn.execute(sa.text("select to_regclass('steward.breach_incidents')")).scalar() is None:
            return {"open_incidents": 0, "pending_notices": 0, "next_due": None}
        row = (
            conn.execute(
                sa.text(
                    "select count(distinct i.incident_id) as open_incidents,"
                    " count(n.rule_key) filter (where n.is_required and n.notified_at is null)"
                    " as pending_notices,"
                    " min(n.due_at) filter (where n.is_required and n.notified_at is null)"
                    " as next_due"
                    " from steward.breach_incidents as i"
                    " left join steward.breach_notifications as n using (incident_id)"
                    " where i.status = any(:statuses)"
                ),
                {"statuses": list(OPEN_STATUSES)},
            )
            .mappings()
            .one()
        )
    return dict(row)


def _print_breaches(register: dict) -> None:
    """One line about the breach register: how many incidents are open, what is due next."""
    incidents = register.get("open_incidents") or 0
    if not incidents:
        _say(
            "Breach register: no open incident "
            f"(`{_steward_command()} breach assess ...` to assess one)"
        )
        return
    pending = register.get("pending_notices") or 0
    line = (
        f"Breach register: {incidents} open incident{'' if incidents == 1 else 's'}, "
        f"{pending} required notice{'' if pending == 1 else 's'} not yet given"
    )
    if register.get("next_due") is not None:
        due = register["next_due"].astimezone(dt.UTC)
        line += f"; the next is due {due:%Y-%m-%d %H:%M} UTC"
    _say(line + f" (`{_steward_command()} breach list`)")


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _run_nightly_dag(url: str) -> dict:
    # One attempt per task: the demo reports a failure at once instead of waiting.
    env = {**bootstrap.airflow_environment(url), dag_defaults.TASK_RETRIES_ENV: "0"}
    # Airflow reads its home and metadata database when first imported.
    bootstrap.apply_environment(env)
    bootstrap.ensure_airflow_db()

    log_path = paths.airflow_home() / "logs" / "demo-nightly-run.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    _say(f"Running {dag_defaults.NIGHTLY_DAG_ID} once (Airflow and dbt log: {log_path}) ...")
    started = time.monotonic()
    with _output_to(log_path) as terminal:
        dag_run, import_errors = _parse_and_test_dag(terminal)
    elapsed = time.monotonic() - started

    if import_errors:
        files = ", ".join(sorted(Path(name).name for name in import_errors))
        raise DemoFailedError(
            f"Airflow could not load the DAG files {files}; details in {log_path}"
        )

    task_states = Counter(str(ti.state) for ti in dag_run.get_task_instances())
    _say(f"DAG run finished in {elapsed:.0f} s: {dag_run.state}")
    _say("  tasks: " + ", ".join(f"{n} {state}" for state, n in sorted(task_states.items())))
    if str(dag_run.state) != "success":
        failed = sorted(
            ti.task_id for ti in dag_run.get_task_instances() if str(ti.state) == "failed"
        )
        raise DemoFailedError(
            f"the nightly DAG failed at {', '.join(failed) or 'an unknown task'}; see {log_path}"
        )
    return _nightly_summary(dag_run)


def _print_redaction(redaction: dict) -> None:
    """Card data and SSNs in free text (PCI DSS): counts and locations only."""
    if not redaction:
        return
    if redaction.get("stopped_by_breaker"):
        _say(f"Card data in free text: {redaction['stopped_by_breaker']}")
        return
    found = ", ".join(f"{count:,} {kind}" for kind, count in redaction["found"].items()) or "none"
    if redaction["mode"] == "dry_run":
        outcome = "dry run: nothing changed (`steward redact run --apply` redacts)"
    else:
        outcome = f"{redaction['rows_changed']:,} rows rewritten"
    _say(
        f"Card data in free text: {found} found; {redaction['held_rows']:,} candidate rows "
        f"under legal hold left alone; {outcome}"
    )
    for location, rows in redaction["pci_violations"].items():
        if rows:
            _say(
                f"  PCI violation: {rows:,} full card numbers in {location} "
                f"(`steward redact approve {location}` to truncate to first 6 / last 4)"
            )


def _nightly_summary(dag_run) -> dict:
    """The nightly_summary task's return value (XCom) of this run."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    query = XComModel.get_many(
        run_id=dag_run.run_id,
        dag_ids=dag_run.dag_id,
        task_ids="nightly_summary",
        key="return_value",
    )
    with create_session() as session:
        row = session.scalars(query).first()
        if row is None:
            raise DemoFailedError("the nightly run left no summary")
        return XComModel.deserialize_value(row)


def _parse_and_test_dag(terminal: TextIO):
    from airflow.dag_processing.dagbag import DagBag

    from steward.demo_progress import RunProgress

    terminal.write("  parsing the DAG files (Cosmos turns each dbt model into tasks) ...\n")
    terminal.flush()
    bag = DagBag(dag_folder=str(paths.dags_dir()))
    if bag.import_errors:
        for file, error in bag.import_errors.items():
            print(f"import error in {file}:\n{error}")  # into the log file
        return None, bag.import_errors
    dag = bag.get_dag(dag_defaults.NIGHTLY_DAG_ID)
    # dag.test() says nothing on the terminal for minutes: show the groups as they go.
    progress = RunProgress(dag, terminal)
    terminal.write(
        f"  {len(progress.groups)} task groups, {len(dag.tasks)} tasks; "
        "one line as each group starts and ends:\n"
    )
    terminal.flush()
    progress.start()
    try:
        return dag.test(), {}
    finally:
        progress.stop()


@contextmanager
def _output_to(log_path: Path) -> Iterator[TextIO]:
    """Send everything written to stdout/stderr (also by dbt and Airflow) to a file.

    Yields the terminal (the stdout from before), for the progress lines.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log_path, "w") as log, os.fdopen(os.dup(saved[0]), "w") as terminal:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def _steward_command() -> str:
    """How to call the ``steward`` command from here, venv activated or not."""
    installed = Path(sys.executable).with_name("steward")
    if installed.exists():
        try:
            return str(installed.relative_to(Path.cwd()))
        except ValueError:
            return str(installed)
    return "steward"


def _heading(text: str) -> None:
    _say(f"\n{text}\n{RULE}")


def _say(text: str) -> None:
    print(text, flush=True)
