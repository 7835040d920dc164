"""The steward_dsar DAG run for real (dag.test) on the seeded s warehouse.

An access request only reads the sources, so it runs on the session's shared
seeded warehouse. The task logs must not contain the subject's identifiers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from steward import airflow_support, paths

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def airflow_environment(
    seeded_warehouse, warehouse_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    home = tmp_path_factory.getbasetemp() / "airflow_home"
    env = {
        **airflow_support.airflow_environment(url=warehouse_url, home=home),
        airflow_support.TASK_RETRIES_ENV: "0",
        "STEWARD_DSAR_EXPORT_KEY": "dag-test-export-key-0123",
        "STEWARD_DSAR_EXPORT_DIR": str(tmp_path_factory.mktemp("dsar_exports")),
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        airflow_support.apply_environment(env)
        airflow_support.ensure_airflow_db(home)
        yield env


def _dag(dag_id: str):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(paths.dags_dir()))
    assert bag.import_errors == {}
    return bag.get_dag(dag_id)


def _states(dag_run) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


@pytest.fixture(scope="module")
def subject(seeded_warehouse, warehouse_url):
    engine = sa.create_engine(warehouse_url)
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "select customer_id, e164, email from steward_ground_truth.spread_subjects"
                " order by customer_id desc limit 1"
            )
        ).one()
    engine.dispose()
    return row


def test_access_request_runs_end_to_end_without_identifiers_in_logs(
    airflow_environment, subject, warehouse_url, caplog
):
    customer_id, e164, email = subject
    conf = {
        "request_type": "access",
        "jurisdiction": "GDPR",
        "received_on": dt.date.today().isoformat(),
        "ticket_reference": "DAG-ACCESS-1",
        "verification_status": "verified",
        "verification_method": "id_document",
        "email": email.upper(),
        "phone": e164,
        "customer_id": None,
    }
    caplog.set_level("DEBUG")
    dag_run = _dag("steward_dsar").test(run_conf=conf)
    states = _states(dag_run)
    assert str(dag_run.state) == "success", states
    assert set(states.values()) == {"success"}, states

    engine = sa.create_engine(warehouse_url)
    with engine.connect() as conn:
        status, rows = conn.execute(
            sa.text(
                "select status, (select count(*) from steward.dsar_subject_rows as s"
                " where s.request_id = r.request_id) from steward.dsar_requests as r"
                " where ticket_reference = 'DAG-ACCESS-1'"
            )
        ).one()
    engine.dispose()
    assert status == "completed" and rows > 10

    logs = caplog.text + "".join(
        path.read_text(errors="ignore")
        for path in (paths.airflow_home() / "logs").rglob("*")
        if path.is_file()
    )
    national = e164[-10:]
    for secret in (email.lower(), email.upper(), e164, national):
        assert secret not in logs
    # A bare id (a few digits) also occurs in line numbers and digests: look for it as a value.
    assert not re.search(rf"customer_id\W{{1,4}}{customer_id}(?!\d)", logs)

    # A second trigger of the same ticket does not process it again.
    again = _dag("steward_dsar").test(run_conf=conf)
    assert _states(again)["register"] == "skipped"


def test_invalid_request_fails_at_validation(airflow_environment, warehouse_url):
    conf = {
        "request_type": "deletion",
        "jurisdiction": "PIPEDA",
        "received_on": dt.date.today().isoformat(),
        "ticket_reference": "DAG-BAD-1",
        "verification_status": "verified",
        "verification_method": "id_document",
        "email": "someone@example.org",
    }
    dag_run = _dag("steward_dsar").test(run_conf=conf)
    states = _states(dag_run)
    assert states["validate"] == "failed"
    assert set(states.values()) - {"failed"} == {"upstream_failed"}
    engine = sa.create_engine(warehouse_url)
    with engine.connect() as conn:
        registered = conn.execute(
            sa.text(
                "select count(*) from steward.dsar_requests where ticket_reference = 'DAG-BAD-1'"
            )
        ).scalar_one()
    engine.dispose()
    assert registered == 0


def test_deadline_watch_runs(airflow_environment, warehouse_url):
    dag_run = _dag("steward_dsar_deadlines").test()
    assert str(dag_run.state) == "success", _states(dag_run)
    engine = sa.create_engine(warehouse_url)
    with engine.connect() as conn:
        completed = conn.execute(
            sa.text("select completed from steward.dsar_sla_daily order by as_of desc limit 1")
        ).scalar_one()
    engine.dispose()
    assert completed >= 1
