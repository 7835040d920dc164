"""Each validator on values that are, look like but are not, and are not at all, its kind."""

from __future__ import annotations

import datetime as dt

import pytest

from steward.catalogue import validators as v
from steward.catalogue.validators import ValueContext, Verdict

VALID, SHAPE, NO = Verdict.VALID, Verdict.SHAPE, Verdict.NO
NUMERIC = ValueContext(numeric=True)


def verdict(check, value, ctx=v.DEFAULT_CONTEXT):
    return check(value, ctx)[0]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("jane.doe@example.com", VALID),
        ("J.O'Neil+tag@sub.example.co.uk", VALID),
        ("info@bücher.xn--p1ai", NO),  # non-ASCII local domain label is outside our syntax
        ("jane@example.notatld", SHAPE),  # syntax fine, TLD not in the IANA list
        ("jane@@example.com", NO),
        ("jane@localhost", NO),
        ("not an email", NO),
    ],
)
def test_email(value, expected):
    assert verdict(v.email, value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("(650) 253-0000", VALID),
        ("6502530000", VALID),
        ("+44 20 7946 0958", VALID),
        ("0033 1 42 68 53 00", VALID),  # international form with 00
        ("33142685300", VALID),  # international form without its "+"
        ("222-398-8279", SHAPE),  # possible length, unassigned US area code
        ("2021-05-04", NO),  # a date
        ("12345", NO),
        ("call me", NO),
    ],
)
def test_phone_number(value, expected):
    assert verdict(v.phone_number, value, ValueContext(phone_regions=("US",))) is expected


def test_phone_number_uses_the_column_regions():
    french = ValueContext(phone_regions=("FR",))
    assert verdict(v.phone_number, "01 42 68 53 00", french) is VALID
    american = ValueContext(phone_regions=("US",))
    # Valid only in a region the column was not given: shape, tagged with that region.
    assert v.phone_number("01 42 68 53 00", american)[0] is SHAPE
    assert v.phone_number("01 42 68 53 00", american)[1][0].startswith(v.REGION_TAG_PREFIX)


def test_phone_number_assumes_no_country():
    assert verdict(v.phone_number, "(650) 253-0000") is SHAPE
    assert verdict(v.phone_number, "+1 650-253-0000") is VALID
    # Bare integers valid only in some other region are shape without a region tag:
    # half evidence for a column named like phones, never content-only evidence.
    assert v.phone_number("29374400", NUMERIC) == (SHAPE, (v.BARE_TAG,))
    assert verdict(v.phone_number, "5.25", NUMERIC) is NO


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("219-09-9998", VALID),
        ("219 09 9998", VALID),
        ("219099998", SHAPE),  # most nine-digit numbers pass: undashed is only shape
        ("000-12-3456", SHAPE),  # area 000 never issued
        ("666-12-3456", SHAPE),  # area 666 never issued
        ("912-34-5678", SHAPE),  # 9xx areas are ITINs, not SSNs
        ("219-00-9998", SHAPE),  # group 00
        ("219-09-0000", SHAPE),  # serial 0000
        ("078-05-1120", SHAPE),  # the Woolworth wallet-card number
        ("219-099-998", NO),
        ("21909999", NO),  # eight digits as text: not an SSN
    ],
)
def test_us_ssn(value, expected):
    assert verdict(v.us_ssn, value) is expected


def test_us_ssn_stored_as_number_lost_its_leading_zero():
    # 070-90-6649, or an eight-digit phone or id: only shape (counts with an SSN name).
    assert verdict(v.us_ssn, "70906649", NUMERIC) is SHAPE
    assert verdict(v.us_ssn, "12345", NUMERIC) is NO


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("4111 1111 1111 1111", VALID),  # Visa
        ("5500-0000-0000-0004", VALID),  # Mastercard
        ("378282246310005", VALID),  # Amex, 15 digits
        ("4111111111111112", SHAPE),  # Luhn failure
        ("9696 3083 1559 8901", SHAPE),  # no issuer starts with 9
        ("3782822463100050", SHAPE),  # Amex prefix with a 16-digit length
        ("4111 1111", NO),
        ("4111-1111 1111-1111", NO),  # mixed separators
        ("************1234", SHAPE),  # masked for display: still a card column
        ("***********0005", SHAPE),  # Amex masked
        ("411111******1111", SHAPE),  # first six, last four
        ("**** **** **** 4242", SHAPE),
        ("****", NO),
        ("*** 12", NO),
    ],
)
def test_payment_card(value, expected):
    assert verdict(v.payment_card, value) is expected


def test_luhn_and_issuer_helpers():
    assert v.luhn_ok("79927398713")
    assert not v.luhn_ok("79927398710")
    assert v.card_issuer_known("2221000000000009")  # Mastercard 2-series
    assert not v.card_issuer_known("1234567812345670")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("GB82 WEST 1234 5698 7654 32", VALID),
        ("DE89370400440532013000", VALID),
        ("de89 3704 0044 0532 0130 00", VALID),
        ("GB82WEST12345698765433", SHAPE),  # bad mod-97 checksum
        ("DE8937040044053201300", SHAPE),  # one character short for Germany
        ("XX89370400440532013000", NO),  # no such country
        ("hello world", NO),
    ],
)
def test_iban(value, expected):
    assert verdict(v.iban, value) is expected


@pytest.mark.parametrize(
    ("value", "expected", "tags"),
    [
        ("192.168.1.1", VALID, ("v4",)),
        ("2001:db8::1", VALID, ("v6",)),
        ("fe80::1%eth0", VALID, ("v6",)),
        ("999.1.1.1", NO, ()),
        ("1.2.3", NO, ()),
        ("12:30", NO, ()),
    ],
)
def test_ip_address(value, expected, tags):
    assert v.ip_address(value) == (expected, tags)


def test_ip_address_never_from_numbers():
    assert verdict(v.ip_address, "3232235777", NUMERIC) is NO


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1M8GDM9AXKP042788", VALID),  # check digit X
        ("JHMGK5H71GX017266", VALID),
        ("1M8GDM9A1KP042788", SHAPE),  # wrong check digit (valid outside North America)
        ("1M8GDM9AXKP04278I", NO),  # I is never used in VINs
        ("12345678901234567", NO),  # all digits
        ("1M8GDM9AXKP04278", NO),  # 16 characters
    ],
)
def test_vin(value, expected):
    assert verdict(v.vin, value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Jacob Sullivan", VALID),
        ("Mills, Cheryl D", VALID),  # directory order
        ("María José García", VALID),
        ("Dr. Hazel Robinson", VALID),
        ("Schmidt Meier", SHAPE),  # two surnames: shape only
        ("Skylit Midtown Castle", NO),
        ("111th Congress", NO),
        ("Jacob", NO),
    ],
)
def test_person_full_name(value, expected):
    assert verdict(v.person_full_name, value) is expected


def test_first_and_last_names():
    assert verdict(v.first_name, "Cheryl") is VALID
    assert verdict(v.first_name, "Zzyzx") is SHAPE
    assert verdict(v.first_name, "Mary Ann") is VALID
    assert verdict(v.first_name, "Charles Herrera") is NO  # a full name
    assert verdict(v.last_name, "Robinson") is VALID
    assert verdict(v.last_name, "van der Berg") is not NO
    assert verdict(v.last_name, "Hazel Robinson") is NO  # a full name, not a surname


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("123 Main St", VALID),
        ("3606 Federal Boulevard, Apt 4", VALID),
        ("12 rue de la Paix", VALID),
        ("Hauptstraße 12", VALID),
        ("Calle Mayor 5", VALID),
        ("Via Roma 3", VALID),
        ("4 cylinders", SHAPE),
        ("Suite 216", NO),
        ("Main Street", NO),
    ],
)
def test_street_address(value, expected):
    assert verdict(v.street_address, value) is expected


def test_postal_code():
    for code in ("98122", "98122-1234", "SW1A 1AA", "K1A 0B1", "1012 AB", "2351"):
        assert verdict(v.postal_code, code) is VALID, code
    assert verdict(v.postal_code, "$29278") is NO


def test_date_of_birth_needs_a_plausible_age():
    ctx = ValueContext(today=dt.date(2025, 1, 1))
    assert verdict(v.date_of_birth, "1958-04-21", ctx) is VALID
    assert verdict(v.date_of_birth, "4/21/1958", ctx) is VALID
    assert verdict(v.date_of_birth, "21.04.1958", ctx) is VALID
    assert verdict(v.date_of_birth, "1966", ctx) is VALID  # year of birth
    assert verdict(v.date_of_birth, "1850-01-01", ctx) is SHAPE  # 175 years old
    assert verdict(v.date_of_birth, "2030-01-01", ctx) is SHAPE  # not born yet
    assert verdict(v.date_of_birth, "yesterday", ctx) is NO


def test_gender_vocabulary():
    assert v.gender("Female") == (VALID, ("word",))
    assert v.gender("féminin") == (VALID, ("word",))
    assert v.gender("M") == (VALID, ())  # one letter: valid but not a word
    assert verdict(v.gender, "2") is SHAPE  # ISO 5218 code
    assert verdict(v.gender, "blue") is NO


def test_age():
    assert verdict(v.age, "42") is VALID
    assert verdict(v.age, "21.5") is VALID
    assert verdict(v.age, "25 to 39") is SHAPE
    assert verdict(v.age, "65+") is SHAPE
    assert verdict(v.age, "130") is NO
    assert verdict(v.age, "-500") is NO
    assert verdict(v.age, "Total") is NO


def test_audio_reference():
    assert verdict(v.audio_reference, "/recordings/2024/05/call-123.wav") is VALID
    assert verdict(v.audio_reference, "s3://bucket/rec.mp3?v=2") is VALID
    assert verdict(v.audio_reference, "notes.txt") is NO


def test_every_registered_validator_rejects_blank_noise():
    for validator in v.VALIDATORS.values():
        assert validator.check("~~~", v.DEFAULT_CONTEXT)[0] is NO, validator.name


@pytest.mark.parametrize("value", ["8 AM TO 10 PM", "9:30 a.m. - 5 p.m.", "7 AM TO MIDNIGHT"])
def test_opening_hours_are_not_street_addresses(value):
    assert v.street_address(value)[0] is Verdict.NO


def test_a_number_split_once_unlike_its_region_is_not_a_foreign_phone():
    ctx = ValueContext(phone_regions=("US",))
    _, tags = v.phone_number("037539-2019", ctx)  # a case number and a year
    assert not any(tag.startswith(v.REGION_TAG_PREFIX) for tag in tags)
    assert v.phone_number("020 7946 0958", ctx) == (Verdict.SHAPE, (v.REGION_TAG_PREFIX + "GB",))


def test_a_surname_pair_needs_both_words_known():
    assert v.last_name("tastawiyiniwak Ward")[0] is Verdict.SHAPE
    assert v.last_name("Garcia Lopez")[0] is Verdict.VALID


def test_a_first_name_with_a_middle_initial_is_a_first_name():
    assert v.first_name("JOHN W.")[0] is Verdict.VALID
    assert v.first_name("Charles Herrera")[0] is Verdict.NO


@pytest.mark.parametrize(
    "value", ["1600 Block E Old Lake Ln", "300 blk of Elm Ave", "12 BLOCK N 400 W"]
)
def test_hundred_blocks_are_not_street_addresses(value):
    # Police and permit data blur an address to its hundred block: it locates no one.
    assert verdict(v.street_address, value) is NO
    assert verdict(v.street_address, "12 Blockley Road") is VALID


@pytest.mark.parametrize(
    "value",
    ["PO Box 4417", "P.O. Box 88, Lakeview OR 97630", "Postfach 10 20 30", "Apartado 512"],
)
def test_post_office_boxes_are_addresses(value):
    assert verdict(v.street_address, value) is VALID


def test_box_words_without_a_box_number_are_not_addresses():
    assert verdict(v.street_address, "Box office 12") is NO
    assert verdict(v.street_address, "po box") is NO
