"""The splink model configuration and the accuracy arithmetic (no database)."""

from __future__ import annotations

import json

import pytest

from steward.dedupe import model
from steward.dedupe.evaluate import PairScore


@pytest.fixture(scope="module")
def postgres_settings():
    return model.settings().get_settings("postgres")


def test_every_field_has_one_comparison_in_order(postgres_settings):
    names = [comparison.output_column_name for comparison in postgres_settings.comparisons]
    assert names == list(model.COMPARED_COLUMNS)


def test_comparisons_use_only_sql_postgresql_can_run(postgres_settings):
    # PostgreSQL has levenshtein (fuzzystrmatch or Steward's fallback), not Jaro-Winkler.
    rendered = json.dumps(model.settings().get_settings("postgres").as_dict()).lower()
    assert "levenshtein" in rendered
    assert "jaro" not in rendered
    assert "damerau" not in rendered


def _columns_in(rule) -> set[str]:
    condition = rule.get_blocking_rule("postgres").blocking_rule_sql
    return {
        column
        for column in model.COMPARED_COLUMNS
        if f'l."{column}"' in condition or f"l.{column}" in condition
    }


def test_blocking_rules_only_use_compared_columns():
    rules = [
        *model.prediction_blocking_rules(),
        *model.deterministic_rules(),
        *model.training_blocking_rules(),
    ]
    for rule in rules:
        condition = rule.get_blocking_rule("postgres").blocking_rule_sql
        assert _columns_in(rule), condition
        # Every l.<column> mentioned is one splink compares (and copies to its work table).
        mentioned = condition.count("l.")
        assert mentioned == sum(
            condition.count(f'l."{c}"') + condition.count(f"l.{c}") for c in _columns_in(rule)
        ), condition


def test_training_sessions_leave_every_field_free_at_least_once():
    blocked = [_columns_in(rule) for rule in model.training_blocking_rules()]
    for column in model.COMPARED_COLUMNS:
        assert any(column not in columns for columns in blocked), column


def test_thresholds_are_ordered():
    assert 0 < model.PREDICT_THRESHOLD <= model.CLUSTER_THRESHOLD < 1
    assert 0 < model.M_PROBABILITY_FLOOR < 0.01


def test_pair_score_arithmetic():
    score = PairScore(predicted=40, true=50, true_positives=36)
    assert score.precision == pytest.approx(0.9)
    assert score.recall == pytest.approx(0.72)
    assert score.f1 == pytest.approx(2 * 0.9 * 0.72 / 1.62)
    assert score.as_dict()["precision"] == 0.9


def test_pair_score_of_nothing_predicted_is_not_a_division_error():
    score = PairScore(predicted=0, true=10, true_positives=0)
    assert score.precision == 1.0
    assert score.recall == 0.0
    assert score.f1 == 0.0
