"""Validators of identifiers: US SSNs, national ids (python-stdnum), cards, IBANs, VINs."""

from __future__ import annotations

import re
from collections.abc import Callable

import schwifty
from stdnum import luhn
from stdnum.au import tfn as au_tfn
from stdnum.br import cpf as br_cpf
from stdnum.ca import sin as ca_sin
from stdnum.cn import ric as cn_ric
from stdnum.de import idnr as de_idnr
from stdnum.es import dni as es_dni
from stdnum.es import nie as es_nie
from stdnum.fr import nir as fr_nir
from stdnum.gb import nhs as gb_nhs
from stdnum.in_ import aadhaar as in_aadhaar
from stdnum.it import codicefiscale as it_codice_fiscale
from stdnum.mx import curp as mx_curp
from stdnum.nl import bsn as nl_bsn
from stdnum.pl import pesel as pl_pesel
from stdnum.se import personnummer as se_personnummer
from stdnum.us import ssn as us_ssn_scheme

from steward.catalogue import verdicts
from steward.catalogue.verdicts import DEFAULT_CONTEXT, NO_MATCH, Result, ValueContext, Verdict

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
        # Stored as a number, leading zeros lost? Or an 8-digit phone, or an id:
        # only shape, which counts when the column's name says SSN.
        return verdicts.verdict_result(Verdict.SHAPE, "zero_padded")
    else:
        return NO_MATCH
    if not ssn_is_valid(digits):
        return verdicts.verdict_result(Verdict.SHAPE)
    # Most 9-digit numbers pass the SSA's structural rules: undashed, an SSN is
    # only as sure as the column's name makes it.
    return (
        verdicts.verdict_result(Verdict.VALID)
        if separated
        else verdicts.verdict_result(Verdict.SHAPE, "bare")
    )


# --- national identifiers (python-stdnum) ------------------------------------------

# scheme -> (validator, needs a letter or separator to count without a name).
# Purely numeric schemes with a one-digit checksum (SIN, BSN, TFN, NHS, IdNr,
# Aadhaar) pass for about one random number in ten: they decide only together
# with a column name, or when one scheme explains nearly every value.
_NINO = re.compile(r"(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]")


def _gb_nino_valid(text: str) -> bool:
    return bool(_NINO.fullmatch(re.sub(r"\s", "", text).upper()))


NATIONAL_ID_CHECKS: dict[str, Callable[[str], bool]] = {
    "us_ssn": lambda text: bool(_SSN_SEPARATED.fullmatch(text)) and us_ssn_scheme.is_valid(text),
    "gb_nino": _gb_nino_valid,
    "it_codice_fiscale": it_codice_fiscale.is_valid,
    "cn_ric": cn_ric.is_valid,
    "fr_nir": fr_nir.is_valid,
    "es_dni": lambda text: es_dni.is_valid(text) or es_nie.is_valid(text),
    "br_cpf": br_cpf.is_valid,
    "mx_curp": mx_curp.is_valid,
    "se_personnummer": se_personnummer.is_valid,
    "pl_pesel": pl_pesel.is_valid,
    "de_idnr": de_idnr.is_valid,
    "in_aadhaar": in_aadhaar.is_valid,
    "ca_sin": ca_sin.is_valid,
    "nl_bsn": nl_bsn.is_valid,
    "au_tfn": au_tfn.is_valid,
    "gb_nhs": gb_nhs.is_valid,
}
_ID_CHARS = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ./-]{6,22}")
# Length of the compact form (letters and digits only) each scheme can have:
# a cheap filter before the checksums.
_SCHEME_LENGTHS: dict[str, frozenset[int]] = {
    "us_ssn": frozenset({9}),
    "gb_nino": frozenset({9}),
    "it_codice_fiscale": frozenset({16}),
    "cn_ric": frozenset({18}),
    "fr_nir": frozenset({15}),
    "es_dni": frozenset({9}),
    "br_cpf": frozenset({11}),
    "mx_curp": frozenset({18}),
    "se_personnummer": frozenset({10, 12}),
    "pl_pesel": frozenset({11}),
    "de_idnr": frozenset({11}),
    "in_aadhaar": frozenset({12}),
    "ca_sin": frozenset({9}),
    "nl_bsn": frozenset({8, 9}),
    "au_tfn": frozenset({8, 9}),
    "gb_nhs": frozenset({10}),
}
_COMPACT = re.compile(r"[^A-Za-z0-9]")
# Purely numeric schemes with a one-digit checksum: about one random number in ten passes.
WEAK_SCHEMES = frozenset({"de_idnr", "in_aadhaar", "ca_sin", "nl_bsn", "au_tfn", "gb_nhs"})
STRONG_SCHEME_TAG = "strong_scheme"


def _passes(check: Callable[[str], bool], text: str) -> bool:
    try:
        return bool(check(text))
    except (ValueError, TypeError, KeyError, IndexError):  # malformed: not this scheme
        return False


def national_id(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    """Valid for at least one national scheme; tagged with every scheme it passes."""
    text = value.strip()
    if not _ID_CHARS.fullmatch(text) or sum(ch.isdigit() for ch in text) < 6:
        return NO_MATCH
    length = len(_COMPACT.sub("", text))
    schemes = [
        scheme
        for scheme, check in NATIONAL_ID_CHECKS.items()
        if length in _SCHEME_LENGTHS[scheme] and _passes(check, text)
    ]
    if schemes:
        strong = [STRONG_SCHEME_TAG] if set(schemes) - WEAK_SCHEMES else []
        return verdicts.verdict_result(Verdict.VALID, *schemes, *strong)
    return verdicts.verdict_result(Verdict.SHAPE)


def passport_number(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    """Passports carry no public checksum: 6-9 letters and digits, mostly digits, is shape."""
    text = value.strip().upper()
    if ctx.numeric or not re.fullmatch(r"[A-Z]{0,2}\d{6,9}|[A-Z]\d{7}[A-Z0-9]", text):
        return NO_MATCH
    return verdicts.verdict_result(Verdict.SHAPE)


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
    (1800, 1800, (15,)),
    (2131, 2131, (15,)),
    (62, 62, (16, 17, 18, 19)),
    (50, 50, (12, 13, 14, 15, 16, 17, 18, 19)),
    (56, 69, (12, 13, 14, 15, 16, 17, 18, 19)),
    (2200, 2204, (16, 17, 18, 19)),
)


def luhn_ok(digits: str) -> bool:
    return luhn.is_valid(digits)


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
        return verdicts.verdict_result(Verdict.SHAPE, "masked")
    if not _CARD_TEXT.fullmatch(text) and not (text.isdigit() and 12 <= len(text) <= 19):
        return NO_MATCH
    digits = verdicts.only_digits(text)
    if not 12 <= len(digits) <= 19:
        return NO_MATCH
    if luhn_ok(digits) and card_issuer_known(digits):
        return verdicts.verdict_result(Verdict.VALID)
    return verdicts.verdict_result(Verdict.SHAPE)


# --- IBAN -------------------------------------------------------------------------

_IBAN_SHAPE = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{8,30}")


def iban(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    """Country, length and mod-97 checksum per the SWIFT registry (schwifty)."""
    compact = re.sub(r"[\s-]", "", value).upper()
    if not _IBAN_SHAPE.fullmatch(compact):
        return NO_MATCH
    try:
        schwifty.IBAN(compact)
    except (ValueError, schwifty.exceptions.SchwiftyException):
        try:
            schwifty.IBAN(compact, allow_invalid=True).spec  # noqa: B018 - raises for no such country
        except (ValueError, KeyError, schwifty.exceptions.SchwiftyException):
            return NO_MATCH
        return verdicts.verdict_result(Verdict.SHAPE)
    return verdicts.verdict_result(Verdict.VALID)


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
    return verdicts.verdict_result(Verdict.VALID if vin_check_digit_ok(text) else Verdict.SHAPE)
