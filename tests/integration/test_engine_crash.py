"""kill -9 at random points of a DSAR erasure and of a retention run, then a rerun:
the same end state as an uninterrupted run (tables, files, the erasure plan or the
retention ledger, every destructive batch exactly once in the audit chain, which
verifies).

The engine counts its crash points (``steward.engine.batches.crashpoint``: after a
batch's changes, before and after its commit, after each file, after the plan);
``STEWARD_ENGINE_KILL_AT=N`` SIGKILLs the process at the N-th. The points are drawn
by a seeded RNG (printed) from the crash points of the uninterrupted run. Every
scenario runs on its own copy of one seeded template warehouse (``create database
... template``) with its own copy of the recording files.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from steward import warehouse
from tests.integration import engine_helpers as helpers

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Random kill points per job, besides the first and the last crash point. `make test` draws 8;
# STEWARD_TEST_CRASH_POINTS=40 (or more) runs the deeper sweep before a release.
POINTS = int(os.environ.get("STEWARD_TEST_CRASH_POINTS", "8"))
RNG_SEED = 20261206
REQUEST_ID = 9_001
AS_OF = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
ENV = {
    "STEWARD_RETENTION_HMAC_KEY": "crash-secret",
    "STEWARD_DSAR_SUPPRESSION_SALT": "crash-suppression-key-0123456",
}
DSAR_RUNNER = """
import json
from steward import datamap, warehouse
from steward.dsar import erasure, finder
from steward.engine import batches
engine = warehouse.engine()
data_map = datamap.load_data_map()
identity = finder.SubjectIdentity(customer_ids={ids})
erasure.erase(engine, {rid}, identity, data_map, batch_size=3, max_rows=1_000_000)
report = erasure.verify_erasure(engine, {rid}, identity, data_map)
print(json.dumps({{"crashpoints": batches.crashpoints_passed(), "verified": report["verified"]}}))
"""
RETENTION_RUNNER = """
import datetime as dt, json
from steward.engine import batches
from steward.retention.nightly import run
summary = run(apply=True, max_share=1.0, batch_size=120,
              as_of=dt.datetime(2026, 11, 1, tzinfo=dt.UTC), build=False)
print(json.dumps({"crashpoints": batches.crashpoints_passed(), "totals": summary["totals"]}))
"""


def run(url: str, code: str, kill_at: int | None) -> subprocess.CompletedProcess:
    env = {**os.environ, **ENV, warehouse.DATABASE_URL_ENV: url}
    env.pop("STEWARD_ENGINE_KILL_AT", None)
    env.pop("STEWARD_RETENTION_KILL_AT", None)
    if kill_at is not None:
        env["STEWARD_ENGINE_KILL_AT"] = str(kill_at)
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )


def end_state(url: str, root: Path, job: str) -> dict:
    engine = sa.create_engine(url)
    try:
        from steward import audit

        state: dict = {"rows": helpers.row_digests(engine, str(root))}
        with engine.connect() as conn:
            # Every destructive batch exactly once in the human audit log.
            state["audit_batches"] = sorted(
                json.dumps(details, sort_keys=True)
                for (details,) in conn.execute(
                    sa.text(
                        "select details - 'run_id' from steward.audit_log"
                        " where action like '%.batch'"
                    )
                )
            )
            if job == "dsar":
                state["plan"] = sorted(
                    tuple(row)
                    for row in conn.execute(
                        sa.text(
                            "select table_name, row_key::text, action, reason, done,"
                            " case when file_outcome in ('removed', 'already_gone')"
                            " then 'gone' else file_outcome end"
                            " from steward.dsar_erasure_plan where request_id = :r"
                        ),
                        {"r": REQUEST_ID},
                    )
                )
            else:
                state["ledger"] = sorted(
                    tuple(row)
                    for row in conn.execute(
                        sa.text(
                            "select policy_name, batch_no, row_count, keys_sha256"
                            " from steward.retention_audit"
                        )
                    )
                )
                state["anonymised"] = sorted(
                    tuple(row)
                    for row in conn.execute(
                        sa.text("select policy_name, record_key from steward.retention_anonymised")
                    )
                )
                state["files_pending"] = conn.execute(
                    sa.text("select count(*) from steward.retention_files where removed_at is null")
                ).scalar()
        state["chain_ok"] = audit.verify(engine).ok
    finally:
        engine.dispose()
    state["files_on_disk"] = sorted(str(p.relative_to(root)) for p in root.rglob("*.wav"))
    return state


@pytest.fixture(scope="module")
def template(server_admin_url, tmp_path_factory):
    """One seeded warehouse: hold views built, the request's rows found, the retention
    models built as of the seed's reference date. Copies are taken from it."""
    from steward import datamap
    from steward.dsar import erasure, finder
    from steward.retention import nightly

    stamp = dt.datetime.now().strftime("%H%M%S%f")
    name = f"steward_crash_template_{stamp}"
    root = tmp_path_factory.mktemp("crash_template")
    url = helpers.seeded(server_admin_url, name, root)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        # Subjects with recordings, plus those the seed's subject holds name.
        customers = [
            row[0]
            for row in conn.execute(
                sa.text(
                    "select distinct c.customer_id from telephony.calls c"
                    " join telephony.call_recordings r using (call_id)"
                    " where c.customer_id is not null order by 1 limit 6"
                )
            )
        ] + [
            row[0]
            for row in conn.execute(
                sa.text(
                    "select customer_id from compliance.legal_holds"
                    " where scope = 'subject' order by 1"
                )
            )
        ]
    old = os.environ.get(warehouse.DATABASE_URL_ENV)
    os.environ[warehouse.DATABASE_URL_ENV] = url
    for key, value in ENV.items():
        os.environ.setdefault(key, value)
    try:
        erasure.ensure_tables(engine)
        finder.find_rows(
            engine,
            REQUEST_ID,
            finder.SubjectIdentity(customer_ids=customers),
            datamap.load_data_map(),
        )
        nightly.run(apply=False, as_of=AS_OF, build=True)
    finally:
        if old is None:
            os.environ.pop(warehouse.DATABASE_URL_ENV, None)
        else:
            os.environ[warehouse.DATABASE_URL_ENV] = old
        engine.dispose()
        warehouse._engine_for.cache_clear()
    copies: list[str] = []

    def copy(label: str, workdir: Path) -> tuple[str, Path]:
        copy_name = f"{name}_{label}"[:63]
        copies.append(copy_name)
        target = workdir / label
        return helpers.copy_of(server_admin_url, name, copy_name, root, target), target

    yield {"customers": customers, "copy": copy, "server": server_admin_url}
    helpers.drop(server_admin_url, *copies, name)


def _crash_and_compare(template, tmp_path, job: str, code: str) -> dict:
    calm_url, calm_root = template["copy"](f"{job}_calm", tmp_path)
    calm = run(calm_url, code, None)
    assert calm.returncode == 0, calm.stderr[-3000:]
    calm_out = json.loads(calm.stdout.strip().splitlines()[-1])
    calm_state = end_state(calm_url, calm_root, job)
    helpers.drop(template["server"], calm_url.rsplit("/", 1)[-1])
    assert calm_state["chain_ok"] and calm_state["audit_batches"]
    total = calm_out["crashpoints"]
    inner = range(2, total)
    drawn = random.Random(RNG_SEED).sample(inner, min(POINTS, len(inner)))
    points = sorted({1, total, *drawn})
    print(f"{job}: {total} crash points in an uninterrupted run; killing at {points}")
    for point in points:
        url, root = template["copy"](f"{job}_{point}", tmp_path)
        killed = run(url, code, point)
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr[-2000:])
        rerun = run(url, code, None)
        assert rerun.returncode == 0, (point, rerun.stderr[-3000:])
        state = end_state(url, root, job)
        helpers.drop(template["server"], url.rsplit("/", 1)[-1])
        for key in calm_state:
            assert state[key] == calm_state[key], (job, point, key)
        if job == "dsar":
            assert json.loads(rerun.stdout.strip().splitlines()[-1])["verified"], point
    return calm_out


def test_dsar_erasure_killed_at_random_points(template, tmp_path):
    code = DSAR_RUNNER.format(ids=template["customers"], rid=REQUEST_ID)
    calm = _crash_and_compare(template, tmp_path, "dsar", code)
    assert calm["verified"]


def test_retention_killed_at_random_points(template, tmp_path):
    calm = _crash_and_compare(template, tmp_path, "retention", RETENTION_RUNNER)
    assert calm["totals"]["deleted"] > 0 and calm["totals"]["files_removed"] > 0
