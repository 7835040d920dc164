"""Masking strategies: the Python reference of each, and the HMAC key padding the SQL uses."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import pytest
from psycopg2 import sql

from steward.retention import strategies


def test_nullify_returns_null():
    assert strategies.get("nullify").reference("Alice", {}) is None


def test_hmac_is_keyed_sha256_and_depends_on_the_key():
    strategy = strategies.get("hmac_sha256")
    value = "alice@example.com"
    digest = strategy.reference(value, {}, b"secret-one")
    assert digest == hmac.new(b"secret-one", value.encode(), hashlib.sha256).hexdigest()
    assert len(digest) == 64
    assert strategy.reference(value, {}, b"secret-two") != digest
    assert strategy.reference(None, {}, b"secret-one") is None


def test_hmac_refuses_to_run_without_a_secret():
    with pytest.raises(strategies.MaskingError, match="secret"):
        strategies.get("hmac_sha256").reference("x", {}, None)
    with pytest.raises(strategies.MaskingError, match="secret"):
        strategies.get("hmac_sha256").sql(sql.Identifier("email"), "text", {}, None)


@pytest.mark.parametrize("secret", [b"k", b"a-typical-secret", b"x" * 64, b"long" * 40])
def test_padded_keys_reproduce_hmac_with_plain_sha256(secret):
    # The SQL computes sha256(outer || sha256(inner || m)); it must equal HMAC-SHA256.
    key = strategies.HmacKey.from_secret(secret)
    message = b"+14155550123"
    inner = hashlib.sha256(key.inner + message).digest()
    assert hashlib.sha256(key.outer + inner).hexdigest() == (
        hmac.new(secret, message, hashlib.sha256).hexdigest()
    )
    assert "x" * 8 not in repr(key) and "hidden" in repr(key)


def test_hmac_sql_binds_the_key_instead_of_inlining_it():
    key = strategies.HmacKey.from_secret(b"secret")
    expression = strategies.get("hmac_sha256").sql(sql.Identifier("email"), "text", {}, key)
    placeholders = {part.name for part in expression.seq if isinstance(part, sql.Placeholder)}
    assert placeholders == {"hmac_inner", "hmac_outer"}
    assert set(key.params) == placeholders


def test_generalise_to_year_keeps_the_type():
    strategy = strategies.get("generalise_to_year")
    assert strategy.reference(dt.date(1984, 7, 19), {}) == dt.date(1984, 1, 1)
    stamp = dt.datetime(2001, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    assert strategy.reference(stamp, {}) == dt.datetime(2001, 1, 1, tzinfo=dt.UTC)
    assert strategy.reference(None, {}) is None


@pytest.mark.parametrize(
    ("postcode", "keep", "expected"),
    [
        ("SW1A 1AA", 3, "SW1A"),  # UK: the outward code
        ("94105", 3, "941"),  # US ZIP: the first three digits
        ("94105-1234", 3, "941"),
        ("75008", 2, "75"),
        (" 10115 ", 3, "101"),
        (None, 3, None),
    ],
)
def test_truncate_postcode(postcode, keep, expected):
    assert strategies.get("truncate_postcode").reference(postcode, {"keep": keep}) == expected


def test_strategy_parameters_are_checked():
    strategy = strategies.get("truncate_postcode")
    assert strategy.check({"keep": 3}) == []
    assert any("keep" in problem for problem in strategy.check({"keep": -1}))
    assert any("unknown parameter 'digits'" in p for p in strategy.check({"digits": 2}))


def test_unknown_strategy_is_named():
    with pytest.raises(strategies.MaskingError, match="'shred'"):
        strategies.get("shred")
