"""Phone data quality: raw phone values normalised to E.164, once per distinct value.

``normalise_raw`` parses one value (pure); ``refresh_phone_lookup`` keeps the
warehouse table ``steward.phone_lookup`` that dbt models join to.
"""

from steward.phones.lookup import (
    LookupRefreshReport,
    refresh_phone_lookup,
)
from steward.phones.normalise import (
    LIBRARY_VERSION,
    PARSER_VERSION,
    ParseStatus,
    PhoneParse,
    normalise_raw,
)
from steward.phones.sources import CountryHint, PhoneSource, sources_from_data_map

__all__ = [
    "LIBRARY_VERSION",
    "PARSER_VERSION",
    "CountryHint",
    "LookupRefreshReport",
    "ParseStatus",
    "PhoneParse",
    "PhoneSource",
    "normalise_raw",
    "refresh_phone_lookup",
    "sources_from_data_map",
]
