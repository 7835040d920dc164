"""Fuzzy de-duplication on the seeded warehouse: splink inside real PostgreSQL, then dbt marts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from steward import dbt_runner, warehouse
from steward.dedupe import backend, linkage, model, nightly
from steward.dedupe.cli import dedupe_app
from steward.dedupe.evaluate import evaluate

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Floors on scale s (seed 42): 15 planted clusters, 25 true pairs.
MIN_PRECISION = 0.9
MIN_RECALL = 0.9
EVIDENCE_OUTCOMES = {"exact", "fuzzy", "different", "missing"}


def run_dbt(url: str, arguments: list[str], scratch: Path):
    return dbt_runner.run(arguments, url, scratch=scratch)


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
    strings = {key for key, value in summary.items() if isinstance(value, str)}
    assert strings == {"run_id"}


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


def test_work_schema_is_dropped_and_sources_untouched(deduped, warehouse_url):
    engine = warehouse.engine(warehouse_url)
    with engine.connect() as conn:
        work = conn.execute(
            sa.text("select 1 from pg_namespace where nspname = :name"),
            {"name": linkage.WORK_SCHEMA},
        ).scalar()
        customers = conn.execute(sa.text("select count(*) from crm.customers")).scalar()
        runs = conn.execute(sa.text("select count(*) from steward.dedupe_runs")).scalar()
    assert work is None
    assert customers == 1020  # nothing merged or deleted
    assert runs >= 1


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


def _reference_levenshtein(source: str, target: str) -> int:
    """The textbook dynamic programme, by characters (as PostgreSQL's for UTF-8)."""
    previous = list(range(len(target) + 1))
    for i, source_char in enumerate(source, start=1):
        current = [i]
        for j, target_char in enumerate(target, start=1):
            cost = 0 if source_char == target_char else 1
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost))
        previous = current
    return previous[-1]


def test_levenshtein_fallback_matches_the_reference_and_fuzzystrmatch(warehouse_url):
    words = ["", "a", "ann", "anne", "anna", "jonathan", "jonahtan", "müller", "mueller", "zoë"]
    engine = warehouse.engine(warehouse_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("create schema if not exists dedupe_fallback_test")
        backend.install_levenshtein_fallback(conn, "dedupe_fallback_test")
        rows = conn.execute(
            sa.text(
                "select a, b, dedupe_fallback_test.levenshtein(a, b)"
                " from unnest(cast(:words as text[])) as a, unnest(cast(:words as text[])) as b"
            ),
            {"words": words},
        ).all()
        nulls = conn.execute(sa.text("select dedupe_fallback_test.levenshtein(null, 'x')")).scalar()
        # Where the server ships fuzzystrmatch (not the embedded one), compare with it too.
        available = conn.execute(
            sa.text("select 1 from pg_available_extensions where name = 'fuzzystrmatch'")
        ).scalar()
        native = None
        if available:
            conn.exec_driver_sql("create extension if not exists fuzzystrmatch schema public")
            native = (
                conn.execute(
                    sa.text(
                        "select public.levenshtein(a, b) from unnest(cast(:words as text[])) as a,"
                        " unnest(cast(:words as text[])) as b"
                    ),
                    {"words": words},
                )
                .scalars()
                .all()
            )
        conn.exec_driver_sql("drop schema dedupe_fallback_test cascade")
    assert len(rows) == len(words) ** 2
    assert all(distance == _reference_levenshtein(a, b) for a, b, distance in rows)
    if native is not None:
        assert native == [distance for _, _, distance in rows]
    assert nulls is None


def test_power_clamp_does_not_underflow(warehouse_url):
    engine = warehouse.engine(warehouse_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("create schema if not exists dedupe_power_test")
        backend.install_power_clamp(conn, "dedupe_power_test")
        tiny, huge, normal, other = conn.execute(
            sa.text(
                "select dedupe_power_test.power(2, -5000), dedupe_power_test.power(2, 5000),"
                " dedupe_power_test.power(2, 10), dedupe_power_test.power(10, 2)"
            )
        ).one()
        conn.exec_driver_sql("drop schema dedupe_power_test cascade")
    assert 0 < tiny < 1e-300
    assert huge > 1e300
    assert (normal, other) == (1024, 100)
