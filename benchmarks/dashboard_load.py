"""Server render time of the Steward page on the warehouse ``STEWARD_DATABASE_URL`` names.

Builds the page (every section's aggregate queries, the view model, the HTML)
``--requests`` times, as the plugin does per request, after one warm-up, and
prints the median, 95th percentile and maximum, each section's query time and
which marts were present. Counts and timings only.

With ``--http`` it also sends requests through Airflow's own API server app (the
plugin mounted by ``airflow.api_fastapi.app.create_app``, a real user of the simple
auth manager, a token from ``POST /auth/token``), in a throwaway Airflow home, and
reports their status and wall time (server render plus auth, plugin and HTTP layers).

    STEWARD_DATABASE_URL=postgresql://... .venv/bin/python benchmarks/dashboard_load.py -n 20
    STEWARD_DATABASE_URL=postgresql://... .venv/bin/python benchmarks/dashboard_load.py -n 20 --http
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from steward import warehouse
from steward.airflow import bootstrap
from steward.dashboard import app, page, queries

HTTP_USER = "steward-benchmark"


def http_requests(count: int) -> dict:
    """``count`` page requests through Airflow's API server app, after one warm-up."""
    from fastapi.testclient import TestClient

    password = secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory(prefix="steward-dashboard-bench-") as scratch:
        home = Path(scratch) / "airflow_home"
        passwords = Path(scratch) / "passwords.json"
        passwords.write_text(json.dumps({HTTP_USER: password}))
        env = {
            **bootstrap.airflow_settings(home),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{HTTP_USER}:viewer",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        }
        bootstrap.apply_environment(env)
        bootstrap.ensure_airflow_db(home)
        from airflow.api_fastapi.app import create_app

        with TestClient(create_app("core")) as client:
            credentials = {"username": HTTP_USER, "password": password}
            response = client.post("/auth/token", json=credentials)
            response.raise_for_status()
            client.cookies.set("_token", response.json()["access_token"])
            client.get(f"{app.URL_PREFIX}/")  # warm-up: first request imports Airflow's security
            timings, statuses, server_timing = [], set(), ""
            for _ in range(count):
                started = time.perf_counter()
                response = client.get(f"{app.URL_PREFIX}/", headers={"Accept": "text/html"})
                timings.append(time.perf_counter() - started)
                statuses.add(response.status_code)
                server_timing = response.headers.get("server-timing", "")
    return {
        "requests": count,
        "statuses": sorted(statuses),
        "median_ms": round(statistics.median(timings) * 1000, 1),
        "max_ms": round(max(timings) * 1000, 1),
        "last_server_timing": server_timing,
        "html_bytes": len(response.content),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--requests", type=int, default=20)
    parser.add_argument(
        "--http",
        type=int,
        nargs="?",
        const=1,
        default=0,
        metavar="N",
        help="also send N requests (default 1) through Airflow's API server app",
    )
    arguments = parser.parse_args()
    engine = warehouse.engine()
    page.build()  # warm-up: connection pool, catalogue caches
    totals, reads, renders = [], [], []
    section_times: dict[str, list[float]] = {}
    for _ in range(arguments.requests):
        started = time.perf_counter()
        rendered = page.build()
        totals.append(time.perf_counter() - started)
        reads.append(rendered.read_seconds)
        renders.append(rendered.render_seconds)
        for key, seconds in rendered.section_seconds.items():
            section_times.setdefault(key, []).append(seconds)
    read = queries.read_all(engine)
    sections = {
        key: {
            "state": "ready" if section.ready else ("missing" if section.missing else "error"),
            **summary_ms(section_times.get(key, [section.seconds])),
        }
        for key, section in read["sections"].items()
    }
    with engine.connect() as conn:
        customers = conn.execute(sa.text("select count(*) from crm.customers")).scalar_one()
        calls = conn.execute(sa.text("select count(*) from telephony.calls")).scalar_one()
    figures = {
        "requests": arguments.requests,
        "crm_customers": customers,
        "telephony_calls": calls,
        "page": summary_ms(totals),
        "read": summary_ms(reads),
        "render": summary_ms(renders),
        "html_bytes": len(rendered.html.encode()),
        "sections": sections,
        "marts_present": [t for t in read["tables"] if not t.startswith("catalogue_scan")],
    }
    if arguments.http:
        # Airflow logs to standard output: keep it for the figures alone.
        with contextlib.redirect_stdout(sys.stderr):
            figures["http"] = http_requests(arguments.http)
    print(json.dumps(figures, indent=2))


def summary_ms(seconds: list[float]) -> dict[str, float]:
    """Median, 95th percentile (nearest rank) and maximum, in milliseconds."""
    ordered = sorted(seconds)
    rank = max(math.ceil(len(ordered) * 0.95) - 1, 0)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[rank] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


if __name__ == "__main__":
    main()
