"""Accuracy of the PII column scan on two external labelled corpora, and its speed by size.

    .venv/bin/python benchmarks/pii_columns.py [--corpus DIR ...] [--json out.json]
    .venv/bin/python benchmarks/pii_columns.py --speed [--scales s,l] [--baseline-scales s]

``--speed`` seeds a scratch database per scale on the server of
STEWARD_DATABASE_URL (or the embedded one), times the sampled scan of every
source schema there, times the full-scan baseline (every value validated) of the
same columns for the ``--baseline-scales``, prints the table and drops each
scratch database. Seeding ``l`` takes minutes and ~3 GB of RAM.

By default every corpus is scored: DataHub's (``../shared/benchmarks/pii_columns``),
the Semantic Type Reference Set sample (``benchmarks/corpora/semantic_types``) and
DeSSI-MF (``benchmarks/corpora/dessi_mf``, skipped unless copied in: see its README).
Each is loaded into
a scratch schema of the warehouse (``steward.warehouse``: STEWARD_DATABASE_URL,
else the embedded PostgreSQL), scanned, scored per info type (Markdown) and
dropped; a reliability table over all corpora closes the report. The logic
lives in ``steward.catalogue.benchmark`` (also behind ``steward catalogue benchmark``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from steward import warehouse
from steward.catalogue import benchmark, nightly, scanner, store


def _scratch_database(scale: str) -> tuple[sa.Engine, str, str]:
    admin_url = make_url(warehouse.database_url()).set(database="postgres")
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"steward_speed_{scale}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f"create database {admin.dialect.identifier_preparer.quote(name)}"))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    return admin, name, url


def _timed_scan(url: str, schemas: list[str], full_scan: bool) -> dict:
    engine = warehouse.engine(url)
    started = time.perf_counter()
    report = scanner.scan_schemas(engine, schemas, full_scan=full_scan)
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "columns": sum(1 for c in report.columns if c.status == "scanned"),
        "pii_columns": len(report.pii()),
        "rows_read": sum(t["rows"] for t in report.timings["per_table"].values()),
    }


def speed(scales: list[str], baseline_scales: set[str], existing: dict[str, str]) -> dict:
    """Sampled scan vs full-scan baseline per seeded scale; see the module docstring."""
    from steward.seed import generate

    results: dict[str, dict] = {}
    for scale in scales:
        admin = name = None
        url = existing.get(scale)
        try:
            if url is None:
                admin, name, url = _scratch_database(scale)
                generate.seed_warehouse(scale=scale, seed=42, url=url, progress=False)
            with warehouse.engine(url).begin() as conn:
                conn.execute(sa.text("analyze"))
                schemas = store.list_schemas(conn, nightly.EXCLUDED_SCHEMAS)
                rows = conn.execute(
                    sa.text(
                        "select coalesce(sum(n_live_tup), 0) from pg_stat_user_tables"
                        " where schemaname = any(:schemas)"
                    ),
                    {"schemas": schemas},
                ).scalar_one()
            _timed_scan(url, schemas, full_scan=False)  # warm the cache once
            sampled = _timed_scan(url, schemas, full_scan=False)
            baseline = _timed_scan(url, schemas, True) if scale in baseline_scales else None
            results[scale] = {"table_rows": int(rows), "sampled": sampled, "full": baseline}
            print(f"{scale}: {json.dumps(results[scale])}", file=sys.stderr)
        finally:
            warehouse._engine_for.cache_clear()
            if admin is not None and name is not None:
                with admin.connect() as conn:
                    quoted = admin.dialect.identifier_preparer.quote(name)
                    conn.execute(sa.text(f"drop database if exists {quoted} with (force)"))
                admin.dispose()
    return results


def speed_markdown(results: dict) -> str:
    lines = [
        "| scale | rows in scanned tables | sampled scan s | full-scan baseline s | "
        "rows read sampled / full | PII columns sampled / full |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for scale, r in results.items():
        full = r["full"]
        lines.append(
            f"| {scale} | {r['table_rows']:,} | {r['sampled']['seconds']:.2f} | "
            f"{full['seconds'] if full else 'not run'} | "
            f"{r['sampled']['rows_read']:,} / {full['rows_read'] if full else '-'} | "
            f"{r['sampled']['pii_columns']} / {full['pii_columns'] if full else '-'} |"
        )
    scales = list(results)
    if len(scales) >= 2:
        first, last = results[scales[0]], results[scales[-1]]
        ratio = last["sampled"]["seconds"] / max(first["sampled"]["seconds"], 1e-9)
        lines.append("")
        lines.append(f"Sampled scan time {scales[-1]} / {scales[0]}: {ratio:.2f} (goal <= 2)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus",
        type=Path,
        action="append",
        help="a corpus directory (repeatable); default: DataHub's, semantic types, DeSSI-MF",
    )
    parser.add_argument("--shared-dir", type=Path, help="same as one --corpus (kept for scripts)")
    parser.add_argument("--sample-rows", type=int, default=1000)
    parser.add_argument("--full-scan", action="store_true", help="validate every value")
    parser.add_argument("--json", type=Path, help="also write the detailed result here")
    parser.add_argument("--keep-schema", action="store_true", help="do not drop bench_pii")
    parser.add_argument("--speed", action="store_true", help="time the scan per seeded scale")
    parser.add_argument("--scales", default="s,l", help="with --speed: scales to seed")
    parser.add_argument("--baseline-scales", default="s", help="with --speed: also full-scan")
    parser.add_argument(
        "--existing",
        action="append",
        default=[],
        metavar="SCALE=URL",
        help="with --speed: an already seeded database for SCALE (kept, not dropped)",
    )
    args = parser.parse_args(argv)
    if args.speed:
        existing = dict(item.split("=", 1) for item in args.existing)
        results = speed(
            args.scales.split(","), set(args.baseline_scales.split(",")) - {""}, existing
        )
        print(speed_markdown(results))
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
        return 0
    corpora = args.corpus or (
        [args.shared_dir] if args.shared_dir else list(benchmark.DEFAULT_CORPORA)
    )
    results = []
    for corpus in corpora:
        if not (Path(corpus) / "labels.json").exists():
            print(f"{corpus}: no labels.json (see its README for how to obtain it); skipped\n")
            continue
        result = benchmark.run_benchmark(
            corpus,
            sample_rows=args.sample_rows,
            full_scan=args.full_scan,
            keep_schema=args.keep_schema,
        )
        results.append(result)
        print(benchmark.to_markdown(result))
        print()
    observations = [o for result in results for o in result.observations]
    print("Reliability over all corpora (each column's strongest finding):\n")
    print(benchmark.reliability_markdown(benchmark.reliability(observations)))
    if args.json:
        args.json.write_text(
            json.dumps([vars(result) for result in results], indent=2, default=str)
        )
    return 0 if results[0].meets_targets else 1


if __name__ == "__main__":
    raise SystemExit(main())
