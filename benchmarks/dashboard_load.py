"""Server render time of the Steward page on the warehouse ``STEWARD_DATABASE_URL`` names.

Builds the page (every section's aggregate queries, the view model, the HTML)
``--requests`` times, as the plugin does per request, after one warm-up, and
prints the median, 95th percentile and maximum, each section's query time and
which marts were present. Counts and timings only.

    STEWARD_DATABASE_URL=postgresql://... .venv/bin/python benchmarks/dashboard_load.py -n 20
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import sqlalchemy as sa

from steward import warehouse
from steward.dashboard import page, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--requests", type=int, default=20)
    arguments = parser.parse_args()
    engine = warehouse.engine()
    page.build()  # warm-up: connection pool, catalogue caches
    totals, reads, sections = [], [], {}
    for _ in range(arguments.requests):
        started = time.perf_counter()
        rendered = page.build()
        totals.append(time.perf_counter() - started)
        reads.append(rendered.read_seconds)
    read = queries.read_all(engine)
    for key, section in read["sections"].items():
        sections[key] = {
            "state": "ready" if section.ready else ("missing" if section.missing else "error"),
            "query_ms": round(section.seconds * 1000, 1),
        }
    with engine.connect() as conn:
        customers = conn.execute(sa.text("select count(*) from crm.customers")).scalar_one()
    ordered = sorted(totals)
    print(
        json.dumps(
            {
                "requests": arguments.requests,
                "crm_customers": customers,
                "median_ms": round(statistics.median(totals) * 1000, 1),
                "p95_ms": round(ordered[max(int(len(ordered) * 0.95) - 1, 0)] * 1000, 1),
                "max_ms": round(ordered[-1] * 1000, 1),
                "median_read_ms": round(statistics.median(reads) * 1000, 1),
                "html_bytes": len(rendered.html.encode()),
                "sections": sections,
                "marts_present": [t for t in read["tables"] if not t.startswith("catalogue_scan")],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
