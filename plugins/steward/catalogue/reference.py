"""Reference vocabularies the validators check values against.

Person names come from all of Faker's locale providers (real name-frequency
lists of 86 locales, Latin and other scripts), street-type words from Faker's
address providers plus the usual postal abbreviations, TLDs from a copy of the
IANA root-zone list shipped with this package. Everything is loaded once, lazily, on first use.
"""

from __future__ import annotations

import functools
import importlib
import json
import unicodedata
from pathlib import Path


def _person_locales() -> tuple[str, ...]:
    """Every locale Faker has a person provider for (86 in Faker 40: names of many countries)."""
    import pkgutil

    import faker.providers.person

    return tuple(
        module.name
        for module in pkgutil.iter_modules(faker.providers.person.__path__)
        if module.ispkg
    )


NAME_LOCALES = _person_locales()

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
    ulica aleja plac ul ul. al. os.
    ул ул. улица пр. проспект пер. переулок шоссе бульвар наб. набережная вул. вулиця
    odos οδός οδος leoforos λεωφόρος cadde caddesi sokak sokagi sk. cad. mahallesi
    utca ut ter körút krt. ulice namesti tie katu vagen gata gatan vej gade
    jalan jl. soi thanon duong đường pho phố
    marg salai nagar
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
    "vagen",  # "vägen" as fold() writes it (the validators compare folded text)
    "veien",
    "vegen",
    "gade",
)


@functools.lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """Lower-case and strip accents, so 'José' and 'jose' compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _provider_names(kind: str, attribute: str, all_locales: bool = False) -> set[str]:
    names: set[str] = set()
    locales = NAME_LOCALES
    if all_locales:
        import pkgutil

        package = importlib.import_module(f"faker.providers.{kind}")
        locales = tuple(m.name for m in pkgutil.iter_modules(package.__path__) if m.ispkg)
    for locale in locales:
        try:
            provider = importlib.import_module(f"faker.providers.{kind}.{locale}").Provider
        except ImportError:
            continue
        names_here = getattr(provider, attribute, ()) or ()
        if not isinstance(names_here, list | tuple | set | frozenset | dict):
            continue  # a computed attribute (a property) in a few locales
        for name in names_here:
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
        # Faker's lists hold one- and two-letter entries ("a", "to") that are everyday
        # words elsewhere ("8 AM TO 10 PM"): only the hand list above keeps short ones.
        words |= {
            word
            for word in _provider_names("address", attribute)
            if " " not in word and len(word) >= 3
        }
    return frozenset(words)


@functools.cache
def top_level_domains() -> frozenset[str]:
    document = json.loads((Path(__file__).parent / "iana_tlds.json").read_text())
    return frozenset(document["tlds"])


@functools.cache
def city_names() -> frozenset[str]:
    """Cities and towns of Faker's address providers (about 30,000, many countries)."""
    names: set[str] = set()
    for attribute in ("cities", "city_names", "towns"):
        names |= _provider_names("address", attribute, all_locales=True)
    return frozenset(names)
