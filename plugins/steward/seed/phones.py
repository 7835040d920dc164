"""Valid phone numbers in the many spellings agents type, plus planted bad ones.

Validity comes from the ``phonenumbers`` library, but asking it per row would
be far too slow for millions of rows. So, once per seed, we look for number
*prefixes* (all digits but the last five) whose every five-digit ending is a
valid number, and learn from ``phonenumbers`` how each prefix is written in
national and international format. Rows then only draw a prefix and five
random digits, and fill the learned templates.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

SUFFIX_DIGITS = 5
NANP_REGIONS = frozenset({"US", "CA"})

# How many prefixes to keep per (region, number type): more for the US, which
# holds most customers, so numbers spread over many area codes.
_PREFIX_TARGET = {"US": 160, "CA": 30}
_DEFAULT_PREFIX_TARGET = 24
_CANDIDATE_LIMIT = 1500
_SUFFIX_PROBES = 10

# Formats of a valid number. The weights say how often agents type each one.
VALID_FORMATS: dict[str, float] = {
    "national": 0.30,  # (415) 555-0123 | 07400 123456
    "e164": 0.16,  # +14155550123
    "international": 0.12,  # +1 415-555-0123 | +44 7400 123456
    "dashes": 0.12,  # 415-555-0123 | 07400-123456
    "digits": 0.10,  # 4155550123 | 07400123456
    "dots": 0.06,  # 415.555.0123
    "idd": 0.04,  # 001 415 555 0123 | 0044 7400 123456
    "trunk": 0.03,  # 1-415-555-0123 | +44 (0) 7400 123456
    "intl_parens": 0.03,  # +1 (415) 555-0123
    "extension": 0.04,  # (415) 555-0123 ext. 204
}

INVALID_KINDS = ("too_short", "letter_o", "bad_area_code", "junk")
_JUNK = ("n/a", "none", "unknown", "xxx-xxx-xxxx", "0", "123", "see notes", "000-000-0000")


@dataclass(frozen=True)
class RegionPrefixes:
    """Prefixes of one region whose every 5-digit ending is a valid number."""

    region: str
    country_code: int
    national_prefix: str  # the trunk digit dialled before national numbers ('0', '1' or '')
    dials_abroad_with_00: bool  # '00' is the international call prefix here
    prefixes: tuple[str, ...]
    kinds: tuple[str, ...]  # 'mobile' | 'fixed' | 'either', per prefix
    national_templates: tuple[str, ...]  # str.format templates, one {} per suffix digit
    international_templates: tuple[str, ...]


def _template(number: phonenumbers.PhoneNumber, style: int) -> str | None:
    """The formatted number with its last five digits replaced by ``{}``."""
    text = phonenumbers.format_number(number, style)
    if "{" in text or "}" in text:
        return None
    chars = list(text)
    found = 0
    for index in range(len(chars) - 1, -1, -1):
        if chars[index].isdigit():
            chars[index] = "{}"
            found += 1
            if found == SUFFIX_DIGITS:
                return "".join(chars)
    return None


def _probe(region: str, country_code: int, prefix: str, suffixes, wanted_type: int):
    """Templates for ``prefix`` if every probed ending is valid and formats alike."""
    templates = None
    for suffix in suffixes:
        number = phonenumbers.parse(f"+{country_code}{prefix}{suffix}")
        if not phonenumbers.is_valid_number_for_region(number, region):
            return None
        number_type = phonenumbers.number_type(number)
        if number_type not in (wanted_type, PhoneNumberType.FIXED_LINE_OR_MOBILE):
            return None
        national = _template(number, PhoneNumberFormat.NATIONAL)
        international = _template(number, PhoneNumberFormat.INTERNATIONAL)
        if national is None or international is None:
            return None
        if templates is None:
            templates = (national, international)
        elif templates != (national, international):
            return None
    return templates


def _discover(region: str, rng: np.random.Generator) -> RegionPrefixes:
    country_code = phonenumbers.country_code_for_region(region)
    target = _PREFIX_TARGET.get(region, _DEFAULT_PREFIX_TARGET)
    prefixes: list[str] = []
    kinds: list[str] = []
    national_templates: list[str] = []
    international_templates: list[str] = []
    seen: set[str] = set()
    for wanted_type, kind in (
        (PhoneNumberType.MOBILE, "mobile"),
        (PhoneNumberType.FIXED_LINE, "fixed"),
    ):
        example = phonenumbers.example_number_for_type(region, wanted_type)
        example_digits = str(example.national_number)
        prefix_length = len(example_digits) - SUFFIX_DIGITS
        found = 0
        for _ in range(_CANDIDATE_LIMIT):
            if found >= target:
                break
            # Keep a few leading digits of the example (they carry the number type)
            # and randomise the rest.
            keep = int(rng.integers(0 if region in NANP_REGIONS else 1, 3))
            tail = "".join(str(d) for d in rng.integers(0, 10, prefix_length - keep))
            prefix = example_digits[:keep] + tail
            if prefix in seen or prefix[0] == "0":
                continue
            seen.add(prefix)
            probes = ["00000", "99999"] + [
                f"{int(value):05d}" for value in rng.integers(0, 100_000, _SUFFIX_PROBES)
            ]
            # Cheap rejection first: one probe, then the rest.
            templates = _probe(region, country_code, prefix, probes[2:3], wanted_type)
            if templates is None:
                continue
            templates = _probe(region, country_code, prefix, probes, wanted_type)
            if templates is None:
                continue
            found += 1
            prefixes.append(prefix)
            kinds.append("either" if region in NANP_REGIONS else kind)
            national_templates.append(templates[0])
            international_templates.append(templates[1])
        if region in NANP_REGIONS:
            break  # NANP numbers do not distinguish mobile from fixed lines
    if not prefixes:
        raise RuntimeError(f"no valid phone prefixes found for region {region}")
    national_prefix = phonenumbers.ndd_prefix_for_region(region, True) or ""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return RegionPrefixes(
        region=region,
        country_code=country_code,
        national_prefix=national_prefix,
        dials_abroad_with_00=metadata.international_prefix == "00",
        prefixes=tuple(prefixes),
        kinds=tuple(kinds),
        national_templates=tuple(national_templates),
        international_templates=tuple(international_templates),
    )


@functools.lru_cache(maxsize=4)
def prefix_book(regions: tuple[str, ...], seed: int) -> dict[str, RegionPrefixes]:
    """Valid prefixes for each region, deterministic for a seed."""
    book = {}
    for offset, region in enumerate(regions):
        rng = np.random.default_rng([seed, 7001, offset])
        book[region] = _discover(region, rng)
    return book


class PhoneNumberParts(NamedTuple):
    """A valid number as its parts: region, prefix index within the region, suffix."""

    region: str
    prefix_index: int
    suffix: int


def national_significant(book: dict[str, RegionPrefixes], parts: PhoneNumberParts) -> str:
    return f"{book[parts.region].prefixes[parts.prefix_index]}{parts.suffix:05d}"


def e164(book: dict[str, RegionPrefixes], parts: PhoneNumberParts) -> str:
    return f"+{book[parts.region].country_code}{national_significant(book, parts)}"


def format_number(
    book: dict[str, RegionPrefixes], parts: PhoneNumberParts, style: str, extension: str = "204"
) -> str:
    """Spell a valid number in one of :data:`VALID_FORMATS`.

    Every spelling parses back to the same E.164 number with the customer's
    region as hint, except ``idd`` for NANP numbers (``001 415 555 0123``):
    agents who learned to dial abroad type it, ``phonenumbers`` alone reads it
    as a national number, and the ground truth still expects the +1 number.
    """
    info = book[parts.region]
    suffix = f"{parts.suffix:05d}"
    nsn = info.prefixes[parts.prefix_index] + suffix
    national = info.national_templates[parts.prefix_index].format(*suffix)
    international = info.international_templates[parts.prefix_index].format(*suffix)
    nanp = parts.region in NANP_REGIONS
    after_code = international.split(" ", 1)[1]
    if style == "e164":
        return f"+{info.country_code}{nsn}"
    if style == "international":
        return international
    if style == "national":
        return national
    if style == "dashes":
        return _regroup(national, "-")
    if style == "dots":
        return _regroup(national, ".")
    if style == "digits":
        return nsn if nanp else info.national_prefix + nsn
    if style == "idd":
        if not (nanp or info.dials_abroad_with_00):  # e.g. Brazil picks a carrier: 0021
            return international
        return f"00{info.country_code} {after_code.replace('-', ' ')}"
    if style == "trunk":
        if nanp:
            return f"1-{_regroup(national, '-')}"
        if not info.national_prefix:  # no trunk digit in this country (ES, MX)
            return international
        return f"+{info.country_code} ({info.national_prefix}) {after_code}"
    if style == "intl_parens":
        if nanp:
            return f"+1 {national}"
        return f"(+{info.country_code}) {after_code}"
    if style == "extension":
        return f"{national} ext. {extension}" if nanp else f"{national} x{extension}"
    raise ValueError(f"unknown phone format {style!r}")


def _regroup(national: str, separator: str) -> str:
    text = national.replace("(", "").replace(")", "")
    groups = [group for group in text.replace("-", " ").split(" ") if group]
    return separator.join(groups)


def parses_to(raw: str, region: str) -> str | None:
    """What ``phonenumbers`` makes of ``raw``: the E.164 number if valid, else None."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def invalid_spelling(
    book: dict[str, RegionPrefixes], parts: PhoneNumberParts, kind: str, pick: int
) -> str:
    """A spelling of a number that no normaliser can rescue (checked with phonenumbers)."""
    national = format_number(book, parts, "dashes")
    info = book[parts.region]
    if kind == "too_short":
        candidate = national[:-1]
    elif kind == "letter_o":
        # An 'O' typed for a zero (or an 'l' for a one) inside the subscriber digits.
        digits = list(national)
        positions = [i for i, ch in enumerate(digits) if ch.isdigit()][-SUFFIX_DIGITS:]
        position = positions[pick % len(positions)]
        digits[position] = "O" if pick % 2 else "l"
        candidate = "".join(digits)
    elif kind == "bad_area_code":
        nsn = national_significant(book, parts)
        if parts.region in NANP_REGIONS:
            candidate = f"({pick % 2}{nsn[1:3]}) {nsn[3:6]}-{nsn[6:]}"
        else:
            candidate = f"+{info.country_code} 0{nsn[1:]}"
    else:
        candidate = _JUNK[pick % len(_JUNK)]
    # German landlines have variable length: a shortened number may still be
    # valid, so fall back until phonenumbers agrees it is not.
    for fallback in (national[:-2], national[: len(national) // 2], _JUNK[pick % len(_JUNK)]):
        if parses_to(candidate, parts.region) is None:
            break
        candidate = fallback
    return candidate
