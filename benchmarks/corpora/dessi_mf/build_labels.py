"""Rebuild ``labels.json`` from the corpus authors' own label files in ``source/``.

Their files label each column by position (row i of ``*_labels_multiclass.csv``
is column i of ``*__test.csv``). This script only re-keys them by column name;
it adds, drops or changes no label. Columns whose label lists two kinds
("phone_number,email") keep both, comma-separated, as written.

    python benchmarks/corpora/dessi_mf/build_labels.py
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
TABLES = ("dessi_mf_gpt", "test_languages")


def build() -> dict[str, dict[str, str]]:
    labels: dict[str, dict[str, str]] = {}
    for table in TABLES:
        with (HERE / "source" / f"{table}__test.csv").open(newline="", encoding="utf-8") as f:
            header = next(csv.reader(f))
        with (HERE / "source" / f"{table}__test_labels_multiclass.csv").open(
            newline="", encoding="utf-8"
        ) as f:
            rows = [row[0] for row in csv.reader(f)][1:]
        if len(rows) != len(header):
            raise SystemExit(f"{table}: {len(header)} columns but {len(rows)} labels")
        labels[table] = dict(zip(header, rows, strict=True))
    return labels


if __name__ == "__main__":
    (HERE / "labels.json").write_text(json.dumps(build(), indent=1, ensure_ascii=False) + "\n")
