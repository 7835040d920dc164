"""Retention throughput: Steward's audited executor versus a raw keyset-batched DELETE.

    .venv/bin/python benchmarks/retention_throughput.py [--scale m] [--policy telephony.calls]

Seeds a scratch database (``--scale``, default ``m``: 100k customers, 1M calls) on
the warehouse's server (``steward.warehouse``: STEWARD_DATABASE_URL, else the
embedded PostgreSQL), builds the retention models for the seed's reference date,
and then, in the same run, deletes the same due rows of ``--policy`` twice:

(a) raw: a copy of the table, the due keys in a plain key table, and a loop of
    ``DELETE ... USING (next 10k keys after the last one)``, one transaction per
    batch, nothing else (no audit, no digest, no hold re-check);
(b) Steward: ``steward retention run --apply --policy ...`` on the original
    table, with its audit row (sha256 of the keys) and state per batch.

Then (c) applies every other policy (full run, breaker off) for the overall rate.
Prints a Markdown table: rows, seconds, rows/s, Steward as a share of raw (goal
>= 50%), and the longest single batch transaction (the longest any lock is held:
row locks and the table's RowExclusiveLock live exactly as long as one batch).
The scratch database and its recording files are dropped at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

import sqlalchemy as sa
from psycopg2 import sql
from sqlalchemy.engine import make_url

from steward import warehouse
from steward.retention import dbt_runner
from steward.retention.executor import Executor, RunOptions
from steward.retention.policies import load_policies

BATCH_SIZE = 10_000


def _admin(url: str) -> sa.Engine:
    return sa.create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def raw_keyset_delete(url: str, schema: str, table: str, key: str) -> tuple[int, float, float]:
    """Delete every key of bench.due_keys from bench.<copy>: (rows, seconds, longest batch)."""
    conn = warehouse.psycopg2_connect(url)
    deleted, longest, last = 0, 0.0, -(2**63)
    # `= any(array(...))`: the keys first, then primary-key index probes (a join
    # lets the planner hash-join against a full scan of the table every batch).
    statement = sql.SQL(
        "with gone as (delete from {table} where {key} = any(array("
        "select k from bench.due_keys where k > %s order by k limit %s))"
        " returning {key} as k) select count(*), max(k) from gone"
    ).format(table=sql.Identifier(schema, table), key=sql.Identifier(key))
    started = time.monotonic()
    try:
        while True:
            began = time.monotonic()
            with conn.cursor() as cur:
                cur.execute(statement, (last, BATCH_SIZE))
                count, highest = cur.fetchone()
            conn.commit()
            longest = max(longest, time.monotonic() - began)
            if not count:
                break
            deleted += count
            last = highest
    finally:
        conn.close()
    return deleted, time.monotonic() - started, longest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="m", choices=["s", "m", "l"])
    parser.add_argument("--policy", default="telephony.calls")
    parser.add_argument("--keep", action="store_true", help="Keep the scratch database.")
    args = parser.parse_args()

    from steward.seed import generate

    server = warehouse.database_url()
    name = f"bench_retention_{uuid.uuid4().hex[:8]}"
    with _admin(server).connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    recordings = Path(tempfile.mkdtemp(prefix="bench-retention-recordings-"))
    # The benchmark's own throw-away HMAC key: never a real one.
    os.environ["STEWARD_RETENTION_HMAC_KEY"] = secrets.token_hex(16)
    as_of = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)  # the seed's reference date
    try:
        started = time.monotonic()
        generate.seed_warehouse(
            scale=args.scale, seed=42, url=url, recordings_root=recordings, progress=False
        )
        seed_seconds = time.monotonic() - started
        policy_set = load_policies()
        policy = policy_set.get(args.policy)
        if len(policy.primary_key) != 1:
            raise SystemExit("the raw baseline needs a one-column integer primary key")
        key = policy.primary_key[0]

        started = time.monotonic()
        dbt_runner.build(url, as_of.isoformat(), policy_set.period_overrides())
        dbt_seconds = time.monotonic() - started

        engine = warehouse.engine(url)
        copy = f"{policy.table}_raw"
        with engine.begin() as conn:
            conn.execute(sa.text("create schema bench"))
            conn.execute(
                sa.text(
                    f'create table bench."{copy}" as select * from'
                    f' "{policy.schema}"."{policy.table}"'
                )
            )
            conn.execute(sa.text(f'alter table bench."{copy}" add primary key ("{key}")'))
            conn.execute(
                sa.text(
                    "create table bench.due_keys as select sort_key as k from"
                    " steward.retention_due_keys where policy_name = :p"
                ),
                {"p": policy.name},
            )
            conn.execute(sa.text("alter table bench.due_keys add primary key (k)"))
            conn.execute(sa.text(f'analyze bench."{copy}"'))
            conn.execute(sa.text("analyze bench.due_keys"))
            # Both tables read once, so neither side pays the other's cold cache.
            for relation in (f'bench."{copy}"', f'"{policy.schema}"."{policy.table}"'):
                conn.execute(sa.text(f"select count(*) from {relation}"))
            table_rows = conn.execute(
                sa.text(f'select count(*) from "{policy.schema}"."{policy.table}"')
            ).scalar()

        raw_rows, raw_seconds, raw_longest = raw_keyset_delete(url, "bench", copy, key)

        executor = Executor(url, policy_set)
        started = time.monotonic()
        summary = executor.run(
            RunOptions(
                apply=True,
                max_share=1.0,
                policies=(policy.name,),
                batch_size=BATCH_SIZE,
                as_of=as_of,
                build=False,
            )
        )
        steward_seconds = time.monotonic() - started
        (outcome,) = summary["policies"]
        steward_longest = executor.timings.longest_batch_seconds
        if outcome["deleted"] != raw_rows:
            raise SystemExit(f"row counts differ: steward {outcome['deleted']}, raw {raw_rows}")

        full = Executor(url, policy_set)
        started = time.monotonic()
        others = tuple(p.name for p in policy_set.policies if p.name != policy.name)
        everything = full.run(
            RunOptions(
                apply=True,
                max_share=1.0,
                policies=others,
                batch_size=BATCH_SIZE,
                as_of=as_of,
                build=False,
            )
        )
        full_seconds = time.monotonic() - started
        full_rows = everything["totals"]["deleted"] + everything["totals"]["anonymised"]

        print(f"\nscale {args.scale}: seeded in {seed_seconds:.0f} s, retention dbt models built")
        print(f"in {dbt_seconds:.1f} s; {policy.name}: {table_rows:,} rows, {raw_rows:,} due.\n")
        print("| run | rows | seconds | rows/s | longest batch transaction |")
        print("| --- | ---: | ---: | ---: | ---: |")
        print(
            f"| (a) raw keyset DELETE, {policy.name} | {raw_rows:,} | {raw_seconds:.2f} |"
            f" {raw_rows / raw_seconds:,.0f} | {raw_longest * 1000:.0f} ms |"
        )
        print(
            f"| (b) steward executor + audit, {policy.name} | {outcome['deleted']:,} |"
            f" {steward_seconds:.2f} | {outcome['deleted'] / steward_seconds:,.0f} |"
            f" {steward_longest * 1000:.0f} ms |"
        )
        print(
            f"| (c) steward, every other policy | {full_rows:,} | {full_seconds:.2f} |"
            f" {full_rows / full_seconds:,.0f} |"
            f" {full.timings.longest_batch_seconds * 1000:.0f} ms |"
        )
        share = raw_seconds / steward_seconds
        print(f"\nsteward throughput = {share:.0%} of raw (goal >= 50%), audit included;")
        print(
            "longest single transaction (= longest lock held): "
            f"{max(steward_longest, full.timings.longest_batch_seconds) * 1000:.0f} ms"
        )
    finally:
        warehouse._engine_for.cache_clear()
        if not args.keep:
            with _admin(server).connect() as conn:
                conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
            shutil.rmtree(recordings, ignore_errors=True)


if __name__ == "__main__":
    main()
