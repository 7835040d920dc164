"""De-duplication accuracy on public labelled data: FEBRL data sets 3 and 4.

    .venv/bin/python benchmarks/dedupe_febrl.py [--dataset 3|4|all]

Steward's seeded duplicates are its own; FEBRL's (typos, swapped fields, missing
values, made by another generator) are not. For each data set, a scratch database on
the warehouse's server gets the records in the shape of
``intermediate.int_dedupe__customer_records`` (a view with the same name over the
loaded table), ``steward.dedupe`` runs its full night on it, and the pairs it stores
(p >= 0.9), the pairs within its clusters, and the run time are printed as a Markdown
table against the labels (records with the same ``rec-<n>`` are one person). Counts
only. The scratch database is dropped at the end.

Field mapping: given name and surname (lower case), date of birth (as given,
YYYYMMDD), street number and first address line as the street, postcode; FEBRL has no
e-mail, and its social security number (a noisy identifier, compared exactly) takes the
phone's place.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

import sqlalchemy as sa

from steward import warehouse

DATA_DIR = Path(__file__).resolve().parent / "data" / "febrl"
DATASETS = {"3": ["dataset3.csv.gz"], "4": ["dataset4a.csv.gz", "dataset4b.csv.gz"]}

_SETUP = """
create schema febrl;
create table febrl.records (
    customer_id bigint primary key,
    entity text not null,
    first_name text, last_name text, date_of_birth text, email text,
    phone_e164 text, postal_code text, street text
);
"""
_VIEW = """
create schema if not exists intermediate;
create view intermediate.int_dedupe__customer_records as
select customer_id, first_name, last_name, date_of_birth, email, phone_e164, postal_code,
       street from febrl.records;
"""
_SCORES = """
with truth as (
    select a.customer_id as id_l, b.customer_id as id_r
    from febrl.records as a join febrl.records as b
      on a.entity = b.entity and a.customer_id < b.customer_id
),
predictions as (
    select 'pairs' as kind, customer_id_l as id_l, customer_id_r as id_r
    from steward.customer_match_pairs where match_probability >= :threshold
    union all
    select 'clusters', a.customer_id, b.customer_id
    from steward.customer_clusters as a join steward.customer_clusters as b
      on a.cluster_id = b.cluster_id and a.customer_id < b.customer_id
)
select kinds.kind,
       (select count(*) from predictions as p where p.kind = kinds.kind),
       (select count(*) from truth),
       (select count(*) from predictions as p join truth as t using (id_l, id_r)
        where p.kind = kinds.kind)
from (values ('pairs'), ('clusters')) as kinds (kind)
"""


def _clean(value: str) -> str | None:
    value = value.strip().lower()
    return value or None


def read_records(files: list[str]) -> list[tuple]:
    """FEBRL rows in the dedupe view's shape, with the entity label."""
    rows = []
    for name in files:
        with gzip.open(DATA_DIR / name, "rt", encoding="utf-8") as handle:
            for record in csv.DictReader(handle, skipinitialspace=True):
                entity = record["rec_id"].split("-")[1]
                street = " ".join(
                    part
                    for part in (_clean(record["street_number"]), _clean(record["address_1"]))
                    if part
                )
                rows.append(
                    (
                        len(rows) + 1,
                        entity,
                        _clean(record["given_name"]),
                        _clean(record["surname"]),
                        _clean(record["date_of_birth"]),
                        None,
                        _clean(record["soc_sec_id"]),
                        _clean(record["postcode"]),
                        street or None,
                    )
                )
    return rows


def load(url: str, rows: list[tuple]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    buffer.seek(0)
    engine = warehouse.engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(_SETUP)
        with connection.connection.driver_connection.cursor() as cursor:
            cursor.copy_expert("copy febrl.records from stdin with (format csv)", buffer)
        connection.exec_driver_sql("analyze febrl.records")
        connection.exec_driver_sql(_VIEW)


def run(dataset: str) -> list[str]:
    from steward.dedupe import model
    from steward.dedupe.linkage import find_duplicates

    rows = read_records(DATASETS[dataset])
    with warehouse.scratch_database("steward_bench_febrl") as url:
        load(url, rows)
        mark = time.perf_counter()
        find_duplicates(url)
        seconds = time.perf_counter() - mark
        with warehouse.engine(url).connect() as connection:
            scores = connection.execute(
                sa.text(_SCORES), {"threshold": model.CLUSTER_THRESHOLD}
            ).all()
    lines = []
    for kind, predicted, true, hits in scores:
        precision = hits / predicted if predicted else 1.0
        recall = hits / true if true else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        lines.append(
            f"| FEBRL {dataset} | {len(rows):,} | {kind} | {predicted:,} | {true:,} | {hits:,} |"
            f" {precision:.3f} | {recall:.3f} | {f1:.3f} | {seconds:.1f} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="all", choices=["3", "4", "all"])
    args = parser.parse_args(argv)
    chosen = list(DATASETS) if args.dataset == "all" else [args.dataset]
    print(
        "| data set | records | prediction | predicted pairs | true pairs | true positives"
        " | precision | recall | F1 | dedupe s |"
    )
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for dataset in chosen:
        for line in run(dataset):
            print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
