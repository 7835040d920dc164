"""De-duplication accuracy: splink's pairs and clusters against the seed's planted duplicates.

    .venv/bin/python benchmarks/dedupe_accuracy.py [--scale s|m|l] [--seed 42] [--url URL]

Creates a scratch database on the warehouse's server (``steward.warehouse``:
STEWARD_DATABASE_URL, else the embedded PostgreSQL), seeds it at ``--scale``,
refreshes the phone lookup, builds the dedupe view with dbt, runs
``steward.dedupe`` (the first, full night), then a second night on which 1% of
the records count as new (their stored fingerprints removed, so they and their
blocking neighbours are scored again), and prints a Markdown table of pair
precision and recall after each night (counts only: no record is printed), with
the times and the process's peak memory. The scratch database is dropped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))


from steward import warehouse


def build_dedupe_view(url: str) -> None:
    """``dbt run`` of the dedupe view (and the staging views it reads) on ``url``."""
    from steward import dbt_runner

    dbt_runner.run_or_raise(["run", "--select", "+path:models/intermediate/dedupe"], url)


def run(scale: str, seed: int, reuse_url: str | None = None) -> str:
    from steward.dedupe.evaluate import evaluate
    from steward.dedupe.linkage import find_duplicates
    from steward.phones.lookup import refresh_phone_lookup
    from steward.seed import generate

    if reuse_url:
        context = contextlib.nullcontext(reuse_url)
    else:
        context = warehouse.scratch_database("steward_bench_dedupe")
    with context as url:
        mark = time.perf_counter()
        if not reuse_url:
            generate.seed_warehouse(scale=scale, seed=seed, url=url, progress=False)
            refresh_phone_lookup(warehouse.engine(url))
            build_dedupe_view(url)
        setup_seconds = time.perf_counter() - mark
        nights = [(find_duplicates(url, full=True), None)]
        nights[0] = (nights[0][0], evaluate(url))
        _forget_fingerprints(url, share=0.01)
        second = find_duplicates(url)
        nights.append((second, evaluate(url)))

    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = [f"`{scale}` (seed {seed}): setup {setup_seconds:.1f}s, peak RSS {peak_mib:,.0f} MiB"]
    labels = {
        "pairs": "pairs, p >= 0.9",
        "candidate_pairs": "pairs, p >= 0.5",
        "clusters": "pairs within clusters",
    }
    for night, (report, scores) in enumerate(nights, start=1):
        phases = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in report.timings.items())
        lines += [
            "",
            f"Night {night} ({report.mode}): {report.records:,} records, "
            f"{report.changed_records:,} new or changed, {report.scored_pairs:,} pairs scored, "
            f"{report.candidate_pairs:,} stored, {report.clusters:,} clusters; "
            f"{report.elapsed_seconds:.1f}s ({phases}), CPU {report.cpu_seconds:.1f}s.",
            "",
            "| prediction | predicted pairs | true pairs | true positives | precision | recall"
            " | F1 |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for kind, score in scores.items():
            lines.append(
                f"| {labels[kind]} | {score['predicted']:,} | {score['true']:,} | "
                f"{score['true_positives']:,} | {score['precision']:.4f} | "
                f"{score['recall']:.4f} | {score['f1']:.4f} |"
            )
    return "\n".join(lines)


def _forget_fingerprints(url: str, share: float) -> None:
    """Make ``share`` of the records new to the next run (a sample, seeded)."""
    import sqlalchemy as sa

    from steward.dedupe.linkage import FINGERPRINTS_TABLE, OUTPUT_SCHEMA

    with warehouse.engine(url).begin() as connection:
        connection.execute(
            sa.text(
                f"delete from {OUTPUT_SCHEMA}.{FINGERPRINTS_TABLE}"
                " where customer_id in (select customer_id from"
                f" {OUTPUT_SCHEMA}.{FINGERPRINTS_TABLE} tablesample bernoulli (:percent)"
                " repeatable (42))"
            ),
            {"percent": share * 100},
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="s", choices=["s", "m", "l"])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--url",
        help="reuse this seeded warehouse (phone lookup refreshed, dedupe table built);"
        " --scale then only labels the output",
    )
    args = parser.parse_args(argv)
    print(run(args.scale, args.seed, args.url))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
