"""The splink model: which fields are compared, how pairs are found, how it is trained.

Pure configuration (no database): unit tests check it, :mod:`steward.dedupe.linkage`
runs it with splink's DuckDB backend, in process, on the compared columns streamed
out of PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import splink.comparison_library as cl
from splink import SettingsCreator, block_on

SQL_DIALECT = "duckdb"

UNIQUE_ID = "customer_id"
SEED = 42
# Pairs below this are not written at all; clusters use CLUSTER_THRESHOLD.
PREDICT_THRESHOLD = 0.5
CLUSTER_THRESHOLD = 0.9
# Share of true duplicate pairs the deterministic rules below are assumed to find
# (used to estimate the prior that two random records match).
DETERMINISTIC_RECALL = 0.7
U_SAMPLE_PAIRS = 2_000_000
# EM on clean data drives m of "fields differ" towards 0 (every planted duplicate
# shares its birth date), i.e. one differing field would veto any match. Real
# records have slips in every field: m never goes below this floor.
M_PROBABILITY_FLOOR = 1e-4
EM_MAX_ITERATIONS = 10
# Caps the blocked pairs each EM session reads (large warehouses).
EM_MAX_PAIRS = 500_000
# The column the incremental night adds to the records: true for new or changed ones.
CHANGED_COLUMN = "steward_changed"
# More new or changed records than this share: score every pair again (and retrain).
FULL_RUN_CHANGED_SHARE = 0.25
# A stored model older than this is retrained on the next run.
RETRAIN_AFTER_DAYS = 30


@dataclass(frozen=True)
class Field:
    """One compared field: the column of ``int_dedupe__customer_records`` and how."""

    column: str
    kind: str  # 'exact' | 'fuzzy'
    fuzzy_thresholds: tuple[int, ...] = ()


FIELDS: tuple[Field, ...] = (
    Field("first_name", "fuzzy", (1, 2)),
    Field("last_name", "fuzzy", (1, 2)),
    Field("date_of_birth", "exact"),
    Field("email", "exact"),
    Field("phone_e164", "exact"),
    Field("postal_code", "exact"),
    Field("street", "fuzzy", (2,)),
)
# Columns splink needs besides the compared ones (none: activity stays in dbt).
COMPARED_COLUMNS: tuple[str, ...] = tuple(field.column for field in FIELDS)


def comparisons() -> list:
    """One splink comparison per field, in :data:`FIELDS` order."""
    made = []
    for field in FIELDS:
        if field.kind == "exact":
            made.append(cl.ExactMatch(field.column))
        else:
            made.append(cl.LevenshteinAtThresholds(field.column, list(field.fuzzy_thresholds)))
    return made


def prediction_blocking_rules() -> list:
    """How candidate pairs are found: any one of these must hold.

    Each is selective (a day of birth, an e-mail, a number, a street's postcode
    with a name's start) so that the pairs grow with duplicates, not with n².
    """
    return [
        block_on("date_of_birth"),
        block_on("email"),
        block_on("phone_e164"),
        block_on("postal_code", "substr(last_name, 1, 2)"),
    ]


def incremental_blocking_rules() -> list[dict]:
    """The prediction rules restricted to pairs with a new or changed record on one side.

    Same equi-join keys (DuckDB hashes on them), plus a filter: unchanged pairs
    keep the score they were given on an earlier night.
    """
    changed = f"(l.{CHANGED_COLUMN} or r.{CHANGED_COLUMN})"
    return [
        {
            "blocking_rule": f"{rule.get_blocking_rule(SQL_DIALECT).blocking_rule_sql}"
            f" and {changed}",
            "sql_dialect": SQL_DIALECT,
        }
        for rule in prediction_blocking_rules()
    ]


def signature() -> str:
    """A digest of everything that defines the model; a stored model with another is retrained."""
    described = {
        "settings": settings().get_settings(SQL_DIALECT).as_dict(),
        "training": [
            rule.get_blocking_rule(SQL_DIALECT).blocking_rule_sql
            for rule in (*deterministic_rules(), *training_blocking_rules())
        ],
        "constants": [DETERMINISTIC_RECALL, U_SAMPLE_PAIRS, M_PROBABILITY_FLOOR, SEED],
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True, default=str).encode()).hexdigest()


def deterministic_rules() -> list:
    """Pairs that are almost surely the same person: for the match prior only."""
    return [
        block_on("date_of_birth", "email"),
        block_on("date_of_birth", "phone_e164"),
        block_on("date_of_birth", "postal_code", "last_name"),
    ]


def training_blocking_rules() -> list:
    """EM sessions: each leaves some fields free, so every field's m is estimated."""
    return [
        block_on("date_of_birth"),  # trains names, e-mail, phone, address
        block_on("postal_code"),  # trains date of birth (and the rest again)
    ]


def settings() -> SettingsCreator:
    """The splink settings for de-duplicating customer records."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name=UNIQUE_ID,
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=prediction_blocking_rules(),
        # splink 5 keeps the gamma_<field> columns (the level each field reached,
        # which becomes the evidence) only with the matching columns. They stay in
        # DuckDB's process memory: the output tables hold ids and outcomes only.
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=False,
        additional_columns_to_retain=[],
        max_iterations=EM_MAX_ITERATIONS,
    )
