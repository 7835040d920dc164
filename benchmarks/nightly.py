"""The whole nightly DAG twice: a first night, then a night after 1% new and changed data.

    .venv/bin/python benchmarks/nightly.py --scale s|m|l [--url URL] [--share 0.01] [--keep]

Without ``--url`` it seeds a scratch database on the warehouse's server
(``steward.warehouse``: STEWARD_DATABASE_URL, else the embedded PostgreSQL) at
``--scale`` and drops it at the end (``--keep`` keeps it and prints its URL); with
``--url`` it reuses that seeded warehouse (and changes it: 1% more rows a run).

Night 1 runs ``steward_nightly`` with ``dag.test()`` (every task in this process,
real dbt, real PostgreSQL). Then ``--share`` of the customers, phone numbers, calls
and support tickets are added (copies under new keys: new duplicates, too) and as
many changed (a surname, a number's last digit, a ticket's status), and night 2
runs. Printed: per task group (wall time from its first task's start to its last
task's end) both nights and their ratio, the whole run, and the peak resident memory
of this process (Airflow, dbt and the tasks run in it). Counts and times only.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

import sqlalchemy as sa

from steward import paths, warehouse
from steward.airflow import bootstrap, dag_defaults

# table -> (key column, change made to a sample of existing rows)
CHANGES = {
    "crm.customers": ("customer_id", "last_name = last_name || 'e', updated_at = now()"),
    "crm.customer_phones": (
        "phone_id",
        "phone_raw = regexp_replace(phone_raw, '[0-9]$', '7')",
    ),
    "telephony.calls": ("call_id", "disposition = disposition"),
    "support.tickets": ("ticket_id", "status = 'closed', closed_at = coalesce(closed_at, now())"),
}


def add_new_and_changed(url: str, share: float, seed: int) -> dict[str, dict[str, int]]:
    """``share`` of each table's rows copied under new keys, and as many changed."""
    counts: dict[str, dict[str, int]] = {}
    percent = share * 100
    engine = warehouse.engine(url)
    with engine.begin() as connection:
        for table, (key, change) in CHANGES.items():
            schema, name = table.split(".")
            columns = connection.execute(
                sa.text(
                    "select column_name from information_schema.columns"
                    " where table_schema = :schema and table_name = :name order by ordinal_position"
                ),
                {"schema": schema, "name": name},
            ).scalars()
            columns = list(columns)
            selected = ", ".join(
                f"{key} + (select max({key}) from {table})" if column == key else column
                for column in columns
            )
            inserted = connection.execute(
                sa.text(
                    f"insert into {table} ({', '.join(columns)})"
                    f" select {selected} from {table}"
                    f" tablesample bernoulli ({percent}) repeatable ({seed})"
                )
            ).rowcount
            changed = connection.execute(
                sa.text(
                    f"update {table} set {change} where {key} in (select {key} from {table}"
                    f" tablesample bernoulli ({percent}) repeatable ({seed + 1}))"
                )
            ).rowcount
            counts[table] = {"inserted": inserted, "changed": changed}
    return counts


def run_night() -> tuple[float, dict[str, float], str, int, dict[str, float]]:
    """One ``dag.test()`` of the nightly DAG.

    Returns (seconds, per-group seconds, state, tasks, per-task seconds).
    """
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(paths.dags_dir()))
    if bag.import_errors:
        raise SystemExit(f"DAG import errors: {sorted(bag.import_errors)}")
    dag = bag.get_dag(dag_defaults.NIGHTLY_DAG_ID)
    started = time.monotonic()
    with _quiet():
        dag_run = dag.test()
    seconds = time.monotonic() - started
    spans: dict[str, list] = defaultdict(list)
    tasks: dict[str, float] = {}
    instances = dag_run.get_task_instances()
    for ti in instances:
        if ti.start_date and ti.end_date:
            spans[ti.task_id.split(".")[0]].append((ti.start_date, ti.end_date))
            tasks[ti.task_id] = (ti.end_date - ti.start_date).total_seconds()
    groups = {
        group: (max(end for _, end in times) - min(start for start, _ in times)).total_seconds()
        for group, times in spans.items()
    }
    return seconds, groups, str(dag_run.state), len(instances), tasks


_LOG = None
# How many of the slowest tasks are listed under the task group table.
SLOWEST_TASKS = 25


@contextlib.contextmanager
def _quiet():
    """Airflow's and dbt's output to a log file under the Airflow home, not the terminal.

    The file stays open for the whole process: Airflow's logger keeps the stream it
    first saw, and the second night must not write to a closed file.
    """
    global _LOG
    if _LOG is None:
        log_path = paths.airflow_home() / "benchmark-nightly.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        _LOG = log_path.open("a")
    with contextlib.redirect_stdout(_LOG), contextlib.redirect_stderr(_LOG):
        yield


@contextlib.contextmanager
def _warehouse(scale: str, url: str | None, keep: bool, seed: int):
    if url:
        yield url
        return
    from steward.seed import generate

    if keep:
        context = contextlib.nullcontext(_keep_database())
    else:
        context = warehouse.scratch_database("steward_bench_nightly")
    with context as scratch:
        mark = time.monotonic()
        generate.seed_warehouse(scale=scale, seed=seed, url=scratch, progress=False)
        print(f"seeded scale {scale} in {time.monotonic() - mark:.0f} s", flush=True)
        try:
            yield scratch
        finally:
            if not keep:  # the recording files the seed wrote beside the dropped database
                from sqlalchemy.engine import make_url

                shutil.rmtree(paths.recordings_dir() / make_url(scratch).database, True)


def _keep_database() -> str:
    import uuid

    from sqlalchemy.engine import make_url

    server = make_url(warehouse.database_url())
    name = f"steward_bench_nightly_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'create database "{name}"'))
    admin.dispose()
    url = server.set(database=name).render_as_string(hide_password=False)
    print(f"warehouse kept: {server.set(database=name).render_as_string()}", flush=True)
    return url


def _print_slowest(tasks: dict[str, float]) -> None:
    """The night's slowest tasks, printed as soon as the night ends (a long run shows
    where its time went before it finishes)."""
    for task in sorted(tasks, key=lambda name: -tasks[name])[:SLOWEST_TASKS]:
        print(f"  {tasks[task]:8.1f} s  {task}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="s", choices=["s", "m", "l"])
    parser.add_argument("--url", help="reuse this seeded warehouse (it is changed)")
    parser.add_argument("--share", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="keep the seeded scratch warehouse")
    args = parser.parse_args(argv)

    with _warehouse(args.scale, args.url, args.keep, args.seed) as url:
        home = Path(tempfile.mkdtemp(prefix="steward-bench-airflow-"))
        env = {
            **bootstrap.airflow_environment(url=url, home=home),
            dag_defaults.TASK_RETRIES_ENV: "0",
            # Steward's own modules (the tasks) find the warehouse by this variable.
            warehouse.DATABASE_URL_ENV: url,
            # A cold Cosmos render of every dbt task group on a busy machine.
            "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "1800",
        }
        bootstrap.apply_environment(env)
        bootstrap.ensure_airflow_db(home)

        first = run_night()
        print(f"night 1: {first[2]}, {first[3]} tasks, {first[0]:.0f} s", flush=True)
        _print_slowest(first[4])
        mark = time.monotonic()
        changes = add_new_and_changed(url, args.share, args.seed)
        change_seconds = time.monotonic() - mark
        second = run_night()
        print(f"night 2: {second[2]}, {second[3]} tasks, {second[0]:.0f} s", flush=True)
        _print_slowest(second[4])
        # (The log stays open: Airflow's logger may still write to it at exit.)
        shutil.rmtree(home, ignore_errors=True)

    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print()
    print(
        f"Scale `{args.scale}`; between the nights {args.share:.0%} new and changed rows"
        f" ({change_seconds:.1f} s): "
        + ", ".join(
            f"{table} +{c['inserted']:,} new, {c['changed']:,} changed"
            for table, c in changes.items()
        )
    )
    print()
    print("| task group | night 1 s | night 2 s | night 2 / night 1 |")
    print("| --- | ---: | ---: | ---: |")
    for group in sorted(first[1], key=lambda name: -first[1][name]):
        one, two = first[1][group], second[1].get(group, 0.0)
        print(f"| {group} | {one:.1f} | {two:.1f} | {two / one if one else 0:.2f} |")
    print(
        f"| **whole run** | **{first[0]:.0f}** | **{second[0]:.0f}** |"
        f" **{second[0] / first[0]:.2f}** |"
    )
    print()
    print(f"Peak resident memory of the benchmark process: {peak_mib:,.0f} MiB")
    ok = first[2] == second[2] == "success"
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
