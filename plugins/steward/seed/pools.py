"""Pools of names, addresses and e-mail domains per country, drawn from Faker.

Faker is far too slow to call once per row for millions of rows, so we read
its locale word lists (names with their frequency weights) directly and call
it only a few thousand times per locale to fill address pools; rows then draw
from the pools with numpy.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import faker
import numpy as np

# Country -> (share of customers, Faker locale, currency, transcript language).
COUNTRIES: dict[str, tuple[float, str, str, str]] = {
    "US": (0.70, "en_US", "USD", "en"),
    "CA": (0.05, "en_CA", "CAD", "en"),
    "GB": (0.05, "en_GB", "GBP", "en"),
    "DE": (0.04, "de_DE", "EUR", "de"),
    "FR": (0.04, "fr_FR", "EUR", "fr"),
    "ES": (0.03, "es_ES", "EUR", "es"),
    "BR": (0.03, "pt_BR", "BRL", "pt"),
    "IN": (0.03, "en_IN", "INR", "en"),
    "MX": (0.03, "es_MX", "MXN", "es"),
}
COUNTRY_CODES = tuple(COUNTRIES)

# Rough population weights: the all-party-consent states (CA, FL, IL, PA, WA, ...)
# must be well represented for the recording-consent rules.
US_STATES: dict[str, float] = {
    "CA": 12, "TX": 9, "FL": 6.7, "NY": 5.9, "PA": 3.9, "IL": 3.8, "OH": 3.5, "GA": 3.3,
    "NC": 3.2, "MI": 3.0, "NJ": 2.8, "VA": 2.6, "WA": 2.3, "AZ": 2.2, "MA": 2.1, "TN": 2.1,
    "IN": 2.0, "MD": 1.9, "MO": 1.9, "WI": 1.8, "CO": 1.8, "MN": 1.7, "SC": 1.6, "AL": 1.5,
    "LA": 1.4, "KY": 1.4, "OR": 1.3, "OK": 1.2, "CT": 1.1, "UT": 1.0, "IA": 1.0, "NV": 1.0,
    "AR": 0.9, "MS": 0.9, "KS": 0.9, "NM": 0.6, "NE": 0.6, "ID": 0.6, "WV": 0.5, "HI": 0.4,
    "NH": 0.4, "ME": 0.4, "MT": 0.3, "RI": 0.3, "DE": 0.3, "SD": 0.3, "ND": 0.2, "AK": 0.2,
    "DC": 0.2, "VT": 0.2, "WY": 0.2,
}  # fmt: skip
CA_PROVINCES: dict[str, float] = {
    "ON": 39, "QC": 22, "BC": 14, "AB": 12, "MB": 3.6, "SK": 3.0, "NS": 2.7, "NB": 2.1,
    "NL": 1.4, "PE": 0.4,
}  # fmt: skip
BR_STATES: dict[str, float] = {
    "SP": 22, "MG": 10, "RJ": 8, "BA": 7, "PR": 5.5, "RS": 5.3, "PE": 4.5, "CE": 4.4,
    "PA": 4.1, "SC": 3.6, "GO": 3.4, "DF": 1.5,
}  # fmt: skip
STATE_WEIGHTS = {"US": US_STATES, "CA": CA_PROVINCES, "BR": BR_STATES}

EMAIL_DOMAINS: dict[str, tuple[str, ...]] = {
    "*": ("gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com"),
    "US": ("aol.com", "comcast.net", "att.net", "verizon.net", "msn.com", "sbcglobal.net"),
    "CA": ("rogers.com", "shaw.ca", "sympatico.ca", "videotron.ca"),
    "GB": ("btinternet.com", "yahoo.co.uk", "sky.com", "hotmail.co.uk", "virginmedia.com"),
    "DE": ("gmx.de", "web.de", "t-online.de", "freenet.de"),
    "FR": ("orange.fr", "free.fr", "laposte.net", "sfr.fr", "wanadoo.fr"),
    "ES": ("telefonica.net", "hotmail.es", "yahoo.es"),
    "BR": ("uol.com.br", "bol.com.br", "terra.com.br", "ig.com.br"),
    "IN": ("rediffmail.com", "yahoo.co.in", "sify.com"),
    "MX": ("prodigy.net.mx", "yahoo.com.mx", "hotmail.com.mx"),
}


def ascii_fold(text: str) -> str:
    """'Müller-Lüdenscheidt' -> 'muller-ludenscheidt', as mail providers would."""
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return folded.encode("ascii", "ignore").decode().lower().replace(" ", "").replace("'", "")


@dataclass(frozen=True)
class WeightedWords:
    words: np.ndarray  # object array of str
    probabilities: np.ndarray

    def draw(self, rng: np.random.Generator, count: int) -> np.ndarray:
        return self.words[rng.choice(len(self.words), size=count, p=self.probabilities)]


def _weighted(source) -> WeightedWords:
    if isinstance(source, dict):
        words = list(source)
        weights = np.array([float(source[word]) for word in words])
    else:
        words = list(dict.fromkeys(source))  # drop repeats, keep Faker's order
        weights = np.ones(len(words))
    return WeightedWords(np.array(words, dtype=object), weights / weights.sum())


@dataclass(frozen=True)
class LocalePool:
    country: str
    female_first: WeightedWords
    male_first: WeightedWords
    last: WeightedWords
    streets: np.ndarray
    cities: np.ndarray
    postcodes: np.ndarray
    domains: np.ndarray


def build_pools(seed: int, pool_size: int) -> dict[str, LocalePool]:
    pools = {}
    for offset, (country, (_share, locale, _currency, _language)) in enumerate(COUNTRIES.items()):
        fake = faker.Faker(locale)
        fake.seed_instance(seed * 1000 + offset)
        person = next(p for p in fake.get_providers() if ".person." in type(p).__module__)
        pools[country] = LocalePool(
            country=country,
            female_first=_weighted(person.first_names_female),
            male_first=_weighted(person.first_names_male),
            last=_weighted(person.last_names),
            streets=np.array(
                [fake.street_address().replace("\n", " ") for _ in range(pool_size)], dtype=object
            ),
            cities=np.array([fake.city() for _ in range(max(50, pool_size // 4))], dtype=object),
            postcodes=np.array([fake.postcode() for _ in range(pool_size)], dtype=object),
            domains=np.array(EMAIL_DOMAINS["*"] + EMAIL_DOMAINS[country], dtype=object),
        )
    return pools


def weighted_choice(rng: np.random.Generator, weights: dict[str, float], count: int) -> np.ndarray:
    keys = np.array(list(weights), dtype=object)
    probabilities = np.array(list(weights.values()), dtype=float)
    return keys[rng.choice(len(keys), size=count, p=probabilities / probabilities.sum())]
