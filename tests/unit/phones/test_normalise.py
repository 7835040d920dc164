"""normalise_raw on what agents really type: every input gets a status, none raises."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from steward.phones.normalise import (
    LIBRARY_VERSION,
    MAX_RAW_LENGTH,
    ParseStatus,
    normalise_raw,
    resolve_region,
)

VALID = ParseStatus.VALID
EMPTY = ParseStatus.EMPTY
INVALID = ParseStatus.INVALID
UNPARSEABLE = ParseStatus.UNPARSEABLE
POSSIBLE = ParseStatus.POSSIBLE_BUT_INVALID


@pytest.mark.parametrize(
    ("raw", "region", "status", "e164"),
    [
        # Spellings of one valid US number.
        ("(415) 555-0123", "US", VALID, "+14155550123"),
        ("415.555.0123", None, VALID, "+14155550123"),
        ("+1 415-555-0123", "GB", VALID, "+14155550123"),
        ("1-415-555-0123", "US", VALID, "+14155550123"),
        ("  4155550123\t\n", "us", VALID, "+14155550123"),
        ("011 1 415 555 0123", "US", VALID, "+14155550123"),
        # '00' typed as the international prefix where it is not one (US dials 011).
        ("001 415 555 0123", "US", VALID, "+14155550123"),
        ("0044 7400 123456", "US", VALID, "+447400123456"),
        ("(00 44) 7400 123456", None, VALID, "+447400123456"),
        # Country code present, no region hint: the '+' decides.
        ("+44 7400 123456", None, VALID, "+447400123456"),
        ("+49 30 1234567", None, VALID, "+49301234567"),
        # A national spelling needs the right hint.
        ("07400 123456", "GB", VALID, "+447400123456"),
        ("07400 123456", "uk", VALID, "+447400123456"),  # a common non-ISO spelling
        ("07400 123456", None, INVALID, None),
        ("(415) 555-0123", "GB", POSSIBLE, None),
        # An unknown or garbage hint falls back to the default region.
        ("(415) 555-0123", "ZZ", VALID, "+14155550123"),
        ("(415) 555-0123", "not a country", VALID, "+14155550123"),
        # Extensions are kept out of the E.164 and flagged.
        ("(415) 555-0123 ext. 204", "US", VALID, "+14155550123"),
        ("415.555.0123 x12", "US", VALID, "+14155550123"),
        ("x123", "US", INVALID, None),
        ("ext. 12", "US", INVALID, None),
        # Vanity numbers.
        ("1-800-FLOWERS", "US", VALID, "+18003569377"),
        ("+1 (800) flowers", None, VALID, "+18003569377"),
        # Unicode digits and plus signs.
        ("٠٧٤٠٠١٢٣٤٥٦", "GB", VALID, "+447400123456"),  # Arabic-Indic
        ("۰۷۴۰۰۱۲۳۴۵۶", "GB", VALID, "+447400123456"),  # Extended Arabic-Indic (Persian)
        ("０７４００１２３４５６", "GB", VALID, "+447400123456"),  # fullwidth
        ("＋４４ ７４００ １２３４５６", None, VALID, "+447400123456"),
        # Typos and junk.
        ("555-O123", "US", INVALID, None),
        ("555-0123", "US", POSSIBLE, None),  # local only: no area code
        ("+1 415 555 01234", "US", INVALID, None),
        ("n/a", "US", UNPARSEABLE, None),
        ("see notes", "US", UNPARSEABLE, None),
        ("abc", None, UNPARSEABLE, None),
        ("+", None, UNPARSEABLE, None),
        ("+999 123 456", None, UNPARSEABLE, None),  # no such country code
        # Nothing there.
        (None, "US", EMPTY, None),
        ("", None, EMPTY, None),
        ("   \t ", "GB", EMPTY, None),
    ],
)
def test_status_and_e164(raw, region, status, e164):
    parsed = normalise_raw(raw, region)
    assert parsed.status is status
    assert parsed.e164 == e164
    assert parsed.is_valid == (status is VALID)


def test_valid_numbers_carry_type_region_and_extension():
    parsed = normalise_raw("(415) 555-0123 ext. 204", "US")
    assert (parsed.number_type, parsed.region_code, parsed.has_extension) == (
        "fixed_line_or_mobile",
        "US",
        True,
    )
    mobile = normalise_raw("07400 123456", "GB")
    assert (mobile.number_type, mobile.region_code, mobile.has_extension) == ("mobile", "GB", False)
    assert normalise_raw("1-800-FLOWERS", "US").number_type == "toll_free"
    assert normalise_raw("+800 1234 5678", None).region_code == "001"  # non-geographic


def test_idd_rescue_is_flagged_and_only_used_when_needed():
    assert normalise_raw("001 415 555 0123", "US").rescued_idd
    # In Britain '00' is the international prefix: the parser reads it, no rescue.
    assert not normalise_raw("001 415 555 0123", "GB").rescued_idd
    assert not normalise_raw("(415) 555-0123", "US").rescued_idd


def test_region_used_is_the_hint_or_the_default():
    assert normalise_raw("07400 123456", "gb ").region_used == "GB"
    assert normalise_raw("07400 123456", None).region_used == "US"
    assert normalise_raw("07400 123456", None, default_region="GB").status is VALID
    assert normalise_raw("07400 123456", "", default_region="GB").e164 == "+447400123456"


def test_a_bad_default_region_is_a_configuration_error():
    with pytest.raises(ValueError, match="default region"):
        resolve_region(None, "XX")


@pytest.mark.parametrize("length", [MAX_RAW_LENGTH + 1, 251, 10_000, 1_000_000])
def test_absurd_lengths_are_unparseable_without_parsing(length):
    raw = ("+1 415 555 0123 " * (length // 16 + 1))[:length]
    parsed = normalise_raw(raw, "US")
    assert parsed.status is UNPARSEABLE
    assert parsed.failure_reason == "input_too_long"


def test_fifty_characters_are_still_parsed():
    raw = "+1 415 555 0123 ext. 204".ljust(MAX_RAW_LENGTH)
    assert len(raw) == MAX_RAW_LENGTH
    assert normalise_raw(raw, None).status is VALID


def test_failure_reasons_name_the_problem():
    assert normalise_raw("n/a", "US").failure_reason == "not_a_number"
    assert normalise_raw("+1 415 555 01234", "US").failure_reason == "too_long"
    assert normalise_raw("555-0123", "US").failure_reason == "is_possible_local_only"
    assert normalise_raw("(415) 555-0123", "GB").failure_reason == "not_a_valid_range"
    assert normalise_raw("(415) 555-0123", "US").failure_reason is None


def test_random_garbage_never_raises():
    rng = random.Random(20240601)
    alphabet = (
        "0123456789+-()./ xXextEXT#*,;:'\"\\\t\n"
        "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹０１２３４５６７８９＋"
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
        "éßøΩЖ中文😀\u200b\u00a0\ufeff"
    )
    statuses = set()
    for _ in range(5_000):
        raw = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        region = rng.choice([None, "", "US", "GB", "DE", "IN", "BR", "zz", "001", "us"])
        parsed = normalise_raw(raw, region)
        statuses.add(parsed.status)
        assert (parsed.e164 is not None) == parsed.is_valid
        if parsed.is_valid:
            assert phonenumbers.is_valid_number(phonenumbers.parse(parsed.e164))
        if not parsed.rescued_idd and region in ("US", "GB", "DE", "IN", "BR"):
            assert parsed.is_valid == _reference_is_valid(raw.strip(), region)
    assert {UNPARSEABLE, INVALID, EMPTY} <= statuses


def _reference_is_valid(raw: str, region: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(raw, region))
    except phonenumbers.NumberParseException:
        return False


def test_validity_agrees_with_is_valid_number_on_random_digits():
    """normalise_raw asks number_type() only; it must agree with is_valid_number()."""
    rng = random.Random(7)
    regions = sorted(phonenumbers.SUPPORTED_REGIONS)
    valid_seen = 0
    for _ in range(20_000):
        region = rng.choice(regions)
        prefix = rng.choice(["", "+", "0", "00"])
        raw = prefix + "".join(str(rng.randrange(10)) for _ in range(rng.randint(4, 14)))
        parsed = normalise_raw(raw, region)
        if parsed.rescued_idd:
            continue
        assert parsed.is_valid == _reference_is_valid(raw, region), (raw, region)
        valid_seen += parsed.is_valid
    assert valid_seen > 500


def test_library_version_is_the_installed_one():
    assert phonenumbers.__version__ == LIBRARY_VERSION
