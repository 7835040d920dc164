"""Crash test: SIGKILL the retention executor at several points, resume, and get
exactly what an uninterrupted run gets on an identical warehouse: same table
contents, same audit rows (batch by batch, key digests included), same files.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from steward import datamap, warehouse

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SECRET = "crash-test-secret"
BATCH_SIZE = 40  # small, so every policy takes several batches at scale s
RUNNER = """
import datetime as dt, json, sys
from steward.retention.nightly import run
summary = run(apply=True, max_share=1.0, batch_size={batch},
              as_of=dt.datetime(2026, 11, 1, tzinfo=dt.UTC), build={build})
print(json.dumps(summary["totals"]))
"""
# Each interrupted attempt resumes the previous one, then dies at its own point.
KILL_POINTS = (
    ("after_plan:1", True),  # plan recorded, nothing executed
    ("before_commit:3", True),  # inside a batch's transaction: rolled back
    ("after_commit:1@telephony.call_recordings", False),  # rows gone, files not yet
    ("before_commit:2@crm.customers", False),  # mid-anonymisation
)


def seeded_database(admin_url: str, name: str, recordings: Path) -> str:
    from steward.seed import generate

    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        conn.execute(sa.text(f'create database "{name}"'))
    admin.dispose()
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    generate.seed_warehouse(scale="s", seed=42, url=url, recordings_root=recordings, progress=False)
    return url


def run_executor(url: str, kill_at: str | None, build: bool) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        warehouse.DATABASE_URL_ENV: url,
        "STEWARD_RETENTION_HMAC_KEY": SECRET,
    }
    env.pop("STEWARD_RETENTION_KILL_AT", None)
    if kill_at:
        env["STEWARD_RETENTION_KILL_AT"] = kill_at
    code = RUNNER.format(batch=BATCH_SIZE, build=build)
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600
    )


def final_state(url: str, recordings: Path, tables_only: bool = False) -> dict:
    engine = sa.create_engine(url)
    state: dict = {"tables": {}}
    try:
        with engine.connect() as conn:
            for table in datamap.load_data_map().tables:
                order = ", ".join(f'"{c}"' for c in table.primary_key)
                state["tables"][table.qualified_name] = tuple(
                    conn.execute(
                        sa.text(
                            # Recording paths differ by their root folder only.
                            f"select count(*), md5(coalesce(string_agg(replace(t::text, :root,"
                            f" ''), E'\\n' order by {order}), '')) from"
                            f' "{table.schema}"."{table.name}" as t'
                        ),
                        {"root": str(recordings)},
                    ).one()
                )
            if tables_only:
                return state
            state["audit"] = [
                tuple(row)
                for row in conn.execute(
                    sa.text(
                        "select policy_name, batch_no, row_count, keys_sha256, first_record_key,"
                        " last_record_key from steward.retention_audit"
                        " order by policy_name, batch_no"
                    )
                )
            ]
            state["audit_runs"] = conn.execute(
                sa.text("select count(distinct run_id) from steward.retention_audit")
            ).scalar()
            state["anonymised"] = sorted(
                tuple(row)
                for row in conn.execute(
                    sa.text("select policy_name, record_key from steward.retention_anonymised")
                )
            )
            state["files_done"] = conn.execute(
                sa.text("select count(*) from steward.retention_files where removed_at is not null")
            ).scalar()
            state["files_pending"] = conn.execute(
                sa.text("select count(*) from steward.retention_files where removed_at is null")
            ).scalar()
    finally:
        engine.dispose()
    state["files_on_disk"] = sorted(
        str(path.relative_to(recordings)) for path in recordings.rglob("*.wav")
    )
    return state


@pytest.fixture(scope="module")
def twin_warehouses(server_admin_url, tmp_path_factory):
    stamp = dt.datetime.now().strftime("%H%M%S%f")
    names = [f"steward_retention_calm_{stamp}", f"steward_retention_crash_{stamp}"]
    roots = [tmp_path_factory.mktemp("calm"), tmp_path_factory.mktemp("crash")]
    urls = [seeded_database(server_admin_url, n, r) for n, r in zip(names, roots, strict=True)]
    yield list(zip(urls, roots, strict=True))
    warehouse._engine_for.cache_clear()
    admin = sa.create_engine(server_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


def test_killed_and_resumed_run_equals_an_uninterrupted_run(twin_warehouses):
    (calm_url, calm_root), (crash_url, crash_root) = twin_warehouses
    assert final_state(calm_url, calm_root, True) == final_state(crash_url, crash_root, True)

    calm = run_executor(calm_url, None, build=True)
    assert calm.returncode == 0, calm.stderr[-2000:]
    calm_totals = json.loads(calm.stdout.strip().splitlines()[-1])

    for kill_at, build in KILL_POINTS:
        killed = run_executor(crash_url, kill_at, build)
        assert killed.returncode == -signal.SIGKILL, (kill_at, killed.stderr[-2000:])
    resumed = run_executor(crash_url, None, build=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    crash_totals = json.loads(resumed.stdout.strip().splitlines()[-1])

    calm_state = final_state(calm_url, calm_root)
    crash_state = final_state(crash_url, crash_root)
    assert calm_state["audit"], "the uninterrupted run did work"
    assert crash_state["audit_runs"] == 1, "every attempt resumed the same run"
    assert crash_state["files_pending"] == 0
    for key in ("tables", "audit", "anonymised", "files_on_disk", "files_done"):
        assert crash_state[key] == calm_state[key], key
    for key in ("deleted", "anonymised", "held_back", "due"):
        assert crash_totals[key] == calm_totals[key], key
    assert (
        crash_totals["files_removed"] + crash_totals["files_missing"]
        == calm_totals["files_removed"] + calm_totals["files_missing"]
        > 0
    )
