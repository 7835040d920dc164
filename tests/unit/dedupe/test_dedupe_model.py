"""The splink model configuration and the accuracy arithmetic (no database)."""

from __future__ import annotations

import json

import pytest

from steward.dedupe import model
from steward.dedupe.evaluate import PairScore


@pytest.fixture(scope="module")
def duckdb_settings():
    return model.settings().get_settings(model.SQL_DIALECT)


def test_every_field_has_one_comparison_in_order(duckdb_settings):
    names = [comparison.output_column_name for comparison in duckdb_settings.comparisons]
    assert names == list(model.COMPARED_COLUMNS)


def test_fuzzy_fields_use_levenshtein(duckdb_settings):
    rendered = json.dumps(duckdb_settings.as_dict()).lower()
    assert "levenshtein" in rendered


def test_incremental_rules_are_the_prediction_rules_restricted_to_changed_records():
    full = [
        rule.get_blocking_rule(model.SQL_DIALECT).blocking_rule_sql
        for rule in model.prediction_blocking_rules()
    ]
    incremental = model.incremental_blocking_rules()
    assert len(incremental) == len(full)
    for plain, restricted in zip(full, incremental, strict=True):
        assert restricted["sql_dialect"] == model.SQL_DIALECT
        assert restricted["blocking_rule"].startswith(plain)
        assert (
            f"l.{model.CHANGED_COLUMN} or r.{model.CHANGED_COLUMN}" in (restricted["blocking_rule"])
        )


def test_model_signature_is_stable_and_follows_the_settings(monkeypatch):
    first = model.signature()
    assert first == model.signature()
    monkeypatch.setattr(model, "CLUSTER_THRESHOLD", 0.95)  # not part of the model
    assert model.signature() == first
    monkeypatch.setattr(model, "M_PROBABILITY_FLOOR", 1e-3)
    assert model.signature() != first


def _columns_in(rule) -> set[str]:
    condition = rule.get_blocking_rule(model.SQL_DIALECT).blocking_rule_sql
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
        condition = rule.get_blocking_rule(model.SQL_DIALECT).blocking_rule_sql
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
