"""Phone sources from the data map, and the COPY text the lookup is loaded with."""

from __future__ import annotations

from types import SimpleNamespace

from steward.phones.lookup import _copy_value, parse_chunk
from steward.phones.sources import (
    CountryHint,
    PhoneSource,
    country_hint_from_data_map,
    sources_from_data_map,
)


def _column(name: str, category: str | None = None):
    return SimpleNamespace(name=name, data_category=category)


def _data_map():
    customers = SimpleNamespace(
        schema="crm",
        name="customers",
        primary_key=("customer_id",),
        identifiers={"customer_id": ("customer_id",), "email": ("email",)},
        documented_columns=("customer_id", "email", "country_code"),
        columns=[_column("email", "user.contact.email")],
    )
    phones = SimpleNamespace(
        schema="crm",
        name="customer_phones",
        primary_key=("phone_id",),
        identifiers={"customer_id": ("customer_id",), "phone": ("phone_raw",)},
        columns=[_column("phone_raw", "user.contact.phone_number")],
    )
    calls = SimpleNamespace(
        schema="telephony",
        name="calls",
        primary_key=("call_id",),
        identifiers={"customer_id": "customer_id", "phone": ("caller_number", "callee_number")},
        columns=[
            _column("caller_number", "user.contact.phone_number"),
            _column("callee_number", "user.contact.phone_number"),
        ],
    )
    dnc = SimpleNamespace(
        schema="compliance",
        name="dnc_registry",
        primary_key=("phone_number", "snapshot_date"),
        identifiers={"phone": ("phone_number",)},
        columns=[_column("phone_number", "user.contact.phone_number")],
    )
    return SimpleNamespace(tables=[customers, phones, calls, dnc])


def test_every_declared_phone_column_is_a_source():
    assert sources_from_data_map(_data_map()) == [
        PhoneSource("compliance", "dnc_registry", "phone_number", None),
        PhoneSource("crm", "customer_phones", "phone_raw", "customer_id"),
        PhoneSource("telephony", "calls", "callee_number", "customer_id"),
        PhoneSource("telephony", "calls", "caller_number", "customer_id"),
    ]


def test_the_country_hint_comes_from_the_customers_table():
    assert country_hint_from_data_map(_data_map()) == CountryHint(
        "crm", "customers", "customer_id", "country_code"
    )


def test_the_project_data_map_gives_sources_and_hint():
    sources = sources_from_data_map()
    assert PhoneSource("crm", "customer_phones", "phone_raw", "customer_id") in sources
    assert all(source.customer_key in (None, "customer_id") for source in sources)
    assert country_hint_from_data_map() == CountryHint(
        "crm", "customers", "customer_id", "country_code"
    )


def test_copy_text_escapes_what_copy_would_misread():
    assert _copy_value(None) == "\\N"
    assert _copy_value("\\N") == "\\\\N"  # a literal backslash-N is not a null
    assert _copy_value("a\tb\nc\rd\\e") == "a\\tb\\nc\\rd\\\\e"


def test_parse_chunk_writes_one_line_per_pair_and_counts_statuses():
    text, counts = parse_chunk([("(415) 555-0123", "US"), ("tab\there", ""), ("", "GB")], "US")
    lines = text.splitlines()
    assert len(lines) == 3
    assert all(len(line.split("\t")) == 12 for line in lines)
    assert lines[0].split("\t")[2:4] == ["+14155550123", "valid"]
    assert counts == {"valid": 1, "unparseable": 1, "empty": 1}
