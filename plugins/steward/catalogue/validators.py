"""Value validators: does this one value look like, and check out as, a kind of PII?

Each validator answers with a :class:`Verdict`:

- ``VALID``: the value passes the real rules (a phone number valid for its
  region, a card number with a good Luhn digit and a known issuer prefix, an
  IBAN whose mod-97 checksum holds...);
- ``SHAPE``: the value has the format but fails the rules (test card numbers,
  SSNs with a 00 group, phone numbers in unassigned area codes). Shape counts
  as half evidence, and only when the column name already points that way;
- ``NO``: not this kind of value.

Validators see one value as text (numbers arrive in their text form) and never
keep it: callers count verdicts, nothing else.

The validators live in modules by kind of data (:mod:`.contact_validators`,
:mod:`.identifier_validators`, :mod:`.person_validators`); this module is their
registry and re-exports them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from steward.catalogue.contact_validators import (
    BARE_TAG,
    POSSIBLE_TAG,
    REGION_TAG_PREFIX,
    WORLD_REGIONS,
    audio_reference,
    email,
    ip_address,
    phone_number,
    phone_region_of,
)
from steward.catalogue.identifier_validators import (
    NATIONAL_ID_CHECKS,
    STRONG_SCHEME_TAG,
    WEAK_SCHEMES,
    card_issuer_known,
    iban,
    luhn_ok,
    national_id,
    passport_number,
    payment_card,
    ssn_is_valid,
    us_ssn,
    vin,
    vin_check_digit_ok,
)
from steward.catalogue.person_validators import (
    age,
    city,
    date_of_birth,
    first_name,
    gender,
    last_name,
    person_full_name,
    postal_code,
    postal_index_number,
    street_address,
)
from steward.catalogue.verdicts import DEFAULT_CONTEXT, NO_MATCH, Result, ValueContext, Verdict

__all__ = [
    "BARE_TAG",
    "DEFAULT_CONTEXT",
    "NATIONAL_ID_CHECKS",
    "NO_MATCH",
    "POSSIBLE_TAG",
    "REGION_TAG_PREFIX",
    "STRONG_SCHEME_TAG",
    "VALIDATORS",
    "WEAK_SCHEMES",
    "WORLD_REGIONS",
    "Result",
    "Validator",
    "ValueContext",
    "Verdict",
    "card_issuer_known",
    "luhn_ok",
    "phone_region_of",
    "ssn_is_valid",
    "vin_check_digit_ok",
]


@dataclass(frozen=True)
class Validator:
    name: str
    check: Callable[[str, ValueContext], Result]
    # Integer-typed columns can hold phones and SSNs; other kinds are text only.
    accepts_numbers: bool = False


VALIDATORS: dict[str, Validator] = {
    v.name: v
    for v in (
        Validator("email", email),
        Validator("phone_number", phone_number, accepts_numbers=True),
        Validator("us_ssn", us_ssn, accepts_numbers=True),
        Validator("national_id", national_id, accepts_numbers=True),
        Validator("passport_number", passport_number),
        Validator("payment_card", payment_card, accepts_numbers=True),
        Validator("iban", iban),
        Validator("ip_address", ip_address),
        Validator("vin", vin),
        Validator("person_full_name", person_full_name),
        Validator("first_name", first_name),
        Validator("city", city),
        Validator("last_name", last_name),
        Validator("street_address", street_address),
        Validator("postal_code", postal_code, accepts_numbers=True),
        Validator("postal_index_number", postal_index_number, accepts_numbers=True),
        Validator("date_of_birth", date_of_birth, accepts_numbers=True),
        Validator("gender", gender, accepts_numbers=True),
        Validator("age", age, accepts_numbers=True),
        Validator("audio_reference", audio_reference),
    )
}
