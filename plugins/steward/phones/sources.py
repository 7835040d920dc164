"""Where phone numbers live: the phone columns the data map declares.

A :class:`PhoneSource` is one column holding raw phone numbers, with the
column that links its rows to a customer (whose country is the region hint).
The list comes from the data map (:func:`sources_from_data_map`); tests and
benchmarks may pass their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

PHONE_CATEGORY = "user.contact.phone_number"
CUSTOMER_KEY_KIND = "customer_id"  # the data map's identifier kind linking a row to a customer
# A country is not personal data on its own, so the data map gives it no
# category: the customers table is the one keyed by customer_id holding one of these.
COUNTRY_COLUMN_NAMES = ("country_code", "country")


@dataclass(frozen=True)
class CountryHint:
    """The table giving each customer's country (ISO 3166-1 alpha-2)."""

    schema: str
    table: str
    key_column: str
    country_column: str


@dataclass(frozen=True)
class PhoneSource:
    """One column of raw phone numbers.

    ``customer_key`` is the column joined to :class:`CountryHint` ``key_column``
    for the region hint; None when rows are not about a known customer
    (a national do-not-call list), which then parse with the default region.
    """

    schema: str
    table: str
    column: str
    customer_key: str | None = None

    @property
    def label(self) -> str:
        return f"{self.schema}.{self.table}.{self.column}"


def sources_from_data_map(data_map: Any | None = None) -> list[PhoneSource]:
    """Every phone column the data map declares (category ``user.contact.phone_number``)."""
    data_map = _load(data_map)
    sources = []
    for table in data_map.tables:
        customer_key = _customer_key(table)
        for column in table.columns:
            if column.data_category == PHONE_CATEGORY:
                sources.append(PhoneSource(table.schema, table.name, column.name, customer_key))
    return sorted(sources, key=lambda source: source.label)


def country_hint_from_data_map(data_map: Any | None = None) -> CountryHint | None:
    """The customers table (keyed by ``customer_id``) and its country column, if mapped."""
    data_map = _load(data_map)
    for table in data_map.tables:
        key = _customer_key(table)
        if key is None or tuple(getattr(table, "primary_key", ())) != (key,):
            continue
        documented = set(getattr(table, "documented_columns", ())) | {
            column.name for column in table.columns
        }
        for name in COUNTRY_COLUMN_NAMES:
            if name in documented:
                return CountryHint(table.schema, table.name, key, name)
    return None


def _load(data_map: Any | None) -> Any:
    if data_map is not None:
        return data_map
    from steward.datamap import load_data_map

    return load_data_map()


def _customer_key(table: Any) -> str | None:
    """The column of ``table`` holding a customer id, per the data map's identifiers."""
    columns = (getattr(table, "identifiers", None) or {}).get(CUSTOMER_KEY_KIND)
    if isinstance(columns, str):
        return columns
    return columns[0] if columns else None


def describe(sources: Sequence[PhoneSource]) -> str:
    return ", ".join(source.label for source in sources)
