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

from steward import paths
from steward.airflow import bootstrap, dag_defaults

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def airflow_environment(
    seeded_warehouse, warehouse_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    home = tmp_path_factory.getbasetemp() / "airflow_home"
    env = {
        **bootstrap.airflow_environment(url=warehouse_url, home=home),
        dag_defaults.TASK_RETRIES_ENV: "0",
        "STEWARD_DSAR_EXPORT_KEY": "dag-test-export-key-0123",
        "STEWARD_DSAR_EXPORT_DIR": str(tmp_path_factory.mktemp("dsar_exports")),
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        bootstrap.apply_environment(env)
        bootstrap.ensure_airflow_db(home)
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


def _register(warehouse_url: str, **fields) -> int:
    from steward.dsar import pipeline

    return pipeline.submit(fields, url=warehouse_url, actor="airflow:privacy")["request_id"]


def test_access_request_runs_end_to_end_without_identifiers_in_logs(
    airflow_environment, subject, warehouse_url, caplog
):
    customer_id, e164, email = subject
    request_id = _register(
        warehouse_url,
        request_type="access",
        jurisdiction="GDPR",
        received_on=dt.date.today().isoformat(),
        ticket_reference="DAG-ACCESS-1",
        verification_status="verified",
        verification_method="id_document",
        email=email.upper(),
        phone=e164,
    )
    caplog.set_level("DEBUG")
    dag_run = _dag("steward_dsar").test(run_conf={"request_id": request_id})
    states = _states(dag_run)
    assert str(dag_run.state) == "success", states
    assert set(states.values()) == {"success"}, states
    assert dag_run.conf == {"request_id": request_id}

    engine = sa.create_engine(warehouse_url)
    with engine.connect() as conn:
        status, rows = conn.execute(
            sa.text(
                "select status, (select count(*) from steward.dsar_subject_rows as s"
                " where s.request_id = r.request_id) from steward.dsar_requests as r"
                " where ticket_reference = 'DAG-ACCESS-1'"
            )
        ).one()
        actors = dict(
            conn.execute(
                sa.text(
                    "select action, actor from steward.audit_log where details->>'request_id' = :id"
                ),
                {"id": str(request_id)},
            ).all()
        )
    engine.dispose()
    assert status == "completed" and rows > 10
    # The person who submitted, then the user who triggered the run (dag.test's own name).
    assert actors["dsar.registered"] == "airflow:privacy"
    assert actors["dsar.subject.found"] == "airflow:dag_test"

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

    # A second run of the same request does not process it again.
    again = _dag("steward_dsar").test(run_conf={"request_id": request_id})
    assert _states(again)["check_request"] == "skipped"


def test_unknown_request_or_identifiers_in_the_conf_fail_at_the_check(
    airflow_environment, warehouse_url
):
    dag_run = _dag("steward_dsar").test(run_conf={"request_id": 987654})
    states = _states(dag_run)
    assert states["check_request"] == "failed"
    assert set(states.values()) - {"failed"} == {"upstream_failed"}

    smuggled = _dag("steward_dsar").test(
        run_conf={"request_id": 1, "email": "smuggled.subject@example.org"}
    )
    assert _states(smuggled)["check_request"] == "failed"


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
