"""End to end: Airflow's API server with the Steward plugin, opened in headless Chromium.

The server is Airflow's own FastAPI app (``airflow.api_fastapi.app:create_app``)
run by uvicorn in a subprocess on a free port, with the simple auth manager and
a real user; the token comes from its ``POST /auth/token`` and is set as the
``_token`` cookie, as the UI's login does. Chromium (Debian's ``chromium`` and
``chromium-driver``) is driven through chromedriver's W3C WebDriver HTTP API
(no Python dependency). The page must show the sections and the known marts'
numbers in the rendered DOM; a screenshot is saved under pytest's temp folder
(and to ``STEWARD_SCREENSHOT_DIR`` when set).

Chromium missing is a failure with the install command, not a skip.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from steward import airflow_support, warehouse
from tests.e2e.dashboard_marts import (
    SUBJECT_EMAIL,
    SUBJECT_NAME,
    SUBJECT_PHONE,
    create_known_marts,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

USER, PASSWORD = "steward-e2e", "e2e-test-password"
INSTALL_HINT = (
    "headless Chromium is required for the end-to-end test: install Debian's packages with "
    "`apt-get install -y chromium chromium-driver` (as root)"
)
SECTIONS = ["PII catalogue", "Retention", "Phone quality", "Requests", "Data quality"]
STARTUP_SECONDS = 120


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {process.returncode}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {seconds} s")


def _browser_binaries() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.fail(INSTALL_HINT, pytrace=False)
    return chromium, driver


@pytest.fixture
def known_marts(empty_database: str) -> tuple[str, dict[str, str]]:
    return empty_database, create_known_marts(empty_database)


@pytest.fixture
def airflow_server(known_marts, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url, _ = known_marts
    home = tmp_path_factory.getbasetemp() / "airflow_home"
    airflow_support.ensure_airflow_db(home)
    passwords = tmp_path_factory.mktemp("e2e_auth") / "passwords.json"
    passwords.write_text(json.dumps({USER: PASSWORD}))
    port = _free_port()
    env = {
        **os.environ,
        **airflow_support.airflow_settings(home),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:viewer",
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
        _wait_for(f"{base}/api/v2/monitor/health", server, STARTUP_SECONDS)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


class WebDriver:
    """The few W3C WebDriver commands the test needs, spoken to chromedriver over HTTP."""

    def __init__(self, chromium: str, driver: str, tmp: Path) -> None:
        self.port = _free_port()
        self.log = (tmp / "chromedriver.log").open("w")
        self.process = subprocess.Popen(
            [driver, f"--port={self.port}"], stdout=self.log, stderr=subprocess.STDOUT
        )
        self.base = f"http://127.0.0.1:{self.port}"
        _wait_for(f"{self.base}/status", self.process, 30)
        arguments = ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,2400"]
        arguments.append(f"--user-data-dir={tmp / 'profile'}")
        session = self._call(
            "POST",
            "/session",
            {
                "capabilities": {
                    "alwaysMatch": {
                        "browserName": "chrome",
                        "goog:chromeOptions": {"binary": chromium, "args": arguments},
                    }
                }
            },
        )
        self.session = f"/session/{session['sessionId']}"

    def _call(self, method: str, path: str, body: dict | None = None):
        response = httpx.request(method, self.base + path, json=body, timeout=60)
        payload = response.json()
        if response.status_code >= 400:
            raise RuntimeError(f"webdriver {path}: {payload['value'].get('message', '')[:300]}")
        return payload["value"]

    def open(self, url: str) -> None:
        self._call("POST", f"{self.session}/url", {"url": url})

    def add_cookie(self, name: str, value: str) -> None:
        cookie = {"name": name, "value": value, "path": "/", "httpOnly": True}
        self._call("POST", f"{self.session}/cookie", {"cookie": cookie})

    def script(self, source: str):
        return self._call("POST", f"{self.session}/execute/sync", {"script": source, "args": []})

    def screenshot(self, target: Path) -> Path:
        target.write_bytes(base64.b64decode(self._call("GET", f"{self.session}/screenshot")))
        return target

    def quit(self) -> None:
        try:
            self._call("DELETE", self.session)
        finally:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    chromium, driver = _browser_binaries()
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
  scripts: document.querySelectorAll('script').length,
  text: document.documentElement.outerHTML,
};
"""


def test_chromium_is_installed():
    """A missing browser fails here, with the command that installs it."""
    _browser_binaries()


def test_the_page_in_a_real_browser(airflow_server, browser, known_marts, tmp_path_factory):
    _, expected = known_marts
    page_url = f"{airflow_server}/steward/"
    browser.open(page_url)
    refused = browser.script("return document.body.innerText")
    assert "not signed in" in refused
    token = httpx.post(
        f"{airflow_server}/auth/token", json={"username": USER, "password": PASSWORD}, timeout=30
    ).json()["access_token"]
    browser.add_cookie("_token", token)
    browser.open(page_url)
    dom = browser.script(DOM_FIGURES)
    assert dom["headings"] == SECTIONS
    metrics = dom["metrics"]
    assert metrics["Valid rate"] == expected["valid_rate"]
    assert metrics["Gaps: undeclared columns"] == expected["undeclared"]
    assert metrics["Breaker stops awaiting approval"] == expected["breaker_awaiting"]
    assert metrics["Overdue"] == expected["overdue_requests"]
    assert metrics["Completed on time"] == expected["on_time_share"]
    assert metrics["Expectations passed (latest runs)"] == expected["quality_passed"]
    assert dom["overdueColour"] == "rgb(197, 48, 48)"  # overdue in red
    assert dom["charts"] >= 8
    assert dom["scripts"] == 0
    for planted in (SUBJECT_EMAIL, SUBJECT_PHONE, SUBJECT_NAME):
        assert planted not in dom["text"]
    shot = browser.screenshot(tmp_path_factory.mktemp("screenshots") / "steward-dashboard.png")
    assert shot.stat().st_size > 10_000
    if target := os.environ.get("STEWARD_SCREENSHOT_DIR"):
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(target) / shot.name)
    print(f"screenshot: {shot}")
