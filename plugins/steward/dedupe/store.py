"""A dedupe run's results in PostgreSQL: the stored model, pairs, clusters, fingerprints, runs."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from psycopg2 import sql

from steward.dedupe import model, transfer

OUTPUT_SCHEMA = "steward"
PAIRS_TABLE = "customer_match_pairs"
CLUSTERS_TABLE = "customer_clusters"
RUNS_TABLE = "dedupe_runs"
FINGERPRINTS_TABLE = "dedupe_record_fingerprints"

# The pair columns written to PostgreSQL, in COPY order.
_PAIR_COLUMNS = [
    "run_id",
    "customer_id_l",
    "customer_id_r",
    "match_probability",
    "match_weight",
    "evidence",
    "agreed_fields",
    "fuzzy_fields",
    "differing_fields",
]


@dataclass(frozen=True)
class StoredModel:
    settings: dict
    signature: str | None
    trained_at: dt.datetime | None


def _latest_model(engine: sa.Engine) -> StoredModel | None:
    with engine.connect() as connection:
        row = connection.execute(
            sa.text(
                f"select model_json, model_signature, trained_at"
                f" from {OUTPUT_SCHEMA}.{RUNS_TABLE}"
                " where model_signature is not null order by finished_at desc limit 1"
            )
        ).first()
    if row is None:
        return None
    settings = row[0] if isinstance(row[0], dict) else json.loads(row[0])
    return StoredModel(settings=settings, signature=row[1], trained_at=row[2])


def _store(
    engine: sa.Engine,
    duck,
    *,
    run_id: uuid.UUID,
    mode: str,
    linker,
    records: int,
    changed: int,
    removed: int,
    scored_pairs: int,
    started_at: dt.datetime,
    trained_at: dt.datetime,
) -> dict[str, int]:
    """Write pairs, clusters, fingerprints and the run row in one transaction."""
    import splink

    pairs = sql.Identifier(OUTPUT_SCHEMA, PAIRS_TABLE)
    clusters = sql.Identifier(OUTPUT_SCHEMA, CLUSTERS_TABLE)
    fingerprints = sql.Identifier(OUTPUT_SCHEMA, FINGERPRINTS_TABLE)
    model_json = linker.misc.save_model_to_json()
    if mode != "full":
        # The stored model's prediction rules, not tonight's restricted ones.
        model_json["blocking_rules_to_generate_predictions"] = [
            rule.get_blocking_rule(model.SQL_DIALECT).blocking_rule_sql
            for rule in model.prediction_blocking_rules()
        ]
        model_json["additional_columns_to_retain"] = []
    pooled = engine.raw_connection()
    connection = pooled.driver_connection
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("lock table {}, {}, {} in exclusive mode").format(
                    pairs, clusters, fingerprints
                )
            )
            if mode == "full":
                cursor.execute(sql.SQL("truncate {}, {}").format(pairs, fingerprints))
                fingerprint_query = f"select {model.UNIQUE_ID}, fingerprint from records"
            else:
                cursor.execute(
                    "create temporary table steward_dedupe_affected (customer_id bigint)"
                    " on commit drop"
                )
                transfer.copy_duckdb_into_postgres(
                    cursor,
                    duck,
                    "select customer_id from affected_ids",
                    sql.Identifier("steward_dedupe_affected"),
                    ["customer_id"],
                )
                cursor.execute("analyze steward_dedupe_affected")
                for column in ("customer_id_l", "customer_id_r"):
                    cursor.execute(
                        sql.SQL(
                            "delete from {} as p using steward_dedupe_affected as a"
                            " where p.{} = a.customer_id"
                        ).format(pairs, sql.Identifier(column))
                    )
                cursor.execute(
                    sql.SQL(
                        "delete from {} as f using steward_dedupe_affected as a"
                        " where f.customer_id = a.customer_id"
                    ).format(fingerprints)
                )
                fingerprint_query = (
                    f"select {model.UNIQUE_ID}, fingerprint from records"
                    f" where {model.CHANGED_COLUMN}"
                )
            transfer.copy_duckdb_into_postgres(
                cursor,
                duck,
                "select " + ", ".join(_PAIR_COLUMNS) + " from new_pairs",
                pairs,
                _PAIR_COLUMNS,
            )
            transfer.copy_duckdb_into_postgres(
                cursor, duck, fingerprint_query, fingerprints, ["customer_id", "fingerprint"]
            )
            cursor.execute(sql.SQL("delete from {}").format(clusters))
            clustered_records = transfer.copy_duckdb_into_postgres(
                cursor,
                duck,
                f"select '{run_id}', cluster_id, customer_id, cluster_size from new_clusters",
                clusters,
                ["run_id", "cluster_id", "customer_id", "cluster_size"],
            )
            cursor.execute(sql.SQL("select count(*) from {}").format(pairs))
            candidate_pairs = int(cursor.fetchone()[0])
            cursor.execute(sql.SQL("select count(distinct cluster_id) from {}").format(clusters))
            cluster_count = int(cursor.fetchone()[0])
            _insert_run(
                cursor,
                run_id=run_id,
                started_at=started_at,
                records=records,
                candidate_pairs=candidate_pairs,
                clustered_records=clustered_records,
                clusters=cluster_count,
                splink_version=splink.__version__,
                model_json=model_json,
                mode=mode,
                changed=changed,
                removed=removed,
                scored_pairs=scored_pairs,
                trained_at=trained_at,
            )
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        pooled.close()
    _analyze(engine)
    return {
        "candidate_pairs": candidate_pairs,
        "clusters": cluster_count,
        "clustered_records": clustered_records,
    }


def _insert_run(cursor, *, run_id: uuid.UUID, model_json: dict, **values) -> None:
    cursor.execute(
        sql.SQL(
            "insert into {} (run_id, started_at, finished_at, records, candidate_pairs,"
            " clustered_records, clusters, predict_threshold, cluster_threshold,"
            " splink_version, model_json, mode, changed_records, removed_records,"
            " scored_pairs, model_signature, trained_at)"
            " values (%(run_id)s, %(started_at)s, clock_timestamp(), %(records)s,"
            " %(candidate_pairs)s, %(clustered_records)s, %(clusters)s, %(predict)s,"
            " %(cluster)s, %(splink_version)s, %(model_json)s, %(mode)s, %(changed)s,"
            " %(removed)s, %(scored_pairs)s, %(signature)s, %(trained_at)s)"
        ).format(sql.Identifier(OUTPUT_SCHEMA, RUNS_TABLE)),
        {
            **values,
            "run_id": str(run_id),
            "predict": model.PREDICT_THRESHOLD,
            "cluster": model.CLUSTER_THRESHOLD,
            "model_json": json.dumps(model_json, default=str),
            "signature": model.signature(),
        },
    )


def _record_unchanged_run(
    engine: sa.Engine,
    run_id: uuid.UUID,
    started_at: dt.datetime,
    records: int,
    stored: StoredModel,
) -> dict[str, int]:
    """Nothing new or changed: the stored pairs and clusters stand; log the run."""
    import splink

    with engine.begin() as connection:
        candidate_pairs, clustered_records, clusters = connection.execute(
            sa.text(
                f"select (select count(*) from {OUTPUT_SCHEMA}.{PAIRS_TABLE}),"
                f" (select count(*) from {OUTPUT_SCHEMA}.{CLUSTERS_TABLE}),"
                f" (select count(distinct cluster_id) from {OUTPUT_SCHEMA}.{CLUSTERS_TABLE})"
            )
        ).one()
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor:
            _insert_run(
                cursor,
                run_id=run_id,
                started_at=started_at,
                records=records,
                candidate_pairs=int(candidate_pairs),
                clustered_records=int(clustered_records),
                clusters=int(clusters),
                splink_version=splink.__version__,
                model_json=stored.settings,
                mode="unchanged",
                changed=0,
                removed=0,
                scored_pairs=0,
                trained_at=stored.trained_at,
            )
    return {
        "candidate_pairs": int(candidate_pairs),
        "clusters": int(clusters),
        "clustered_records": int(clustered_records),
    }


def _analyze(engine: sa.Engine) -> None:
    """Statistics for the planner on every table this run wrote (the marts join them)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in (PAIRS_TABLE, CLUSTERS_TABLE, FINGERPRINTS_TABLE, RUNS_TABLE):
            connection.execute(
                sa.text(
                    sql.SQL("analyze {}")
                    .format(sql.Identifier(OUTPUT_SCHEMA, table))
                    .as_string(connection.connection.driver_connection)
                )
            )
