"""The scan on international data: phones of 20 regions, national ids, names, addresses.

Values are generated here (phonenumbers' example numbers varied, Faker's
locales, check digits computed with python-stdnum) and checked by the real
scanner on a real PostgreSQL table, with the warehouse configured for the US
only: every other region must be inferred from the data itself.
"""

from __future__ import annotations

import random
import string

import phonenumbers
import pytest
import sqlalchemy as sa
from faker import Faker
from stdnum import verhoeff
from stdnum.au import tfn
from stdnum.cn import ric
from stdnum.de import idnr
from stdnum.gb import nhs

from steward import warehouse
from steward.catalogue import categories as cat
from steward.catalogue import scan_schemas

pytestmark = pytest.mark.integration

SCHEMA = "intl"
PHONE_REGIONS = (
    "US", "GB", "DE", "FR", "IT", "ES", "NL", "BE", "CH", "AT",
    "SE", "NO", "DK", "PL", "AU", "NZ", "IN", "JP", "BR", "MX",
)  # fmt: skip
NAME_LOCALES = (
    "en_US", "de_DE", "fr_FR", "es_ES", "it_IT", "pt_BR", "pl_PL", "nl_NL", "ru_RU", "ja_JP",
)  # fmt: skip
ADDRESS_LOCALES = ("en_US", "de_DE", "fr_FR", "it_IT", "zh_CN")
PER_REGION = 3
ID_ROWS = 40


def _phones(rng: random.Random, region: str) -> list[phonenumbers.PhoneNumber]:
    """Valid mobile (else fixed-line) numbers of a region, varied from its example number."""
    example = phonenumbers.example_number_for_type(
        region, phonenumbers.PhoneNumberType.MOBILE
    ) or phonenumbers.example_number(region)
    national = str(example.national_number)
    found: list[phonenumbers.PhoneNumber] = []
    while len(found) < PER_REGION:
        tail = "".join(rng.choice(string.digits) for _ in range(3))
        candidate = phonenumbers.PhoneNumber(
            country_code=example.country_code,
            national_number=int(national[:-3] + tail),
            italian_leading_zero=example.italian_leading_zero,
        )
        if phonenumbers.is_valid_number(candidate) and candidate not in found:
            found.append(candidate)
    return found


def _nino(rng: random.Random) -> str:
    first = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    return f"{first}{second}{rng.randrange(10**6):06d}{rng.choice('ABCD')}"


def _nhs(rng: random.Random) -> str:
    while True:
        body = f"{rng.randrange(4 * 10**8, 10**9):09d}"
        check = (11 - nhs.checksum(body + "0")) % 11
        if check < 10 and nhs.is_valid(body + str(check)):
            return body + str(check)


def _idnr(rng: random.Random) -> str:
    while True:
        digits = rng.sample("0123456789", 9)
        if digits[0] == "0":
            continue
        digits.insert(rng.randrange(1, 10), rng.choice(digits))  # one digit twice
        body = "".join(digits)
        for check in string.digits:
            if idnr.is_valid(body + check):
                return body + check


def _aadhaar(rng: random.Random) -> str:
    body = f"{rng.randrange(2, 10)}{rng.randrange(10**10):010d}"
    return body + verhoeff.calc_check_digit(body)


def _tfn(rng: random.Random) -> str:
    while True:
        body = f"{rng.randrange(10**7, 10**8):08d}"
        for check in string.digits:
            if tfn.is_valid(body + check):
                return body + check


def _ric(rng: random.Random) -> str:
    birth = f"{rng.randrange(1950, 2005)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
    body = f"110101{birth}{rng.randrange(1000):03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder digit


def _faker(locale: str, method: str):
    fake = Faker(locale)
    fake.seed_instance(11)
    return lambda rng: str(getattr(fake, method)())


# column -> (generator, the category the scan must report)
ID_COLUMNS = {
    "ref_us": (_faker("en_US", "ssn"), cat.US_SSN),
    "ref_gb": (_nino, f"{cat.NATIONAL_ID}.gb_nino"),
    "ref_gb_health": (_nhs, f"{cat.NATIONAL_ID}.gb_nhs"),
    "ref_ca": (_faker("en_CA", "ssn"), f"{cat.NATIONAL_ID}.ca_sin"),
    "ref_fr": (_faker("fr_FR", "ssn"), f"{cat.NATIONAL_ID}.fr_nir"),
    "ref_de": (_idnr, f"{cat.NATIONAL_ID}.de_idnr"),
    "ref_es": (_faker("es_ES", "nif"), f"{cat.NATIONAL_ID}.es_dni"),
    "ref_it": (_faker("it_IT", "ssn"), f"{cat.NATIONAL_ID}.it_codice_fiscale"),
    "ref_br": (_faker("pt_BR", "cpf"), f"{cat.NATIONAL_ID}.br_cpf"),
    "ref_in": (_aadhaar, f"{cat.NATIONAL_ID}.in_aadhaar"),
    "ref_au": (_tfn, f"{cat.NATIONAL_ID}.au_tfn"),
    "ref_cn": (_ric, f"{cat.NATIONAL_ID}.cn_ric"),
    "ref_nl": (_faker("nl_NL", "ssn"), f"{cat.NATIONAL_ID}.nl_bsn"),
    "ref_se": (_faker("sv_SE", "ssn"), f"{cat.NATIONAL_ID}.se_personnummer"),
    "ref_pl": (_faker("pl_PL", "pesel"), f"{cat.NATIONAL_ID}.pl_pesel"),
    "ref_mx": (_faker("es_MX", "curp"), f"{cat.NATIONAL_ID}.mx_curp"),
}
CONTACT_EXPECTED = {
    "telefono": cat.PHONE,  # local format, region from the country column
    "mobile_e164": cat.PHONE,
    "c_attr_1": cat.PHONE,  # international form behind an unhelpful name
    "c_attr_2": cat.PHONE,  # local format behind an unhelpful name
    "name": cat.FULL_NAME,  # a bare "name": the values decide
    "c_attr_3": cat.FULL_NAME,
    "address": cat.STREET,
    "country": None,
    "show_email": None,  # a flag, whatever its name says
    "cholesterol_mg_dl": None,  # measurements are not phone numbers
}


def _contact_rows(rng: random.Random) -> list[dict]:
    names = [Faker(locale) for locale in NAME_LOCALES]
    addresses = [Faker(locale) for locale in ADDRESS_LOCALES]
    for fake in names + addresses:
        fake.seed_instance(5)
    rows = []
    for region in PHONE_REGIONS:
        for number in _phones(rng, region):
            index = len(rows)
            national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
            rows.append(
                {
                    "country": region,
                    "telefono": national,
                    "mobile_e164": phonenumbers.format_number(
                        number, phonenumbers.PhoneNumberFormat.E164
                    ),
                    "c_attr_1": phonenumbers.format_number(
                        number, phonenumbers.PhoneNumberFormat.INTERNATIONAL
                    ),
                    "c_attr_2": national,
                    "name": names[index % len(names)].name(),
                    "c_attr_3": names[(index + 3) % len(names)].name(),
                    "address": (
                        addresses[index % len(addresses)].address()
                        if ADDRESS_LOCALES[index % len(addresses)] == "zh_CN"
                        else addresses[index % len(addresses)].street_address()
                    ),
                    "show_email": rng.choice(["yes", "no"]),
                    "cholesterol_mg_dl": rng.randrange(1_200_000, 2_400_000),
                }
            )
    return rows


@pytest.fixture
def international_database(empty_database):
    rng = random.Random(2026)
    contacts = _contact_rows(rng)
    ids = [{column: make(rng) for column, (make, _) in ID_COLUMNS.items()} for _ in range(ID_ROWS)]
    engine = warehouse.engine(empty_database)
    with engine.begin() as conn:
        conn.execute(sa.text(f"create schema {SCHEMA}"))
        text_columns = ", ".join(f"{c} text" for c in CONTACT_EXPECTED if c != "cholesterol_mg_dl")
        conn.execute(
            sa.text(f"create table {SCHEMA}.contacts ({text_columns}, cholesterol_mg_dl bigint)")
        )
        conn.execute(
            sa.text(f"create table {SCHEMA}.ids ({', '.join(f'{c} text' for c in ID_COLUMNS)})")
        )
        contacts_table = sa.table("contacts", *map(sa.column, CONTACT_EXPECTED), schema=SCHEMA)
        ids_table = sa.table("ids", *map(sa.column, ID_COLUMNS), schema=SCHEMA)
        conn.execute(contacts_table.insert(), contacts)
        conn.execute(ids_table.insert(), ids)
        conn.execute(sa.text(f"analyze {SCHEMA}.contacts"))
        conn.execute(sa.text(f"analyze {SCHEMA}.ids"))
    return empty_database


def _best(report, table: str) -> dict[str, str]:
    return {f.column: f.category for f in report.pii() if f.table == table}


def test_international_values_are_classified(international_database, monkeypatch):
    monkeypatch.setenv("STEWARD_CATALOGUE_REGIONS", "US")
    report = scan_schemas(warehouse.engine(international_database), [SCHEMA])
    assert not report.problems
    contacts = _best(report, "contacts")
    for column, expected in CONTACT_EXPECTED.items():
        assert contacts.get(column) == expected, (column, contacts.get(column))
    ids = _best(report, "ids")
    for column, (_, expected) in ID_COLUMNS.items():
        assert ids.get(column) == expected, (column, ids.get(column))


def test_without_the_country_column_local_numbers_are_only_suggested(
    international_database, monkeypatch
):
    """No assumed country: local numbers of 20 regions, with nothing saying which, stay shape."""
    monkeypatch.setenv("STEWARD_CATALOGUE_REGIONS", "US")
    engine = warehouse.engine(international_database)
    with engine.begin() as conn:
        conn.execute(sa.text(f"alter table {SCHEMA}.contacts rename column country to origin"))
    report = scan_schemas(engine, [SCHEMA])
    named = {
        f.column: f
        for f in report.findings
        if f.table == "contacts" and f.category == cat.PHONE and f.column == "telefono"
    }
    # The name still says phone; the content, valid in a region nobody named, is shape.
    assert named["telefono"].is_pii
    assert named["telefono"].evidence["shape_only"] > 0
