"""Accuracy of the PII column scan on DataHub's labelled corpus (see its README.md).

    .venv/bin/python benchmarks/pii_columns.py [--shared-dir ../shared/benchmarks/pii_columns]

Loads the CSVs into a scratch schema of the warehouse (``steward.warehouse``:
STEWARD_DATABASE_URL, else the embedded PostgreSQL), scans it, prints
precision/recall/F1 per info type as Markdown, and drops the schema. The logic
lives in ``steward.catalogue.benchmark`` (also behind ``steward catalogue benchmark``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

from steward.catalogue import benchmark


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared-dir", type=Path, default=benchmark.DEFAULT_SHARED_DIR)
    parser.add_argument("--sample-rows", type=int, default=1000)
    parser.add_argument("--full-scan", action="store_true", help="validate every value")
    parser.add_argument("--json", type=Path, help="also write the detailed result here")
    parser.add_argument("--keep-schema", action="store_true", help="do not drop bench_pii")
    args = parser.parse_args(argv)
    result = benchmark.run_benchmark(
        args.shared_dir,
        sample_rows=args.sample_rows,
        full_scan=args.full_scan,
        keep_schema=args.keep_schema,
    )
    print(benchmark.to_markdown(result))
    if args.json:
        args.json.write_text(json.dumps(vars(result), indent=2, default=str))
    return 0 if result.meets_targets else 1


if __name__ == "__main__":
    raise SystemExit(main())
