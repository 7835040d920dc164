"""The personal-data categories the catalogue reports, in the project's dotted taxonomy.

A dotted category refines its parent: ``user.name`` is a person's name, and
``user.name.first`` / ``user.name.last`` are parts of one, so a consumer that
knows only "person name" reads all three as ``user.name`` (see :func:`parent`
and :data:`PERSON_NAME`). National identifiers are one category per scheme under
``user.government_id.national_id`` (``...national_id.us_ssn``), so a data map
that declares the parent still agrees with the catalogue.
"""

from __future__ import annotations

FIRST_NAME = "user.name.first"
LAST_NAME = "user.name.last"
FULL_NAME = "user.name"
PERSON_NAME = FULL_NAME  # the parent of first, last and full names
EMAIL = "user.contact.email"
PHONE = "user.contact.phone_number"
STREET = "user.contact.address.street"
CITY = "user.contact.address.city"
POSTAL_CODE = "user.contact.address.postal_code"
DATE_OF_BIRTH = "user.demographic.date_of_birth"
GENDER = "user.demographic.gender"
AGE = "user.demographic.age"
NATIONAL_ID = "user.government_id.national_id"
CARD_NUMBER = "user.financial.card_number"
BANK_ACCOUNT = "user.financial.bank_account"
IP_ADDRESS = "user.device.ip_address"
VIN = "user.vehicle.vin"
FREE_TEXT = "user.content.free_text"
CALL_RECORDING = "user.content.call_recording"
EMPLOYEE_NAME = "employee.name"

# National identifier schemes (validated with python-stdnum), one category each.
NATIONAL_ID_SCHEMES: dict[str, str] = {
    "us_ssn": "US Social Security number",
    "gb_nino": "UK National Insurance number",
    "gb_nhs": "UK NHS number",
    "ca_sin": "Canadian Social Insurance number",
    "fr_nir": "French NIR (numéro de sécurité sociale)",
    "de_idnr": "German tax identification number (IdNr)",
    "es_dni": "Spanish DNI / NIE",
    "it_codice_fiscale": "Italian codice fiscale",
    "br_cpf": "Brazilian CPF",
    "in_aadhaar": "Indian Aadhaar number",
    "au_tfn": "Australian tax file number",
    "cn_ric": "Chinese resident identity card number",
    "nl_bsn": "Dutch BSN",
    "se_personnummer": "Swedish personnummer",
    "pl_pesel": "Polish PESEL",
    "mx_curp": "Mexican CURP",
}
US_SSN = f"{NATIONAL_ID}.us_ssn"
NATIONAL_IDS = tuple(f"{NATIONAL_ID}.{scheme}" for scheme in NATIONAL_ID_SCHEMES)

ALL = (
    FIRST_NAME,
    LAST_NAME,
    FULL_NAME,
    EMAIL,
    PHONE,
    STREET,
    CITY,
    POSTAL_CODE,
    DATE_OF_BIRTH,
    GENDER,
    AGE,
    NATIONAL_ID,
    *NATIONAL_IDS,
    CARD_NUMBER,
    BANK_ACCOUNT,
    IP_ADDRESS,
    VIN,
    FREE_TEXT,
    CALL_RECORDING,
    EMPLOYEE_NAME,
)

# What a report groups a category under (the "family" a privacy officer reads).
FAMILIES: dict[str, str] = {
    FIRST_NAME: PERSON_NAME,
    LAST_NAME: PERSON_NAME,
    FULL_NAME: PERSON_NAME,
    EMPLOYEE_NAME: PERSON_NAME,
    **dict.fromkeys(NATIONAL_IDS, NATIONAL_ID),
}


def family(category: str) -> str:
    """The category a consumer that only knows the broad kinds should read (person name...)."""
    return FAMILIES.get(category, category)


def parent(category: str) -> str | None:
    """The dotted parent (``user.name`` for ``user.name.first``), None at the top."""
    head, _, _ = category.rpartition(".")
    return head if head.count(".") >= 1 else None
