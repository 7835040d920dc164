"""SSNs and card numbers are valid by format, issuer and Luhn."""

from __future__ import annotations

import numpy as np

from steward.seed import identifiers


def test_ssns_follow_the_ssa_rules():
    values = identifiers.ssns(np.random.default_rng(1), 20_000)
    assert all(identifiers.is_valid_ssn(value) for value in values)
    dashed = [value for value in values if "-" in value]
    assert 0.8 < len(dashed) / len(values) < 0.9
    assert all(len(value) == 11 for value in dashed)


def test_is_valid_ssn_rejects_reserved_parts():
    for bad in ("000-12-3456", "666-12-3456", "912-12-3456", "123-00-4567", "123-45-0000"):
        assert not identifiers.is_valid_ssn(bad)
    assert identifiers.is_valid_ssn("123-45-6789")


def test_card_numbers_pass_luhn_with_issuer_prefix_and_length():
    numbers, issuers = identifiers.card_numbers(np.random.default_rng(2), 5_000)
    assert set(issuers) == {"visa", "mastercard", "amex", "discover"}
    rules = {name: (prefixes, length) for name, prefixes, length, _ in identifiers.CARD_ISSUERS}
    for number, issuer in zip(numbers, issuers, strict=True):
        prefixes, length = rules[issuer]
        assert len(number) == length and number.isdigit()
        assert number.startswith(prefixes)
        assert identifiers.luhn_valid(number)


def test_luhn_rejects_a_changed_digit():
    assert identifiers.luhn_valid("4111111111111111")
    assert not identifiers.luhn_valid("4111111111111112")


def test_masked_and_spaced_cards():
    assert identifiers.masked_card("4111111111111111") == "************1111"
    assert identifiers.masked_card("378282246310005") == "***********0005"
    assert identifiers.spaced_card("378282246310005") == "3782 822463 10005"
    assert identifiers.spaced_card("4111111111111111") == "4111 1111 1111 1111"


def test_zero_pad():
    assert list(identifiers.zero_pad(np.array([1, 42, 1234]), 4)) == ["0001", "0042", "1234"]
