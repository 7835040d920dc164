"""Fit the catalogue's confidence calibration on the labelled corpora, and check it.

    .venv/bin/python benchmarks/pii_calibration.py [--corpus DIR ...] [--write] [--json out.json]

Scans every available corpus (as ``benchmarks/pii_columns.py`` does), takes each
column's strongest in-scope finding with its raw confidence, kind of evidence and
whether the corpus agrees, and fits an isotonic map per kind of evidence
(``steward.catalogue.calibration``). Prints reliability tables (confidence bins:
findings, mean confidence, share right) per corpus for

- the raw confidence,
- the map fitted on the *other* corpora only (leave one corpus out),
- five-fold cross-validation by table over all corpora (each table's columns are
  calibrated by a map fitted without that table: the reading to trust),
- the map fitted on all corpora (what ``--write`` stores in the package; in-sample),

each with its expected calibration error (the mean gap between confidence and share
right, weighted by findings). ``--write`` replaces
``plugins/steward/catalogue/calibration.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

from steward.catalogue import benchmark, calibration

FOLDS = 5


def calibration_error(rows: list[dict]) -> float:
    total = sum(row["findings"] for row in rows)
    gaps = sum(row["findings"] * abs(row["mean_confidence"] - row["share_right"]) for row in rows)
    return gaps / total if total else 0.0


def reliability_of(observations, fitted) -> list[dict]:
    return benchmark.reliability(
        [(calibration.apply_to_kind(fitted, raw, kind), ok) for raw, kind, ok, _ in observations]
    )


def fold_of(corpus: str, table: str) -> int:
    digest = hashlib.blake2b(f"{corpus}/{table}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % FOLDS


def cross_validated(observed: dict[str, list], corpus: str) -> list[dict]:
    """Each fold of ``corpus``'s tables calibrated by a map fitted on everything else."""
    calibrated = []
    for fold in range(FOLDS):
        training = [
            o for name, items in observed.items() for o in items if fold_of(name, o[3]) != fold
        ]
        fitted = calibration.fit(training)
        calibrated += [
            (calibration.apply_to_kind(fitted, raw, kind), ok)
            for raw, kind, ok, table in observed[corpus]
            if fold_of(corpus, table) == fold
        ]
    return benchmark.reliability(calibrated)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, action="append", help="default: all available")
    parser.add_argument("--write", action="store_true", help="store the map fitted on all")
    parser.add_argument("--json", type=Path, help="also write the tables here")
    args = parser.parse_args(argv)
    corpora = [
        Path(c)
        for c in (args.corpus or benchmark.DEFAULT_CORPORA)
        if (Path(c) / "labels.json").exists()
    ]
    observed: dict[str, list[tuple[float, str, bool, str]]] = {}
    for corpus in corpora:
        result = benchmark.run_benchmark(corpus)
        observed[result.corpus] = result.raw_observations
        print(
            f"{result.corpus}: {len(result.raw_observations)} columns with a finding",
            file=sys.stderr,
        )
    everything = [o for items in observed.values() for o in items]
    fitted_on_all = calibration.fit(everything)
    tables: dict[str, dict] = {}
    for name, items in observed.items():
        others = [o for other, rest in observed.items() if other != name for o in rest]
        readings = {"raw confidence": reliability_of(items, None)}
        if others:
            readings["fitted on the other corpora"] = reliability_of(items, calibration.fit(others))
        readings[f"{FOLDS}-fold cross-validated by table"] = cross_validated(observed, name)
        readings["fitted on all corpora (in-sample)"] = reliability_of(items, fitted_on_all)
        tables[name] = readings
        print(f"### {name}\n")
        for reading, rows in readings.items():
            print(f"{reading} (expected calibration error {calibration_error(rows):.3f}):\n")
            print(benchmark.reliability_markdown(rows))
            print()
    if args.write:
        fitted_on_all["fitted_on"] = sorted(observed)
        calibration.CALIBRATION_FILE.write_text(json.dumps(fitted_on_all, indent=1) + "\n")
        print(f"wrote {calibration.CALIBRATION_FILE}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps({"tables": tables, "fitted": fitted_on_all}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
