"""Time dbt's phone models and tests on a seeded warehouse, node by node.

    .venv/bin/python benchmarks/phone_marts.py --url URL [--full-refresh] [--night SHARE]

The warehouse must be seeded (``steward seed``) and its phone lookup refreshed
(``steward phones refresh``). Builds staging, the phone intermediates and marts
and their tests (``dbt build``), then prints every node's status and seconds,
slowest first, and the total. With ``--night 0.01`` it first makes the next
night's data as benchmarks/nightly.py does (1% of customers, phones and calls
copied under new keys and as many changed) and refreshes the phone lookup
(printed: its seconds). Names and times only: no data.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

from steward import dbt_runner

SELECTION = [
    "path:models/staging",
    "path:models/intermediate/phones",
    "path:models/marts/phones",
    "phones_dnc_registry_not_stale",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the seeded warehouse")
    parser.add_argument("--full-refresh", action="store_true", help="rebuild incremental models")
    parser.add_argument("--select", nargs="+", default=SELECTION)
    parser.add_argument("--top", type=int, default=15, help="nodes printed")
    parser.add_argument("--night", type=float, help="share of new and changed rows first")
    parser.add_argument("--seed", type=int, default=7, help="the sample of --night")
    args = parser.parse_args()
    if args.night:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from nightly import add_new_and_changed

        from steward.phones.lookup import refresh_phone_lookup
        from steward.phones.nightly import _engine

        print(add_new_and_changed(args.url, args.night, args.seed))
        report = refresh_phone_lookup(_engine(args.url))
        print(f"{report.elapsed_seconds:8.1f} s  phone lookup refresh ({report.scan} scan)")
    arguments = ["build", "--select", *args.select]
    if args.full_refresh:
        arguments.append("--full-refresh")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        result = dbt_runner.run(arguments, args.url, scratch=Path(scratch))
    elapsed = time.perf_counter() - started
    nodes = sorted(
        getattr(result.result, "results", None) or [],
        key=lambda node: node.execution_time,
        reverse=True,
    )
    for node in nodes[: args.top]:
        print(f"{node.execution_time:8.1f} s  {node.status!s:8}  {node.node.name}")
    print(f"{elapsed:8.1f} s  dbt build, {len(nodes)} nodes, success={result.success}")
    return 0 if result.success else 1


if __name__ == "__main__":
    raise SystemExit(main())
