"""Validators of contact data: e-mail addresses, phone numbers, IP addresses, recordings."""

from __future__ import annotations

import ipaddress
import re

import phonenumbers

from steward.catalogue import reference
from steward.catalogue.verdicts import (
    DEFAULT_CONTEXT,
    NO_MATCH,
    Result,
    ValueContext,
    Verdict,
    only_digits,
    verdict_result,
)

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
        return verdict_result(Verdict.VALID)
    return verdict_result(Verdict.SHAPE)


# --- phone numbers -----------------------------------------------------------

_PHONE_CHARS = re.compile(r"\+?[\d\s().\-/]+(?:\s*(?:x|ext\.?|#)\s*\d{1,6})?", re.IGNORECASE)
_PHONE_FORMATTING = re.compile(r"[\s().\-/]")
# Regions tried for a local-format number written with phone formatting when
# neither the warehouse nor the column says where it is from: the markets with
# most subscribers. A match there is only shape (half evidence, or content
# evidence when one region explains most of the column, see scoring).
WORLD_REGIONS = (
    "US", "GB", "DE", "FR", "IT", "ES", "NL", "BE", "CH", "AT", "PT", "IE", "SE", "NO",
    "DK", "FI", "PL", "CZ", "RO", "GR", "TR", "RU", "UA", "IN", "CN", "JP", "KR", "AU",
    "NZ", "CA", "MX", "BR", "AR", "CO", "CL", "ZA", "NG", "EG", "IL", "AE", "SA", "PH",
    "ID", "MY", "SG", "TH", "VN", "PK",
)  # fmt: skip
REGION_TAG_PREFIX = "region:"
POSSIBLE_TAG = "possible"  # a formatted number of a possible length, not a valid one
# A number written as bare digits (or stored in a numeric column): ids look like that too.
BARE_TAG = "bare"
_NOT_A_PHONE = re.compile(r"\d{3}-\d{2}-\d{4}|\d+\.\d+")
_CHECK_DIGIT_GROUP = re.compile(r"\d[-\s.]\d[-\s.]\d+[-\s.][\dX]$|-[\dX]$")
_DATE_LIKE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")


def phone_region_of(value: str) -> str | None:
    """The region of a number written in international form (+33..., 0033...), else None."""
    text = value.strip()
    if text.startswith("00"):
        text = "+" + only_digits(text)[2:]
    if not text.startswith("+"):
        return None
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    return (
        phonenumbers.region_code_for_number(number)
        if phonenumbers.is_valid_number(number)
        else None
    )


def _digit_groups(text: str) -> list[int]:
    return [len(group) for group in re.findall(r"\d+", text)]


def _grouped_like(text: str, number: phonenumbers.PhoneNumber) -> bool:
    """A number split once is split where its region splits it (more groups: any way).

    "037539-2019" is a valid Austrian number only by accident: Austria writes it
    "03753 92019", and a case number's "-2019" is a year.
    """
    written = _digit_groups(text)
    if len(written) != 2:
        return True
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return written == _digit_groups(national)


def phone_number(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    """Valid in international form, or for one of the column's regions; else shape.

    A local number that is valid only in some other major region is shape,
    tagged with that region, and only when written like a phone number (with
    spaces, dashes, brackets or a trunk 0): bare integers are too often ids.
    """
    text = value.strip()
    digit_count = len(only_digits(text))
    if not 7 <= digit_count <= 15 or not _PHONE_CHARS.fullmatch(text):
        return NO_MATCH
    if ctx.numeric and (text.startswith("-") or "." in text):
        return NO_MATCH
    if _NOT_A_PHONE.fullmatch(text) or _CHECK_DIGIT_GROUP.search(text):
        return NO_MATCH  # an SSN, a decimal number, an ISBN-like code ending in a check digit
    international = text.startswith(("+", "00"))
    bare = (BARE_TAG,) if text.isdigit() else ()
    candidates: list[tuple[str, str | None]] = []
    if text.startswith("+"):
        candidates.append((text, None))
    elif text.startswith("00"):
        candidates.append(("+" + only_digits(text)[2:], None))
    else:
        candidates.extend((text, region) for region in ctx.phone_regions)
        if digit_count >= 11:  # international form written without its "+"
            candidates.append(("+" + only_digits(text), None))
    possible = False
    for candidate, region in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return verdict_result(Verdict.VALID, *bare)
        possible = possible or phonenumbers.is_possible_number(number)
    if international:
        return verdict_result(Verdict.SHAPE, POSSIBLE_TAG) if possible else NO_MATCH
    formatted = not ctx.numeric and bool(_PHONE_FORMATTING.search(text))
    trunk = text.lstrip("(").startswith("0") or (formatted and not ctx.phone_regions)
    if not ctx.numeric and trunk and digit_count >= 8 and not _DATE_LIKE.fullmatch(text):
        for region in WORLD_REGIONS:
            if region in ctx.phone_regions:
                continue
            try:
                number = phonenumbers.parse(text, region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number) and _grouped_like(text, number):
                return verdict_result(Verdict.SHAPE, REGION_TAG_PREFIX + region)
    if possible and formatted and not _DATE_LIKE.fullmatch(text):
        return verdict_result(Verdict.SHAPE, POSSIBLE_TAG)
    if ctx.numeric and not possible and digit_count >= 8:
        # A number column lost the trunk 0 ("0412 345 678" stored as 412345678): valid in
        # some major region is shape, half evidence for a column named like phones, and
        # untagged so that it never counts for content-only detection.
        for region in WORLD_REGIONS:
            if region in ctx.phone_regions:
                continue
            try:
                if phonenumbers.is_valid_number(phonenumbers.parse(text, region)):
                    return verdict_result(Verdict.SHAPE, *bare)
            except phonenumbers.NumberParseException:
                continue
    return verdict_result(Verdict.SHAPE, *bare) if possible else NO_MATCH


# --- IP addresses -------------------------------------------------------------------


def ip_address(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    text = value.strip()
    if ctx.numeric or not (":" in text or text.count(".") == 3):
        return NO_MATCH
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return NO_MATCH
    return verdict_result(Verdict.VALID, f"v{address.version}")


# --- call recordings ----------------------------------------------------------------------

_AUDIO_REFERENCE = re.compile(
    r"\S*\.(?:wav|mp3|ogg|oga|opus|flac|m4a|aac|amr|gsm|wma|webm)(?:\?\S*)?", re.IGNORECASE
)


def audio_reference(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    """A path or URL of an audio file (where call recordings live)."""
    return verdict_result(Verdict.VALID) if _AUDIO_REFERENCE.fullmatch(value.strip()) else NO_MATCH
