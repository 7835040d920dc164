"""A foreign international prefix ('00', or the '011' a US dialler sends) read as '+'."""

from __future__ import annotations

import pytest

from steward.phones.normalise import LIBRARY_VERSION, PARSER_VERSION, ParseStatus, normalise_raw


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("011447400123456", "GB", "+447400123456"),  # a US dialler calling a UK customer
        ("011 49 30 1234567", "DE", "+49301234567"),
        ("01152 55 1234 5678", "MX", "+525512345678"),
        ("011 55 11 91234 5678", "BR", "+5511912345678"),
        ("001 415 555 0123", "US", "+14155550123"),
    ],
)
def test_foreign_idd_is_rescued(raw, region, e164):
    parsed = normalise_raw(raw, region)
    assert parsed.status is ParseStatus.VALID
    assert parsed.e164 == e164
    assert parsed.rescued_idd


def test_valid_national_numbers_starting_with_011_are_not_rescued():
    # 0114 is Sheffield: a valid British number must keep its national reading.
    parsed = normalise_raw("0114 496 0123", "GB")
    assert parsed.e164 == "+441144960123"
    assert not parsed.rescued_idd


def test_011_in_the_us_is_the_parsers_own_idd():
    parsed = normalise_raw("011 44 7400 123456", "US")
    assert parsed.e164 == "+447400123456"
    assert not parsed.rescued_idd


def test_no_rescue_when_it_would_not_give_a_valid_number():
    assert normalise_raw("011 999 123", "GB").status is not ParseStatus.VALID
    assert normalise_raw("0 11 44 7400 123456", "GB").rescued_idd is False


def test_the_parser_version_names_library_and_rules():
    assert PARSER_VERSION.startswith(LIBRARY_VERSION + "+steward.")
