"""De-duplication accuracy: splink's pairs and clusters against the seed's planted duplicates.

    .venv/bin/python benchmarks/dedupe_accuracy.py [--scale s|m] [--seed 42]

Creates a scratch database on the warehouse's server (``steward.warehouse``:
STEWARD_DATABASE_URL, else the embedded PostgreSQL), seeds it at ``--scale``,
refreshes the phone lookup, builds the dedupe view with dbt, runs
``steward.dedupe`` and prints a Markdown table of pair precision and recall
(counts only: no record is printed). The scratch database is dropped at the end.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))


from steward import warehouse


def build_dedupe_view(url: str) -> None:
    """``dbt run`` of the dedupe view (and the staging views it reads) on ``url``."""
    from steward import dbt_runner

    dbt_runner.run_or_raise(["run", "--select", "+path:models/intermediate/dedupe"], url)


def run(scale: str, seed: int) -> str:
    from steward.dedupe.evaluate import evaluate
    from steward.dedupe.linkage import find_duplicates
    from steward.phones.lookup import refresh_phone_lookup
    from steward.seed import generate

    with warehouse.scratch_database("steward_bench_dedupe") as url:
        mark = time.perf_counter()
        generate.seed_warehouse(scale=scale, seed=seed, url=url, progress=False)
        refresh_phone_lookup(warehouse.engine(url))
        build_dedupe_view(url)
        setup_seconds = time.perf_counter() - mark
        report = find_duplicates(url)
        scores = evaluate(url)

    lines = [
        f"Scale `{scale}` (seed {seed}): {report.records:,} customer records, "
        f"{report.candidate_pairs:,} candidate pairs, {report.clusters:,} clusters; "
        f"dedupe {report.elapsed_seconds:.1f}s (train {report.timings['train']:.1f}s, "
        f"predict+cluster {report.timings['predict_and_cluster']:.1f}s), "
        f"setup {setup_seconds:.1f}s, levenshtein "
        f"{'fuzzystrmatch' if report.native_levenshtein else 'PL/pgSQL fallback'}.",
        "",
        "| prediction | predicted pairs | true pairs | true positives | precision | recall | F1 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    labels = {
        "pairs": "pairs, p >= 0.9",
        "candidate_pairs": "pairs, p >= 0.5",
        "clusters": "pairs within clusters",
    }
    for kind, score in scores.items():
        lines.append(
            f"| {labels[kind]} | {score['predicted']:,} | {score['true']:,} | "
            f"{score['true_positives']:,} | {score['precision']:.4f} | {score['recall']:.4f} | "
            f"{score['f1']:.4f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="s", choices=["s", "m", "l"])
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    print(run(args.scale, args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
