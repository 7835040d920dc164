"""Fuzzy customer de-duplication: splink on an in-process DuckDB, results in PostgreSQL.

:func:`find_duplicates`:

1. streams the compared columns of ``intermediate.int_dedupe__customer_records``
   out of PostgreSQL (``COPY`` to Arrow batches, :mod:`steward.dedupe.transfer`)
   into an in-memory DuckDB, with each record's stored fingerprint;
2. marks the records that are new or whose compared fields changed since the
   last run (a digest of the fields, ``steward.dedupe_record_fingerprints``),
   and those that were removed;
3. on the first run, when the model changed, is older than
   :data:`~steward.dedupe.model.RETRAIN_AFTER_DAYS`, or when more than
   :data:`~steward.dedupe.model.FULL_RUN_CHANGED_SHARE` of the records changed:
   trains splink (prior from deterministic rules, u by seeded sampling, m by
   EM) and scores every blocked pair. Otherwise it reuses the stored model and
   scores only the blocked pairs with a new or changed record on one side;
4. clusters the pairs at :data:`~steward.dedupe.model.CLUSTER_THRESHOLD`
   (connected components over this run's pairs and the earlier ones it kept),
   and writes in one PostgreSQL transaction: the pairs of changed or removed
   records replaced, the clusters, the fingerprints and a row in
   ``steward.dedupe_runs``; then ``ANALYZE`` of what it wrote.

Why DuckDB: splink's SQL inside PostgreSQL took 20 s on ``m`` and did not finish
its prediction on ``l`` in 110 min; in DuckDB (vectorised, hash joins on the
blocking keys) ``l`` takes minutes (README, *Duplicate customers*).

Records stay in the warehouse and this process's memory (DuckDB spills to a
temporary folder under ``.steward`` only past its memory limit; the folder is
removed after the run). Counts only are logged and returned, never a value.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field

import pyarrow as pa
import sqlalchemy as sa
from psycopg2 import sql

from steward import schema
from steward.dedupe import model, transfer
from steward.dedupe.scoring import _cluster, _linker, _load_kept_pairs, _prepare_pairs
from steward.dedupe.store import (
    CLUSTERS_TABLE,
    FINGERPRINTS_TABLE,
    OUTPUT_SCHEMA,
    PAIRS_TABLE,
    RUNS_TABLE,
    StoredModel,
    _latest_model,
    _record_unchanged_run,
    _store,
)

# The output tables' names stay importable from here, where callers find them.
__all__ = [
    "CLUSTERS_TABLE",
    "FINGERPRINTS_TABLE",
    "OUTPUT_SCHEMA",
    "PAIRS_TABLE",
    "RUNS_TABLE",
    "DedupeReport",
    "StoredModel",
    "find_duplicates",
]

log = logging.getLogger(__name__)

INPUT_SCHEMA = "intermediate"
INPUT_VIEW = "int_dedupe__customer_records"
_LOCK_KEY = "steward.dedupe"
# DuckDB's share of the machine; it spills to its temporary folder beyond.
MEMORY_LIMIT_ENV = "STEWARD_DEDUPE_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "4GB"
THREADS_ENV = "STEWARD_DEDUPE_THREADS"


@dataclass
class DedupeReport:
    """One run, in counts. Never a name, date, address, e-mail or number."""

    run_id: str
    mode: str  # full | incremental | unchanged
    records: int
    changed_records: int
    removed_records: int
    scored_pairs: int
    candidate_pairs: int
    clusters: int
    clustered_records: int
    elapsed_seconds: float
    # This process's CPU time (DuckDB's threads included): comparable on a busy machine.
    cpu_seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def _duckdb_connection(spill_dir: str):
    import duckdb

    return duckdb.connect(
        ":memory:",
        config={
            "threads": int(os.environ.get(THREADS_ENV) or os.cpu_count() or 2),
            "memory_limit": os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT),
            "temp_directory": spill_dir,
        },
    )


def _column_types() -> dict[str, pa.DataType]:
    types: dict[str, pa.DataType] = {model.UNIQUE_ID: pa.int64()}
    types.update({column: pa.string() for column in model.COMPARED_COLUMNS})
    return types


def find_duplicates(
    url: str | None = None,
    *,
    full: bool = False,
    source: tuple[str, str] = (INPUT_SCHEMA, INPUT_VIEW),
) -> DedupeReport:
    """Score new and changed records (or all, see the module doc) and store the results.

    ``full`` retrains and rescores everything. ``source`` is the relation of
    records (schema, name) with :data:`~steward.dedupe.model.UNIQUE_ID` and the
    compared columns; benchmarks point it at a labelled public data set.
    """
    from steward import paths, warehouse

    started = time.perf_counter()
    started_cpu = _cpu_seconds()
    started_at = dt.datetime.now(dt.UTC)
    url = url or warehouse.database_url()
    engine = warehouse.engine(url)
    schema.upgrade(engine)
    run_id = uuid.uuid4()
    timings: dict[str, float] = {}

    # Autocommit: the session lock must not hold a transaction open for the whole run.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as lock_connection:
        # One run at a time; a second one waits rather than racing on the output tables.
        lock_connection.execute(
            sa.text("select pg_advisory_lock(hashtext(:key))"), {"key": _LOCK_KEY}
        )
        duck = spill_dir = None
        try:
            paths.data_dir().mkdir(parents=True, exist_ok=True)
            spill_dir = tempfile.mkdtemp(prefix="dedupe-", dir=paths.data_dir())
            duck = _duckdb_connection(spill_dir)
            mark = time.perf_counter()
            records = _load(engine, duck, source)
            changed, removed = _mark_changes(duck)
            stored_model = _latest_model(engine)
            timings["load"] = time.perf_counter() - mark

            mode = _choose_mode(full, stored_model, records, changed, removed)
            scored_pairs = 0
            if mode == "unchanged":
                counts = _record_unchanged_run(engine, run_id, started_at, records, stored_model)
            else:
                mark = time.perf_counter()
                linker, trained_at = _linker(duck, mode, stored_model, records)
                timings["train"] = time.perf_counter() - mark

                mark = time.perf_counter()
                predictions = linker.inference.predict(
                    threshold_match_probability=model.PREDICT_THRESHOLD
                )
                scored_pairs = _prepare_pairs(duck, linker, predictions.physical_name, run_id)
                timings["predict"] = time.perf_counter() - mark

                mark = time.perf_counter()
                _load_kept_pairs(engine, duck, mode)
                _cluster(duck, linker)
                timings["cluster"] = time.perf_counter() - mark

                mark = time.perf_counter()
                counts = _store(
                    engine,
                    duck,
                    run_id=run_id,
                    mode=mode,
                    linker=linker,
                    records=records,
                    changed=changed,
                    removed=removed,
                    scored_pairs=scored_pairs,
                    started_at=started_at,
                    trained_at=trained_at,
                )
                timings["store"] = time.perf_counter() - mark
        finally:
            if duck is not None:
                duck.close()
            if spill_dir is not None:
                shutil.rmtree(spill_dir, ignore_errors=True)
            lock_connection.execute(
                sa.text("select pg_advisory_unlock(hashtext(:key))"), {"key": _LOCK_KEY}
            )
    report = DedupeReport(
        run_id=str(run_id),
        mode=mode,
        records=records,
        changed_records=changed,
        removed_records=removed,
        scored_pairs=scored_pairs,
        elapsed_seconds=round(time.perf_counter() - started, 3),
        cpu_seconds=round(_cpu_seconds() - started_cpu, 3),
        timings={key: round(value, 3) for key, value in timings.items()},
        **counts,
    )
    log.info(
        "dedupe (%s): %d records, %d new or changed, %d removed, %d pairs scored,"
        " %d stored, %d clusters holding %d records, %.1fs",
        report.mode,
        report.records,
        report.changed_records,
        report.removed_records,
        report.scored_pairs,
        report.candidate_pairs,
        report.clusters,
        report.clustered_records,
        report.elapsed_seconds,
    )
    return report


def _cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _load(engine: sa.Engine, duck, source: tuple[str, str]) -> int:
    """Stream the records and the stored fingerprints into DuckDB; return the record count."""
    columns = (model.UNIQUE_ID, *model.COMPARED_COLUMNS)
    # Every compared value as text: DuckDB compares what PostgreSQL printed.
    records_query = sql.SQL("select {} from {}").format(
        sql.SQL(", ").join(
            sql.SQL("{}::text").format(sql.Identifier(column))
            if column != model.UNIQUE_ID
            else sql.Identifier(column)
            for column in columns
        ),
        sql.Identifier(*source),
    )
    fingerprints_query = sql.SQL("select customer_id, fingerprint from {}").format(
        sql.Identifier(OUTPUT_SCHEMA, FINGERPRINTS_TABLE)
    )
    pooled = engine.raw_connection()
    try:
        raw = pooled.driver_connection
        raw.set_session(readonly=True)
        records = transfer.copy_query_into_duckdb(
            raw, records_query, duck, "records_raw", _column_types()
        )
        transfer.copy_query_into_duckdb(
            raw,
            fingerprints_query,
            duck,
            "stored_fingerprints",
            {"customer_id": pa.int64(), "fingerprint": pa.string()},
        )
        raw.rollback()
        raw.set_session(readonly=False)
    finally:
        pooled.close()
    return records


def _fingerprint_sql() -> str:
    # Unit separator between fields, a marker for null: ('a', null) != (null, 'a').
    parts = ", ".join(
        f"coalesce(replace({column}, chr(31), ' '), chr(30))" for column in model.COMPARED_COLUMNS
    )
    return f"md5(concat_ws(chr(31), {parts}))"


def _mark_changes(duck) -> tuple[int, int]:
    """Add the fingerprint and the changed flag to the records; (changed, removed) counts."""
    changed_column = model.CHANGED_COLUMN
    duck.execute(
        f"""
        create table records as
        select r.*, {_fingerprint_sql()} as fingerprint,
               f.fingerprint is distinct from {_fingerprint_sql()} as {changed_column}
        from records_raw as r
        left join stored_fingerprints as f on f.customer_id = r.{model.UNIQUE_ID}
        """
    )
    duck.execute("drop table records_raw")
    duck.execute(
        f"""
        create table removed_ids as
        select f.customer_id from stored_fingerprints as f
        anti join records as r on r.{model.UNIQUE_ID} = f.customer_id
        """
    )
    changed = duck.execute(f"select count(*) from records where {changed_column}").fetchall()[0][0]
    removed = duck.execute("select count(*) from removed_ids").fetchall()[0][0]
    return int(changed), int(removed)


def _choose_mode(
    full: bool, stored: StoredModel | None, records: int, changed: int, removed: int
) -> str:
    if full or stored is None or stored.signature != model.signature():
        return "full"
    if stored.trained_at is None or (
        dt.datetime.now(dt.UTC) - stored.trained_at > dt.timedelta(days=model.RETRAIN_AFTER_DAYS)
    ):
        return "full"
    if records and changed > model.FULL_RUN_CHANGED_SHARE * records:
        return "full"
    if changed == 0 and removed == 0:
        return "unchanged"
    return "incremental"
