"""Scoring and clustering in DuckDB with splink: the linker, its pairs, their clusters."""

from __future__ import annotations

import datetime as dt
import uuid

import pyarrow as pa
import sqlalchemy as sa
from psycopg2 import sql

from steward.dedupe import model, transfer
from steward.dedupe.store import OUTPUT_SCHEMA, PAIRS_TABLE, StoredModel


def _linker(duck, mode: str, stored: StoredModel | None, records: int):
    """A trained splink linker: trained now (full) or the stored model (incremental)."""
    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI(duck)
    table = db_api.register("records")
    if mode == "full":
        linker = Linker(table, model.settings(), log_level=None)
        _train(linker, records)
        return linker, dt.datetime.now(dt.UTC)
    settings = dict(stored.settings)
    settings["blocking_rules_to_generate_predictions"] = model.incremental_blocking_rules()
    settings["additional_columns_to_retain"] = [model.CHANGED_COLUMN]
    return Linker(table, settings, log_level=None), stored.trained_at


def _train(linker, records: int) -> None:
    """Prior from deterministic rules, u from seeded sampling, m from EM."""
    linker.training.estimate_probability_two_random_records_match(
        model.deterministic_rules(), recall=model.DETERMINISTIC_RECALL
    )
    all_pairs = records * (records - 1) // 2
    linker.training.estimate_u_using_random_sampling(
        max_pairs=min(model.U_SAMPLE_PAIRS, max(all_pairs, 1)), seed=model.SEED
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


def _outcome_sql(linker) -> dict[str, str]:
    """DuckDB expressions over splink's ``gamma_<field>`` columns naming each field's outcome."""
    outcome_by_field = {}
    for comparison in linker._settings_obj.comparisons:
        levels = [level for level in comparison.comparison_levels if not level.is_null_level]
        top = max(level.comparison_vector_value for level in levels)
        column = comparison.output_column_name
        gamma = f'p."gamma_{column}"'
        outcome_by_field[column] = (
            f"case when {gamma} = -1 then 'missing' when {gamma} = {top} then 'exact'"
            f" when {gamma} = 0 then 'different' else 'fuzzy' end"
        )
    return outcome_by_field


def _prepare_pairs(duck, linker, predictions_table: str, run_id: uuid.UUID) -> int:
    """This run's pairs as PostgreSQL will store them (``new_pairs``); return the count."""
    outcomes = _outcome_sql(linker)
    evidence = "json_object({})".format(
        ", ".join(f"'{name}', {expression}" for name, expression in outcomes.items())
    )

    def fields_with(outcome: str) -> str:
        # A PostgreSQL array literal: the field names are plain identifiers.
        names = ", ".join(
            f"case when {expression} = '{outcome}' then '{name}' end"
            for name, expression in outcomes.items()
        )
        present = f"list_filter([{names}], lambda x: x is not null)"
        return f"'{{' || array_to_string({present}, ',') || '}}'"

    uid_l, uid_r = f'"{model.UNIQUE_ID}_l"', f'"{model.UNIQUE_ID}_r"'
    duck.execute(
        f"""
        create table new_pairs as
        select '{run_id}' as run_id,
               least(p.{uid_l}, p.{uid_r}) as customer_id_l,
               greatest(p.{uid_l}, p.{uid_r}) as customer_id_r,
               p.match_probability, p.match_weight,
               {evidence}::varchar as evidence,
               {fields_with("exact")} as agreed_fields,
               {fields_with("fuzzy")} as fuzzy_fields,
               {fields_with("different")} as differing_fields
        from "{predictions_table}" as p
        """
    )
    return int(duck.execute("select count(*) from new_pairs").fetchall()[0][0])


def _load_kept_pairs(engine: sa.Engine, duck, mode: str) -> None:
    """Earlier pairs at the clustering threshold that this run keeps (``kept_pairs``)."""
    if mode == "full":
        duck.execute(
            "create table kept_pairs (customer_id_l bigint, customer_id_r bigint,"
            " match_probability double)"
        )
        return
    query = sql.SQL(
        "select customer_id_l, customer_id_r, match_probability from {}"
        " where match_probability >= {}"
    ).format(sql.Identifier(OUTPUT_SCHEMA, PAIRS_TABLE), sql.Literal(model.CLUSTER_THRESHOLD))
    pooled = engine.raw_connection()
    try:
        transfer.copy_query_into_duckdb(
            pooled.driver_connection,
            query,
            duck,
            "stored_pairs",
            {
                "customer_id_l": pa.int64(),
                "customer_id_r": pa.int64(),
                "match_probability": pa.float64(),
            },
        )
        pooled.driver_connection.rollback()
    finally:
        pooled.close()
    # Pairs touching a new, changed or removed record were scored again (or are gone).
    duck.execute(
        f"""
        create table affected_ids as
        select {model.UNIQUE_ID} as customer_id from records where {model.CHANGED_COLUMN}
        union all select customer_id from removed_ids
        """
    )
    duck.execute(
        """
        create table kept_pairs as
        select s.* from stored_pairs as s
        anti join affected_ids as a on a.customer_id = s.customer_id_l
        anti join affected_ids as b on b.customer_id = s.customer_id_r
        """
    )


def _cluster(duck, linker) -> None:
    """Connected components of the pairs at the threshold (``new_clusters``)."""
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    duck.execute(
        f"""
        create table cluster_edges as
        select customer_id_l, customer_id_r, match_probability from new_pairs
        where match_probability >= {model.CLUSTER_THRESHOLD}
        union all
        select customer_id_l, customer_id_r, match_probability from kept_pairs
        """
    )
    duck.execute(
        """
        create table cluster_nodes as
        select customer_id_l as customer_id from cluster_edges
        union select customer_id_r from cluster_edges
        """
    )
    if duck.execute("select count(*) from cluster_edges").fetchall()[0][0] == 0:
        duck.execute(
            "create table new_clusters (cluster_id bigint, customer_id bigint,"
            " cluster_size integer)"
        )
        return
    clustered = cluster_pairwise_predictions_at_threshold(
        "cluster_nodes",
        "cluster_edges",
        linker._db_api,
        node_id_column_name="customer_id",
        threshold_match_probability=model.CLUSTER_THRESHOLD,
    )
    # The lowest customer_id names the cluster: stable while its oldest record stays.
    duck.execute(
        f"""
        create table new_clusters as
        select min(customer_id) over (partition by cluster_id) as cluster_id, customer_id,
               count(*) over (partition by cluster_id) as cluster_size
        from "{clustered.physical_name}"
        """
    )
    duck.execute("delete from new_clusters where cluster_size < 2")
