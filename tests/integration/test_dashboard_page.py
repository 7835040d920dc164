"""The Steward page inside Airflow's real API server app, on real PostgreSQL.

Airflow's ``create_app`` mounts the plugin from ``plugins/`` with the simple auth
manager configured as in production (users with passwords, not "all admins"):
tokens come from its ``POST /auth/token``. The page is read on a fresh seeded
warehouse (no marts: it says what to run), on known marts (the numbers match),
and on the real marts built by the other areas' entry points (no planted
subject's phone, e-mail or name anywhere in the HTML).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from steward import dbt_runner, warehouse
from steward.airflow import bootstrap
from steward.dashboard import queries
from tests.e2e.dashboard_marts import (
    SUBJECT_EMAIL,
    SUBJECT_NAME,
    SUBJECT_PHONE,
    create_known_marts,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

USER, PASSWORD = "steward-viewer", "dashboard-test-password"


def auth_environment(home, passwords_file) -> dict[str, str]:
    """Airflow on this project with real users (not every request an admin)."""
    return {
        **bootstrap.airflow_settings(home),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:viewer",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file),
    }


@pytest.fixture(scope="module")
def client(warehouse_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    from fastapi.testclient import TestClient

    home = tmp_path_factory.getbasetemp() / "airflow_home"
    passwords = tmp_path_factory.mktemp("dashboard_auth") / "passwords.json"
    passwords.write_text(json.dumps({USER: PASSWORD}))
    env = auth_environment(home, passwords)
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        bootstrap.apply_environment(env)
        bootstrap.ensure_airflow_db(home)
        from airflow.api_fastapi.app import create_app

        with TestClient(create_app("core")) as test_client:
            yield test_client


@pytest.fixture(scope="module")
def token(client) -> str:
    response = client.post("/auth/token", json={"username": USER, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return response.json()["access_token"]


def page(client, token: str) -> str:
    # The UI's iframe sends the `_token` cookie its login set; the test does the same.
    client.cookies.set("_token", token)
    try:
        response = client.get("/steward/")
    finally:
        client.cookies.clear()
    assert response.status_code == 200, response.text
    return response.text


def metric(html: str, label: str) -> str:
    match = re.search(
        rf'data-metric="{re.escape(label)}"><div class="label">[^<]*</div>'
        r'<div class="value">([^<]*)</div>',
        html,
    )
    assert match, f"metric {label!r} not on the page"
    return match.group(1)


def section_state(html: str, key: str) -> str:
    match = re.search(rf'<section id="{key}" data-state="(\w+)">', html)
    assert match, f"section {key} missing"
    return match.group(1)


def test_the_plugin_registers_the_app_and_the_nav_entry(client, token):
    plugins = client.get("/api/v2/plugins", headers={"Authorization": f"Bearer {token}"}).json()
    steward = next(p for p in plugins["plugins"] if p["name"] == "steward")
    assert steward["fastapi_apps"][0]["url_prefix"] == "/steward"
    view = steward["external_views"][0]
    assert view["name"] == "Steward"
    assert view["destination"] == "nav"
    assert view["href"] == "steward/"  # relative: follows [api] base_url


def test_requests_without_a_valid_token_are_refused(client, seeded_warehouse):
    assert client.get("/steward/").status_code == 401
    html = client.get("/steward/", headers={"Accept": "text/html"})
    assert html.status_code == 401
    assert "not signed in" in html.text
    assert "Valid" not in html.text  # no figure leaks into the refusal
    assert client.get("/steward/", headers={"Authorization": "Bearer forged"}).status_code == 403
    client.cookies.set("_token", "forged.jwt.value")
    try:
        assert client.get("/steward/").status_code == 403
    finally:
        client.cookies.clear()
    assert client.get("/steward/data-docs/index.html").status_code == 401


def test_fresh_warehouse_says_what_to_run(client, token, empty_database, monkeypatch, tmp_path):
    from steward.seed import generate

    # Its own freshly seeded warehouse: the session's may hold marts other modules built.
    generate.seed_warehouse(
        scale="s", seed=42, url=empty_database, progress=False, recordings_root=tmp_path
    )
    monkeypatch.setenv(warehouse.DATABASE_URL_ENV, empty_database)
    response_html = page(client, token)
    for key in ("catalogue", "retention", "phones", "requests", "quality"):
        assert section_state(response_html, key) == "not_built"
    for command in (
        "steward catalogue scan --persist",
        "dbt build --select path:models/marts/catalogue",
        "steward retention run",
        "steward phones refresh",
        "steward dsar submit",
        "steward.quality_results",
    ):
        assert command in response_html
    assert "<script" not in response_html


def test_known_marts_show_their_figures(client, token, empty_database, monkeypatch):
    expected = create_known_marts(empty_database)
    monkeypatch.setenv(warehouse.DATABASE_URL_ENV, empty_database)
    client.cookies.set("_token", token)
    try:
        response = client.get("/steward/")
    finally:
        client.cookies.clear()
    html = response.text
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    for key in ("catalogue", "retention", "phones", "requests", "quality"):
        assert section_state(html, key) == "ready"
    assert metric(html, "Gaps: undeclared columns") == expected["undeclared"]
    assert metric(html, "Confirmed") == expected["confirmed"]
    assert metric(html, "Suggested (awaiting review)") == expected["suggested"]
    assert metric(html, "Valid rate") == expected["valid_rate"]
    assert metric(html, "Duplicate groups") == expected["duplicate_groups"]
    assert metric(html, "Inactive numbers") == expected["inactive"]
    assert metric(html, "DNC violations") == expected["dnc_violations"]
    assert metric(html, "Recording-consent violations") == expected["consent_violations"]
    assert metric(html, "Breaker stops awaiting approval") == expected["breaker_awaiting"]
    assert metric(html, "Backlog: rows due") == expected["backlog_due"]
    assert metric(html, "Open requests") == expected["open_requests"]
    assert metric(html, "Overdue") == expected["overdue_requests"]
    assert metric(html, "Stalled") == expected["stalled_requests"]
    assert metric(html, "Failed validation") == expected["failed_validation"]
    assert metric(html, "Received") == expected["received_requests"]
    assert "Closed requests: latest first" in html
    assert "rejected: failed validation" in html and "completed late" in html
    assert metric(html, "Completed on time") == expected["on_time_share"]
    assert metric(html, "Median days to complete") == expected["median_days"]
    assert metric(html, "Expectations passed (latest runs)") == expected["quality_passed"]
    # Undeclared gaps come first, the overdue request is red.
    gaps = re.findall(r"<td class=\"(?:bad|warn)\">(undeclared|category mismatch)</td>", html)
    assert gaps[:2] == ["undeclared", "undeclared"]
    assert '<td class="bad num">overdue by 1 d</td>' in html
    # The trend lines over nights come from the snapshots.
    assert "Valid rate over nights" in html
    assert "90.0%" in html and "95.0%" in html
    for planted in (SUBJECT_EMAIL, SUBJECT_PHONE, SUBJECT_NAME):
        assert planted not in html


def test_views_built_before_the_first_request_read_the_register(empty_database):
    """dbt reads the register as the internal source, upgraded before dbt runs: views
    built on a fresh warehouse are not stale once requests arrive."""
    from steward.dashboard import page
    from steward.dsar import register

    built = dbt_runner.run(["run", "--select", *queries.REQUEST_TABLES], empty_database)
    assert built.success, dbt_runner.failure_summary(built)
    register.ensure_register(warehouse.engine(empty_database))
    assert page.build(empty_database, static=True).dashboard.section("requests").state == "empty"
    with warehouse.engine(empty_database).connect() as conn:
        assert queries.stale_views(conn, queries.steward_tables(conn)) == {}


def test_views_an_earlier_release_built_on_a_stand_in_are_reported_stale(empty_database):
    """Before the internal source, dbt read a missing table as an empty stand-in named
    <table>_not_written_yet; such a view stays empty until rebuilt, and is found."""
    from steward.dsar import register

    engine = warehouse.engine(empty_database)
    register.ensure_register(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "create view steward.legacy_requests as select request_id from"
                " (select null::bigint as request_id where false) as dsar_requests_not_written_yet"
            )
        )
    with engine.connect() as conn:
        stale = queries.stale_views(conn, queries.steward_tables(conn))
        conn.execute(sa.text("drop view steward.legacy_requests"))
        conn.commit()
    assert stale == {"legacy_requests": ["dsar_requests"]}


def test_data_docs_are_served_only_from_their_folder(client, token, tmp_path, monkeypatch):
    docs = tmp_path / "site"
    docs.mkdir()
    (docs / "index.html").write_text("<h1>Data Docs</h1>")
    (tmp_path / "secret.txt").write_text("outside")
    (docs / "escape").symlink_to(tmp_path / "secret.txt")
    monkeypatch.setenv("STEWARD_DATA_DOCS_DIR", str(docs))
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/steward/data-docs/index.html", headers=headers).text == "<h1>Data Docs</h1>"
    assert 'href="data-docs/index.html"' in client.get("/steward/", headers=headers).text
    for path in ("../secret.txt", "%2e%2e/secret.txt", "..%2fsecret.txt", "escape", "/etc/passwd"):
        response = client.get(f"/steward/data-docs/{path}", headers=headers)
        assert response.status_code == 404, path
        assert "outside" not in response.text
    monkeypatch.setenv("STEWARD_DATA_DOCS_DIR", str(tmp_path / "absent"))
    assert "data-docs/index.html" not in client.get("/steward/", headers=headers).text


def _dbt_build(url: str, *selectors: str) -> None:
    result = dbt_runner.run(["build", "--select", *selectors], url)
    assert result.success, dbt_runner.failure_summary(result)


@pytest.fixture(scope="module")
def real_marts(seeded_warehouse, warehouse_url: str) -> dict:
    """The real marts of every area that has landed, built by their own entry points."""
    from steward.catalogue import nightly as catalogue
    from steward.dsar import pipeline
    from steward.phones import nightly as phones
    from steward.retention import nightly as retention

    catalogue.run_scan(warehouse_url)
    assert catalogue.build_marts(warehouse_url)
    phones.run_refresh(warehouse_url)
    _dbt_build(
        warehouse_url,
        "path:models/staging",
        "path:models/intermediate/phones",
        "path:models/marts/phones",
    )
    retention.run(url=warehouse_url)  # a dry run: plans and records, changes nothing
    with warehouse.engine(warehouse_url).connect() as conn:
        subject = conn.execute(
            sa.text(
                "select c.customer_id, c.email, c.first_name, c.last_name, p.phone_raw"
                " from crm.customers c join crm.customer_phones p using (customer_id)"
                " where c.email is not null order by c.customer_id limit 1"
            )
        ).one()
    pipeline.submit(
        {
            "request_type": "access",
            "jurisdiction": "GDPR",
            "received_on": "2026-10-01",
            "ticket_reference": "DASH-1",
            "customer_id": subject.customer_id,
            "email": subject.email,
            "phone": subject.phone_raw,
            "name": f"{subject.first_name} {subject.last_name}",
        },
        url=warehouse_url,
    )
    _dbt_build(warehouse_url, *queries.REQUEST_TABLES)
    from steward.dashboard.snapshot import snapshot

    return snapshot(warehouse_url)


def test_real_marts_show_no_planted_subject(client, token, real_marts, warehouse_url):
    html = page(client, token)
    for key in ("catalogue", "retention", "phones", "requests"):
        assert section_state(html, key) == "ready", key
    with warehouse.engine(warehouse_url).connect() as conn:
        people = conn.execute(
            sa.text("select email, first_name, last_name from crm.customers")
        ).all()
        phones = conn.execute(sa.text("select phone_raw from crm.customer_phones")).scalars()
        phone_values = [p for p in phones if p]
    assert people and phone_values
    leaks = []
    for email, first, last in people:
        for value in (email, f"{first} {last}" if first and last else None):
            if value and value in html:
                leaks.append("name or e-mail")
    # Any run of digits and phone punctuation on the page, as digits.
    numbers = [re.sub(r"\D", "", run) for run in re.findall(r"[\d\s().+-]{7,}", html)]
    for raw in phone_values:
        digits = re.sub(r"\D", "", raw)
        if len(digits) < 7:
            continue  # planted junk ("n/a", "0000"): no number, and no person, to leak
        if raw in html or any(digits in number for number in numbers):
            leaks.append("phone")
    # Counts only, never which subject leaked (the test output is no place for PII).
    assert not leaks, f"{len(leaks)} personal values on the page: {sorted(set(leaks))}"
    # The snapshot the nightly DAG stores agrees with the page.
    assert metric(html, "Valid rate") == f"{real_marts['phone_valid_rate']:.1%}"
    assert metric(html, "Duplicate groups") == f"{real_marts['phone_duplicate_groups']:,}"


def test_static_report_has_the_same_sections(real_marts, warehouse_url, tmp_path):
    from steward.dashboard.report import write_report

    summary = write_report(tmp_path / "out", url=warehouse_url)
    html = (tmp_path / "out" / "steward-report.html").read_text()
    assert summary["sections"]["phones"] == "ready"
    assert metric(html, "Valid rate") == f"{real_marts['phone_valid_rate']:.1%}"
    assert "<script" not in html
    assert "data-docs/" not in html  # no link back into a running Airflow
