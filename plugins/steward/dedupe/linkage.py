"""Fuzzy customer de-duplication with splink, run as SQL inside PostgreSQL.

:func:`find_duplicates`:

1. copies the compared columns of ``intermediate.int_dedupe__customer_records``
   into a work schema (one ``create table as``: nothing leaves the server);
2. trains a splink model there: the match prior from deterministic rules, u
   by seeded random sampling, m by expectation maximisation (seeded, so two
   runs on the same data give the same model);
3. scores the blocked candidate pairs, keeps those above
   :data:`~steward.dedupe.model.PREDICT_THRESHOLD`, and clusters them
   (connected components at :data:`~steward.dedupe.model.CLUSTER_THRESHOLD`);
4. replaces ``steward.customer_match_pairs`` and ``steward.customer_clusters``
   in one transaction, with each pair's evidence (which fields agreed exactly,
   fuzzily, disagreed or were missing), then drops the work schema.

Nothing is merged or deleted in the source systems: the dbt marts
``customer_duplicate_clusters`` and ``customer_duplicate_evidence`` propose,
stewards decide. Counts only are logged and returned, never a field value.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from dataclasses import asdict, dataclass, field

import sqlalchemy as sa
from psycopg2 import sql
from sqlalchemy.engine import make_url

from steward.dedupe import model

log = logging.getLogger(__name__)

INPUT_SCHEMA = "intermediate"
INPUT_VIEW = "int_dedupe__customer_records"
WORK_SCHEMA = "steward_splink"
# Unique across schemas: splink looks its tables up by name in information_schema.
WORK_INPUT_TABLE = "steward_dedupe_customer_records"
OUTPUT_SCHEMA = "steward"
PAIRS_TABLE = "customer_match_pairs"
CLUSTERS_TABLE = "customer_clusters"
RUNS_TABLE = "dedupe_runs"
_LOCK_KEY = "steward.dedupe"

_DDL = f"""
create schema if not exists {OUTPUT_SCHEMA};

create table if not exists {OUTPUT_SCHEMA}.{RUNS_TABLE} (
    run_id uuid primary key,
    started_at timestamptz not null,
    finished_at timestamptz not null,
    records integer not null,
    candidate_pairs integer not null,   -- pairs above the prediction threshold
    clustered_records integer not null, -- records in clusters of two or more
    clusters integer not null,
    predict_threshold double precision not null,
    cluster_threshold double precision not null,
    splink_version text not null,
    model_json jsonb not null           -- the trained parameters (no record values)
);

create table if not exists {OUTPUT_SCHEMA}.{PAIRS_TABLE} (
    run_id uuid not null,
    customer_id_l bigint not null,
    customer_id_r bigint not null,
    match_probability double precision not null,
    match_weight double precision not null,
    -- field -> exact | fuzzy | different | missing, for every compared field
    evidence jsonb not null,
    agreed_fields text[] not null,      -- fields equal on both records
    fuzzy_fields text[] not null,       -- fields within a small edit distance
    differing_fields text[] not null,
    primary key (customer_id_l, customer_id_r),
    check (customer_id_l < customer_id_r)
);

create table if not exists {OUTPUT_SCHEMA}.{CLUSTERS_TABLE} (
    run_id uuid not null,
    cluster_id bigint not null,         -- the lowest customer_id of the cluster
    customer_id bigint primary key,
    cluster_size integer not null
);
create index if not exists {CLUSTERS_TABLE}_cluster_idx
    on {OUTPUT_SCHEMA}.{CLUSTERS_TABLE} (cluster_id);
"""


@dataclass
class DedupeReport:
    """One run, in counts. Never a name, date, address, e-mail or number."""

    run_id: str
    records: int
    candidate_pairs: int
    clusters: int
    clustered_records: int
    native_levenshtein: bool
    elapsed_seconds: float
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def ensure_tables(engine: sa.Engine) -> None:
    """Create the output tables if missing (idempotent)."""
    with engine.begin() as connection:
        connection.exec_driver_sql(_DDL)


def work_engine(url: str, *, nested_loops: bool = True) -> sa.Engine:
    """An engine whose every connection searches the work schema first.

    splink names its tables without a schema and sets ``search_path`` only
    once; the connection option makes it hold on every pooled connection.
    ``pg_catalog`` comes after the work schema so that its ``power`` is shadowed
    (see :mod:`steward.dedupe.backend`). ``nested_loops=False`` is for splink's predict
    query, which joins its blocked pairs to a CTE without statistics: PostgreSQL
    otherwise pushes the score filter into a nested loop over all n² record
    pairs (hours on 100k customers instead of seconds). Training keeps them: its
    u-sampling is a deliberate cross join.
    """
    from steward import warehouse

    scoped = make_url(url).update_query_dict(
        {
            "options": f"-csearch_path={WORK_SCHEMA},pg_catalog,public"
            + ("" if nested_loops else " -cenable_nestloop=off")
        }
    )
    return warehouse.engine(scoped.render_as_string(hide_password=False))


def find_duplicates(url: str | None = None) -> DedupeReport:
    """Train, predict, cluster, and replace the output tables. See the module doc."""
    from splink import Linker

    from steward import warehouse
    from steward.dedupe.backend import StewardPostgresAPI

    started = time.perf_counter()
    started_at = dt.datetime.now(dt.UTC)
    url = url or warehouse.database_url()
    engine = warehouse.engine(url)
    run_id = uuid.uuid4()
    timings: dict[str, float] = {}

    # Autocommit: the session lock must not hold a transaction open for the whole run.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as lock_connection:
        # One run at a time; a second one waits rather than racing on the work schema.
        lock_connection.execute(
            sa.text("select pg_advisory_lock(hashtext(:key))"), {"key": _LOCK_KEY}
        )
        try:
            mark = time.perf_counter()
            records = _prepare_work_schema(engine)
            timings["prepare"] = time.perf_counter() - mark

            mark = time.perf_counter()
            splink_engine = work_engine(url)
            db_api = StewardPostgresAPI(splink_engine, schema=WORK_SCHEMA)
            linker = Linker(
                db_api.register(WORK_INPUT_TABLE, table_name="customer_records"),
                model.settings(),
                # Steward's logging (Airflow's task log) decides what to show.
                log_level=None,
            )
            _train(linker, records, native_levenshtein=db_api.uses_native_levenshtein)
            timings["train"] = time.perf_counter() - mark

            mark = time.perf_counter()
            db_api._engine = work_engine(url, nested_loops=False)
            predictions = linker.inference.predict(
                threshold_match_probability=model.PREDICT_THRESHOLD
            )
            clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
                predictions, threshold_match_probability=model.CLUSTER_THRESHOLD
            )
            timings["predict_and_cluster"] = time.perf_counter() - mark

            mark = time.perf_counter()
            counts = _store(
                engine,
                run_id,
                predictions.physical_name,
                clusters.physical_name,
                linker,
                records,
                started_at,
            )
            timings["store"] = time.perf_counter() - mark
        finally:
            with engine.begin() as connection:
                connection.execute(
                    sa.text(
                        sql.SQL("drop schema if exists {} cascade")
                        .format(sql.Identifier(WORK_SCHEMA))
                        .as_string(connection.connection.driver_connection)
                    )
                )
            lock_connection.execute(
                sa.text("select pg_advisory_unlock(hashtext(:key))"), {"key": _LOCK_KEY}
            )
    report = DedupeReport(
        run_id=str(run_id),
        records=records,
        native_levenshtein=db_api.uses_native_levenshtein,
        elapsed_seconds=round(time.perf_counter() - started, 3),
        timings={key: round(value, 3) for key, value in timings.items()},
        **counts,
    )
    log.info(
        "dedupe: %d records, %d candidate pairs, %d clusters holding %d records, %.1fs",
        report.records,
        report.candidate_pairs,
        report.clusters,
        report.clustered_records,
        report.elapsed_seconds,
    )
    return report


def _prepare_work_schema(engine: sa.Engine) -> int:
    """(Re)create the work schema holding a copy of the compared columns; return the count."""
    work = sql.Identifier(WORK_SCHEMA)
    statement = sql.SQL(
        "drop schema if exists {work} cascade; create schema {work};"
        " create table {table} as select {columns} from {view};"
        " alter table {table} add primary key ({unique_id})"
    ).format(
        work=work,
        table=sql.Identifier(WORK_SCHEMA, WORK_INPUT_TABLE),
        columns=sql.SQL(", ").join(
            sql.Identifier(column) for column in (model.UNIQUE_ID, *model.COMPARED_COLUMNS)
        ),
        view=sql.Identifier(INPUT_SCHEMA, INPUT_VIEW),
        unique_id=sql.Identifier(model.UNIQUE_ID),
    )
    with engine.begin() as connection:
        connection.exec_driver_sql(statement.as_string(connection.connection.driver_connection))
        return int(
            connection.execute(
                sa.text(
                    sql.SQL("select count(*) from {}")
                    .format(sql.Identifier(WORK_SCHEMA, WORK_INPUT_TABLE))
                    .as_string(connection.connection.driver_connection)
                )
            ).scalar()
        )


def _train(linker, records: int, native_levenshtein: bool = True) -> None:
    """Prior from deterministic rules, u from seeded sampling, m from EM."""
    linker.training.estimate_probability_two_random_records_match(
        model.deterministic_rules(), recall=model.DETERMINISTIC_RECALL
    )
    all_pairs = records * (records - 1) // 2
    sample_pairs = (
        model.U_SAMPLE_PAIRS
        if native_levenshtein
        else model.U_SAMPLE_PAIRS_WITHOUT_NATIVE_LEVENSHTEIN
    )
    linker.training.estimate_u_using_random_sampling(
        max_pairs=min(sample_pairs, max(all_pairs, 1)), seed=model.SEED
    )
    for rule in model.training_blocking_rules():
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True, max_pairs=model.EM_MAX_PAIRS
        )
        _floor_m_probabilities(linker)


def _floor_m_probabilities(linker) -> None:
    """Keep every trained m at or above :data:`~steward.dedupe.model.M_PROBABILITY_FLOOR`."""
    for comparison in linker._settings_obj.comparisons:
        levels = [level for level in comparison.comparison_levels if not level.is_null_level]
        trained = [level for level in levels if isinstance(level._m_probability, float)]
        if not trained:
            continue
        floored = {
            id(level): max(level.m_probability, model.M_PROBABILITY_FLOOR) for level in trained
        }
        total = sum(floored.values())
        for level in trained:
            level.m_probability = floored[id(level)] / total


def _evidence_sql(linker) -> dict[str, sql.Composable]:
    """SQL expressions over splink's ``gamma_<field>`` columns naming each field's outcome."""
    outcome_by_field = {}
    for comparison in linker._settings_obj.comparisons:
        levels = [level for level in comparison.comparison_levels if not level.is_null_level]
        top = max(level.comparison_vector_value for level in levels)
        column = comparison.output_column_name
        gamma = sql.Identifier(f"gamma_{column}")
        outcome_by_field[column] = sql.SQL(
            "case when {g} = -1 then 'missing' when {g} = {top} then 'exact'"
            " when {g} = 0 then 'different' else 'fuzzy' end"
        ).format(g=gamma, top=sql.Literal(top))
    return outcome_by_field


def _store(
    engine: sa.Engine,
    run_id: uuid.UUID,
    predictions_table: str,
    clusters_table: str,
    linker,
    records: int,
    started_at: dt.datetime,
) -> dict[str, int]:
    """Replace the output tables with this run's pairs and clusters (one transaction)."""
    import splink

    outcomes = _evidence_sql(linker)
    evidence = sql.SQL("jsonb_build_object({})").format(
        sql.SQL(", ").join(
            sql.SQL("{}, {}").format(sql.Literal(name), expression)
            for name, expression in outcomes.items()
        )
    )

    def fields_with(outcome: str) -> sql.Composable:
        return sql.SQL("array_remove(array[{}], null)::text[]").format(
            sql.SQL(", ").join(
                sql.SQL("case when {} = {} then {} end").format(
                    expression, sql.Literal(outcome), sql.Literal(name)
                )
                for name, expression in outcomes.items()
            )
        )

    pairs = sql.Identifier(OUTPUT_SCHEMA, PAIRS_TABLE)
    clusters = sql.Identifier(OUTPUT_SCHEMA, CLUSTERS_TABLE)
    unique_l = sql.Identifier(f"{model.UNIQUE_ID}_l")
    unique_r = sql.Identifier(f"{model.UNIQUE_ID}_r")
    unique_id = sql.Identifier(model.UNIQUE_ID)
    insert_pairs = sql.SQL(
        "insert into {pairs} (run_id, customer_id_l, customer_id_r, match_probability,"
        " match_weight, evidence, agreed_fields, fuzzy_fields, differing_fields)"
        " select %(run_id)s, least(p.{l}, p.{r}), greatest(p.{l}, p.{r}), p.match_probability,"
        " p.match_weight, {evidence}, {agreed}, {fuzzy}, {differing}"
        " from {predictions} as p"
    ).format(
        pairs=pairs,
        l=unique_l,
        r=unique_r,
        evidence=evidence,
        agreed=fields_with("exact"),
        fuzzy=fields_with("fuzzy"),
        differing=fields_with("different"),
        predictions=sql.Identifier(WORK_SCHEMA, predictions_table),
    )
    insert_clusters = sql.SQL(
        "insert into {clusters} (run_id, cluster_id, customer_id, cluster_size)"
        " select %(run_id)s, c.cluster_id, c.{uid}, c.cluster_size from ("
        " select cluster_id::bigint as cluster_id, {uid},"
        " count(*) over (partition by cluster_id) as cluster_size from {clustered}"
        ") as c where c.cluster_size > 1"
    ).format(
        clusters=clusters,
        uid=unique_id,
        clustered=sql.Identifier(WORK_SCHEMA, clusters_table),
    )
    model_json = linker.misc.save_model_to_json()
    pooled = engine.raw_connection()
    connection = pooled.driver_connection
    try:
        with connection.cursor() as cursor:
            cursor.execute(_DDL)
            cursor.execute(sql.SQL("lock table {}, {} in exclusive mode").format(pairs, clusters))
            cursor.execute(sql.SQL("delete from {}").format(pairs))
            cursor.execute(sql.SQL("delete from {}").format(clusters))
            cursor.execute(insert_pairs, {"run_id": str(run_id)})
            candidate_pairs = cursor.rowcount
            cursor.execute(insert_clusters, {"run_id": str(run_id)})
            clustered_records = cursor.rowcount
            cursor.execute(sql.SQL("select count(distinct cluster_id) from {}").format(clusters))
            cluster_count = int(cursor.fetchone()[0])
            cursor.execute(
                sql.SQL(
                    "insert into {} (run_id, started_at, finished_at, records, candidate_pairs,"
                    " clustered_records, clusters, predict_threshold, cluster_threshold,"
                    " splink_version, model_json)"
                    " values (%s, %s, clock_timestamp(), %s, %s, %s, %s, %s, %s, %s, %s)"
                ).format(sql.Identifier(OUTPUT_SCHEMA, RUNS_TABLE)),
                (
                    str(run_id),
                    started_at,
                    records,
                    candidate_pairs,
                    clustered_records,
                    cluster_count,
                    model.PREDICT_THRESHOLD,
                    model.CLUSTER_THRESHOLD,
                    splink.__version__,
                    _json(model_json),
                ),
            )
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        pooled.close()
    return {
        "candidate_pairs": candidate_pairs,
        "clusters": cluster_count,
        "clustered_records": clustered_records,
    }


def _json(value) -> str:
    import json

    return json.dumps(value, default=str)
