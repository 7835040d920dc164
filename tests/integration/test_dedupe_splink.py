"""Fuzzy de-duplication on the seeded warehouse: splink on DuckDB, results in real PostgreSQL."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from steward import dbt_runner, paths, warehouse
from steward.dedupe import model, nightly
from steward.dedupe.cli import dedupe_app
from steward.dedupe.evaluate import evaluate

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Floors on scale s (seed 42): 15 planted clusters, 25 true pairs.
MIN_PRECISION = 0.9
MIN_RECALL = 0.9
EVIDENCE_OUTCOMES = {"exact", "fuzzy", "different", "missing"}


def run_dbt(url: str, arguments: list[str], scratch: Path):
    return dbt_runner.run(arguments, url, scratch=scratch)


def rebuild_dedupe_table(url: str, scratch: Path) -> None:
    """The nightly order: dbt rebuilds the dedupe table from the sources before the run."""
    built = run_dbt(url, ["run", "-s", "path:models/intermediate/dedupe"], scratch)
    assert built.success, built.exception


@pytest.fixture(scope="module")
def deduped(seeded_warehouse, warehouse_url, tmp_path_factory):
    """Phone lookup, dedupe view, splink run, then the marts: the nightly order."""
    from steward.phones.lookup import refresh_phone_lookup

    scratch = tmp_path_factory.mktemp("dbt_dedupe")
    refresh_phone_lookup(warehouse.engine(warehouse_url))
    view = run_dbt(warehouse_url, ["run", "-s", "+path:models/intermediate/dedupe"], scratch)
    assert view.success, view.exception
    summary = nightly.run(warehouse_url)
    marts = run_dbt(warehouse_url, ["build", "-s", "path:models/marts/dedupe"], scratch)
    return {"summary": summary, "marts": marts, "scratch": scratch}


def test_nightly_run_returns_counts_only(deduped):
    summary = deduped["summary"]
    json.dumps(summary)  # serialisable for Airflow's XCom
    assert summary["records"] == 1020
    assert summary["clusters"] >= 1
    assert summary["clustered_records"] >= 2 * summary["clusters"]
    assert summary["mode"] == "full"
    assert summary["changed_records"] == 1020
    strings = {key for key, value in summary.items() if isinstance(value, str)}
    assert strings == {"run_id", "mode"}


def test_accuracy_against_planted_duplicates(deduped, warehouse_url):
    scores = evaluate(warehouse_url)
    for kind in ("pairs", "clusters"):
        assert scores[kind]["true"] == 25, scores
        assert scores[kind]["precision"] >= MIN_PRECISION, (kind, scores[kind])
        assert scores[kind]["recall"] >= MIN_RECALL, (kind, scores[kind])


def test_pairs_carry_evidence_and_no_record_values(deduped, warehouse_url):
    engine = warehouse.engine(warehouse_url)
    with engine.connect() as conn:
        columns = {
            row[0]
            for row in conn.execute(
                sa.text(
                    "select column_name from information_schema.columns"
                    " where table_schema = 'steward' and table_name = 'customer_match_pairs'"
                )
            )
        }
        rows = conn.execute(
            sa.text(
                "select customer_id_l, customer_id_r, match_probability, evidence,"
                " agreed_fields, fuzzy_fields, differing_fields from steward.customer_match_pairs"
            )
        ).all()
    assert not columns & {"first_name_l", "email_l", "phone_e164_l", "street_l"}
    assert rows
    for left, right, probability, evidence, agreed, fuzzy, differing in rows:
        assert left < right
        assert model.PREDICT_THRESHOLD <= probability <= 1
        assert set(evidence) == set(model.COMPARED_COLUMNS)
        assert set(evidence.values()) <= EVIDENCE_OUTCOMES
        assert set(agreed) == {f for f, outcome in evidence.items() if outcome == "exact"}
        assert set(fuzzy) == {f for f, outcome in evidence.items() if outcome == "fuzzy"}
        assert set(differing) == {f for f, outcome in evidence.items() if outcome == "different"}
    # Planted copies carry a re-typed first name: some pair shows a fuzzy name agreement.
    assert any("first_name" in fuzzy for *_, fuzzy, _ in rows)


def test_sources_untouched_and_fingerprints_kept(deduped, warehouse_url):
    engine = warehouse.engine(warehouse_url)
    with engine.connect() as conn:
        customers = conn.execute(sa.text("select count(*) from crm.customers")).scalar()
        runs = conn.execute(sa.text("select count(*) from steward.dedupe_runs")).scalar()
        fingerprints = conn.execute(
            sa.text("select count(*) from steward.dedupe_record_fingerprints")
        ).scalar()
    assert customers == 1020  # nothing merged or deleted
    assert runs >= 1
    assert fingerprints == 1020


def test_duckdb_spill_folder_is_removed(deduped, warehouse_url, tmp_path, monkeypatch):
    monkeypatch.setenv("STEWARD_DATA_DIR", str(tmp_path))
    nightly.run(warehouse_url, full=True)
    assert paths.data_dir() == tmp_path
    assert list(tmp_path.iterdir()) == []


def test_marts_build_and_propose_one_survivor_per_cluster(deduped, warehouse_url):
    assert deduped["marts"].success, deduped["marts"].exception
    engine = warehouse.engine(warehouse_url)
    with engine.connect() as conn:
        clusters = conn.execute(
            sa.text(
                "select cluster_id, member_count, member_customer_ids, surviving_customer_id,"
                " max_match_probability from steward.customer_duplicate_clusters"
            )
        ).all()
        stored = conn.execute(
            sa.text("select count(distinct cluster_id) from steward.customer_clusters")
        ).scalar()
        # The survivor is the most complete member (rule 1 of the documented order).
        beaten = conn.execute(
            sa.text(
                """
                with filled as (
                    select customer_id,
                        (first_name is not null)::int + (last_name is not null)::int
                        + (date_of_birth is not null)::int + (email is not null)::int
                        + (phone_e164 is not null)::int + (postal_code is not null)::int
                        + (street is not null)::int as fields
                    from intermediate.int_dedupe__customer_records
                )
                select count(*) from steward.customer_duplicate_clusters as c
                join filled as survivor on survivor.customer_id = c.surviving_customer_id
                join filled as member on member.customer_id = any(c.member_customer_ids)
                where member.fields > survivor.fields
                """
            )
        ).scalar()
        evidence = conn.execute(
            sa.text("select count(*) from steward.customer_duplicate_evidence")
        ).scalar()
        pairs = conn.execute(sa.text("select count(*) from steward.customer_match_pairs")).scalar()
    assert len(clusters) == stored == deduped["summary"]["clusters"]
    for _, member_count, members, survivor, probability in clusters:
        assert member_count == len(members) >= 2
        assert survivor in members
        assert probability >= model.CLUSTER_THRESHOLD
    assert beaten == 0
    assert evidence == pairs


def test_second_run_is_idempotent_and_deterministic(deduped, warehouse_url):
    engine = warehouse.engine(warehouse_url)
    query = sa.text(
        "select customer_id_l, customer_id_r, round(match_probability::numeric, 9)"
        " from steward.customer_match_pairs order by 1, 2"
    )
    with engine.connect() as conn:
        before = conn.execute(query).all()
    again = nightly.run(warehouse_url)
    with engine.connect() as conn:
        after = conn.execute(query).all()
    assert after == before
    assert again["candidate_pairs"] == deduped["summary"]["candidate_pairs"]


def test_cli_prints_counts_and_scores_without_record_values(deduped, warehouse_url):
    runner = CliRunner()
    ran = runner.invoke(dedupe_app, ["run"])
    scored = runner.invoke(dedupe_app, ["evaluate", "--json"])
    assert ran.exit_code == 0, ran.output
    assert scored.exit_code == 0, scored.output
    assert "customer records" in ran.output
    assert json.loads(scored.output)["clusters"]["recall"] >= MIN_RECALL
    # No e-mail address, E.164 number or date in the output.
    combined = ran.output + scored.output
    assert not re.search(r"@|\+\d{8,}|\d{4}-\d{2}-\d{2}", combined)


def _pairs(engine):
    with engine.connect() as conn:
        return {
            (left, right): (round(probability, 9), run_id)
            for left, right, probability, run_id in conn.execute(
                sa.text(
                    "select customer_id_l, customer_id_r, match_probability, run_id::text"
                    " from steward.customer_match_pairs"
                )
            )
        }


def test_incremental_night_rescores_only_changed_records(deduped, warehouse_url):
    """A changed record's pairs are scored again; every other pair and cluster is kept."""
    engine = warehouse.engine(warehouse_url)
    before = _pairs(engine)
    with engine.connect() as conn:
        changed_id, partner_id = conn.execute(
            sa.text(
                "select customer_id_l, customer_id_r from steward.customer_match_pairs"
                " order by customer_id_l limit 1"
            )
        ).one()
        clusters_before = conn.execute(
            sa.text("select customer_id, cluster_id from steward.customer_clusters")
        ).all()
    with engine.begin() as conn:
        # A new spelling of the e-mail's case is no change (the view lower-cases it);
        # a typo in the street is one.
        conn.execute(
            sa.text(
                "update crm.customer_addresses set street = street || ' x' where customer_id = :id"
            ),
            {"id": changed_id},
        )
    rebuild_dedupe_table(warehouse_url, deduped["scratch"])
    try:
        night = nightly.run(warehouse_url)
        after = _pairs(engine)
        with engine.connect() as conn:
            clusters_after = conn.execute(
                sa.text("select customer_id, cluster_id from steward.customer_clusters")
            ).all()
    finally:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "update crm.customer_addresses set street = left(street, -2)"
                    " where customer_id = :id"
                ),
                {"id": changed_id},
            )
        rebuild_dedupe_table(warehouse_url, deduped["scratch"])
    assert night["mode"] == "incremental"
    assert night["changed_records"] == 1
    assert 1 <= night["scored_pairs"] < len(before)
    touched = {pair for pair in after if changed_id in pair}
    assert (min(changed_id, partner_id), max(changed_id, partner_id)) in touched
    for pair, (probability, run_id) in after.items():
        if pair in touched:
            assert run_id == night["run_id"]
        else:  # kept from the earlier night, unchanged
            assert before[pair] == (probability, run_id)
    assert sorted(clusters_after) == sorted(clusters_before)
    # Back to the original value: one more incremental night restores the old scores.
    nightly.run(warehouse_url)
    restored = _pairs(engine)
    assert {pair: p for pair, (p, _) in restored.items()} == {
        pair: p for pair, (p, _) in before.items()
    }


def test_removed_record_loses_its_pairs_and_cluster(deduped, warehouse_url):
    engine = warehouse.engine(warehouse_url)
    with engine.connect() as conn:
        member = conn.execute(
            sa.text(
                "select customer_id from steward.customer_clusters where cluster_size = 2"
                " order by customer_id limit 1"
            )
        ).scalar()
    # Hide the record from the dedupe table (a filtered view in its place), then restore.
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "alter table intermediate.int_dedupe__customer_records"
            " rename to int_dedupe__customer_records_full"
        )
        conn.execute(
            sa.text(
                "create view intermediate.int_dedupe__customer_records as"
                " select * from intermediate.int_dedupe__customer_records_full"
                f" where customer_id <> {int(member)}"
            )
        )
    try:
        night = nightly.run(warehouse_url)
        with engine.connect() as conn:
            pairs = conn.execute(
                sa.text(
                    "select count(*) from steward.customer_match_pairs"
                    " where :id in (customer_id_l, customer_id_r)"
                ),
                {"id": member},
            ).scalar()
            clustered = conn.execute(
                sa.text("select count(*) from steward.customer_clusters where customer_id = :id"),
                {"id": member},
            ).scalar()
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql("drop view intermediate.int_dedupe__customer_records")
            conn.exec_driver_sql(
                "alter table intermediate.int_dedupe__customer_records_full"
                " rename to int_dedupe__customer_records"
            )
        nightly.run(warehouse_url)
    assert night["mode"] == "incremental"
    assert night["removed_records"] == 1
    assert pairs == 0
    assert clustered == 0


def test_transfer_round_trip_keeps_nulls_empties_quotes_and_newlines(warehouse_url):
    """PostgreSQL -> DuckDB -> PostgreSQL through COPY keeps every awkward value as it was."""
    import duckdb
    import pyarrow as pa
    from psycopg2 import sql

    from steward.dedupe import transfer

    values = [None, "", "plain", 'say "hi", then go', "line\nbreak", "zoë, o'brien", "\\N", ","]
    engine = warehouse.engine(warehouse_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("drop table if exists public.dedupe_transfer_test")
        conn.exec_driver_sql("create table public.dedupe_transfer_test (id bigint, value text)")
        conn.execute(
            sa.text("insert into public.dedupe_transfer_test values (:id, :value)"),
            [{"id": number, "value": value} for number, value in enumerate(values)],
        )
    duck = duckdb.connect()
    pooled = engine.raw_connection()
    try:
        copied = transfer.copy_query_into_duckdb(
            pooled.driver_connection,
            sql.SQL("select id, value from public.dedupe_transfer_test"),
            duck,
            "incoming",
            {"id": pa.int64(), "value": pa.string()},
        )
        in_duckdb = dict(duck.execute("select id, value from incoming").fetchall())
        with pooled.driver_connection.cursor() as cursor:
            cursor.execute("create table public.dedupe_transfer_back (id bigint, value text)")
            written = transfer.copy_duckdb_into_postgres(
                cursor,
                duck,
                "select id, value from incoming",
                sql.Identifier("public", "dedupe_transfer_back"),
                ["id", "value"],
            )
            cursor.execute("select id, value from public.dedupe_transfer_back")
            back = dict(cursor.fetchall())
            cursor.execute("drop table public.dedupe_transfer_back, public.dedupe_transfer_test")
        pooled.driver_connection.commit()
    finally:
        pooled.close()
        duck.close()
    expected = dict(enumerate(values))
    assert copied == written == len(values)
    assert in_duckdb == expected
    assert back == expected
