"""Headless Chromium for the end-to-end tests, driven through chromedriver's W3C WebDriver API.

Debian's ``chromium`` and ``chromium-driver`` packages; spoken to over HTTP with
httpx (no Python dependency). A missing browser is a failure with the install
command, not a skip.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

INSTALL_HINT = (
    "headless Chromium is required for the end-to-end test: install Debian's packages with "
    "`apt-get install -y chromium chromium-driver` (as root)"
)
# Every host name fails to resolve except the machine's own: CDNs are unreachable.
OFFLINE_ARGUMENTS = (
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
)


# Horizontal overflow, and every resource the page loaded that did not come from
# this machine (file:, data:, localhost) or that failed (no response).
PAGE_HEALTH = """
const local = u => /^(file:|data:|about:|http:\\/\\/(127\\.0\\.0\\.1|localhost)[:/])/.test(u);
const resources = performance.getEntriesByType('resource');
return {
  overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  external: resources.map(r => r.name).filter(u => !local(u)),
  failed: resources.filter(r => r.responseStatus >= 400).map(r => r.name),
  text: document.body.innerText,
  html: document.documentElement.outerHTML,
};
"""


def assert_looks_right(state: dict, planted: tuple[str, ...] = ()) -> None:
    """No horizontal scroll, nothing from outside this machine, no failed load or
    console error, and none of the ``planted`` subjects' identifiers in the page."""
    assert state["overflow"] <= 0, f"the page scrolls sideways by {state['overflow']} px"
    assert state["external"] == [], state["external"]
    assert state["failed"] == [], state["failed"]
    assert state["console_errors"] == [], state["console_errors"]
    leaked = [value for value in planted if value in state["html"]]
    assert not leaked, f"{len(leaked)} planted identifiers on the page"


def keep_screenshots(*shots: Path) -> None:
    """Print where they are, and copy them to ``STEWARD_SCREENSHOT_DIR`` when it is set."""
    if target := os.environ.get("STEWARD_SCREENSHOT_DIR"):
        Path(target).mkdir(parents=True, exist_ok=True)
        for taken in shots:
            shutil.copy(taken, Path(target) / taken.name)
    print("screenshots:", *shots)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, seconds: float) -> None:
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


def browser_binaries() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.fail(INSTALL_HINT, pytrace=False)
    return chromium, driver


class WebDriver:
    """The few W3C WebDriver commands the tests need, spoken to chromedriver over HTTP."""

    def __init__(
        self, chromium: str, driver: str, tmp: Path, extra_arguments: tuple[str, ...] = ()
    ) -> None:
        self.port = free_port()
        self.log = (tmp / "chromedriver.log").open("w")
        self.process = subprocess.Popen(
            [driver, f"--port={self.port}"], stdout=self.log, stderr=subprocess.STDOUT
        )
        self.base = f"http://127.0.0.1:{self.port}"
        wait_for(f"{self.base}/status", self.process, 30)
        arguments = ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,2400"]
        arguments.append(f"--user-data-dir={tmp / 'profile'}")
        arguments.extend(extra_arguments)
        session = self._call(
            "POST",
            "/session",
            {
                "capabilities": {
                    "alwaysMatch": {
                        "browserName": "chrome",
                        "goog:chromeOptions": {"binary": chromium, "args": arguments},
                        # The console, read back by health() (chromedriver's log endpoint).
                        "goog:loggingPrefs": {"browser": "ALL"},
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

    def clear_cookies(self) -> None:
        self._call("DELETE", f"{self.session}/cookie")

    def script(self, source: str):
        return self._call("POST", f"{self.session}/execute/sync", {"script": source, "args": []})

    def fill(self, css: str, text: str) -> None:
        """Type ``text`` into the element ``css`` selects, as a user would."""
        element = self._element(css)
        self._call("POST", f"{self.session}/element/{element}/value", {"text": text})

    def click(self, css: str) -> None:
        self._call("POST", f"{self.session}/element/{self._element(css)}/click", {})

    def _element(self, css: str) -> str:
        found = self._call(
            "POST", f"{self.session}/element", {"using": "css selector", "value": css}
        )
        return next(iter(found.values()))

    def console(self) -> list[dict]:
        """The browser console's entries since the last call (chromedriver keeps them)."""
        return self._call("POST", f"{self.session}/se/log", {"type": "browser"})

    def health(self) -> dict:
        """What makes a page look wrong whatever it shows: see :data:`PAGE_HEALTH`."""
        state = self.script(PAGE_HEALTH)
        state["console_errors"] = [
            entry["message"] for entry in self.console() if entry.get("level") == "SEVERE"
        ]
        return state

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
