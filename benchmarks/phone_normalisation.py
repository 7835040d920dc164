"""Phone normalisation: row-by-row parsing versus Steward's distinct-only lookup refresh.

    .venv/bin/python benchmarks/phone_normalisation.py [--rows 1000000] [--workers 2]

Builds a scratch database on the warehouse's server (``steward.warehouse``:
STEWARD_DATABASE_URL, else the embedded PostgreSQL) holding a call-centre-like
phone workload of ``--rows`` phone values: customers with ~1.3 numbers each,
typed by agents in several spellings, and calls that repeat those numbers as
caller ids (mostly E.164, sometimes national digits, some junk). Then, in the
same run, it times

(a) the naive baseline: fetch every row and parse it with ``phonenumbers`` in a
    Python loop (results are not even written back: a lower bound);
(b) ``refresh_phone_lookup`` on an empty lookup (distinct pairs only, bulk COPY);
(c) the second night, after 1% new numbers arrived in the calls;

and prints a Markdown table. Targets: (b) at least 5x faster than (a); (c) at
most 10% of (b). The scratch database is dropped at the end.

    .venv/bin/python benchmarks/phone_normalisation.py --warehouse-url URL \
        [--naive-sample-rows 2000000] [--workers 2]

measures the same three steps on an existing seeded warehouse instead (the
issue's `l` warehouse), over every phone column of the data map:

(a) naive: stream the phone values with their customer's country (server-side
    cursor) and run ``phonenumbers.parse`` + ``is_valid_number`` on each in a
    Python loop (phonenumbers as shipped: its pattern cache off), reported as
    rows/second; (a') the same on the sample with the pattern cache on. First on a reproducible
    ``tablesample bernoulli ... repeatable`` sample of 2M rows taking the same
    fraction of every column; then on every row if the sample's rate projects
    that to take at most 12 minutes (else the sample's figure stands).
    ``--naive-sample-rows N`` only samples N rows, ``0`` only runs every row;
(b) ``refresh_phone_lookup(full=True)`` over the whole warehouse, starting
    from no lookup (the first night; an existing one is dropped): rows/second =
    every source row it covers / seconds;
(c) the second night: ``--new-call-share`` (1%) more calls, each with a number
    the warehouse has never held (set-based ``insert ... select`` in the seed's
    call formats), then the incremental ``refresh_phone_lookup()``.

It adds those calls to ``telephony.calls`` (and rewrites ``steward.phone_lookup``)
and deletes nothing else: a rerun adds another share of calls.
"""

import argparse
import sys
from pathlib import Path

# The two modes are this file's siblings; steward is under plugins/.
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

from phone_normalisation_synthetic import NEW_NUMBER_SHARE, run
from phone_normalisation_warehouse import DEFAULT_NAIVE_SAMPLE_ROWS, run_on_warehouse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="phone values in all")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workers", type=int, default=None, help="parser processes")
    parser.add_argument(
        "--serial-too", action="store_true", help="also time a full re-parse with one worker"
    )
    parser.add_argument(
        "--warehouse-url",
        help="measure on this existing seeded warehouse instead of a synthetic scratch one "
        "(adds --new-call-share calls to telephony.calls)",
    )
    parser.add_argument(
        "--naive-sample-rows",
        type=int,
        default=None,
        help="with --warehouse-url: rows the naive loop parses, drawn evenly from every "
        f"phone column (0: every row; default: a {DEFAULT_NAIVE_SAMPLE_ROWS:,}-row sample, "
        "then every row if the sample projects <= 12 min)",
    )
    parser.add_argument(
        "--new-call-share",
        type=float,
        default=NEW_NUMBER_SHARE,
        help="with --warehouse-url: new calls with new numbers on the second night",
    )
    args = parser.parse_args(argv)
    if args.warehouse_url:
        table, met = run_on_warehouse(
            args.warehouse_url,
            args.workers,
            args.naive_sample_rows,
            args.new_call_share,
            args.seed,
        )
    else:
        table, met = run(args.rows, args.seed, args.workers, args.serial_too)
    print(table)
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
