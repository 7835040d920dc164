"""libphonenumber's own example numbers, as shipped in the phonenumbers wheel.

For every supported region and every number type with an example, the national
and international spellings (and the spelling dialled from the US, and from a
'00' country) must normalise to the example's E.164 with its number type.
"""

from __future__ import annotations

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from steward.phones.normalise import ParseStatus, normalise_raw

TYPE_NAMES = {
    value: name.lower()
    for name, value in vars(PhoneNumberType).items()
    if name.isupper() and isinstance(value, int)
}


def _region_examples():
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for number_type in sorted(phonenumbers.supported_types_for_region(region)):
            example = phonenumbers.example_number_for_type(region, number_type)
            if example is not None:
                yield region, number_type, example


def _non_geographic_examples():
    for country_code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        example = phonenumbers.example_number_for_non_geo_entity(country_code)
        if example is not None:
            yield country_code, example


REGION_EXAMPLES = list(_region_examples())
NON_GEOGRAPHIC_EXAMPLES = list(_non_geographic_examples())


def test_the_wheel_ships_examples_for_every_region():
    regions = {region for region, _, _ in REGION_EXAMPLES}
    assert regions == set(phonenumbers.SUPPORTED_REGIONS)
    assert len(REGION_EXAMPLES) > 1_000
    assert NON_GEOGRAPHIC_EXAMPLES


def _assert_normalised(raw: str, hint: str | None, example, requested_type: int) -> None:
    parsed = normalise_raw(raw, hint)
    expected_e164 = phonenumbers.format_number(example, PhoneNumberFormat.E164)
    assert parsed.status is ParseStatus.VALID, (raw, hint, parsed)
    assert parsed.e164 == expected_e164, (raw, hint)
    # The library may classify an example more broadly than the type it was
    # asked for (US fixed lines and mobiles share ranges: fixed_line_or_mobile).
    actual_type = phonenumbers.number_type(example)
    assert parsed.number_type == TYPE_NAMES[actual_type], (raw, hint)
    if actual_type != requested_type:
        assert actual_type == PhoneNumberType.FIXED_LINE_OR_MOBILE
        assert requested_type in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE)
    assert parsed.region_code == phonenumbers.region_code_for_number(example)


@pytest.mark.parametrize(
    ("region", "number_type", "example"),
    REGION_EXAMPLES,
    ids=[f"{region}-{TYPE_NAMES[kind]}" for region, kind, _ in REGION_EXAMPLES],
)
def test_example_number_survives_every_spelling(region, number_type, example):
    national = phonenumbers.format_number(example, PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(example, PhoneNumberFormat.INTERNATIONAL)
    e164 = phonenumbers.format_number(example, PhoneNumberFormat.E164)
    _assert_normalised(national, region, example, number_type)
    _assert_normalised(international, region, example, number_type)
    _assert_normalised(international, None, example, number_type)  # no hint: the '+' decides
    _assert_normalised(e164, "US", example, number_type)  # a wrong hint does not matter
    # As dialled from abroad: 011 from the US, 00 from Germany.
    for calling_from in ("US", "DE"):
        if calling_from == region:
            continue
        dialled = phonenumbers.format_out_of_country_calling_number(example, calling_from)
        _assert_normalised(dialled, calling_from, example, number_type)


@pytest.mark.parametrize(
    ("country_code", "example"),
    NON_GEOGRAPHIC_EXAMPLES,
    ids=[str(code) for code, _ in NON_GEOGRAPHIC_EXAMPLES],
)
def test_non_geographic_example_survives_international_spelling(country_code, example):
    international = phonenumbers.format_number(example, PhoneNumberFormat.INTERNATIONAL)
    _assert_normalised(international, None, example, phonenumbers.number_type(example))
    assert normalise_raw(international, None).region_code == "001"
