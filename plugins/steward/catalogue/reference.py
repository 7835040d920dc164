"""Reference vocabularies the validators check values against.

Person names come from Faker's locale providers (real name-frequency lists
for many countries), street-type words from Faker's address providers plus the
usual postal abbreviations, TLDs from a copy of the IANA root-zone list shipped
with this package. Everything is loaded once, lazily, on first use.
"""

from __future__ import annotations

import functools
import importlib
import json
import unicodedata
from pathlib import Path

NAME_LOCALES = (
    "en_US",
    "en_GB",
    "en_IN",
    "en_IE",
    "hi_IN",
    "fr_FR",
    "de_DE",
    "es_ES",
    "es_MX",
    "it_IT",
    "pt_BR",
    "pt_PT",
    "nl_NL",
    "pl_PL",
    "sv_SE",
    "tr_TR",
)

# Postal abbreviations (USPS Publication 28, Royal Mail) and street words in
# the languages our users' customers write addresses in.
STREET_TYPE_WORDS = frozenset(
    """
    st street str ave av avenue rd road blvd boulevard dr drive ln lane ct court pl place
    ter terrace hwy highway pkwy parkway cir circle way sq square trl trail aly alley row
    cres crescent close mews grove gardens gdns walk wharf parade plaza pike loop run
    rue chemin allee allée impasse quai cours route
    calle avenida av. paseo camino carrera plaza carretera ronda travesia
    via viale piazza vicolo corso largo strada
    rua travessa alameda estrada praca praça
    strasse straße weg gasse platz allee ring damm ufer
    straat laan weg plein gracht kade singel dreef
    ulica aleja plac
    """.split()  # noqa: SIM905 - a word list reads better as text
)
STREET_TYPE_SUFFIXES = (
    "strasse",
    "straße",
    "str.",
    "weg",
    "gasse",
    "platz",
    "allee",
    "straat",
    "laan",
    "gracht",
    "plein",
    "vej",
    "gatan",
    "vägen",
    "gade",
)


def fold(text: str) -> str:
    """Lower-case and strip accents, so 'José' and 'jose' compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _provider_names(kind: str, attribute: str) -> set[str]:
    names: set[str] = set()
    for locale in NAME_LOCALES:
        try:
            provider = importlib.import_module(f"faker.providers.{kind}.{locale}").Provider
        except ImportError:
            continue
        for name in getattr(provider, attribute, ()) or ():
            if isinstance(name, str) and name.strip():
                names.add(fold(name.strip()))
    return names


@functools.cache
def first_names() -> frozenset[str]:
    names = _provider_names("person", "first_names")
    names |= _provider_names("person", "first_names_male")
    names |= _provider_names("person", "first_names_female")
    return frozenset(names)


@functools.cache
def last_names() -> frozenset[str]:
    return frozenset(_provider_names("person", "last_names"))


@functools.cache
def street_types() -> frozenset[str]:
    words = {fold(word) for word in STREET_TYPE_WORDS}
    for attribute in ("street_suffixes", "street_prefixes"):
        words |= {word for word in _provider_names("address", attribute) if " " not in word}
    return frozenset(words)


@functools.cache
def top_level_domains() -> frozenset[str]:
    document = json.loads((Path(__file__).parent / "iana_tlds.json").read_text())
    return frozenset(document["tlds"])
