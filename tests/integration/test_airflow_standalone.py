"""``steward airflow standalone`` for real: sign-in, a handful of processes, a clean stop.

The command runs as a user starts it (its own Airflow home, a free loopback
port, an empty scratch warehouse so the DSAR DAGs it unpauses have nothing to
change). The test waits for the UI (bounded), checks that anonymous calls get
401 and that the printed one-time password signs in, then sends SIGTERM and
asserts that no process of that Airflow home survives.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from steward import paths
from steward.airflow import bootstrap

pytestmark = [pytest.mark.integration, pytest.mark.slow]

START_TIMEOUT = 300
STOP_TIMEOUT = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _processes_of(home: Path) -> list[psutil.Process]:
    """Every live process whose environment points at this Airflow home."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get("AIRFLOW_HOME") == str(home):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return [p for p in found if _alive(p)]


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_standalone_requires_sign_in_and_stops_every_process_on_sigterm(empty_database, tmp_path):
    home = tmp_path / "airflow_home"
    port = _free_port()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "STEWARD_DATABASE_URL": empty_database,
        # The keys standalone generates go to a file of this test's own: in the session's
        # file every later test would find a retention HMAC key it did not configure.
        "STEWARD_SECRETS_FILE": str(tmp_path / "secrets.env"),
        "PYTHONPATH": os.pathsep.join([str(paths.plugins_dir()), str(paths.project_root())]),
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "steward.cli", "airflow", "standalone", "--port", str(port)]
    supervisor = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    output: list[str] = []
    reader = threading.Thread(
        target=lambda: output.extend(line.decode(errors="replace") for line in supervisor.stdout),
        daemon=True,
    )
    reader.start()
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert supervisor.poll() is None, "".join(output)[-3000:]
            try:
                if httpx.get(f"{base}/api/v2/monitor/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "".join(output)[-3000:]
            time.sleep(1)

        printed = "".join(output)
        passwords = dict(re.findall(r"^\s+(admin|privacy): (\S+)$", printed, re.MULTILINE))
        assert set(passwords) == set(bootstrap.LOGIN_USERS), printed[-2000:]
        passwords_file = bootstrap.passwords_path(home)
        assert str(passwords_file) in printed
        assert stat.S_IMODE(passwords_file.stat().st_mode) == 0o600
        assert httpx.get(f"{base}/api/v2/dags", timeout=30).status_code == 401
        assert httpx.post(f"{base}/steward/api/requests", json={}, timeout=30).status_code == 401
        token = httpx.post(
            f"{base}/auth/token",
            json={"username": "admin", "password": passwords["admin"]},
            timeout=30,
        )
        assert token.status_code == 201
        dags = httpx.get(
            f"{base}/api/v2/dags",
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            timeout=30,
        )
        assert dags.status_code == 200

        root = psutil.Process(supervisor.pid)
        # The tree, and what carries the home in its environment (setproctitle hides
        # some processes' environment, a worker may leave the tree): both must end.
        tree = [root, *root.children(recursive=True), *_processes_of(home)]
        running = list({p.pid: p for p in tree}.values())
        # A handful, not 40: four components, their few workers, the task slots.
        assert len(running) <= 5 + 2 * bootstrap.local_parallelism() + 6, [
            " ".join(p.cmdline()[:3]) for p in running
        ]

        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=STOP_TIMEOUT) == 0, "".join(output)[-2000:]
        deadline = time.monotonic() + 10

        def alive() -> list[psutil.Process]:
            return [p for p in running if _alive(p)] + _processes_of(home)

        while alive() and time.monotonic() < deadline:
            time.sleep(0.5)
        survivors = alive()
        assert not survivors, [" ".join(p.cmdline()[:4]) for p in survivors]
        assert "stopped" in "".join(output)
    finally:
        if supervisor.poll() is None:
            os.killpg(supervisor.pid, signal.SIGKILL)
        for leftover in _processes_of(home):
            leftover.kill()
