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
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum

import phonenumbers

from steward.catalogue import reference


class Verdict(IntEnum):
    NO = 0
    SHAPE = 1
    VALID = 2


@dataclass(frozen=True)
class ValueContext:
    """What a validator may know besides the value: the column's type and the defaults."""

    numeric: bool = False  # the column is an integer/numeric type
    phone_regions: tuple[str, ...] = ("US",)
    today: dt.date = field(default_factory=dt.date.today)


DEFAULT_CONTEXT = ValueContext()
Result = tuple[Verdict, tuple[str, ...]]
NO_MATCH: Result = (Verdict.NO, ())


def _result(verdict: Verdict, *tags: str) -> Result:
    return verdict, tags


def _words(text: str) -> list[str]:
    """A vocabulary written as whitespace-separated words."""
    return text.split()


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


# --- e-mail ----------------------------------------------------------------

_EMAIL = re.compile(
    r"(?P<local>[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?P<tld>[A-Za-z0-9-]{2,63}))"
)


def email(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    text = value.strip()
    match = _EMAIL.fullmatch(text)
    if not match or len(text) > 254 or len(match["local"]) > 64:
        return NO_MATCH
    if match["tld"].lower() in reference.top_level_domains():
        return _result(Verdict.VALID)
    return _result(Verdict.SHAPE)


# --- phone numbers -----------------------------------------------------------

_PHONE_CHARS = re.compile(r"\+?[\d\s().\-/]+(?:\s*(?:x|ext\.?|#)\s*\d{1,6})?", re.IGNORECASE)


def phone_number(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    """Valid for one of the default regions, or valid in international form."""
    text = value.strip()
    digit_count = len(_digits(text))
    if not 7 <= digit_count <= 15 or not _PHONE_CHARS.fullmatch(text):
        return NO_MATCH
    if ctx.numeric and text.startswith("-"):
        return NO_MATCH
    candidates: list[tuple[str, str | None]] = []
    if text.startswith("+"):
        candidates.append((text, None))
    elif text.startswith("00"):
        candidates.append(("+" + _digits(text)[2:], None))
    else:
        candidates.extend((text, region) for region in ctx.phone_regions)
        if digit_count >= 11:  # international form written without its "+"
            candidates.append(("+" + _digits(text), None))
    possible = False
    for candidate, region in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return _result(Verdict.VALID)
        possible = possible or phonenumbers.is_possible_number(number)
    return _result(Verdict.SHAPE) if possible else NO_MATCH


# --- US social security numbers -------------------------------------------

_SSN_SEPARATED = re.compile(r"(\d{3})([-\s.])(\d{2})\2(\d{4})")
# Numbers the SSA says were never issued (advertising, Woolworth wallet card).
_SSN_NEVER_ISSUED = frozenset({"078051120", "219099999", "123456789"})


def ssn_is_valid(digits: str) -> bool:
    """Area 001-665/667-899, group 01-99, serial 0001-9999, not a known fake."""
    if len(digits) != 9 or not digits.isdigit() or digits in _SSN_NEVER_ISSUED:
        return False
    area, group, serial = int(digits[:3]), int(digits[3:5]), int(digits[5:])
    return 0 < area < 900 and area != 666 and group != 0 and serial != 0


def us_ssn(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    text = value.strip()
    separated = _SSN_SEPARATED.fullmatch(text)
    if separated:
        digits = "".join(separated.group(1, 3, 4))
    elif text.isdigit() and len(text) == 9:
        digits = text
    elif ctx.numeric and text.isdigit() and 7 <= len(text) <= 8:
        digits = text.zfill(9)  # stored as a number: leading zeros were lost
    else:
        return NO_MATCH
    return _result(Verdict.VALID if ssn_is_valid(digits) else Verdict.SHAPE)


# --- payment cards -------------------------------------------------------------

_CARD_TEXT = re.compile(r"\d{4}([ -]?)\d{4}\1\d{4}\1\d{1,7}|\d{4}([ -]?)\d{6}\2\d{4,5}")
# (prefix range low, high, allowed lengths): Visa, Mastercard, Amex, Discover,
# Diners, JCB, UnionPay, Maestro, Mir.
_ISSUERS: tuple[tuple[int, int, tuple[int, ...]], ...] = (
    (4, 4, (13, 16, 19)),
    (51, 55, (16,)),
    (2221, 2720, (16,)),
    (34, 34, (15,)),
    (37, 37, (15,)),
    (6011, 6011, (16, 17, 18, 19)),
    (644, 649, (16, 17, 18, 19)),
    (65, 65, (16, 17, 18, 19)),
    (300, 305, (14, 15, 16, 17, 18, 19)),
    (36, 36, (14, 15, 16, 17, 18, 19)),
    (38, 39, (16, 17, 18, 19)),
    (3528, 3589, (16, 17, 18, 19)),
    (62, 62, (16, 17, 18, 19)),
    (50, 50, (12, 13, 14, 15, 16, 17, 18, 19)),
    (56, 69, (12, 13, 14, 15, 16, 17, 18, 19)),
    (2200, 2204, (16, 17, 18, 19)),
)


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def card_issuer_known(digits: str) -> bool:
    for low, high, lengths in _ISSUERS:
        width = len(str(low))
        if len(digits) in lengths and low <= int(digits[:width]) <= high:
            return True
    return False


# A PAN masked for display ("************1234", "4111 11** **** 1111"): the
# shape of a card kept in the column, half evidence when the name says card.
_MASKED_CARD = re.compile(
    r"[*xX#•]{8,15}[ -]?\d{4}|\d{4,6}[ -]?[*xX#•]{2,9}[ -]?[*xX#•]{0,4}[ -]?\d{4}"
    r"|(?:[*xX#•]{4}[ -]){3}\d{4}"
)


def payment_card(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    text = value.strip()
    if not ctx.numeric and _MASKED_CARD.fullmatch(text):
        return _result(Verdict.SHAPE, "masked")
    if not _CARD_TEXT.fullmatch(text) and not (text.isdigit() and 12 <= len(text) <= 19):
        return NO_MATCH
    digits = _digits(text)
    if not 12 <= len(digits) <= 19:
        return NO_MATCH
    if luhn_ok(digits) and card_issuer_known(digits):
        return _result(Verdict.VALID)
    return _result(Verdict.SHAPE)


# --- IBAN -------------------------------------------------------------------------

# Total IBAN length per country (SWIFT IBAN registry).
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
    "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
    "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
    "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
    "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
    "YE": 30,
}  # fmt: skip
_IBAN_SHAPE = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{8,30}")


def iban_checksum_ok(compact: str) -> bool:
    rearranged = compact[4:] + compact[:4]
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(numeric) % 97 == 1


def iban(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    compact = re.sub(r"[\s-]", "", value).upper()
    if not _IBAN_SHAPE.fullmatch(compact):
        return NO_MATCH
    expected_length = IBAN_LENGTHS.get(compact[:2])
    if expected_length is None:
        return NO_MATCH
    if len(compact) == expected_length and iban_checksum_ok(compact):
        return _result(Verdict.VALID)
    return _result(Verdict.SHAPE)


# --- IP addresses -------------------------------------------------------------------


def ip_address(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    text = value.strip()
    if ctx.numeric or not (":" in text or text.count(".") == 3):
        return NO_MATCH
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return NO_MATCH
    return _result(Verdict.VALID, f"v{address.version}")


# --- vehicle identification numbers -------------------------------------------------

_VIN_SHAPE = re.compile(r"[A-HJ-NPR-Z0-9]{17}")
_VIN_TRANSLITERATION = {
    **{str(digit): digit for digit in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_check_digit_ok(vin: str) -> bool:
    total = sum(_VIN_TRANSLITERATION[ch] * w for ch, w in zip(vin, _VIN_WEIGHTS, strict=True))
    expected = total % 11
    return vin[8] == ("X" if expected == 10 else str(expected))


def vin(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    text = value.strip().upper()
    if not _VIN_SHAPE.fullmatch(text) or text.isdigit() or text.isalpha():
        return NO_MATCH
    # The check digit is mandatory in North America only; elsewhere a
    # well-formed VIN is still a VIN, but we call it shape.
    return _result(Verdict.VALID if vin_check_digit_ok(text) else Verdict.SHAPE)


# --- person names ---------------------------------------------------------------------

_TITLES = frozenset(
    _words("mr mrs ms miss mx dr prof sir madam mme mlle m herr frau sr sra srta jr ii iii iv")
)
_NAME_TOKEN = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*\.?")


def _name_tokens(value: str) -> list[str] | None:
    text = value.strip()
    if not text or len(text) > 60:
        return None
    if text.count(",") == 1:  # "Last, First M." as in directories and e-mail headers
        last, first = (part.strip() for part in text.split(","))
        text = f"{first} {last}"
    raw = text.split()
    if not all(_NAME_TOKEN.fullmatch(token) for token in raw):
        return None
    tokens = [reference.fold(token.rstrip(".")) for token in raw]
    return [token for token in tokens if token not in _TITLES]


def person_full_name(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    """A known given name, then a surname-like word ("Jacob J Sullivan", "Mills, Cheryl D")."""
    tokens = _name_tokens(value)
    if tokens is None or not 2 <= len(tokens) <= 4:
        return NO_MATCH
    first, last = reference.first_names(), reference.last_names()
    words = [token for token in tokens if len(token) > 1]  # initials carry no evidence
    if len(words) < 2:
        return NO_MATCH
    # Surname dictionaries can never be complete, so a known given name in front
    # of a surname-like word is enough; a surname-only pair is just shape.
    if words[0] in first and (words[-1] not in first or words[-1] in last):
        return _result(Verdict.VALID)
    if any(word in first or word in last for word in words):
        return _result(Verdict.SHAPE)
    return NO_MATCH


def first_name(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    tokens = _name_tokens(value)
    if not tokens or len(tokens) > 2:
        return NO_MATCH
    known = reference.first_names()
    if len(tokens) == 2 and tokens[1] not in known:
        return NO_MATCH  # "Charles Herrera" is a full name; "Mary Ann" is a first name
    if tokens[0] in known:
        return _result(Verdict.VALID)
    return _result(Verdict.SHAPE)


_SURNAME_PARTICLES = frozenset(
    _words("van von der den de del della di da dos du la le mc mac st bin ibn al el")
)


def last_name(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    tokens = _name_tokens(value)
    if not tokens or len(tokens) > 3:
        return NO_MATCH
    core = [token for token in tokens if token not in _SURNAME_PARTICLES]
    if len(core) > 1 and core[0] in reference.first_names():
        return NO_MATCH  # "Hazel Robinson" is a full name, not a surname
    if any(token in reference.last_names() for token in core):
        return _result(Verdict.VALID)
    return _result(Verdict.SHAPE)


# --- street addresses --------------------------------------------------------------

_HOUSE_NUMBER = re.compile(r"\d{1,6}[a-zA-Z]?(?:[-/]\d{1,4}[a-zA-Z]?)?,?")


def street_address(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    """A house number next to a street-type word (English, Romance, Germanic orders)."""
    text = value.strip()
    if ctx.numeric or not text or len(text) > 120:
        return NO_MATCH
    tokens = re.split(r"[\s,]+", reference.fold(text))
    tokens = [token for token in tokens if token]
    if not 2 <= len(tokens) <= 14:
        return NO_MATCH
    types = reference.street_types()
    number_positions = [i for i, token in enumerate(tokens) if _HOUSE_NUMBER.fullmatch(token)]
    if not number_positions:
        return NO_MATCH

    def is_street_word(token: str) -> bool:
        bare = token.rstrip(".")
        return bare in types or token.endswith(reference.STREET_TYPE_SUFFIXES)

    # "123 Main St", "12 rue de la Paix": number first, a street word soon after.
    if number_positions[0] == 0 and any(is_street_word(t) for t in tokens[1:7]):
        return _result(Verdict.VALID)
    # "Calle Mayor 5", "Hauptstraße 12", "Via Roma 3": street word first, then the number.
    street_first = is_street_word(tokens[0])
    if street_first and any(0 < position <= 6 for position in number_positions):
        return _result(Verdict.VALID)
    if number_positions[0] == 0 and len(tokens) <= 8:
        return _result(Verdict.SHAPE)
    return NO_MATCH


# --- postal codes --------------------------------------------------------------------

_POSTAL_CODES = re.compile(
    r"\d{5}(?:-\d{4})?"  # US ZIP, ZIP+4; DE, FR, ES, IT
    r"|\d{4}"  # BE, NL digits, DK, AT, CH, AU; US ZIP with its leading zero lost
    r"|\d{4}\s?[A-Z]{2}"  # NL
    r"|[A-Z]\d[A-Z]\s?\d[A-Z]\d"  # CA
    r"|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}"  # UK
    r"|\d{3}-\d{4}"  # JP
    r"|\d{2}-\d{3}"  # PL
    r"|\d{3}\s?\d{2}"  # SE
    r"|\d{6}",  # IN, RU, CN
    re.IGNORECASE,
)


def postal_code(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    text = value.strip()
    if _POSTAL_CODES.fullmatch(text):
        return _result(Verdict.VALID)
    return NO_MATCH


# --- demographics --------------------------------------------------------------------

_DATE_PATTERNS = (
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?"), ("y", "m", "d")),
    (re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"), ("y", "m", "d")),
    (re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})"), ("m", "d", "y")),
    (re.compile(r"(\d{1,2})[.-](\d{1,2})[.-](\d{4})"), ("d", "m", "y")),
    (re.compile(r"(\d{4})(\d{2})(\d{2})"), ("y", "m", "d")),
)


def _parse_date(text: str) -> dt.date | None:
    for pattern, order in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if not match:
            continue
        parts = dict(zip(order, (int(group) for group in match.groups()[:3]), strict=True))
        for month, day in ((parts["m"], parts["d"]), (parts["d"], parts["m"])):
            try:
                return dt.date(parts["y"], month, day)
            except ValueError:
                continue
    return None


def date_of_birth(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    """A date (or a bare year of birth) putting the person between 0 and 120 years old."""
    text = value.strip()
    if re.fullmatch(r"\d{4}", text):
        return _result(Verdict.VALID if 0 <= ctx.today.year - int(text) <= 120 else Verdict.NO)
    born = _parse_date(text)
    if born is None:
        return NO_MATCH
    age_days = (ctx.today - born).days
    return _result(Verdict.VALID if 0 <= age_days <= 120 * 366 else Verdict.SHAPE)


_GENDER_WORDS = frozenset(
    _words(
        """
    male female man woman men women boy girl masculine feminine non-binary nonbinary
    agender genderqueer genderfluid bigender polygender transgender trans intersex other unknown
    homme femme masculin feminin hombre mujer masculino femenino varon
    mannlich weiblich divers maschio femmina uomo donna
    """
    )
)
_GENDER_LETTERS = frozenset({"m", "f", "x", "h", "w", "u", "o", "d"})
GENDER_WORD_TAG = "word"


def gender(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    """A closed vocabulary; one-letter and numeric codes only count as shape."""
    token = reference.fold(value.strip()).replace(" ", "-")
    if token in _GENDER_WORDS:
        return _result(Verdict.VALID, GENDER_WORD_TAG)
    if token in _GENDER_LETTERS:
        return _result(Verdict.VALID)
    if token in {"0", "1", "2", "9"}:  # ISO/IEC 5218 codes
        return _result(Verdict.SHAPE)
    return NO_MATCH


_AGE_BRACKET = re.compile(
    r"(?:under|over|below|above|<|>|<=|>=)?\s*\d{1,3}\s*"
    r"(?:-|–|to|a|bis|and (?:older|over|under|above)|\+|or (?:older|more)|plus|years?)"
    r"\s*\d{0,3}\s*(?:years?|yrs?|ans|años|jahre)?",
    re.IGNORECASE,
)


def age(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    """A number of years 0-120; age brackets ("25 to 39", "65+") count as shape."""
    text = value.strip()
    try:
        years = float(text)
    except ValueError:
        return _result(Verdict.SHAPE) if _AGE_BRACKET.fullmatch(text) else NO_MATCH
    return _result(Verdict.VALID if 0 <= years <= 120 else Verdict.NO)


# --- call recordings ----------------------------------------------------------------------

_AUDIO_REFERENCE = re.compile(
    r"\S*\.(?:wav|mp3|ogg|oga|opus|flac|m4a|aac|amr|gsm|wma|webm)(?:\?\S*)?", re.IGNORECASE
)


def audio_reference(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    """A path or URL of an audio file (where call recordings live)."""
    return _result(Verdict.VALID) if _AUDIO_REFERENCE.fullmatch(value.strip()) else NO_MATCH


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
        Validator("payment_card", payment_card, accepts_numbers=True),
        Validator("iban", iban),
        Validator("ip_address", ip_address),
        Validator("vin", vin),
        Validator("person_full_name", person_full_name),
        Validator("first_name", first_name),
        Validator("last_name", last_name),
        Validator("street_address", street_address),
        Validator("postal_code", postal_code, accepts_numbers=True),
        Validator("date_of_birth", date_of_birth, accepts_numbers=True),
        Validator("gender", gender, accepts_numbers=True),
        Validator("age", age, accepts_numbers=True),
        Validator("audio_reference", audio_reference),
    )
}
