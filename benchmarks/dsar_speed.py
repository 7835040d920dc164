"""Data-subject request speed on a large warehouse: one request, and 1,000 in bulk.

    STEWARD_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/steward_l_bench \\
        .venv/bin/python benchmarks/dsar_speed.py [--requests 1000] [--indexes with|without|both]

On an already seeded warehouse (``steward seed --scale l``), ACCESS requests only
(nothing in the warehouse changes but Steward's own tables):

(a) one access request end to end: validate, register, find (identity and rows,
    free text included), export the encrypted package, complete. Goal <= 60 s.
(b) ``--requests`` access requests inserted into ``steward.dsar_requests`` as a
    web form would, then one bulk intake run (``steward.dsar.bulk.run_intake``):
    validate, register, set-based find, export each, complete. Goal <= 10 min.

Subjects are real customers picked by SQL (e-mail and phone, identifiers mixed:
e-mail + phone, customer id, e-mail in capitals, phone as the CRM spells it);
nothing about them is printed. ``--indexes both`` runs (a) and (b) first without
the finder's identifier indexes, then creates them from the data map
(``finder_indexes.ensure_finder_indexes``) and runs again. The phone lookup is brought up
to date first, as the nightly run would have (timed apart). At the end the
``steward.dsar_*`` rows and export files of this run are removed, and the indexes
this run created are dropped (``--keep-indexes`` keeps them); the audit trail is
append-only and keeps its rows (counts and digests only).

    ... dsar_speed.py --lookups 20

(c) instead: the search alone (rows of the subject in every mapped table, free
    text included) for 20 subjects, three ways in the same run: live without the
    finder's identifier indexes on the source tables, with the nightly subject
    index (``steward.dsar_subject_index``, built first with dbt if missing or
    older than a day), and live with the finder indexes. Each subject's rows must
    be the same all three ways; prints seconds per search (median, max).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

import sqlalchemy as sa
from psycopg2 import sql

from steward import datamap, dbt_runner, warehouse
from steward.airflow.nightly import DSAR_SELECTOR
from steward.dsar import bulk, finder, finder_indexes, intake, pipeline, register

SINGLE_GOAL_S = 60
BULK_GOAL_S = 600


def pick_subjects(engine: sa.Engine, count: int, salt: str) -> list[dict]:
    """Customers with an e-mail and a valid phone, a pseudo-random sample (never printed)."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select c.customer_id, c.email, p.phone_raw from crm.customers as c"
                " cross join lateral (select phone_raw from crm.customer_phones as cp"
                "  where cp.customer_id = c.customer_id and cp.phone_raw is not null"
                "  order by cp.phone_id limit 1) as p"
                " where c.email is not null"
                " order by md5(:salt || c.customer_id::text) limit :n"
            ),
            {"salt": salt, "n": count * 2},
        ).all()
    subjects = []
    for customer_id, email, phone in rows:
        if intake.normalise_email(email) and intake.normalise_phone(phone):
            subjects.append({"customer_id": customer_id, "email": email, "phone": phone})
        if len(subjects) == count:
            break
    return subjects


def _fields(ticket: str, subject: dict, style: int) -> dict:
    identifiers = [
        {"email": subject["email"], "phone": subject["phone"]},
        {"customer_id": subject["customer_id"]},
        {"email": subject["email"].upper()},
        {"phone": subject["phone"]},
    ][style % 4]
    return {
        "request_type": "access",
        "jurisdiction": "GDPR",
        "received_on": time.strftime("%Y-%m-%d"),
        "ticket_reference": ticket,
        "verification_status": "verified",
        "verification_method": "id_document",
        **identifiers,
    }


def run_single(url: str, ticket: str, subject: dict) -> dict:
    """(a): one access request, each step timed."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    request = pipeline.validate(_fields(ticket, subject, 0))
    timings["validate"] = time.perf_counter() - started
    mark = time.perf_counter()
    submission = register.submit(warehouse.engine(url), request)
    pipeline.start(submission.request_id, url)
    timings["register"] = time.perf_counter() - mark
    mark = time.perf_counter()
    found = pipeline.find(submission.request_id, url)
    timings["find"] = time.perf_counter() - mark
    mark = time.perf_counter()
    exported = pipeline.fulfil(submission.request_id, url)
    timings["export"] = time.perf_counter() - mark
    mark = time.perf_counter()
    pipeline.verify_and_complete(submission.request_id, url)
    timings["complete"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    return {
        "request_id": submission.request_id,
        "rows": found["rows"],
        "tables": exported["tables"],
        "seconds": {k: round(v, 2) for k, v in timings.items()},
    }


def run_bulk(url: str, prefix: str, subjects: list[dict]) -> dict:
    """(b): insert the requests as a web form would, then one intake run."""
    engine = warehouse.engine(url)
    rows = [_fields(f"{prefix}-bulk-{i:05d}", s, i) for i, s in enumerate(subjects)]
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into steward.dsar_requests (ticket_reference, request_type,"
                " jurisdiction, received_on, verification_status, verification_method,"
                " customer_id, email, phone)"
                " select * from jsonb_to_recordset(cast(:rows as jsonb)) as v("
                " ticket_reference text, request_type text, jurisdiction text, received_on date,"
                " verification_status text, verification_method text, customer_id bigint,"
                " email text, phone text)"
            ),
            {"rows": json.dumps(rows)},
        )
    started = time.perf_counter()
    summary = bulk.run_intake(url, limit=len(rows), create_indexes=False)
    seconds = time.perf_counter() - started
    with engine.connect() as conn:
        statuses = dict(
            conn.execute(
                sa.text(
                    "select status, count(*) from steward.dsar_requests"
                    " where ticket_reference like :p group by 1"
                ),
                {"p": f"{prefix}-bulk-%"},
            ).all()
        )
    return {
        "requests": len(rows),
        "statuses": statuses,
        "rows_found": summary.get("rows_found"),
        "find_seconds": summary.get("find_seconds"),
        "failed": len(summary.get("failed", {})),
        "seconds": round(seconds, 1),
    }


def _found_rows(engine: sa.Engine, request_id: int) -> set[tuple]:
    with engine.connect() as conn:
        return set(
            conn.execute(
                sa.text(
                    "select table_name, row_key::text, matched_by, owned"
                    " from steward.dsar_subject_rows where request_id = :id and phase = 'find'"
                ),
                {"id": request_id},
            ).all()
        )


def run_lookups(url: str, prefix: str, subjects: list[dict], data_map) -> dict:
    """(c): the search alone, live without / index-assisted / live with finder indexes."""
    engine = warehouse.engine(url)
    state = finder.subject_index_state(engine)
    build_s = None
    if state is None or state[0] > 24:
        mark = time.perf_counter()
        dbt_runner.run_or_raise(["build", "--selector", DSAR_SELECTOR], url)
        build_s = time.perf_counter() - mark
        print(f"subject index built with dbt in {build_s:.1f} s")
    requests = []
    for number, subject in enumerate(subjects):
        request = pipeline.validate(_fields(f"{prefix}-lookup-{number:03d}", subject, number))
        request_id = register.submit(engine, request).request_id
        identity = finder.resolve_identity(engine, request, data_map)
        requests.append((request_id, identity))

    def timed(search) -> tuple[list[float], list[set]]:
        seconds, found = [], []
        for request_id, identity in requests:
            mark = time.perf_counter()
            search(engine, request_id, identity, data_map)
            seconds.append(time.perf_counter() - mark)
            found.append(_found_rows(engine, request_id))
        return seconds, found

    results = {}
    live_without, reference = timed(finder.find_rows)
    results["live, no finder indexes"] = live_without
    indexed, found = timed(finder.find_with_index)
    results["subject index"] = indexed
    same = found == reference
    created = finder_indexes.ensure_finder_indexes(engine, data_map)
    try:
        live_with, found = timed(finder.find_rows)
        results["live, finder indexes"] = live_with
        same = same and found == reference
    finally:
        drop_indexes(url, created)
    return {
        "subjects": len(requests),
        "rows_found": sum(len(rows) for rows in reference),
        "same_rows": same,
        "index_build_seconds": build_s,
        "seconds": {
            label: {
                "median": round(statistics.median(values), 3),
                "max": round(max(values), 3),
                "total": round(sum(values), 2),
            }
            for label, values in results.items()
        },
    }


def cleanup(url: str, prefix: str, export_dir: Path) -> dict:
    """Remove this run's register rows (and what hangs off them) and export files."""
    engine = warehouse.engine(url)
    with engine.begin() as conn:
        ids = list(
            conn.execute(
                sa.text(
                    "select request_id from steward.dsar_requests where ticket_reference like :p"
                ),
                {"p": f"{prefix}-%"},
            ).scalars()
        )
        for table in ("dsar_subject_rows", "dsar_status_history"):
            conn.execute(
                sa.text(f"delete from steward.{table} where request_id = any(:ids)"),
                {"ids": ids},
            )
        conn.execute(
            sa.text("delete from steward.dsar_requests where request_id = any(:ids)"), {"ids": ids}
        )
    shutil.rmtree(export_dir, ignore_errors=True)
    return {"requests_removed": len(ids)}


def drop_indexes(url: str, names: list[str]) -> None:
    with warehouse.engine(url).connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for name in names:
            schema, index = name.split(".", 1)
            conn.exec_driver_sql(
                sql.SQL("drop index concurrently if exists {}")
                .format(sql.Identifier(schema, index))
                .as_string(conn.connection.driver_connection)
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--indexes", choices=("with", "without", "both"), default="both")
    parser.add_argument("--keep-indexes", action="store_true")
    parser.add_argument("--skip-bulk", action="store_true")
    parser.add_argument(
        "--lookups", type=int, default=0, help="(c) only: time N searches three ways"
    )
    args = parser.parse_args()

    url = warehouse.database_url()
    engine = warehouse.engine(url)
    data_map = datamap.load_data_map()
    run_id = uuid.uuid4().hex[:8]
    export_dir = Path(tempfile.mkdtemp(prefix="dsar_speed_"))
    os.environ.setdefault("STEWARD_DSAR_EXPORT_KEY", secrets.token_urlsafe(24))
    # The register's digests are keyed (steward.dsar.keys): a throw-away key for the run.
    os.environ.setdefault("STEWARD_DSAR_SUBJECT_KEY", secrets.token_urlsafe(24))
    os.environ["STEWARD_DSAR_EXPORT_DIR"] = str(export_dir)

    register.ensure_register(engine)
    finder.ensure_tables(engine)
    mark = time.perf_counter()
    finder.refresh_lookup(engine)
    lookup_s = time.perf_counter() - mark
    print(f"phone lookup brought up to date (nightly precondition): {lookup_s:.1f} s")

    if args.lookups:
        try:
            lookups = run_lookups(
                url, f"BENCH-{run_id}", pick_subjects(engine, args.lookups, run_id), data_map
            )
        finally:
            cleanup(url, f"BENCH-{run_id}", export_dir)
        print(json.dumps(lookups, indent=2))
        print()
        print(
            f"| search ({lookups['subjects']} subjects, same rows: {lookups['same_rows']})"
            " | median s | max s | total s |"
        )
        print("| --- | ---: | ---: | ---: |")
        for label, figures in lookups["seconds"].items():
            print(f"| {label} | {figures['median']} | {figures['max']} | {figures['total']} |")
        return 0 if lookups["same_rows"] else 1

    rounds = {"with": [True], "without": [False], "both": [False, True]}[args.indexes]
    subjects = pick_subjects(engine, (args.requests + 1) * len(rounds), run_id)
    created: list[str] = []
    results = []
    try:
        for number, with_indexes in enumerate(rounds):
            if with_indexes:
                mark = time.perf_counter()
                created += finder_indexes.ensure_finder_indexes(engine, data_map)
                print(
                    f"finder indexes: {len(created)} created in {time.perf_counter() - mark:.1f} s"
                )
            prefix = f"BENCH-{run_id}-{number}"
            pool = subjects[number * (args.requests + 1) : (number + 1) * (args.requests + 1)]
            label = "with indexes" if with_indexes else "without indexes"
            single = run_single(url, f"{prefix}-single", pool[0])
            print(f"(a) one access request, {label}: {json.dumps(single)}")
            result = {"indexes": label, "single": single}
            if not args.skip_bulk:
                bulk_result = run_bulk(url, prefix, pool[1:])
                print(f"(b) {args.requests} access requests, {label}: {json.dumps(bulk_result)}")
                result["bulk"] = bulk_result
            results.append(result)
    finally:
        removed = cleanup(url, f"BENCH-{run_id}", export_dir)
        if created and not args.keep_indexes:
            drop_indexes(url, created)
        print(
            f"cleanup: {removed['requests_removed']} requests removed, "
            f"{0 if args.keep_indexes else len(created)} indexes dropped"
        )

    print()
    print("| indexes | (a) one request s | goal | (b) bulk requests | (b) s | find s | goal |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    ok = True
    for result in results:
        single_s = result["single"]["seconds"]["total"]
        bulk_result = result.get("bulk", {})
        bulk_s = bulk_result.get("seconds")
        ok = ok and single_s <= SINGLE_GOAL_S and (bulk_s is None or bulk_s <= BULK_GOAL_S)
        print(
            f"| {result['indexes']} | {single_s} | {SINGLE_GOAL_S} |"
            f" {bulk_result.get('requests', '-')} | {bulk_s if bulk_s is not None else '-'} |"
            f" {bulk_result.get('find_seconds', '-')} | {BULK_GOAL_S} |"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
