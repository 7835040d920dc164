"""Which regions a column's local-format phone numbers belong to.

Never one assumed country: the regions are the warehouse's configured ones
(``STEWARD_CATALOGUE_REGIONS``, comma-separated ISO codes, default ``US``, the
phone module's default), plus what the data says: the countries of the
column's own numbers written in international form (+44 ..., 0049 ...), and
the countries named by a country column of the same table (ISO codes or
English names, via pycountry).
"""

from __future__ import annotations

import functools
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence

import phonenumbers
import pycountry

from steward.catalogue import reference
from steward.catalogue.validators import phone_region_of

REGIONS_ENV = "STEWARD_CATALOGUE_REGIONS"
DEFAULT_REGIONS = ("US",)
MIN_REGION_SHARE = 0.05  # a region must explain this share of the values to be used
MAX_REGIONS = 6
INFERENCE_VALUES = 300  # values looked at to infer a column's regions
COUNTRY_COLUMN = re.compile(
    r"(^|_)(country|country_?(code|iso|iso2|iso3|name)?|nation|pays|pais|paese|land|staat"
    r"|iso_?(2|3|code)|cntry|ctry)$"
)
_ALIASES = {"UK": "GB", "EL": "GR", "USA": "US", "UNITED STATES OF AMERICA": "US"}


def configured_regions() -> tuple[str, ...]:
    raw = os.environ.get(REGIONS_ENV)
    if raw is None:
        return DEFAULT_REGIONS
    regions = []
    for item in raw.split(","):
        code = _ALIASES.get(item.strip().upper(), item.strip().upper())
        if code not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{REGIONS_ENV}: unknown region {item.strip()!r} (use ISO codes)")
        regions.append(code)
    return tuple(dict.fromkeys(regions))


@functools.cache
def _country_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for country in pycountry.countries:
        for attribute in ("name", "common_name", "official_name"):
            value = getattr(country, attribute, None)
            if value:
                names[reference.fold(value)] = country.alpha_2
        names[country.alpha_3.casefold()] = country.alpha_2
        names[country.alpha_2.casefold()] = country.alpha_2
    for alias, code in _ALIASES.items():
        names[alias.casefold()] = code
    return names


def country_code(value: str) -> str | None:
    """ISO 3166 alpha-2 code for a country written as a code or an English name."""
    code = _country_names().get(reference.fold(value.strip()))
    return code if code in phonenumbers.SUPPORTED_REGIONS else None


def _top(counter: Counter, total: int) -> tuple[str, ...]:
    if not total:
        return ()
    return tuple(
        region
        for region, count in counter.most_common(MAX_REGIONS)
        if count / total >= MIN_REGION_SHARE
    )


def from_phone_values(values: Iterable[str | None]) -> tuple[str, ...]:
    """Regions of the values written in international form (at least 5% of the column)."""
    counter: Counter = Counter()
    total = 0
    for value in values:
        if value is None or not value.strip():
            continue
        total += 1
        if total > INFERENCE_VALUES:
            total -= 1
            break
        if value.lstrip().startswith(("+", "00")):
            region = phone_region_of(value)
            if region:
                counter[region] += 1
    return _top(counter, total)


def from_country_values(values: Sequence[str | None]) -> tuple[str, ...]:
    counter: Counter = Counter(
        code for value in values if value and (code := country_code(value)) is not None
    )
    return _top(counter, sum(1 for value in values if value))


def is_country_column(normalized_name: str) -> bool:
    return bool(COUNTRY_COLUMN.search(normalized_name))


def merge(*groups: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(region for group in groups for region in group))
