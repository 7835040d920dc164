"""Rebuild this corpus from a clone of github.com/tsegall/semantic-types (see README.md).

    git clone https://github.com/tsegall/semantic-types /tmp/semantic-types
    .venv/bin/python benchmarks/corpora/semantic_types/build_corpus.py /tmp/semantic-types

Reads ``reference.csv`` and the data files at the pinned commit (``git show``), draws
a seeded sample of files (stratified by locale, mostly files with a column of a
personal-data type, some without), keeps each file's first rows, and writes
``datasets/*.csv`` (UTF-8, comma-separated), ``reference_subset.csv`` (upstream's rows
for the kept files, unchanged) and ``labels.json`` (``{table: {column: semantic type}}``,
keyed by the header pandas reads at the reference's field offset). Which semantic type
counts as which info type is ``corpus.json``'s business, not this script's.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pandas as pd

COMMIT = "782d912"  # the newest commit whose reference.csv the public mirror holds
HERE = Path(__file__).resolve().parent
SEED = 13
ROWS_KEPT = 100
# Files drawn per locale among those with a personal-data column, then without one.
WITH_PERSONAL = {"en-US": 90, "en-CA": 15, "en-AU": 10, "es-CO": 15}
WITHOUT_PERSONAL = {"en-US": 30, "en-CA": 5, "en-AU": 3, "es-CO": 7}
# Semantic types that decide the stratum only (the scoring mapping is corpus.json).
PERSONAL_TYPES = re.compile(
    r"^(NAME\.|EMAIL|TELEPHONE|STREET_ADDRESS_|CITY$|POSTAL_CODE\.|GENDER\.|PERSON\.AGE|VIN$)"
)


def _git_show(repo: Path, path: str) -> bytes:
    return subprocess.run(  # noqa: S603 - git with fixed arguments, a local clone
        ["git", "-C", str(repo), "show", f"{COMMIT}:{path}"],  # noqa: S607
        check=True,
        capture_output=True,
    ).stdout


def _table_name(path: str) -> str:
    domain, file_id = path.split("/")[-2:]
    domain = domain.removeprefix("www.").split(".")[0]
    return re.sub(r"[^a-z0-9]+", "_", f"{domain}__{file_id.removesuffix('.csv')}".lower())


def main(repo: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(_git_show(repo, "reference.csv").decode())))
    by_file: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_file[row["File"]].append(row)
    rng = random.Random(SEED)  # noqa: S311 - a reproducible sample, not a secret
    chosen: list[str] = []
    for quota, personal in ((WITH_PERSONAL, True), (WITHOUT_PERSONAL, False)):
        for locale, count in quota.items():
            pool = sorted(
                path
                for path, fields in by_file.items()
                if fields[0]["Locale"] == locale
                and any(PERSONAL_TYPES.match(f["SemanticType"]) for f in fields) == personal
            )
            chosen += rng.sample(pool, min(count, len(pool)))
    datasets = HERE / "datasets"
    datasets.mkdir(exist_ok=True)
    for old in datasets.glob("*.csv"):
        old.unlink()
    labels: dict[str, dict[str, str]] = {}
    kept_reference: list[dict] = []
    for path in sorted(chosen):
        frame = pd.read_csv(io.BytesIO(_git_show(repo, path)), dtype=str, nrows=ROWS_KEPT)
        table = _table_name(path)
        frame.to_csv(datasets / f"{table}.csv", index=False)
        for field in by_file[path]:
            offset = int(field["FieldOffset"])
            if field["SemanticType"] and offset < len(frame.columns):
                labels.setdefault(table, {})[frame.columns[offset]] = field["SemanticType"]
            kept_reference.append(field)
    (HERE / "labels.json").write_text(json.dumps(labels, indent=1, sort_keys=True) + "\n")
    with (HERE / "reference_subset.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), quoting=csv.QUOTE_MINIMAL)
        writer.writeheader()
        writer.writerows(kept_reference)
    print(f"{len(chosen)} files, {sum(len(v) for v in labels.values())} typed columns")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
