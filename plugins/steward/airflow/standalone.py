"""``steward airflow standalone``: Airflow's components for one machine, stopped cleanly.

Airflow's own ``airflow standalone`` starts the components as children that share
its process group and, on SIGTERM, exits without stopping them (the scheduler and
its LocalExecutor workers keep running). Steward runs the same four components
itself, each in its own session so that a Ctrl-C in the terminal reaches only this
supervisor, and on SIGTERM, SIGINT or SIGHUP (or when one component dies) stops
them all: SIGTERM to each component's process group, a grace period, then SIGKILL
to whatever of their process trees is left. Nothing outlives the command.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import psutil

COMPONENTS = ("scheduler", "dag-processor", "triggerer", "api-server")
STOP_GRACE_SECONDS = 20.0
POLL_SECONDS = 0.5


def airflow_executable() -> Path:
    """The ``airflow`` next to this interpreter (the virtualenv's, even if not on PATH)."""
    return Path(sys.executable).with_name("airflow")


def start_components(
    env: dict[str, str], components: Iterable[str] = COMPONENTS
) -> dict[str, subprocess.Popen]:
    executable = str(airflow_executable())
    path = os.pathsep.join([str(Path(executable).parent), env.get("PATH", os.defpath)])
    return {
        name: subprocess.Popen(  # noqa: S603 - a fixed command line, no shell
            [executable, name],
            env={**env, "PATH": path},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # Own session and process group: the terminal's Ctrl-C reaches only the
            # supervisor, which then stops each component's whole group in order.
            start_new_session=True,
        )
        for name in components
    }


def _relay(name: str, stream, write: Callable[[str], None]) -> None:
    for raw in iter(stream.readline, b""):
        write(f"{name:<13}| {raw.decode(errors='replace').rstrip()}\n")
    stream.close()


def _process_tree(processes: Iterable[subprocess.Popen]) -> list[psutil.Process]:
    tree: list[psutil.Process] = []
    for process in processes:
        try:
            parent = psutil.Process(process.pid)
            tree.extend([parent, *parent.children(recursive=True)])
        except psutil.NoSuchProcess:
            continue
    return tree


def _signal_groups(processes: Iterable[subprocess.Popen], signum: int) -> None:
    for process in processes:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signum)
            except ProcessLookupError:
                continue


def stop_components(
    processes: dict[str, subprocess.Popen], grace_seconds: float = STOP_GRACE_SECONDS
) -> list[int]:
    """Stop every component and every process it started; return the pids killed by force."""
    tree = _process_tree(processes.values())
    _signal_groups(processes.values(), signal.SIGTERM)
    # Workers that left their group still get the polite signal.
    for member in tree:
        try:
            member.terminate()
        except psutil.NoSuchProcess:
            continue
    _, alive = psutil.wait_procs(tree, timeout=grace_seconds)
    # Anything started during the grace period belongs to the tree as well.
    alive = list({p.pid: p for p in [*alive, *_process_tree(processes.values())]}.values())
    _signal_groups(processes.values(), signal.SIGKILL)
    for member in alive:
        try:
            member.kill()
        except psutil.NoSuchProcess:
            continue
    psutil.wait_procs(alive, timeout=5)
    for process in processes.values():
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            continue
    return sorted(member.pid for member in alive)


def run(
    env: dict[str, str],
    *,
    write: Callable[[str], None] = sys.stdout.write,
    grace_seconds: float = STOP_GRACE_SECONDS,
) -> int:
    """Run the components until a signal or a component's exit; 0 on a requested stop."""
    stop_requested = threading.Event()
    received: list[int] = []

    def request_stop(signum, _frame) -> None:
        received.append(signum)
        stop_requested.set()

    previous = {
        signum: signal.signal(signum, request_stop)
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    }
    processes: dict[str, subprocess.Popen] = {}
    exit_code = 0
    try:
        processes = start_components(env)
        relays = [
            threading.Thread(target=_relay, args=(name, p.stdout, write), daemon=True)
            for name, p in processes.items()
        ]
        for relay in relays:
            relay.start()
        while not stop_requested.wait(POLL_SECONDS):
            ended = {name: p.returncode for name, p in processes.items() if p.poll() is not None}
            if ended:
                write(f"standalone   | {', '.join(sorted(ended))} exited; stopping the others\n")
                exit_code = 1
                break
    finally:
        if processes:
            write("standalone   | stopping Airflow's components ...\n")
            forced = stop_components(processes, grace_seconds)
            if forced:
                write(f"standalone   | {len(forced)} processes did not stop in time: killed\n")
            write("standalone   | stopped\n")
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return exit_code


def wait_for_port(host: str, port: int, timeout: float) -> bool:
    """True once something accepts connections on host:port, False after ``timeout`` s."""
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(1)
            if probe.connect_ex((host, port)) == 0:
                return True
        time.sleep(0.5)
    return False
