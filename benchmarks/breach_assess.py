"""Breach assessment speed, as a ratio against scanning the exposed tables once.

Seeds a scratch warehouse at ``--scale`` (or uses ``--warehouse-url``), then
assesses one incident exposing ``--columns`` (default: the CRM customer table,
card numbers, every call and every transcript) and times it against the baseline
in the same run: one ``count(distinct customer_id)`` pass over each exposed table
(the least any assessment has to read). Prints counts and timings only.

    .venv/bin/python benchmarks/breach_assess.py --scale m
    .venv/bin/python benchmarks/breach_assess.py --warehouse-url postgresql://.../warehouse_l
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time
import uuid

import sqlalchemy as sa

from steward import datamap, warehouse
from steward.breach import assess
from steward.breach.exposure import Exposure

DEFAULT_COLUMNS = (
    "crm.customers",
    "billing.payments.card_number",
    "telephony.calls",
    "telephony.transcripts",
)


def baseline_seconds(url: str, columns: list[str]) -> float:
    """One pass per exposed table counting its distinct subject keys."""
    data_map = datamap.load_data_map()
    tables = {".".join(name.split(".")[:2]) for name in columns}
    started = time.perf_counter()
    with warehouse.engine(url).connect() as conn:
        for name in sorted(tables):
            table = data_map.table(name)
            key = table.subject_key or table.primary_key[0]
            conn.execute(sa.text(f"select count(distinct {key}) from {name}")).scalar_one()
    return time.perf_counter() - started


def run(url: str, columns: list[str], rounds: int) -> dict:
    engine = warehouse.engine(url)
    baseline, timed, affected = [], [], None
    for _ in range(rounds):
        baseline.append(baseline_seconds(url, columns))
        started = time.perf_counter()
        result = assess.assess_new(
            reference=f"BENCH-{uuid.uuid4().hex[:8]}",
            summary_text="Benchmark incident",
            aware_at=dt.datetime.now(dt.UTC),
            exposure=Exposure(columns=columns),
            url=url,
        )
        timed.append(time.perf_counter() - started)
        affected = result["affected_subjects"]
    with engine.connect() as conn:
        rows = {
            name: conn.execute(sa.text(f"select count(*) from {name}")).scalar_one()
            for name in sorted({".".join(c.split(".")[:2]) for c in columns})
        }
    return {
        "columns": columns,
        "rows": rows,
        "affected_subjects": affected,
        "baseline_median_s": round(statistics.median(baseline), 2),
        "assessment_median_s": round(statistics.median(timed), 2),
        "ratio": round(statistics.median(timed) / statistics.median(baseline), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="s", help="seed a scratch warehouse at this scale")
    parser.add_argument(
        "--warehouse-url", help="an already seeded warehouse (incidents are added to its register)"
    )
    parser.add_argument("--columns", nargs="*", default=list(DEFAULT_COLUMNS))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.warehouse_url:
        print(json.dumps(run(args.warehouse_url, args.columns, args.rounds), indent=2))
        return
    from steward.seed import generate

    with warehouse.scratch_database("steward_breach_bench") as url:
        generate.seed_warehouse(scale=args.scale, seed=42, url=url, progress=False)
        print(json.dumps({"scale": args.scale, **run(url, args.columns, args.rounds)}, indent=2))


if __name__ == "__main__":
    main()
