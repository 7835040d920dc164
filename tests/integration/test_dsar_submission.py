"""Requests enter through Steward; identifiers never enter Airflow. Against a REAL api-server.

The module starts ``airflow api-server`` on a free loopback port with the
project's settings (sign-in required, the simple auth manager's users with
passwords from the file Steward writes), on a private seeded warehouse with a
planted subject. Everything goes over HTTP as a person or a script would:

- anonymous calls to Airflow's REST API and to Steward's routes get 401;
- a viewer may read the page but not submit (403);
- the form (CSRF token, Origin check, validation errors with the fields kept)
  and ``POST /steward/api/requests`` register requests and start ``steward_dsar``
  runs whose conf is the request id alone, by the signed-in user;
- the README's walk-through (access, correction, deletion of the planted subject)
  runs each request with ``dag.test(run_conf={"request_id": N})``; then every
  table of Airflow's metadata database and every Airflow log is searched for the
  subject's phone, e-mail, name and birth date: none.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from steward import paths
from steward.airflow import bootstrap, dag_defaults
from tests.conftest import drop_database
from tests.integration.test_dsar_requests import BASE, C, planted_warehouse

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PASSWORDS = {"privacy": "privacy-test-password", "viewer": "viewer-test-password"}
USERS = "privacy:user,viewer:viewer"
SERVER_START_TIMEOUT = 240
# The planted subject (tests/integration/test_dsar_requests.py) in every spelling it has.
SUBJECT_SECRETS = (
    "6502539187",
    "650) 253-9187",
    "650.253.9187",
    "650 253 9187",
    "zed.quill@example.org",
    "ZED.QUILL@EXAMPLE.ORG",
    "Zedekiah",
    "Quillfeather",
    "1980-02-03",
    # the corrected e-mail of the walk-through's correction request
    "zed.renamed@example.org",
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _sync_request_dag() -> None:
    """Put steward_dsar into the metadata database, as the DAG processor would."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    DagBundlesManager().sync_bundles_to_db()
    bag = DagBag(dag_folder=str(paths.dags_dir() / "steward_dsar.py"))
    assert bag.import_errors == {}
    sync_bag_to_db(bag, "dags-folder", None)


@pytest.fixture(scope="module")
def server(server_admin_url, tmp_path_factory) -> Iterator[dict]:
    from steward import warehouse

    url, recordings, truth = planted_warehouse(server_admin_url, tmp_path_factory, "steward_sub")
    home = tmp_path_factory.mktemp("airflow_submission_home")
    port = _free_port()
    env = {
        **bootstrap.airflow_environment(url=url, home=home),
        warehouse.DATABASE_URL_ENV: url,
        dag_defaults.TASK_RETRIES_ENV: "0",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": USERS,
        "AIRFLOW__API__PORT": str(port),
        "STEWARD_DSAR_EXPORT_KEY": "submission-test-export-key",
        "STEWARD_DSAR_EXPORT_DIR": str(tmp_path_factory.mktemp("submission_exports")),
        "STEWARD_DSAR_SUPPRESSION_SALT": "submission-test-salt",
    }
    passwords = Path(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    passwords.parent.mkdir(parents=True, exist_ok=True)
    passwords.write_text(json.dumps(PASSWORDS))
    log_file = home / "api-server.log"
    process = None
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        bootstrap.apply_environment(env)
        warehouse._engine_for.cache_clear()
        bootstrap.ensure_airflow_db(home)
        _sync_request_dag()
        with log_file.open("wb") as output:
            process = subprocess.Popen(
                [
                    str(Path(sys.executable).with_name("airflow")),
                    "api-server",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                env={**os.environ, **env},
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + SERVER_START_TIMEOUT
            while True:
                assert process.poll() is None, log_file.read_text()[-3000:]
                try:
                    if httpx.get(f"{base}/api/v2/monitor/health", timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "api-server did not start in time"
                time.sleep(1)
            yield {
                "base": base,
                "url": url,
                "home": home,
                "truth": truth,
                "log_file": log_file,
                "recordings": recordings,
            }
        finally:
            if process.poll() is None:
                os.killpg(process.pid, 15)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, 9)
                    process.wait(timeout=10)
            warehouse._engine_for.cache_clear()
    sa.create_engine(url).dispose()
    drop_database(server_admin_url, url)


def _token(server, user: str) -> str:
    response = httpx.post(
        f"{server['base']}/auth/token",
        json={"username": user, "password": PASSWORDS[user]},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return response.json()["access_token"]


@pytest.fixture(scope="module")
def privacy(server) -> httpx.Client:
    with httpx.Client(
        base_url=server["base"],
        headers={"Authorization": f"Bearer {_token(server, 'privacy')}"},
        timeout=120,
    ) as client:
        yield client


def _request(**overrides) -> dict:
    import datetime as dt

    fields = {
        "request_type": "access",
        "jurisdiction": "CCPA",
        "received_on": dt.date.today().isoformat(),
        "verification_status": "verified",
        "verification_method": "id_document",
    }
    fields.update(overrides)
    return fields


def _dag_run(run_id: str):
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        run = session.query(DagRun).filter(DagRun.run_id == run_id).one()
        return dict(run.conf or {}), run.triggering_user_name, str(run.state)


def _audit_actors(url: str, request_id: int) -> dict[str, str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "select action, actor from steward.audit_log"
                    " where details->>'request_id' = :id order by 1"
                ),
                {"id": str(request_id)},
            ).all()
    finally:
        engine.dispose()
    return dict(rows)


def test_anonymous_calls_are_refused(server):
    base = server["base"]
    assert httpx.get(f"{base}/api/v2/dags", timeout=30).status_code == 401
    assert httpx.get(f"{base}/api/v2/dags/steward_dsar/dagRuns", timeout=30).status_code == 401
    assert (
        httpx.post(f"{base}/steward/api/requests", json=_request(), timeout=30).status_code == 401
    )
    assert httpx.get(f"{base}/steward/requests/new", timeout=30).status_code == 401
    assert httpx.get(f"{base}/steward/", timeout=30).status_code == 401
    # The passwords file Steward wrote is the one Airflow signs in against.
    assert (
        httpx.post(
            f"{base}/auth/token", json={"username": "privacy", "password": "wrong"}, timeout=30
        ).status_code
        == 401
    )


def test_a_viewer_may_not_submit(server):
    headers = {"Authorization": f"Bearer {_token(server, 'viewer')}"}
    response = httpx.post(
        f"{server['base']}/steward/api/requests",
        json=_request(ticket_reference="SUB-VIEWER-1", customer_id=C),
        headers=headers,
        timeout=60,
    )
    assert response.status_code == 403
    assert httpx.get(f"{server['base']}/steward/", headers=headers, timeout=60).status_code == 200


def test_invalid_json_request_names_every_problem_and_registers_nothing(server, privacy):
    response = privacy.post(
        "/steward/api/requests",
        json=_request(
            ticket_reference="SUB-BAD-1", email="not-an-email", jurisdiction="MARS", phone="12"
        ),
    )
    assert response.status_code == 422
    problems = " ".join(response.json()["problems"])
    assert "email:" in problems and "jurisdiction" in problems and "phone:" in problems
    assert "not-an-email" not in problems  # messages name fields, never echo values
    assert privacy.post("/steward/api/requests", content=b"x=1").status_code == 415
    assert (
        privacy.post("/steward/api/requests", json={**_request(), "colour": "red"}).status_code
        == 422
    )
    from steward.dsar import register

    engine = sa.create_engine(server["url"])
    register.ensure_register(engine)
    with engine.connect() as conn:
        count = conn.execute(
            sa.text(
                "select count(*) from steward.dsar_requests where ticket_reference = 'SUB-BAD-1'"
            )
        ).scalar_one()
    engine.dispose()
    assert count == 0


def _form_token(client: httpx.Client) -> str:
    page = client.get("/steward/requests/new")
    assert page.status_code == 200, page.text
    assert "<script" not in page.text
    assert "form-action 'self'" in page.headers["content-security-policy"]
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match and client.cookies.get("steward_csrf") == match.group(1)
    return match.group(1)


def test_the_form_checks_csrf_and_keeps_fields_on_errors(server):
    with httpx.Client(base_url=server["base"], timeout=120) as browser:
        # The UI's login cookie, as the browser sends it inside Airflow's iframe.
        browser.cookies.set("_token", _token(server, "privacy"))
        token = _form_token(browser)
        form = {
            **_request(ticket_reference="SUB-FORM-BAD"),
            "email": "zed.quill@",
            "name": "Zedekiah <Quillfeather>",
        }
        # No token, a wrong token, or another site's Origin: refused, nothing registered.
        assert browser.post("/steward/requests/new", data=form).status_code == 403
        assert (
            browser.post("/steward/requests/new", data={**form, "csrf_token": "x"}).status_code
            == 403
        )
        foreign = browser.post(
            "/steward/requests/new",
            data={**form, "csrf_token": token},
            headers={"Origin": "https://evil.example"},
        )
        assert foreign.status_code == 403
        refused = browser.post("/steward/requests/new", data={**form, "csrf_token": token})
        assert refused.status_code == 422
        assert "email: not a valid e-mail address" in refused.text
        # The fields are kept (escaped), so the person corrects rather than retypes.
        assert 'value="Zedekiah &lt;Quillfeather&gt;"' in refused.text
        assert 'value="zed.quill@"' in refused.text
        assert '<option value="CCPA" selected>' in refused.text
    log_text = server["log_file"].read_text(errors="ignore")
    assert "zed.quill@" not in log_text and "Quillfeather" not in log_text


def _submit_form(server, fields: dict) -> int:
    with httpx.Client(base_url=server["base"], timeout=300) as browser:
        browser.cookies.set("_token", _token(server, "privacy"))
        token = _form_token(browser)
        response = browser.post(
            "/steward/requests/new",
            data={**fields, "csrf_token": token},
            headers={"Origin": server["base"]},
        )
        assert response.status_code == 303, response.text
        location = response.headers["location"]
        assert re.fullmatch(r"\d+\?run=steward_request_\d+__\w+", location), location
        status = browser.get(f"/steward/requests/{location}")
        assert status.status_code == 200
        assert "Registered and started as run" in status.text
        for secret in SUBJECT_SECRETS:
            assert secret not in status.text
        return int(location.split("?")[0])


def _run(request_id: int):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(paths.dags_dir() / "steward_dsar.py"))
    dag_run = bag.get_dag("steward_dsar").test(run_conf={"request_id": request_id})
    states = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
    assert str(dag_run.state) == "success", states
    return states


def test_walk_through_leaves_no_identifier_in_airflow(server, privacy, caplog):
    caplog.set_level("DEBUG")
    # Access, from the API (a script with a token).
    response = privacy.post(
        "/steward/api/requests",
        json=_request(
            ticket_reference="SUB-ACCESS-1", email="ZED.QUILL@EXAMPLE.ORG", phone="(650) 253-9187"
        ),
    )
    assert response.status_code == 201, response.text
    access = response.json()
    assert access["created"] and access["dag_run_id"].startswith("steward_request_")
    conf, user, state = _dag_run(access["dag_run_id"])
    assert conf == {"request_id": access["request_id"]}
    assert user == "privacy" and state == "queued"
    # The same ticket again: the same request, no second run.
    again = privacy.post(
        "/steward/api/requests",
        json=_request(ticket_reference="SUB-ACCESS-1", email="zed.quill@example.org"),
    )
    assert again.status_code == 200
    assert again.json()["request_id"] == access["request_id"]
    assert again.json()["dag_run_id"] is None

    # Correction and deletion, from the form (a person in the browser).
    correction_id = _submit_form(
        server,
        _request(
            request_type="correction",
            ticket_reference="SUB-CORR-1",
            customer_id=str(C),
            name="Zedekiah Quillfeather",
            date_of_birth="1980-02-03",
            corrections="email = zed.renamed@example.org",
        ),
    )
    deletion_id = _submit_form(
        server,
        _request(
            request_type="deletion",
            ticket_reference="SUB-DEL-1",
            customer_id=str(C),
            phone="+1 650 253 9187",
        ),
    )

    for request_id in (access["request_id"], correction_id, deletion_id):
        assert set(_run(request_id).values()) == {"success"}
        status = privacy.get(f"/steward/api/requests/{request_id}").json()
        assert status["status"] == "completed", status

    engine = sa.create_engine(server["url"])
    with engine.connect() as conn:
        residual = conn.execute(
            sa.text(
                "select count(*) from crm.customers where customer_id = :c"
                " and (first_name = 'Zedekiah' or email like 'zed.%')"
            ),
            {"c": C},
        ).scalar_one()
    engine.dispose()
    assert residual == 0 and BASE < C  # erased (the verify task re-scanned every table)

    # Who did it: the signed-in user, not a service name.
    actors = _audit_actors(server["url"], deletion_id)
    assert actors["dsar.registered"] == "airflow:privacy"
    assert actors["dsar.subject.found"] == "airflow:dag_test"  # dag.test's triggering user
    # erasure.verify_erasure records its own re-scan as the service (not a person's act).
    people = {actor for action, actor in actors.items() if action != "dsar.erasure.verified"}
    assert people <= {"airflow:privacy", "airflow:dag_test"}, actors

    # Every table of Airflow's metadata database, dumped as SQL text.
    database = bootstrap.metadata_db_path(server["home"])
    with sqlite3.connect(database) as connection:
        dump = "\n".join(connection.iterdump())
    assert "steward_request_" in dump  # the dump does hold the runs
    logs = caplog.text + server["log_file"].read_text(errors="ignore")
    logs += "".join(
        path.read_text(errors="ignore")
        for path in (server["home"] / "logs").rglob("*")
        if path.is_file()
    )
    for secret in SUBJECT_SECRETS:
        assert secret.lower() not in dump.lower(), f"metadata database holds {secret!r}"
        assert secret.lower() not in logs.lower(), f"Airflow's logs hold {secret!r}"
