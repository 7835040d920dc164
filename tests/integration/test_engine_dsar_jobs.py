"""Correction and the purge of Steward's derived copies run through the engine's batch
runner (``steward.engine.batches.run_batches``): every batch once in the hash-chained
audit log, kill -9 mid-way then a rerun reaches the same end state as an uninterrupted
run, and a dry run changes nothing.

One seeded warehouse (scale s) with the phone and DSAR marts built and a request's rows
found is the template; every scenario runs on its own copy (``create database ...
template``). The crash points are the engine's (``STEWARD_ENGINE_KILL_AT``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from steward import warehouse
from tests.integration import engine_helpers as helpers

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REQUEST_ID = 9_101
BATCH_ACTION = {"correction": "dsar.correction.batch", "purge": "dsar.derived_copies.batch"}
ENV = {"STEWARD_DSAR_SUPPRESSION_SALT": "jobs-suppression-key-0123456"}
CORRECTIONS = {"user.name.last": "Corrected", "user.name.first": "Renamed"}
CORRECTION_RUNNER = """
import json, sys
from steward import datamap, warehouse
from steward.dsar import correction, finder
from steward.engine import batches
ids = json.loads(sys.argv[1])
result = correction.correct(warehouse.engine(), {rid}, {corrections}, finder.SubjectIdentity(
    customer_ids=ids), datamap.load_data_map(), batch_size=2)
print(json.dumps({{"crashpoints": batches.crashpoints_passed(), "total": result["total"]}}))
"""
PURGE_RUNNER = """
import json, sys
from steward import datamap, warehouse
from steward.dsar import derived, finder
from steward.engine import batches
ids = json.loads(sys.argv[1])
removed = derived.purge(warehouse.engine(), {rid}, finder.SubjectIdentity(customer_ids=ids),
    datamap.load_data_map(), batch_size=3)
print(json.dumps({{"crashpoints": batches.crashpoints_passed(), "removed": removed}}))
"""


def _run(url: str, code: str, customers: list[int], kill_at: int | None):
    env = {**os.environ, **ENV, warehouse.DATABASE_URL_ENV: url}
    env.pop("STEWARD_ENGINE_KILL_AT", None)
    if kill_at is not None:
        env["STEWARD_ENGINE_KILL_AT"] = str(kill_at)
    return subprocess.run(
        [sys.executable, "-c", code, json.dumps(customers)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def template(server_admin_url, tmp_path_factory):
    from steward import datamap, dbt_runner
    from steward.dsar import erasure, finder

    stamp = dt.datetime.now().strftime("%H%M%S%f")
    name = f"steward_jobs_template_{stamp}"
    root = tmp_path_factory.mktemp("jobs_template")
    url = helpers.seeded(server_admin_url, name, root)
    engine = sa.create_engine(url)
    old = os.environ.get(warehouse.DATABASE_URL_ENV)
    os.environ[warehouse.DATABASE_URL_ENV] = url
    for key, value in ENV.items():
        os.environ.setdefault(key, value)
    try:
        with engine.connect() as conn:
            customers = [
                row[0]
                for row in conn.execute(
                    sa.text(
                        "select c.customer_id from crm.customers c where c.first_name is not null"
                        " and c.last_name is not null and exists (select from"
                        " crm.customer_phones p where p.customer_id = c.customer_id)"
                        " order by 1 limit 5"
                    )
                )
            ]
        scratch = tmp_path_factory.mktemp("jobs_dbt")
        dbt_runner.run_or_raise(["seed"], url, scratch=scratch)
        dbt_runner.run_or_raise(
            [
                "run",
                "--select",
                "path:models/staging",
                "path:models/intermediate/phones",
                "path:models/marts/phones",
                "path:models/marts/dsar",
            ],
            url,
            scratch=scratch,
        )
        erasure.ensure_tables(engine)
        finder.find_rows(
            engine,
            REQUEST_ID,
            finder.SubjectIdentity(customer_ids=customers),
            datamap.load_data_map(),
        )
    finally:
        if old is None:
            os.environ.pop(warehouse.DATABASE_URL_ENV, None)
        else:
            os.environ[warehouse.DATABASE_URL_ENV] = old
        engine.dispose()
        warehouse._engine_for.cache_clear()
    copies: list[str] = []

    def copy(label: str, workdir) -> str:
        copy_name = f"{name}_{label}"[:63]
        copies.append(copy_name)
        return helpers.copy_of(server_admin_url, name, copy_name, root, workdir / label)

    yield {"customers": customers, "copy": copy}
    helpers.drop(server_admin_url, *copies, name)


def _table_digest(conn, table: str) -> str:
    rows = sorted(r[0] for r in conn.execute(sa.text(f"select md5(t::text) from {table} as t")))
    return hashlib.sha256("".join(rows).encode()).hexdigest()


def _end_state(url: str, job: str) -> dict:
    from steward import audit

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            tables = (
                ["crm.customers", "crm.customer_phones", "marketing.campaign_contacts"]
                if job == "correction"
                else ["steward.customer_phone_numbers", "steward.dsar_subject_index"]
            )
            state: dict = {t: _table_digest(conn, t) for t in tables}
            state["audit_batches"] = sorted(
                json.dumps(details, sort_keys=True)
                for (details,) in conn.execute(
                    sa.text("select details from steward.audit_log where action = :a"),
                    {"a": BATCH_ACTION[job]},
                )
            )
            plan = "dsar_correction_plan" if job == "correction" else "dsar_derived_plan"
            state["plan"] = sorted(
                tuple(r)
                for r in conn.execute(
                    sa.text(f"select table_name, row_key::text, action, done from steward.{plan}")
                )
            )
        state["chain_ok"] = audit.verify(engine).ok
    finally:
        engine.dispose()
    return state


def _crash_and_compare(template, tmp_path, job: str, code: str) -> dict:
    customers = template["customers"]
    calm_url = template["copy"](f"{job}_calm", tmp_path)
    calm = _run(calm_url, code, customers, None)
    assert calm.returncode == 0, calm.stderr[-3000:]
    calm_out = json.loads(calm.stdout.strip().splitlines()[-1])
    calm_state = _end_state(calm_url, job)
    assert calm_state["chain_ok"]
    assert len(calm_state["audit_batches"]) >= 2, "the scenario needs several batches"
    assert all(done for *_, done in calm_state["plan"])
    points = calm_out["crashpoints"]
    # The plan's commit, a batch's change, its commit, and a later batch.
    for kill_at in sorted({1, 2, 3, points // 2, points - 1}):
        crash_url = template["copy"](f"{job}_k{kill_at}", tmp_path)
        crashed = _run(crash_url, code, customers, kill_at)
        assert crashed.returncode == -9, (kill_at, crashed.stderr[-2000:])
        rerun = _run(crash_url, code, customers, None)
        assert rerun.returncode == 0, rerun.stderr[-3000:]
        assert _end_state(crash_url, job) == calm_state, f"killed at crash point {kill_at}"
    return calm_out


def test_correction_batches_audited_and_resumed_after_kill(template, tmp_path):
    code = CORRECTION_RUNNER.format(rid=REQUEST_ID, corrections=repr(CORRECTIONS))
    calm = _crash_and_compare(template, tmp_path, "correction", code)
    assert calm["total"] >= 2 * len(template["customers"])


def test_derived_purge_batches_audited_and_resumed_after_kill(template, tmp_path):
    code = PURGE_RUNNER.format(rid=REQUEST_ID)
    calm = _crash_and_compare(template, tmp_path, "purge", code)
    assert calm["removed"]["steward.customer_phone_numbers"] > 0


def test_correction_dry_run_changes_nothing(template, tmp_path):
    from steward import datamap, schema
    from steward.dsar import correction, finder

    url = template["copy"]("dry", tmp_path)
    engine = sa.create_engine(url)
    schema.upgrade(engine)
    before = _end_state(url, "correction")
    try:
        result = correction.correct(
            engine,
            REQUEST_ID,
            CORRECTIONS,
            finder.SubjectIdentity(customer_ids=template["customers"]),
            datamap.load_data_map(),
            dry_run=True,
        )
        assert result["dry_run"] and result["total"] >= 2 * len(template["customers"])
        assert result["rows_changed"]["crm.customers"] == {
            "last_name": len(template["customers"]),
            "first_name": len(template["customers"]),
        }
        with pytest.raises(correction.batches.CircuitBreakerError):
            correction.correct(
                engine,
                REQUEST_ID,
                CORRECTIONS,
                finder.SubjectIdentity(customer_ids=template["customers"]),
                datamap.load_data_map(),
                max_rows=1,
            )
    finally:
        engine.dispose()
    assert _end_state(url, "correction") == before
