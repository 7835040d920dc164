"""End to end: Airflow's API server with the Steward plugin, opened in headless Chromium.

The server is Airflow's own FastAPI app (``airflow.api_fastapi.app:create_app``)
run by uvicorn in a subprocess on a free port, with the simple auth manager and
a real user; the token comes from its ``POST /auth/token`` and is set as the
``_token`` cookie, as the UI's login does. Chromium (Debian's ``chromium`` and
``chromium-driver``) is driven through chromedriver's W3C WebDriver HTTP API
(no Python dependency). The page must show the sections and the known marts'
numbers in the rendered DOM. A privacy officer signs in on Airflow's own login
page and opens the request form: labels and help texts, no raw field name.
Every page must look right (``browser.assert_looks_right``: no sideways
scrolling, nothing loaded from outside the machine, no failed load or console
error, no planted identifier). Screenshots go to ``<pytest temp>/screenshots/``
(printed) and to ``STEWARD_SCREENSHOT_DIR`` when set.

Chromium missing is a failure with the install command, not a skip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from steward import warehouse
from steward.airflow import bootstrap
from steward.dashboard import requests_form
from tests.e2e.browser import (
    WebDriver,
    assert_looks_right,
    browser_binaries,
    free_port,
    keep_screenshots,
    wait_for,
)
from tests.e2e.dashboard_marts import (
    SUBJECT_EMAIL,
    SUBJECT_NAME,
    SUBJECT_PHONE,
    create_known_marts,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

USER, PASSWORD = "steward-e2e", "e2e-test-password"
# Signs in through Airflow's login page and may submit requests (role "user").
OFFICER, OFFICER_PASSWORD = "privacy-officer", "officer-test-password"
PLANTED = (SUBJECT_EMAIL, SUBJECT_PHONE, SUBJECT_NAME)
SECTIONS = [
    "PII catalogue",
    "Retention",
    "Phone quality",
    "Requests",
    "Data quality",
    "Access to personal data",
    "Breaches",
    "Card data in free text",
]
STARTUP_SECONDS = 120


@pytest.fixture
def known_marts(empty_database: str) -> tuple[str, dict[str, str]]:
    return empty_database, create_known_marts(empty_database)


@pytest.fixture
def airflow_server(known_marts, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url, _ = known_marts
    home = tmp_path_factory.getbasetemp() / "airflow_home"
    bootstrap.ensure_airflow_db(home)
    passwords = tmp_path_factory.mktemp("e2e_auth") / "passwords.json"
    passwords.write_text(json.dumps({USER: PASSWORD, OFFICER: OFFICER_PASSWORD}))
    port = free_port()
    env = {
        **os.environ,
        **bootstrap.airflow_settings(home),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:viewer,{OFFICER}:user",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        warehouse.DATABASE_URL_ENV: url,
    }
    log = (tmp_path_factory.mktemp("e2e_server") / "server.log").open("w")
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "--factory", "airflow.api_fastapi.app:create_app"),
            *("--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/api/v2/monitor/health", server, STARTUP_SECONDS)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    chromium, driver = browser_binaries()
    session = WebDriver(chromium, driver, tmp_path_factory.mktemp("chromium"))
    try:
        yield session
    finally:
        session.quit()


DOM_FIGURES = """
return {
  headings: [...document.querySelectorAll('section h2')].map(e => e.textContent),
  metrics: Object.fromEntries([...document.querySelectorAll('.metric')].map(
      m => [m.dataset.metric, m.querySelector('.value').textContent])),
  overdueColour: getComputedStyle(
      [...document.querySelectorAll('td.bad')].find(td => td.textContent.startsWith('overdue'))
  ).color,
  charts: document.querySelectorAll('svg.chart').length,
  axisLabels: [...document.querySelectorAll('svg.chart text')].map(t => t.textContent),
  tableCaptions: [...document.querySelectorAll('caption')].map(c => c.textContent),
  closedOutcomes: [...document.querySelectorAll('td')].map(td => td.textContent)
      .filter(t => t.startsWith('completed') || t.startsWith('rejected')),
  stalledColour: getComputedStyle(
      [...document.querySelectorAll('td.bad')].find(td => td.textContent.includes('stalled since'))
  ).color,
  scripts: document.querySelectorAll('script').length,
  text: document.documentElement.outerHTML,
};
"""


def test_chromium_is_installed():
    """A missing browser fails here, with the command that installs it."""
    browser_binaries()


def test_the_page_in_a_real_browser(airflow_server, browser, known_marts, tmp_path_factory):
    _, expected = known_marts
    page_url = f"{airflow_server}/steward/"
    browser.open(page_url)
    refused = browser.script("return document.body.innerText")
    assert "not signed in" in refused
    browser.console()  # the refusal's 401 is logged as a failed load: expected there
    token = httpx.post(
        f"{airflow_server}/auth/token", json={"username": USER, "password": PASSWORD}, timeout=30
    ).json()["access_token"]
    browser.add_cookie("_token", token)
    browser.open(page_url)
    dom = browser.script(DOM_FIGURES)
    assert_looks_right(browser.health(), PLANTED)
    assert dom["headings"] == SECTIONS
    metrics = dom["metrics"]
    assert metrics["Valid rate"] == expected["valid_rate"]
    assert metrics["Gaps: undeclared columns"] == expected["undeclared"]
    assert metrics["Breaker stops awaiting approval"] == expected["breaker_awaiting"]
    assert metrics["Overdue"] == expected["overdue_requests"]
    assert metrics["Stalled"] == expected["stalled_requests"]
    assert metrics["Failed validation"] == expected["failed_validation"]
    assert metrics["Received"] == expected["received_requests"]
    assert "Closed requests: latest first" in dom["tableCaptions"]
    assert set(dom["closedOutcomes"]) >= {
        "completed on time",
        "completed late",
        "rejected: failed validation",
        "rejected: identity not verified",
    }
    assert dom["stalledColour"] == "rgb(197, 48, 48)"  # a stalled request in red
    # Rates run 0-100 % on their axes, never beyond.
    percents = [
        float(t[:-1])
        for t in dom["axisLabels"]
        if t.endswith("%") and t[:-1].replace(".", "").isdigit()
    ]
    assert percents and max(percents) <= 100
    assert metrics["Completed on time"] == expected["on_time_share"]
    assert metrics["Expectations passed (latest runs)"] == expected["quality_passed"]
    assert dom["overdueColour"] == "rgb(197, 48, 48)"  # overdue in red
    assert dom["charts"] >= 8
    assert dom["scripts"] == 0
    for planted in (SUBJECT_EMAIL, SUBJECT_PHONE, SUBJECT_NAME):
        assert planted not in dom["text"]
    shot = browser.screenshot(screenshot_dir(tmp_path_factory) / "steward-dashboard.png")
    assert shot.stat().st_size > 10_000
    # The requests section, scrolled into view: its metrics, charts and both lists.
    browser.script("document.getElementById('requests').scrollIntoView()")
    requests_shot = browser.screenshot(shot.with_name("steward-dashboard-requests.png"))
    assert requests_shot.stat().st_size > 10_000
    keep_screenshots(shot, requests_shot)


def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.getbasetemp() / "screenshots"
    folder.mkdir(exist_ok=True)
    return folder


FORM_STATE = """
const visible = e => e.offsetWidth > 0 && e.offsetHeight > 0;
return {
  labels: [...document.querySelectorAll('label')].filter(visible).map(l => l.textContent.trim()),
  help: [...document.querySelectorAll('.help')].filter(visible).map(h => h.textContent.trim()),
  controls: [...document.querySelectorAll('input, select, textarea')]
      .filter(e => e.type !== 'hidden').map(e => e.name),
  unlabelled: [...document.querySelectorAll('input, select, textarea')]
      .filter(e => e.type !== 'hidden' && visible(e))
      .filter(e => !document.querySelector(`label[for="${e.id}"]`)).map(e => e.name),
  submit: [...document.querySelectorAll('button, input[type=submit]')].filter(visible).length,
};
"""


def test_the_request_form_after_signing_in(airflow_server, browser, tmp_path_factory):
    """Airflow's own login page (simple auth manager), then Steward's request form."""
    form_url = f"{airflow_server}/steward/requests/new"
    browser.open(f"{airflow_server}/api/v2/version")
    browser.clear_cookies()  # signed in as nobody: the login page sets the token
    browser.open(f"{airflow_server}/auth/login?next={form_url}")
    wait_until(browser, "document.querySelector('input[name=password]') !== null")
    browser.console()  # what the login page logged before anyone signed in
    browser.fill("input[name=username]", OFFICER)
    browser.fill("input[name=password]", OFFICER_PASSWORD)
    browser.click("button[type=submit]")
    wait_until(browser, "location.pathname.endsWith('/auth/login') === false")
    browser.open(form_url)
    form = browser.script(FORM_STATE)
    assert_looks_right(browser.health(), PLANTED)
    labels = [label for label, _ in requests_form.FIELDS.values()]
    assert form["labels"] == labels
    for _, help_text in requests_form.FIELDS.values():
        assert help_text in form["help"]
    assert form["unlabelled"] == []
    assert form["submit"] == 1
    # Labels, never the raw field names, are what a reader sees.
    text = browser.script("return document.body.innerText")
    for name in requests_form.FIELDS:
        if "_" in name:
            assert f"{name}\n" not in text and not any(name == lab for lab in form["labels"])
    shot = browser.screenshot(screenshot_dir(tmp_path_factory) / "steward-request-form.png")
    assert shot.stat().st_size > 10_000
    keep_screenshots(shot)


def wait_until(browser: WebDriver, condition: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if browser.script(f"return {condition}"):
            return
        time.sleep(0.2)
    raise TimeoutError(f"the browser never saw: {condition}")
