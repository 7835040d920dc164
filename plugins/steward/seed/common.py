"""What every part of the seed shares: scales, time constants, the planted PII list, helpers.

The source systems' generators (``steward.seed.sources``) and the ground truth
import from here; ``steward.seed.generate`` puts them together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from steward.seed import loader, phones, pools

GROUND_TRUTH_SCHEMA = "steward_ground_truth"
REFERENCE_DATE = dt.date(2026, 11, 1)
ANCIENT_YEARS = 11
CHUNK_ROWS = 250_000


@dataclass(frozen=True)
class Scale:
    name: str
    customers: int
    calls: int
    spread_subjects: int


SCALES: dict[str, Scale] = {
    "s": Scale("s", customers=1_000, calls=10_000, spread_subjects=3),
    "m": Scale("m", customers=100_000, calls=1_000_000, spread_subjects=5),
    "l": Scale("l", customers=1_000_000, calls=10_000_000, spread_subjects=8),
}

PII_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("crm", "customers", "first_name", "user.name.first"),
    ("crm", "customers", "last_name", "user.name.last"),
    ("crm", "customers", "email", "user.contact.email"),
    ("crm", "customers", "date_of_birth", "user.demographic.date_of_birth"),
    ("crm", "customers", "gender", "user.demographic.gender"),
    ("crm", "customers", "attr_3", "user.government_id.national_id"),
    ("crm", "customer_phones", "phone_raw", "user.contact.phone_number"),
    ("crm", "customer_addresses", "street", "user.contact.address.street"),
    ("crm", "customer_addresses", "city", "user.contact.address.city"),
    ("crm", "customer_addresses", "postal_code", "user.contact.address.postal_code"),
    ("telephony", "agents", "agent_name", "employee.name"),
    ("telephony", "calls", "caller_number", "user.contact.phone_number"),
    ("telephony", "calls", "callee_number", "user.contact.phone_number"),
    ("telephony", "call_recordings", "storage_path", "user.content.call_recording"),
    ("telephony", "transcripts", "body", "user.content.free_text"),
    ("billing", "invoices", "billing_address", "user.contact.address"),
    ("billing", "payments", "card_number", "user.financial.card_number"),
    ("marketing", "campaign_contacts", "phone", "user.contact.phone_number"),
    ("marketing", "campaign_contacts", "email", "user.contact.email"),
    ("marketing", "opt_outs", "phone", "user.contact.phone_number"),
    ("marketing", "opt_outs", "email", "user.contact.email"),
    ("support", "tickets", "notes", "user.content.free_text"),
    ("compliance", "dnc_registry", "phone_number", "user.contact.phone_number"),
    ("compliance", "consents", "phone", "user.contact.phone_number"),
)

DAY = 86_400
YEAR = 365 * DAY + DAY // 4
HISTORY_YEARS = 16  # the oldest customers and calls (a legacy system migration)
RECORDED_SHARE = 0.03  # of connected calls
TRANSCRIBED_SHARE = 0.75  # of recordings
INACTIVE_AFTER = 365 * DAY
CALL_CENTRE_NUMBERS = np.array(
    ["+18005550199", "+18885550142", "+18665550175", "+18775550123"], dtype=object
)
STYLE_NAMES = tuple(phones.VALID_FORMATS)
STYLE_WEIGHTS = np.array(list(phones.VALID_FORMATS.values())) / sum(phones.VALID_FORMATS.values())

# A tiny valid WAV (8 kHz, 8-bit mono, a quarter second of silence).
_WAV_SAMPLES = 2_000
WAV_BYTES = (
    b"RIFF"
    + (36 + _WAV_SAMPLES).to_bytes(4, "little")
    + b"WAVEfmt "
    + (16).to_bytes(4, "little")
    + (1).to_bytes(2, "little")  # PCM
    + (1).to_bytes(2, "little")  # mono
    + (8_000).to_bytes(4, "little")
    + (8_000).to_bytes(4, "little")
    + (1).to_bytes(2, "little")
    + (8).to_bytes(2, "little")
    + b"data"
    + _WAV_SAMPLES.to_bytes(4, "little")
    + b"\x80" * _WAV_SAMPLES
)


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` earlier (28 Feb for a 29 Feb)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def epoch_seconds(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


def between(rng: np.random.Generator, low: np.ndarray, high: np.ndarray, skew: float = 1.0):
    """Instants in [low, high]; skew < 1 favours recent ones."""
    span = np.maximum(high - low, 0)
    return low + (span * rng.random(len(span)) ** skew).astype(np.int64)


def choice(rng: np.random.Generator, options: Sequence, weights: Sequence[float], count: int):
    probabilities = np.asarray(weights, dtype=float)
    values = np.empty(len(options), dtype=object)
    values[:] = list(options)
    return values[rng.choice(len(options), size=count, p=probabilities / probabilities.sum())]


def typo(name: str, pick: int) -> str:
    """A plausible keying slip: swapped, dropped or doubled letter."""
    if len(name) < 4:
        return name + name[-1]
    position = 1 + pick % (len(name) - 2)
    kind = pick % 3
    doubled = name[:position] + name[position] + name[position:]
    if kind == 0:
        swapped = name[:position] + name[position + 1] + name[position] + name[position + 2 :]
        return swapped if swapped != name else doubled
    if kind == 1:
        return name[:position] + name[position + 1 :]
    return doubled


def email_address(first: str, last: str, pattern: int, number: int, domain: str) -> str:
    first, last = pools.ascii_fold(first) or "x", pools.ascii_fold(last) or "x"
    local = (
        f"{first}.{last}",
        f"{first}{last}{number}",
        f"{first[0]}{last}",
        f"{first}_{last}{number}",
        f"{last}.{first}",
    )[pattern]
    return f"{local}@{domain}"


def pa_dates(values: np.ndarray):
    """Epoch seconds as an Arrow date column."""
    return loader.dates(values.astype(np.int64))
