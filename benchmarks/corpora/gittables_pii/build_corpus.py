"""Rebuild this corpus's tables and labels from upstream's annotated file (see README.md).

    .venv/bin/python benchmarks/corpora/gittables_pii/build_corpus.py [gittables_annotated.json]

Reads upstream's ``data/gittables_annotated.json`` (by default the verbatim copy in
``source/``, checked against the SHA-256 of the pinned commit's file) and writes
``datasets/*.csv`` (one per upstream table that has columns: the header and the five
records upstream gives per column, an empty string as an empty cell) and ``labels.json``
(``{table: {column: upstream pii_gt}}`` for every column, ``"None"`` included). Which
upstream label counts as which info type is ``corpus.json``'s business, not this script's.
Nothing is sampled or relabelled: every table with columns is kept.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "source" / "gittables_annotated.json"
# trl-lab/sensitive-data-detection at d217d88fa0697b986056e8da9e4a8cf427a5fddd
SOURCE_SHA256 = "17272fcb5660411b1013abd60c722d9c76f7b3d500a0b76c9fe4143eb1d24a65"
MAX_IDENTIFIER = 63  # PostgreSQL truncates longer table names


def table_name(upstream: str) -> str:
    """A PostgreSQL-safe table name for an upstream CSV name (lower case, ``_`` separated)."""
    name = re.sub(r"[^a-z0-9]+", "_", upstream.removesuffix(".csv").lower()).strip("_")
    return name[:MAX_IDENTIFIER].rstrip("_")


def main(source: Path = SOURCE) -> None:
    raw = source.read_bytes()
    if source == SOURCE and hashlib.sha256(raw).hexdigest() != SOURCE_SHA256:
        raise SystemExit(f"{source} is not the pinned upstream file")
    document = json.loads(raw)
    datasets = HERE / "datasets"
    datasets.mkdir(exist_ok=True)
    for old in datasets.glob("*.csv"):
        old.unlink()
    labels: dict[str, dict[str, str]] = {}
    for upstream, table in document.items():
        columns = table["columns"]
        if not columns:
            continue
        name = table_name(upstream)
        if name in labels:
            raise SystemExit(f"two upstream tables map to {name}")
        header = list(columns)
        records = [columns[column]["records"] for column in header]
        with (datasets / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for row in zip(*records, strict=True):
                writer.writerow(["" if value is None else str(value) for value in row])
        labels[name] = {column: columns[column]["pii_gt"] for column in header}
    (HERE / "labels.json").write_text(json.dumps(labels, indent=1, sort_keys=True) + "\n")
    print(f"{len(labels)} tables, {sum(len(v) for v in labels.values())} columns")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE)
