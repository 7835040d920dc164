"""One raw phone string and a region hint in, one E.164 verdict out.

:func:`normalise_raw` is pure and total: whatever an agent typed (letters,
extensions, vanity numbers, Arabic-Indic or fullwidth digits, a paragraph of
notes) it returns a :class:`PhoneParse` with a status and never raises for the
data. It never logs the value either.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberType
from phonenumbers import phonenumberutil as _phonenumberutil

# Keep every compiled metadata pattern: by default phonenumbers recompiles
# through the re module's small cache, a tenth of the time of a bulk parse.
phonenumbers.enable_pattern_cache()
# The type of a number against its region's metadata. number_type() finds the
# region itself, and finding it is the costliest step for shared calling codes
# (+1 tries 25 regions): _classify_digits finds it once and asks for the type.
_number_type_for_metadata = getattr(_phonenumberutil, "_number_type_helper", None)

LIBRARY_VERSION: str = phonenumbers.__version__
# Bumped whenever Steward's own reading rules change (an IDD rescue, say): the
# lookup stores PARSER_VERSION, so a new revision re-parses every value just
# like a new phonenumbers release does.
NORMALISER_REVISION = 2
PARSER_VERSION: str = f"{LIBRARY_VERSION}+steward.{NORMALISER_REVISION}"
DEFAULT_REGION = "US"
# International call prefixes typed where they are not the local one: '00'
# (most of the world) and '011' (what a North American dialler sends).
_FOREIGN_IDD_PREFIXES = ("011", "00")

# Longer than this is notes or garbage, not a phone number (E.164 has at most
# 15 digits; 50 leaves room for spaces, punctuation and an extension). Such
# values are not handed to the parser at all.
MAX_RAW_LENGTH = 50

# Region spellings found in CRMs that are not ISO 3166-1 codes.
_REGION_ALIASES = {"UK": "GB", "EL": "GR"}

_NUMBER_TYPE_NAMES: dict[int, str] = {
    value: name.lower()
    for name, value in vars(PhoneNumberType).items()
    if name.isupper() and isinstance(value, int)
}
_PARSE_ERROR_NAMES: dict[int, str] = {
    value: name.lower()
    for name, value in vars(NumberParseException).items()
    if name.isupper() and isinstance(value, int)
}
_VALIDATION_NAMES: dict[int, str] = {
    value: name.lower()
    for name, value in vars(phonenumbers.ValidationResult).items()
    if name.isupper() and isinstance(value, int)
}


class ParseStatus(StrEnum):
    VALID = "valid"  # a real number of its region: e164 is set
    POSSIBLE_BUT_INVALID = "possible_but_invalid"  # right length, not an allocated range
    INVALID = "invalid"  # parsed, but the length cannot be a number
    UNPARSEABLE = "unparseable"  # not a phone number at all
    EMPTY = "empty"  # null, or only whitespace


@dataclass(frozen=True, slots=True)
class PhoneParse:
    """What Steward makes of one (raw value, region hint).

    ``e164``, ``number_type`` and ``region_code`` are set only for valid numbers.
    ``region_used`` is the region the parser assumed for national spellings:
    the hint when it is a supported region, else the default.
    """

    status: ParseStatus
    region_used: str
    e164: str | None = None
    number_type: str | None = None  # 'mobile', 'fixed_line', 'toll_free', ...
    region_code: str | None = None  # of the number itself; '001' for non-geographic ones
    has_extension: bool = False
    failure_reason: str | None = None  # e.g. 'not_a_number', 'too_short', 'input_too_long'
    rescued_idd: bool = False  # '00' typed as the international prefix where it is not one

    @property
    def is_valid(self) -> bool:
        return self.status is ParseStatus.VALID


# A handful of distinct hints, resolved millions of times a night.
@functools.lru_cache(maxsize=1024)
def resolve_region(region_hint: str | None, default_region: str = DEFAULT_REGION) -> str:
    """The region to parse national spellings with: a supported hint, else the default."""
    default = _canonical_region(default_region)
    if default not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"default region {default_region!r} is not a region phonenumbers knows")
    hint = _canonical_region(region_hint)
    return hint if hint in phonenumbers.SUPPORTED_REGIONS else default


def _canonical_region(region: str | None) -> str:
    code = (region or "").strip().upper()
    return _REGION_ALIASES.get(code, code)


def normalise_raw(
    raw: str | None, region_hint: str | None, default_region: str = DEFAULT_REGION
) -> PhoneParse:
    """Normalise one raw phone value to E.164 (pure; never raises for bad data)."""
    region = resolve_region(region_hint, default_region)
    # Length before stripping: the lookup keys long values by their first
    # MAX_RAW_LENGTH + 1 characters, and every value sharing such a key must
    # get the same verdict.
    if raw is not None and len(raw) > MAX_RAW_LENGTH:
        return PhoneParse(ParseStatus.UNPARSEABLE, region, failure_reason="input_too_long")
    text = (raw or "").strip()
    if not text:
        return PhoneParse(ParseStatus.EMPTY, region)
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        reason = _PARSE_ERROR_NAMES.get(exc.error_type, "parse_error")
        return PhoneParse(ParseStatus.UNPARSEABLE, region, failure_reason=reason)
    except Exception:
        # A parser bug on some exotic input must not stop a nightly run over
        # millions of values; the row is simply not a usable number.
        return PhoneParse(ParseStatus.UNPARSEABLE, region, failure_reason="parser_error")

    number_type, number_region, e164 = _classify(number)
    rescued = False
    if number_type == PhoneNumberType.UNKNOWN:
        rescued_number = _rescue_idd(text)
        if rescued_number is not None:
            number, rescued = rescued_number, True
            number_type, number_region, e164 = _classify(number)

    has_extension = bool(number.extension)
    if number_type != PhoneNumberType.UNKNOWN:
        return PhoneParse(
            ParseStatus.VALID,
            region,
            e164=e164,
            number_type=_NUMBER_TYPE_NAMES[number_type],
            region_code=number_region,
            has_extension=has_extension,
            rescued_idd=rescued,
        )
    possibility = phonenumbers.is_possible_number_with_reason(number)
    reason = _VALIDATION_NAMES.get(possibility, "unknown")
    if possibility in (
        phonenumbers.ValidationResult.IS_POSSIBLE,
        phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
    ):
        return PhoneParse(
            ParseStatus.POSSIBLE_BUT_INVALID,
            region,
            has_extension=has_extension,
            failure_reason="not_a_valid_range" if reason == "is_possible" else reason,
        )
    return PhoneParse(
        ParseStatus.INVALID, region, has_extension=has_extension, failure_reason=reason
    )


def _classify(number: phonenumbers.PhoneNumber) -> tuple[int, str | None, str | None]:
    """(number type, region of the number, E.164); type UNKNOWN and no region for invalid ones."""
    return _classify_digits(
        number.country_code,
        number.national_number,
        number.italian_leading_zero,
        number.number_of_leading_zeros,
    )


# Matching a number against its region's ranges is most of the cost, and the
# same number arrives in many spellings (E.164, national, dashes...): the
# verdict depends only on these fields, so it is computed once per number.
@functools.lru_cache(maxsize=262_144)
def _classify_digits(
    country_code: int,
    national_number: int,
    italian_leading_zero: bool | None,
    number_of_leading_zeros: int | None,
) -> tuple[int, str | None, str | None]:
    number = phonenumbers.PhoneNumber(
        country_code=country_code,
        national_number=national_number,
        italian_leading_zero=italian_leading_zero,
        number_of_leading_zeros=number_of_leading_zeros,
    )
    if _number_type_for_metadata is None:  # a phonenumbers without the helper
        number_type = phonenumbers.number_type(number)
        if number_type == PhoneNumberType.UNKNOWN:
            return number_type, None, None
        region_code = phonenumbers.region_code_for_number(number)
    else:
        # What number_type() does, keeping the region it finds. A type other
        # than UNKNOWN is exactly is_valid_number().
        region_code = phonenumbers.region_code_for_number(number)
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region_code)
        if metadata is None:
            return PhoneNumberType.UNKNOWN, None, None
        national_significant = phonenumbers.national_significant_number(number)
        number_type = _number_type_for_metadata(national_significant, metadata)
        if number_type == PhoneNumberType.UNKNOWN:
            return number_type, None, None
    # E.164 is '+', the calling code and the national significant number.
    e164 = f"+{country_code}{phonenumbers.national_significant_number(number)}"
    return number_type, region_code, e164


def _rescue_idd(text: str) -> phonenumbers.PhoneNumber | None:
    """Read a leading foreign IDD ('00' or '011') as '+' when that makes a valid number.

    Agents outside the '00' world (the US dials 011) still type ``001 415 555
    0123``, and a US dialler logs a call to London as ``011447400123456``: with
    the customer's own region the parser reads either as a national number and
    rejects it. Only used when the plain parse gave no valid number.
    """
    if "+" in text or "\uff0b" in text:
        return None
    digit_positions = [i for i, ch in enumerate(text) if ch.isdigit()]
    if len(digit_positions) < 4:
        return None
    first = digit_positions[0]
    # Only when nothing but separators precedes the prefix ('(00 44) ...' is fine).
    if any(ch.isalnum() for ch in text[:first]):
        return None
    for prefix in _FOREIGN_IDD_PREFIXES:
        positions = digit_positions[: len(prefix)]
        # The prefix's digits typed together: '0 0 44' is not an IDD.
        if positions != list(range(first, first + len(prefix))):
            continue
        if "".join(str(unicodedata.digit(text[i])) for i in positions) != prefix:
            continue
        try:
            number = phonenumbers.parse("+" + text[positions[-1] + 1 :], None)
        except NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return number
    return None
