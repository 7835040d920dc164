"""Validators of a person's data: names, addresses, postal codes, demographics."""

from __future__ import annotations

import datetime as dt
import functools
import re

from steward.catalogue import reference
from steward.catalogue.verdicts import (
    DEFAULT_CONTEXT,
    NO_MATCH,
    Result,
    ValueContext,
    Verdict,
    verdict_result,
    word_list,
)

# --- person names ---------------------------------------------------------------------

_TITLES = frozenset(
    word_list(
        """
        mr mrs ms miss mx dr prof sir madam mme mlle m herr frau sr sra srta jr ii iii iv
        univ ing dipl med mag phd md mba bsc msc ba ma beng meng llm pan pani dott ing avv
        sig sigra don dona yrd doc ogr uzm op gospodin gospoja
        """
    )
)
_NAME_TOKEN = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*\.?")
_ABBREVIATION = re.compile(r"(?:[^\W\d_]+\.)+[^\W\d_]*")  # "Univ.Prof.", "B.Sc."
_SURNAME_PARTICLES_IN_NAMES = frozenset(
    word_list("van von der den de del della di da dos du la le ten ter bin ibn al el y e")
)


def _name_tokens(value: str) -> list[str] | None:
    tokens = _name_tokens_cached(value)
    return list(tokens) if tokens is not None else None


@functools.lru_cache(maxsize=50_000)
def _name_tokens_cached(value: str) -> tuple[str, ...] | None:
    text = value.strip()
    if not text or len(text) > 60:
        return None
    if text.count(",") == 1:  # "Last, First M." as in directories and e-mail headers
        last, first = (part.strip() for part in text.split(","))
        text = f"{first} {last}"
    raw = [token for token in text.split() if not _ABBREVIATION.fullmatch(token) or len(token) <= 3]
    if not raw or not all(_NAME_TOKEN.fullmatch(token) for token in raw):
        return None
    tokens = [reference.fold(token.rstrip(".")) for token in raw]
    return tuple(token for token in tokens if token not in _TITLES)


_HAN_NAME = re.compile(r"[\u4e00-\u9fff][\u4e00-\u9fff\u3040-\u30ff]{1,4}")


def person_full_name(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    """A known given name, then a surname-like word ("Jacob J Sullivan", "Mills, Cheryl D")."""
    text = value.strip()
    if _HAN_NAME.fullmatch(text):  # Chinese names are written family name first, unspaced
        return verdict_result(Verdict.VALID if text[0] in reference.last_names() else Verdict.NO)
    han = text.split()
    if len(han) == 2 and all(_HAN_NAME.fullmatch(t) or len(t) == 1 for t in han):
        # "鹦阳 怀": given and family name spaced, in either order
        known = reference.last_names()
        return verdict_result(
            Verdict.VALID if han[0] in known or han[1] in known else Verdict.SHAPE
        )
    tokens = _name_tokens(value)
    if tokens is not None:
        tokens = [token for token in tokens if token not in _SURNAME_PARTICLES_IN_NAMES]
    if tokens is None or not 2 <= len(tokens) <= 4:
        return NO_MATCH
    first, last = reference.first_names(), reference.last_names()
    words = [token for token in tokens if len(token) > 1]  # initials carry no evidence
    if len(words) < 2:
        return NO_MATCH

    def given(word: str) -> bool:  # "anouk-agathe": a compound given name
        return word in first or word.split("-")[0] in first

    # Surname dictionaries can never be complete, so a known given name in front
    # of a surname-like word is enough; a surname-only pair is just shape.
    if given(words[0]) and (words[-1] not in first or words[-1] in last):
        return verdict_result(Verdict.VALID)
    # Family name first (Russian, Hungarian, directories): "Некрасов Владислав Исидорович".
    if words[0] in last and given(words[1]):
        return verdict_result(Verdict.VALID)
    if any(word in first or word in last for word in words):
        return verdict_result(Verdict.SHAPE)
    return NO_MATCH


_CITY_SUFFIX = re.compile(r"(?<=.)[市县區区]$")


def city(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    """A known city or town (Faker's lists of many countries); any other place word is no."""
    text = _CITY_SUFFIX.sub("", value.strip())
    if not text or len(text) > 60 or any(ch.isdigit() for ch in text):
        return NO_MATCH
    return (
        verdict_result(Verdict.VALID)
        if reference.fold(text) in reference.city_names()
        else NO_MATCH
    )


def first_name(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    tokens = _name_tokens(value)
    if tokens and len(tokens) > 1:
        tokens = tokens[:1] + [t for t in tokens[1:] if len(t) > 1]  # "JOHN W.": an initial
    if not tokens or len(tokens) > 2:
        return NO_MATCH
    known = reference.first_names()
    if len(tokens) == 2 and tokens[1] not in known:
        return NO_MATCH  # "Charles Herrera" is a full name; "Mary Ann" is a first name
    if tokens[0] in known:
        return verdict_result(Verdict.VALID)
    return verdict_result(Verdict.SHAPE)


_SURNAME_PARTICLES = frozenset(
    word_list("van von der den de del della di da dos du la le mc mac st bin ibn al el")
)


def last_name(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    tokens = _name_tokens(value)
    if not tokens or len(tokens) > 3:
        return NO_MATCH
    core = [token for token in tokens if token not in _SURNAME_PARTICLES]
    if len(core) > 1 and core[0] in reference.first_names():
        return NO_MATCH  # "Hazel Robinson" is a full name, not a surname
    known = reference.last_names()
    # A double-barrelled surname is known in every part ("Garcia Lopez"); one known
    # word beside an unknown one ("tastawiyiniwak Ward") is only shape.
    if core and all(token in known for token in core):
        return verdict_result(Verdict.VALID)
    return verdict_result(Verdict.SHAPE)


# --- street addresses --------------------------------------------------------------

# Chinese/Japanese/Korean addresses: a street or block word next to a number.
_CJK_ADDRESS = re.compile(
    r"(?:[路街道巷弄里村]|大街|胡同|丁目|番地?|[로길동])\s*[\d０-９一二三四五六七八九十百]+\s*(?:号|號|番地?|号楼|-)?"
    r"|\d+\s*(?:号|號|번지|丁目)"
    r"|[省市区县縣].{0,12}[路街道巷]|[路街道].{0,6}[座号號栋棟]"
)
# "12", "12a", "12-14", "9/506", "7." (Hungarian, German), and the door numbers of
# South Asia that name plot, block and house ("8/156/4", "7-111-46-24")...
_HOUSE_NUMBER = re.compile(r"\d{1,6}[a-zA-Z]?(?:[-/]\d{1,4}[a-zA-Z]?){0,3}\.?,?")
# ...but not a date ("12/05/2020 Court hearing") or a phone number ("503-967-6291").
_DATE_WITH_YEAR = re.compile(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{4}|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
MAX_HOUSE_NUMBER_DIGITS = 8
# What may stand before the house number: a unit ("Unit 5, 100 Main St", "A1 - 2820
# Harriet Rd": Canada's "12-345 Main St" is one token already) or a door-number word
# ("D No 26-1-76", "H.No. 5"). It is dropped, so that the house number comes first.
_NUMBER_PREFIX = re.compile(
    r"(?:(?:unit|apt|apartment|suite|ste|flat)\.?\s*#?\s*[a-z]?\d{1,5}[a-z]?(?:\s*[-–,]\s*|\s+)"
    r"|[a-z]?\d{1,5}[a-z]?\s+[-–]\s+|[a-z]\d{1,5}[a-z]?\s*[-–]\s*"
    r"|(?:d|h|door|house|plot)\s*\.?\s*no\b\.?\s*:?\s*)"
    r"(?=\d{1,6}[a-z]?(?:[-/]\d{1,4}[a-z]?){0,3}\.?(?:[\s,]|$))"  # a house number follows
)
# Opening hours ("8 AM TO 10 PM", "9:30 a.m."): a number next to a word, not an address.
_TIME_OF_DAY = re.compile(r"\b\d{1,2}(?:[:.]\d{2})?\s*[ap]\.?m\b\.?", re.IGNORECASE)
# "1600 Block E Main St", "300 blk of Elm Ave": a hundred block, the way police and
# permit data blur an address so that it locates no one.
# A post-office box is where a person's mail goes: an address as much as a street.
_PO_BOX = re.compile(
    r"(?:p\.?\s?o\.?\s?box|post\s+office\s+box|postfach|apartado(?:\s+postal)?|casilla"
    r"|boite\s+postale|b\.p\.|caixa\s+postal|casella\s+postale)\s*(?:no\.?\s*)?\d[\d\s]{0,8}"
    r"(?:\W.*)?",
    re.IGNORECASE,
)
_HUNDRED_BLOCK = re.compile(r"\d{1,6}\s+(?:block|blk)\b", re.IGNORECASE)


def _is_house_number(token: str) -> bool:
    return (
        bool(_HOUSE_NUMBER.fullmatch(token))
        and not _DATE_WITH_YEAR.match(token)
        and sum(ch.isdigit() for ch in token) <= MAX_HOUSE_NUMBER_DIGITS
    )


def street_address(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    """A house number next to a street-type word (English, Romance, Germanic, Central
    European, Indonesian and South Asian orders), or before a postal code and its city."""
    text = value.strip()
    if ctx.numeric or not text or len(text) > 120:
        return NO_MATCH
    if _CJK_ADDRESS.search(text):
        return verdict_result(Verdict.VALID)
    if _TIME_OF_DAY.search(text) or _HUNDRED_BLOCK.match(text):
        return NO_MATCH
    if _PO_BOX.fullmatch(reference.fold(text)):
        return verdict_result(Verdict.VALID)
    folded = _NUMBER_PREFIX.sub("", reference.fold(text), count=1)
    tokens = re.split(r"[\s,]+", folded)
    tokens = [token for token in tokens if token]
    if not 2 <= len(tokens) <= 14:
        return NO_MATCH
    types = reference.street_types()
    number_positions = [i for i, token in enumerate(tokens) if _is_house_number(token)]
    if not number_positions:
        return NO_MATCH

    def is_street_word(token: str) -> bool:
        bare = token.rstrip(".")  # "st." is "st"; "jl.", "ul." are listed with their dot
        return bare in types or token in types or token.endswith(reference.STREET_TYPE_SUFFIXES)

    # "123 Main St", "12 rue de la Paix": number first, a street word soon after.
    if number_positions[0] == 0 and any(is_street_word(t) for t in tokens[1:7]):
        return verdict_result(Verdict.VALID)
    # "Calle Mayor 5", "Hauptstraße 12", "Via Roma 3": street word first, then the number.
    street_first = is_street_word(tokens[0])
    if street_first and any(0 < position <= 6 for position in number_positions):
        return verdict_result(Verdict.VALID)
    # "Runjaninova 4, 10000 Zagreb": a name and a number, then a postal code and its city.
    if any(
        tokens[position - 1].isalpha() and _postal_code_and_city(tokens[position + 1 :])
        for position in number_positions
        if position > 0
    ):
        return verdict_result(Verdict.VALID)
    # "Medve utca 4", "Szabadság tér 7.": name, street word, then the number (of at most four
    # digits: "Moab UT 84532" ends with a ZIP code) that ends the street part. Facilities are
    # numbered that way too ("Tennis Court 3"): shape, for a column named for addresses.
    for part in folded.split(","):
        words = part.split()
        if (
            len(words) >= 3
            and _is_house_number(words[-1])
            and not re.match(r"\d{5}", words[-1])
            and is_street_word(words[-2])
        ):
            return verdict_result(Verdict.SHAPE)
    if number_positions[0] == 0 and len(tokens) <= 8:
        return verdict_result(Verdict.SHAPE)
    return NO_MATCH


def _postal_code_and_city(tokens: list[str]) -> bool:
    """Whether ``tokens`` start with a postal code and a known city ("10000 zagreb ...")."""
    if len(tokens) < 2 or not _POSTAL_CODES.fullmatch(tokens[0]):
        return False
    cities = reference.city_names()
    return tokens[1] in cities or " ".join(tokens[1:3]) in cities


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
        return verdict_result(Verdict.VALID)
    return NO_MATCH


_POSTAL_INDEX_NUMBER = re.compile(r"[1-9]\d{2}\s?\d{3}")


def postal_index_number(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    """India's six-digit PIN code ("110001", "560 034"); a four-digit secret PIN is not one."""
    return (
        verdict_result(Verdict.VALID) if _POSTAL_INDEX_NUMBER.fullmatch(value.strip()) else NO_MATCH
    )


# --- demographics --------------------------------------------------------------------

_MONTH_NAMES = word_list(
    "january february march april may june july august september october november december"
)
_MONTHS = {
    name: number
    for number, month in enumerate(_MONTH_NAMES, start=1)
    for name in (month, month[:3], "sept" if number == 9 else month)
}
_MONTH = r"([a-z]{3,9})\.?"
_DATE_PATTERNS = (
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?"), ("y", "m", "d")),
    (re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"), ("y", "m", "d")),
    (re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})"), ("m", "d", "y")),
    (re.compile(r"(\d{1,2})[.-](\d{1,2})[.-](\d{4}|\d{2})"), ("d", "m", "y")),
    (re.compile(r"(\d{4})(\d{2})(\d{2})"), ("y", "m", "d")),
    # "Apr 1, 1982", "April 1st 1982"; "1 April 1982", "01-Apr-82"
    (
        re.compile(rf"{_MONTH}\s*(\d{{1,2}})(?:st|nd|rd|th)?,?\s*(\d{{4}})", re.IGNORECASE),
        ("m", "d", "y"),
    ),
    (
        re.compile(
            rf"(\d{{1,2}})(?:st|nd|rd|th)?[\s/-]+{_MONTH},?[\s/-]+(\d{{4}}|\d{{2}})", re.IGNORECASE
        ),
        ("d", "m", "y"),
    ),
)


def _parse_date(text: str, today: dt.date) -> dt.date | None:
    """A calendar date; a two-digit year is taken in the century that puts it in the past."""
    for pattern, order in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if not match:
            continue
        groups = dict(zip(order, match.groups()[:3], strict=True))
        month_text = groups["m"].casefold()
        if not month_text.isdigit():
            if month_text not in _MONTHS:
                continue
            groups["m"] = str(_MONTHS[month_text])
        parts = {key: int(value) for key, value in groups.items()}
        centuries = (2000, 1900) if len(groups["y"]) == 2 else (0,)
        orders = ((parts["m"], parts["d"]), (parts["d"], parts["m"]))
        for century in centuries:
            for month, day in orders if month_text.isdigit() else orders[:1]:
                try:
                    date = dt.date(century + parts["y"], month, day)
                except ValueError:
                    continue
                if century and date > today:
                    break  # "04/01/52" was not born in 2052: try the century before
                return date
    return None


def date_of_birth(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    """A date (or a bare year of birth) putting the person between 0 and 120 years old.

    Dates with a two-digit year ("04/01/12") or a month name ("Apr 1, 1982") are read too:
    never evidence alone, this validator only checks a column named for birth dates.
    """
    text = value.strip()
    if re.fullmatch(r"\d{4}", text):
        return verdict_result(
            Verdict.VALID if 0 <= ctx.today.year - int(text) <= 120 else Verdict.NO
        )
    born = _parse_date(text, ctx.today)
    if born is None:
        return NO_MATCH
    age_days = (ctx.today - born).days
    return verdict_result(Verdict.VALID if 0 <= age_days <= 120 * 366 else Verdict.SHAPE)


_GENDER_WORDS = frozenset(
    word_list(
        """
    male female man woman men women boy girl masculine feminine non-binary nonbinary
    gender-diverse diverse agender genderqueer genderfluid bigender polygender transgender
    trans intersex other unknown neutral neutro neutre neutrum
    homme femme masculin feminin hombre mujer masculino femenino varon
    mannlich weiblich divers andere maschio femmina uomo donna altro autre otro
    masculino feminino outro mann frau 男 女 男性 女性 其他 未知 мужской женский мужчина женщина
    erkek kadin mies nainen kvinna kvinde mand
    """
    )
)
_GENDER_LETTERS = frozenset({"m", "f", "x", "h", "w", "u", "o", "d"})
GENDER_WORD_TAG = "word"


def gender(value: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Result:
    """A closed vocabulary; one-letter and numeric codes only count as shape."""
    token = reference.fold(value.strip()).replace(" ", "-")
    if token in _GENDER_WORDS:
        return verdict_result(Verdict.VALID, GENDER_WORD_TAG)
    if token in _GENDER_LETTERS:
        return verdict_result(Verdict.VALID)
    if token in {"0", "1", "2", "9"}:  # ISO/IEC 5218 codes
        return verdict_result(Verdict.SHAPE)
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
        return verdict_result(Verdict.SHAPE) if _AGE_BRACKET.fullmatch(text) else NO_MATCH
    return verdict_result(Verdict.VALID if 0 <= years <= 120 else Verdict.NO)
