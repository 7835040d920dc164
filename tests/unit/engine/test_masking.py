"""steward.engine.masking: the category registry's answer for each column."""

from __future__ import annotations

from psycopg2 import sql

from steward.engine import masking
from steward.retention import strategies
from steward.retention.policies import load_policies

INFO = {
    "customer_id": ("bigint", False),
    "email": ("text", True),
    "date_of_birth": ("date", True),
    "attr_3": ("text", True),
    "status": ("text", False),
    "postal_code": ("text", True),
}


def _plan(columns, key=None):
    policies = load_policies()
    return {
        c.column: c for c in masking.plan_columns(columns, INFO, {"customer_id"}, policies, key)
    }


def test_the_category_decides_the_strategy():
    key = strategies.HmacKey.from_secret(b"k")
    planned = _plan(
        [
            ("email", "user.contact.email"),
            ("date_of_birth", "user.demographic.date_of_birth"),
            ("attr_3", "user.government_id.national_id"),
            ("postal_code", "user.contact.address.postal_code"),
        ],
        key,
    )
    assert planned["email"].strategy == "hmac_sha256"
    assert planned["date_of_birth"].strategy == "generalise_to_year"
    assert planned["attr_3"].strategy == "nullify"  # longest prefix: user.government_id
    assert planned["postal_code"].strategy == "truncate_postcode"
    assert planned["postal_code"].params == {"keep": 3}
    assert all(c.problem is None for c in planned.values())


def test_no_secret_falls_back_to_null_and_unmaskable_columns_are_named():
    planned = _plan(
        [
            ("email", "user.contact.email"),
            ("status", "user.government_id.national_id"),
            ("customer_id", "user.unique_id"),
            ("nope", "user.name"),
            ("attr_3", "system.operations"),
        ]
    )
    assert planned["email"].strategy == "nullify"
    assert planned["status"].problem == "NOT NULL: cannot be nulled"
    assert planned["customer_id"].problem.startswith("a key column")
    assert planned["nope"].problem == "no such column"
    assert planned["attr_3"].problem == "no masking strategy for it"


def test_masked_checks_are_sql():
    column = sql.Identifier("c")
    assert "is null" in repr(strategies.get("nullify").masked_sql(column, "text", {}))
    assert "64" in repr(strategies.get("hmac_sha256").masked_sql(column, "text", {}))
    assert "date_trunc" in repr(strategies.get("generalise_to_year").masked_sql(column, "date", {}))
