"""Headers and value formats beyond the English and Western European defaults.

Each case pairs what must now be found with its look-alike that must still not be.
"""

from __future__ import annotations

import datetime as dt

import pytest

from steward.catalogue import categories as cat
from steward.catalogue import name_rules, person_validators
from steward.catalogue import validators as v
from steward.catalogue.validators import ValueContext, Verdict
from tests.unit.catalogue.test_scoring import scored

TODAY = ValueContext(today=dt.date(2025, 6, 1))


def reported(findings):
    return {category for category, finding in findings.items() if finding.is_pii}


# --- headers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "normalized"),
    [
        ("Functional DoB", "functional_dob"),
        ("patientDoB", "patient_dob"),
        ("PoBCity", "pob_city"),
        ("DOB", "dob"),
        ("ToDo", "to_do"),
        ("NoOfItems", "no_of_items"),
    ],
)
def test_an_initialism_with_a_lower_case_of_is_one_word(column, normalized):
    assert name_rules.normalize(column) == normalized


def test_dob_written_as_an_initialism_is_a_date_of_birth_but_do_b_is_not(rules):
    dates = ["1979-02-11", "1990-10-30", "2004-06-17", "1965-01-08"]
    assert cat.DATE_OF_BIRTH in reported(scored(rules, "Member DoB", dates))
    assert not reported(scored(rules, "do_b", dates))


def test_a_display_name_of_people_is_a_name_and_display_settings_are_not(rules):
    people = ["Jana Novak", "Peter Horvat", "Maria Kovac", "Tomas Varga", "Eva Nagy"]
    assert cat.FULL_NAME in reported(scored(rules, "Display name", people))
    widgets = ["Sales overview", "Weekly totals", "Map view", "Inbox", "Team board"]
    assert not reported(scored(rules, "display_name", widgets))
    for column in ("display_order", "display_mode", "display_email", "show_name"):
        assert rules.evaluate(column).evidence == {}, column


def test_name_given_is_a_given_name_and_a_given_flag_is_not(rules):
    given = ["Robert James", "Linda", "Thomas", "Mary Ann", "David"]
    assert cat.FIRST_NAME in reported(scored(rules, "nameGiven", given))
    for column in ("consent_given", "notice_given", "email_given"):
        assert rules.evaluate(column).evidence == {}, column


def test_a_pin_code_of_six_digits_is_a_postal_code_and_a_secret_pin_is_not(rules):
    pins = ["110021", "400053", "560041", "682016", "751002"]
    assert cat.POSTAL_CODE in reported(scored(rules, "PinCode", pins, numeric=True))
    secrets = ["4821", "0193", "7730", "5506", "2468"]
    assert not reported(scored(rules, "pin_code", secrets))
    assert v.postal_index_number("560 041")[0] is Verdict.VALID
    assert v.postal_index_number("056004")[0] is Verdict.NO


def test_a_contact_column_holds_phones_names_or_neither_as_its_values_say(rules):
    mobiles = ["9812345670", "9123456780", "8765432109", "7012345698", "9988776650"]
    found = scored(rules, "Contact", mobiles, numeric=True, regions=("IN",))
    assert cat.PHONE in reported(found)
    names = ["Anil Sharma", "Kavita Rao", "John Smith", "Maria Lopez", "Peter Brown"]
    assert reported(scored(rules, "contact", names)) == {cat.FULL_NAME}
    counts = ["12", "7", "31", "4", "18"]
    assert not reported(scored(rules, "contacts", counts, numeric=True))


# --- dates of birth ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "born"),
    [
        ("03/14/87", dt.date(1987, 3, 14)),
        ("11/02/19", dt.date(2019, 11, 2)),  # a child: this century
        ("07/09/48", dt.date(1948, 7, 9)),  # 2048 is in the future: the century before
        ("24.12.71", dt.date(1971, 12, 24)),
        ("Mar 14, 1987", dt.date(1987, 3, 14)),
        ("September 3rd 1990", dt.date(1990, 9, 3)),
        ("14 March 1987", dt.date(1987, 3, 14)),
        ("14-MAR-87", dt.date(1987, 3, 14)),
    ],
)
def test_dates_with_two_digit_years_and_month_names_are_read(value, born):
    assert v.date_of_birth(value, TODAY)[0] is Verdict.VALID
    assert person_validators._parse_date(value, TODAY.today) == born


@pytest.mark.parametrize("value", ["Smarch 14, 1987", "31/02/87", "14 Mar", "03/14"])
def test_what_is_not_a_date_stays_no(value):
    assert v.date_of_birth(value, TODAY)[0] is Verdict.NO


def test_two_digit_year_dates_still_need_a_birth_date_header(rules):
    dates = ["03/14/87", "11/02/19", "07/09/48", "01/30/02", "12/01/90"]
    assert cat.DATE_OF_BIRTH in reported(scored(rules, "birth_date", dates))
    assert not reported(scored(rules, "last_visit", dates))
    assert not reported(scored(rules, "attr_7", dates))


# --- street addresses ----------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "12-345 Main St",  # Canada: unit 12 of number 345
        "C4 - 1180 Maple Rd.",  # a lettered unit, spaced dash
        "Unit 7, 42 Ocean Parade",
        "D No 12-3-45, Lakshmi Nagar, 2nd Street",  # India: door number
        "H.No. 5-6-7, Nehru Marg",
        "14/2/9, Station Road",
        "Jl. Melati 12",  # Indonesia
        "Ul. Kwiatowa 8",  # Poland
        "Nordreveien 21",  # Norway
        "Kungsvägen 4",  # Sweden
        "Petrinjska 9, 10000 Zagreb",  # street, number, postal code, city
    ],
)
def test_more_address_formats_are_valid(value):
    assert v.street_address(value)[0] is Verdict.VALID


@pytest.mark.parametrize("value", ["Rózsa utca 12.", "Kossuth tér 3-5.", "Fő út 104."])
def test_name_street_word_number_is_shape_for_a_column_named_for_addresses(value):
    # Hungarian order; "Tennis Court 3" is written the same way, hence shape only.
    assert v.street_address(value)[0] is Verdict.SHAPE


@pytest.mark.parametrize(
    "value",
    [
        "12/05/2020 Court hearing",
        "2020-05-12 Road closure",
        "503-555-0199 ext 12",
        "Apt 41 Main St",
        "Springfield UT 84001",
        "Building 4",
    ],
)
def test_dates_phones_and_bare_units_are_not_house_numbers(value):
    assert v.street_address(value)[0] is not Verdict.VALID
    if value != "Apt 41 Main St":
        assert v.street_address(value)[0] is Verdict.NO


def test_facilities_numbered_like_streets_need_an_address_header(rules):
    courts = [f"{kind} {n}" for kind in ("Tennis Court", "Bowling Lane", "Rose Garden")
              for n in range(1, 8)]  # fmt: skip
    assert not reported(scored(rules, "facility", courts))
    hungarian = ["Rózsa utca 12.", "Kossuth tér 3-5.", "Fő út 104.", "Béke utca 7.", "Hold u 9"]
    assert cat.STREET in reported(scored(rules, "street", hungarian))
