"""The realistic call-centre warehouse: ``steward seed --scale s|m|l``.

``seed_warehouse`` drops and recreates the six source schemas of
``schema.sql`` (crm, telephony, billing, marketing, support, compliance) and
fills them with a US-centred call centre's data: customers from nine countries
with locale names and addresses, phones in a dozen spellings, calls spanning
16 years, recordings (real WAV files), transcripts and ticket notes with PII in
free text, invoices and card payments, campaigns, opt-outs, the DNC registry,
consents and legal holds. Everything is deterministic for a (scale, seed,
reference date): no clock, no set ordering, numpy generators seeded per table.

Planted on purpose, and recorded in the ground-truth schema
``steward_ground_truth`` (:data:`GROUND_TRUTH_SCHEMA`). Tests read it; scanners
and jobs must NEVER read it:

``seed_info(setting_name, setting_value)``
    scale, seed, reference_date, recordings_root, ancient_cutoff.
``pii_columns(schema_name, table_name, column_name, category)``
    every source column holding personal data, with its category:
    ``user.name.first``, ``user.name.last``, ``user.name``,
    ``user.contact.email``, ``user.contact.phone_number``,
    ``user.contact.address`` (a whole postal address in one text),
    ``user.contact.address.street|city|postal_code``,
    ``user.demographic.date_of_birth``, ``user.demographic.gender``,
    ``user.government_id.national_id``, ``user.financial.card_number``,
    ``user.content.free_text``, ``user.content.call_recording``,
    ``employee.name``. Surrogate ids are not listed.
``duplicate_customers(cluster_id, customer_id, is_original)``
    one person held as 2-3 customer records: same DOB, name with a typo, the
    same phone in another spelling, the same e-mail in another case.
``duplicate_phones(customer_id, phone_id, e164)``
    a customer holding the same number twice (every row of such a pair).
``phone_cases(phone_id, customer_id, phone_raw, region, spelling, expected_e164,
expected_status, last_connected_call_at, is_inactive)``
    every ``crm.customer_phones`` row: its spelling (a key of
    :data:`phones.VALID_FORMATS`, or ``invalid:<kind>``), the E.164 a correct
    normaliser returns (null when invalid), ``valid|invalid|disconnected``,
    and whether it had no connected call in the 12 months before the
    reference date. Note ``idd`` spellings of US/CA numbers (``001 415 ...``):
    phonenumbers alone rejects them, a normaliser must strip the ``00``.
``spread_subjects(customer_id, e164, email)``
    customers present in every system, phone spelled in at least four ways,
    e-mail in capitals somewhere.
``retention_overdue(schema_name, table_name, record_key, clock_column, clock)``
    rows whose retention clock is more than :data:`ANCIENT_YEARS` years before
    the reference date: past every plausible retention period (billing's
    statutory 7 years included). Legal holds are not applied here.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from steward import paths, warehouse
from steward.seed import identifiers, loader, phones, pools, texts

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


@dataclass
class SeedReport:
    scale: str
    seed: int
    reference_date: dt.date
    row_counts: dict[str, int]
    ground_truth_counts: dict[str, int]
    elapsed_seconds: float
    recordings_root: Path
    recording_files: int
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())

    def summary(self) -> str:
        width = max(len(name) for name in self.row_counts)
        lines = [
            f"Seeded scale {self.scale!r} (seed {self.seed}, reference date "
            f"{self.reference_date.isoformat()}) in {self.elapsed_seconds:.1f} s:",
        ]
        lines += [f"  {name:<{width}}  {count:>12,}" for name, count in self.row_counts.items()]
        lines.append(f"  {'total':<{width}}  {self.total_rows:>12,}")
        lines.append(f"  {self.recording_files:,} recording files under {self.recordings_root}")
        planted = ", ".join(f"{name} {count:,}" for name, count in self.ground_truth_counts.items())
        lines.append(f"  ground truth ({GROUND_TRUTH_SCHEMA}): {planted}")
        return "\n".join(lines)


def seed_warehouse(
    scale: str = "s",
    seed: int = 42,
    url: str | None = None,
    progress: bool = True,
    reference_date: dt.date = REFERENCE_DATE,
    recordings_root: Path | None = None,
) -> SeedReport:
    """(Re)create the source systems and the ground truth, loaded with COPY.

    Recording files go under ``recordings_root``, by default
    ``paths.recordings_dir() / <database name>`` so test databases never touch
    the demo's files; that folder is emptied first.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    started = time.monotonic()
    reporter = loader.Progress(progress)
    if recordings_root is None:
        recordings_root = paths.recordings_dir() / warehouse.connection_params(url).dbname
    bulk = loader.BulkLoader(url, reporter, CHUNK_ROWS)
    try:
        bulk.recreate(GROUND_TRUTH_SCHEMA)
        generator = generate_tables(
            scale, seed, bulk, Path(recordings_root), reference_date, reporter
        )
        bulk.finish()
    except BaseException:
        bulk.abort()
        raise
    counts = dict(bulk.row_counts)
    source = {k: v for k, v in counts.items() if not k.startswith(GROUND_TRUTH_SCHEMA + ".")}
    truth = {
        k.split(".", 1)[1]: v for k, v in counts.items() if k.startswith(GROUND_TRUTH_SCHEMA + ".")
    }
    report = SeedReport(
        scale=scale,
        seed=seed,
        reference_date=reference_date,
        row_counts=dict(sorted(source.items())),
        ground_truth_counts=truth,
        elapsed_seconds=time.monotonic() - started,
        recordings_root=Path(recordings_root),
        recording_files=generator.recording_files,
        phases=generator.phases,
    )
    reporter.say(f"done in {report.elapsed_seconds:.1f} s")
    return report


class TableSink(Protocol):
    """Where generated tables go: the bulk loader, or anything that takes columns."""

    def load(self, table: str, columns: dict) -> object: ...


def generate_tables(
    scale: str,
    seed: int,
    sink: TableSink,
    recordings_root: Path,
    reference_date: dt.date = REFERENCE_DATE,
    progress: loader.Progress | None = None,
) -> _WarehouseGenerator:
    """Generate every table into ``sink.load(table, columns)`` (no database needed).

    Writes the recording files under ``recordings_root`` (emptied first).
    """
    generator = _WarehouseGenerator(
        SCALES[scale],
        seed,
        reference_date,
        recordings_root,
        sink,
        progress or loader.Progress(enabled=False),
    )
    generator.run()
    return generator


def _years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` earlier (28 Feb for a 29 Feb)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _epoch_seconds(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


def _between(rng: np.random.Generator, low: np.ndarray, high: np.ndarray, skew: float = 1.0):
    """Instants in [low, high]; skew < 1 favours recent ones."""
    span = np.maximum(high - low, 0)
    return low + (span * rng.random(len(span)) ** skew).astype(np.int64)


def _choice(rng: np.random.Generator, options: Sequence, weights: Sequence[float], count: int):
    probabilities = np.asarray(weights, dtype=float)
    values = np.empty(len(options), dtype=object)
    values[:] = list(options)
    return values[rng.choice(len(options), size=count, p=probabilities / probabilities.sum())]


def _typo(name: str, pick: int) -> str:
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


def _email(first: str, last: str, pattern: int, number: int, domain: str) -> str:
    first, last = pools.ascii_fold(first) or "x", pools.ascii_fold(last) or "x"
    local = (
        f"{first}.{last}",
        f"{first}{last}{number}",
        f"{first[0]}{last}",
        f"{first}_{last}{number}",
        f"{last}.{first}",
    )[pattern]
    return f"{local}@{domain}"


class _WarehouseGenerator:
    def __init__(
        self,
        scale: Scale,
        seed: int,
        reference_date: dt.date,
        recordings_root: Path,
        bulk: TableSink,
        progress: loader.Progress,
    ) -> None:
        self.scale = scale
        self.seed = seed
        self.reference_date = reference_date
        self.now = _epoch_seconds(reference_date)
        self.cutoff = _epoch_seconds(_years_before(reference_date, ANCIENT_YEARS))
        self.recordings_root = recordings_root
        self.bulk = bulk
        self.progress = progress
        self.phases: dict[str, float] = {}
        self.recording_files = 0
        self.regions = pools.COUNTRY_CODES
        self.book = phones.prefix_book(self.regions, seed)
        self.pools = pools.build_pools(
            seed, pool_size=int(min(3000, max(200, scale.customers // 3)))
        )
        self.overdue: list[tuple[str, str, np.ndarray, str, np.ndarray]] = []
        self.next_id: dict[str, int] = {}

    # -- helpers ----------------------------------------------------------------

    def rng(self, name: str, part: int = 0) -> np.random.Generator:
        return np.random.default_rng([self.seed, zlib.crc32(name.encode()), part])

    def ids(self, table: str, count: int) -> np.ndarray:
        start = self.next_id.get(table, 1)
        self.next_id[table] = start + count
        return np.arange(start, start + count, dtype=np.int64)

    def load(self, table: str, columns: dict) -> None:
        self.bulk.load(table, columns)

    def note_overdue(self, table: str, keys, clock_column: str, clocks, mask=None) -> None:
        keys, clocks = np.asarray(keys), np.asarray(clocks)
        ancient = clocks < self.cutoff
        if mask is not None:
            ancient &= mask
        if ancient.any():
            schema, name = table.split(".")
            self.overdue.append((schema, name, keys[ancient], clock_column, clocks[ancient]))

    def phase(self, name: str, started: float) -> None:
        self.phases[name] = time.monotonic() - started
        self.progress.say(f"{name}: {self.phases[name]:.1f} s")

    # -- the run ----------------------------------------------------------------

    def run(self) -> None:
        for name, step in (
            ("customers", self.make_customers),
            ("phones", self.make_phones),
            ("agents and campaigns", self.make_agents_and_campaigns),
            ("calls, recordings, transcripts", self.make_calls),
            ("crm", self.load_crm),
            ("billing", self.make_billing),
            ("marketing", self.make_marketing),
            ("support", self.make_support),
            ("compliance", self.make_compliance),
            ("spread subjects", self.plant_spread_subjects),
            ("ground truth", self.load_ground_truth),
        ):
            started = time.monotonic()
            step()
            self.phase(name, started)

    # -- customers --------------------------------------------------------------

    def make_customers(self) -> None:
        rng = self.rng("customers")
        n = self.scale.customers
        shares = np.array([pools.COUNTRIES[code][0] for code in self.regions])
        country = rng.choice(len(self.regions), n, p=shares / shares.sum())
        gender = _choice(rng, ["F", "M", "X", None], [0.48, 0.48, 0.02, 0.02], n)
        first = np.empty(n, dtype=object)
        last = np.empty(n, dtype=object)
        state = np.full(n, None, dtype=object)
        for index, code in enumerate(self.regions):
            rows = np.flatnonzero(country == index)
            pool = self.pools[code]
            femaleish = (gender[rows] == "F") | (
                (gender[rows] != "M") & (rng.random(rows.size) < 0.5)
            )
            first[rows] = np.where(
                femaleish,
                pool.female_first.draw(rng, rows.size),
                pool.male_first.draw(rng, rows.size),
            )
            last[rows] = pool.last.draw(rng, rows.size)
            if code in pools.STATE_WEIGHTS:
                state[rows] = pools.weighted_choice(rng, pools.STATE_WEIGHTS[code], rows.size)

        has_email = rng.random(n) < 0.9
        pattern = rng.integers(0, 5, n)
        number = rng.integers(1, 100, n)
        domain_pick = rng.random(n)
        case = rng.choice(3, n, p=[0.92, 0.04, 0.04])
        email = np.full(n, None, dtype=object)
        for i in np.flatnonzero(has_email).tolist():
            domains = self.pools[self.regions[country[i]]].domains
            address = _email(
                first[i],
                last[i],
                pattern[i],
                number[i],
                domains[int(domain_pick[i] * len(domains))],
            )
            email[i] = (address, address.upper(), address.title())[case[i]]

        age_days = (np.clip(rng.normal(46, 16, n), 18, 92) * 365.25).astype(np.int64)
        birth_day = self.now // DAY - age_days - rng.integers(0, 365, n)
        created = self.now - (HISTORY_YEARS * YEAR * rng.random(n) ** 1.3).astype(np.int64)
        closed = rng.random(n) < 0.18
        closed_at = np.minimum(
            _between(rng, created + 30 * DAY, np.full(n, self.now)), self.now - DAY
        )
        closed_at = np.maximum(closed_at, created)
        is_us = np.asarray(self.regions)[country] == "US"
        ssn = np.where(is_us & (rng.random(n) < 0.6), identifiers.ssns(rng, n), None)

        # Spread subjects: active US customers with an e-mail, present everywhere.
        candidates = np.flatnonzero(is_us & ~closed & has_email)
        self.spread = np.sort(rng.choice(candidates, self.scale.spread_subjects, replace=False))

        # Duplicates: copies of some customers, keyed with slips and re-spellings.
        eligible = np.setdiff1d(np.arange(n), self.spread)
        clusters = max(3, round(n * 0.015))
        originals = np.sort(rng.choice(eligible, clusters, replace=False))
        copies_per = 1 + (rng.random(clusters) < 0.25)
        source = np.repeat(originals, copies_per)
        copies = source.size
        self.duplicate_clusters = (
            np.concatenate([np.arange(clusters), np.repeat(np.arange(clusters), copies_per)]) + 1
        )
        self.duplicate_members = np.concatenate([originals, n + np.arange(copies)])
        self.duplicate_is_original = np.concatenate(
            [np.ones(clusters, dtype=bool), np.zeros(copies, dtype=bool)]
        )
        picks = rng.integers(0, 1_000, copies).tolist()
        copy_first = np.array(
            [_typo(name, pick) for name, pick in zip(first[source], picks, strict=True)],
            dtype=object,
        )
        last_typo = rng.random(copies) < 0.25
        copy_last = np.array(
            [
                _typo(name, pick) if slip else name
                for name, pick, slip in zip(last[source], picks, last_typo, strict=True)
            ],
            dtype=object,
        )
        email_style = rng.choice(3, copies, p=[0.5, 0.3, 0.2])
        copy_email = np.array(
            [
                None
                if address is None or style == 2
                else (address.upper() if style == 0 else address.title())
                for address, style in zip(email[source], email_style, strict=True)
            ],
            dtype=object,
        )
        copy_created = np.minimum(
            created[source] + rng.integers(30 * DAY, 4 * YEAR, copies), self.now - DAY
        )
        keep_ssn = rng.random(copies) < 0.4

        self.copy_source = source
        self.base_customers = n
        self.first = np.concatenate([first, copy_first])
        self.last = np.concatenate([last, copy_last])
        self.email = np.concatenate([email, copy_email])
        self.gender = np.concatenate([gender, gender[source]])
        self.country = np.concatenate([country, country[source]])
        self.state = np.concatenate([state, state[source]])
        self.birth_day = np.concatenate([birth_day, birth_day[source]])
        self.created = np.concatenate([created, copy_created])
        self.closed = np.concatenate([closed, np.zeros(copies, dtype=bool)])
        self.closed_at = np.concatenate([closed_at, np.zeros(copies, dtype=np.int64)])
        self.ssn = np.concatenate([ssn, np.where(keep_ssn, ssn[source], None)])
        self.customer_count = n + copies
        self.customer_id = np.arange(1, self.customer_count + 1, dtype=np.int64)
        self.lifetime_end = np.where(self.closed, self.closed_at, self.now)
        self.last_contact = np.full(self.customer_count, -1, dtype=np.int64)
        self.country_code = np.asarray(self.regions, dtype=object)[self.country]
        self.has_email = np.array([address is not None for address in self.email], dtype=bool)

    # -- phones -----------------------------------------------------------------

    def make_phones(self) -> None:
        rng = self.rng("phones")
        n = self.customer_count
        extra = rng.random(n)
        per_customer = 1 + (extra < 0.30) + (extra < 0.06)
        owner = np.repeat(np.arange(n), per_customer)
        is_primary = np.r_[True, owner[1:] != owner[:-1]]
        fresh_count = owner.size

        # Rows holding the customer's primary number again, in another spelling.
        base = self.base_customers
        doubled = np.setdiff1d(
            rng.choice(base, max(2, round(base * 0.012)), replace=False), self.spread
        )
        doubled = np.union1d(doubled, self.spread)
        owner = np.concatenate([owner, doubled])
        is_primary = np.concatenate([is_primary, np.zeros(doubled.size, dtype=bool)])
        rows = owner.size

        # Draw numbers for fresh rows plus outsiders (non-customers), all distinct.
        outsiders = max(300, base * 3 // 10)
        region = np.concatenate(
            [self.country[owner[:fresh_count]], np.zeros(outsiders, dtype=np.int64)]
        )
        prefix_counts = np.array([len(self.book[code].prefixes) for code in self.regions])
        prefix = (rng.random(region.size) * prefix_counts[region]).astype(np.int64)
        suffix = rng.integers(0, 100_000, region.size)
        for _ in range(50):
            key = (region * 10_000 + prefix) * 100_000 + suffix
            _, first_seen = np.unique(key, return_index=True)
            repeat = np.ones(key.size, dtype=bool)
            repeat[first_seen] = False
            if not repeat.any():
                break
            suffix[repeat] = rng.integers(0, 100_000, int(repeat.sum()))

        primary_row = np.full(n, -1, dtype=np.int64)
        primary_row[owner[:fresh_count][is_primary[:fresh_count]]] = np.flatnonzero(
            is_primary[:fresh_count]
        )
        # Duplicate customers carry their original's primary number.
        copy_customers = np.arange(base, n)
        copy_rows = primary_row[copy_customers]
        original_rows = primary_row[self.copy_source]
        prefix[copy_rows] = prefix[original_rows]
        suffix[copy_rows] = suffix[original_rows]
        doubled_source = primary_row[doubled]
        self.phone_region = np.concatenate([region[:fresh_count], region[doubled_source]])
        self.phone_prefix = np.concatenate([prefix[:fresh_count], prefix[doubled_source]])
        self.phone_suffix = np.concatenate([suffix[:fresh_count], suffix[doubled_source]])
        self.outsider_prefix = prefix[fresh_count:]
        self.outsider_suffix = suffix[fresh_count:]

        style = rng.choice(len(STYLE_NAMES), rows, p=STYLE_WEIGHTS)
        # Re-spellings must differ from the spelling they repeat.
        same_as = np.full(rows, -1, dtype=np.int64)
        same_as[copy_rows] = original_rows
        same_as[fresh_count:] = doubled_source
        repeats = same_as >= 0
        clash = repeats & (style == np.where(repeats, style[same_as], -1))
        style[clash] = (style[clash] + 1) % len(STYLE_NAMES)

        protected = repeats.copy()
        protected[original_rows] = True
        protected[primary_row[self.spread]] = True
        protected[doubled_source] = True
        invalid = ~protected & (rng.random(rows) < 0.03)
        invalid_kind = rng.integers(0, len(phones.INVALID_KINDS), rows)
        disconnected = ~protected & ~invalid & (rng.random(rows) < 0.04)
        self.phone_dormant = ~protected & ~invalid & (rng.random(rows) < 0.10)

        extension = rng.integers(100, 1000, rows)
        picks = rng.integers(0, 1000, rows)
        raw = np.empty(rows, dtype=object)
        spelling = np.empty(rows, dtype=object)
        for i, (reg, pre, suf, sty, bad, kind, ext, pick) in enumerate(
            zip(
                self.phone_region.tolist(),
                self.phone_prefix.tolist(),
                self.phone_suffix.tolist(),
                style.tolist(),
                invalid.tolist(),
                invalid_kind.tolist(),
                extension.tolist(),
                picks.tolist(),
                strict=True,
            )
        ):
            parts = phones.PhoneNumberParts(self.regions[reg], pre, suf)
            if bad:
                raw[i] = phones.invalid_spelling(self.book, parts, phones.INVALID_KINDS[kind], pick)
                spelling[i] = "invalid:" + phones.INVALID_KINDS[kind]
            else:
                raw[i] = phones.format_number(self.book, parts, STYLE_NAMES[sty], str(ext))
                spelling[i] = STYLE_NAMES[sty]

        self.phone_nsn, self.phone_e164 = self._numbers(
            self.phone_region, self.phone_prefix, self.phone_suffix
        )
        self.outsider_nsn, self.outsider_e164 = self._numbers(
            np.zeros(outsiders, dtype=np.int64), self.outsider_prefix, self.outsider_suffix
        )
        nanp = np.isin(np.asarray(self.regions)[self.phone_region], list(phones.NANP_REGIONS))
        country_code = np.array(
            [str(self.book[code].country_code) for code in self.regions], dtype=object
        )[self.phone_region]
        # How the switch logs a caller, and what the dialler sends out.
        self.phone_dialled = np.where(
            nanp, "1" + self.phone_nsn, "011" + country_code + self.phone_nsn
        )
        self.phone_ani = np.where(nanp, self.phone_nsn, self.phone_e164)

        prefix_kind = np.empty(rows, dtype=object)
        for index, code in enumerate(self.regions):
            at = np.flatnonzero(self.phone_region == index)
            prefix_kind[at] = np.asarray(self.book[code].kinds, dtype=object)[self.phone_prefix[at]]
        kind = np.where(
            prefix_kind == "mobile",
            "mobile",
            _choice(rng, ["mobile", "home", "work"], [0.55, 0.35, 0.10], rows),
        )
        kind = np.where((prefix_kind == "fixed") & (kind == "mobile"), "home", kind)

        self.phone_owner = owner
        self.phone_id = self.ids("crm.customer_phones", rows)
        self.phone_raw = raw
        self.phone_spelling = spelling
        self.phone_invalid = invalid
        self.phone_disconnected = disconnected
        self.phone_is_primary = is_primary
        self.phone_kind = kind
        self.phone_created = np.where(
            is_primary,
            self.created[owner],
            _between(rng, self.created[owner], self.lifetime_end[owner]),
        )
        self.phone_last_connected = np.full(rows, -1, dtype=np.int64)
        self.primary_row = np.where(primary_row >= 0, primary_row, 0)

    def _numbers(self, region, prefix, suffix):
        prefixes = np.concatenate(
            [np.asarray(self.book[code].prefixes, dtype=object) for code in self.regions]
        )
        offsets = np.cumsum([0] + [len(self.book[code].prefixes) for code in self.regions])[:-1]
        codes = np.array(
            [f"+{self.book[code].country_code}" for code in self.regions], dtype=object
        )
        nsn = prefixes[offsets[region] + prefix] + identifiers.zero_pad(
            suffix, phones.SUFFIX_DIGITS
        )
        return nsn, codes[region] + nsn

    # -- agents, campaigns ------------------------------------------------------

    def make_agents_and_campaigns(self) -> None:
        rng = self.rng("agents")
        count = max(10, self.customer_count // 50)
        us = self.pools["US"]
        female = rng.random(count) < 0.55
        self.agent_first = np.where(
            female, us.female_first.draw(rng, count), us.male_first.draw(rng, count)
        )
        agent_last = us.last.draw(rng, count)
        self.agent_count = count
        self.load(
            "telephony.agents",
            {
                "agent_id": np.arange(1, count + 1),
                "agent_name": self.agent_first + " " + agent_last,
                "extension": (np.arange(count) + 1000).astype(str),
                "team": _choice(
                    rng,
                    ["Billing", "Tech Support", "Retention", "Sales", "Collections"],
                    [0.3, 0.3, 0.15, 0.15, 0.1],
                    count,
                ),
                "hired_at": loader.dates(self.now // DAY - rng.integers(30, 12 * 365, count)),
            },
        )

        rng = self.rng("campaigns")
        reference_month = np.datetime64(self.reference_date.isoformat()[:7], "M")
        themes = (
            "Spring Upgrade",
            "Loyalty Bonus",
            "Win-back",
            "Fiber Launch",
            "Holiday Offer",
            "Bill Reminder",
            "Survey",
        )
        rows = []
        for channel, months_between, years, length_days in (
            ("phone", 1, HISTORY_YEARS, 60),
            ("email", 3, 12, 30),
            ("sms", 6, 6, 14),
        ):
            months = reference_month - np.arange(1, years * 12 + 1, months_between)[::-1]
            starts = months.astype("datetime64[D]").astype(np.int64)
            for start in starts.tolist():
                rows.append((channel, start, start + length_days))
        count = len(rows)
        channel = np.array([row[0] for row in rows], dtype=object)
        start_day = np.array([row[1] for row in rows], dtype=np.int64)
        end_day = np.minimum(np.array([row[2] for row in rows], dtype=np.int64), self.now // DAY)
        theme = np.asarray(themes, dtype=object)[rng.integers(0, len(themes), count)]
        month_text = (
            start_day.astype("datetime64[D]").astype("datetime64[M]").astype(str).astype(object)
        )
        self.campaign_id = np.arange(1, count + 1)
        self.campaign_channel = channel
        self.campaign_start = start_day * DAY
        self.campaign_end = end_day * DAY
        self.load(
            "marketing.campaigns",
            {
                "campaign_id": self.campaign_id,
                "campaign_name": month_text + " " + theme + " (" + channel + ")",
                "channel": channel,
                "started_at": loader.dates(start_day),
                "ended_at": loader.dates(end_day),
            },
        )

    def campaign_at(self, channel: str, instants: np.ndarray) -> np.ndarray:
        """The latest campaign of a channel started before each instant (0: none)."""
        rows = np.flatnonzero(self.campaign_channel == channel)
        position = np.searchsorted(self.campaign_start[rows], instants, side="right") - 1
        return np.where(position >= 0, self.campaign_id[rows][np.maximum(position, 0)], 0)

    # -- calls ------------------------------------------------------------------

    def make_calls(self) -> None:
        callable_rows = np.flatnonzero(~self.phone_invalid)
        weights = np.where(self.phone_is_primary[callable_rows], 3.0, 1.0)
        self.call_phone_cdf = (callable_rows, np.cumsum(weights))
        if self.recordings_root.exists():
            shutil.rmtree(self.recordings_root)
        self.recordings_root.mkdir(parents=True, exist_ok=True)
        total = self.scale.calls
        for part, start in enumerate(range(0, total, CHUNK_ROWS)):
            self.call_chunk(self.rng("calls", part), min(CHUNK_ROWS, total - start))
            if part % 8 == 7:
                self.progress.say(f"telephony.calls {start + CHUNK_ROWS:,} of {total:,}")

    def call_chunk(self, rng: np.random.Generator, count: int, forced: dict | None = None) -> None:
        rows, cdf = self.call_phone_cdf
        phone = rows[np.searchsorted(cdf, rng.random(count) * cdf[-1], side="right")]
        identified = rng.random(count) >= 0.08
        outbound = rng.random(count) < 0.4
        campaign_call = outbound & (rng.random(count) < 0.7)
        if forced:
            phone, identified = forced["phone"], forced["identified"]
            outbound, campaign_call = forced["outbound"], np.zeros(count, dtype=bool)
        customer = self.phone_owner[phone]
        low = self.created[customer]
        end = self.lifetime_end[customer]
        # Dormant numbers get no call in the last 400 days (when they are old enough).
        dormant_end = np.minimum(end, self.now - 400 * DAY)
        high = np.where(self.phone_dormant[phone] & (dormant_end > low + DAY), dormant_end, end)
        low = np.minimum(low, high - 30 * DAY)
        started = np.where(
            identified,
            _between(rng, low, high, skew=0.6),
            self.now - (8 * YEAR * rng.random(count) ** 1.5).astype(np.int64),
        )
        inbound_outcome = _choice(
            rng, ["connected", "no_answer", "voicemail", "failed"], [0.80, 0.12, 0.05, 0.03], count
        )
        outbound_outcome = _choice(
            rng,
            ["connected", "no_answer", "voicemail", "busy", "failed"],
            [0.45, 0.25, 0.15, 0.08, 0.07],
            count,
        )
        disposition = np.where(outbound, outbound_outcome, inbound_outcome)
        dead_line = identified & self.phone_disconnected[phone] & (started > self.now - 180 * DAY)
        disposition = np.where(dead_line, "failed", disposition)
        if forced:
            started = forced["started"]
            disposition = np.full(count, "connected", dtype=object)
        connected = disposition == "connected"
        duration = np.select(
            [connected, disposition == "voicemail", disposition == "no_answer"],
            [
                np.clip(rng.lognormal(5.4, 0.8, count), 5, 7200),
                rng.integers(15, 90, count),
                rng.integers(5, 45, count),
            ],
            0,
        ).astype(np.int64)
        campaign = np.where(campaign_call, self.campaign_at("phone", started), 0)
        has_agent = connected | outbound
        agent = rng.integers(1, self.agent_count + 1, count)

        outsider = rng.integers(0, self.outsider_e164.size, count)
        ani = np.where(rng.random(count) < 0.75, self.phone_e164[phone], self.phone_ani[phone])
        ani = np.where(
            identified,
            ani,
            np.where(rng.random(count) < 0.02, "anonymous", self.outsider_e164[outsider]),
        )
        dialled = np.where(identified, self.phone_dialled[phone], "1" + self.outsider_nsn[outsider])
        centre = CALL_CENTRE_NUMBERS[rng.integers(0, CALL_CENTRE_NUMBERS.size, count)]
        call_id = self.ids("telephony.calls", count)
        self.load(
            "telephony.calls",
            {
                "call_id": call_id,
                "customer_id": loader.integers(self.customer_id[customer], ~identified),
                "direction": np.where(outbound, "outbound", "inbound"),
                "caller_number": np.where(outbound, centre, ani),
                "callee_number": np.where(outbound, dialled, centre),
                "agent_id": loader.integers(agent, ~has_agent),
                "campaign_id": loader.integers(campaign, campaign == 0),
                "started_at": loader.timestamps(started),
                "ended_at": loader.timestamps(started + duration),
                "duration_seconds": duration,
                "disposition": disposition,
            },
        )
        self.note_overdue("telephony.calls", call_id, "started_at", started)
        known = np.flatnonzero(identified)
        np.maximum.at(self.last_contact, customer[known], started[known])
        reached = np.flatnonzero(identified & connected)
        np.maximum.at(self.phone_last_connected, phone[reached], started[reached])

        recorded = connected & (rng.random(count) < RECORDED_SHARE)
        if forced:
            recorded = connected
        at = np.flatnonzero(recorded)
        if at.size == 0:
            return
        recording_id = self.ids("telephony.call_recordings", at.size)
        month = started[at].astype("datetime64[s]").astype("datetime64[M]").astype(str)
        storage_path = np.array(
            [
                str(self.recordings_root / stamp[:4] / stamp[5:7] / f"rec_{rid:09d}.wav")
                for stamp, rid in zip(month.tolist(), recording_id.tolist(), strict=True)
            ],
            dtype=object,
        )
        self.write_recordings(storage_path)
        consent = rng.random(at.size) < 0.9
        self.load(
            "telephony.call_recordings",
            {
                "recording_id": recording_id,
                "call_id": call_id[at],
                "storage_path": storage_path,
                "recording_consent": consent,
                "customer_state": np.where(identified[at], self.state[customer[at]], None),
                "recorded_at": loader.timestamps(started[at]),
            },
        )
        self.note_overdue("telephony.call_recordings", recording_id, "recorded_at", started[at])

        transcribed = at[rng.random(at.size) < TRANSCRIBED_SHARE] if not forced else at
        self.transcribe(
            rng,
            transcribed,
            call_id,
            customer,
            phone,
            identified,
            agent,
            started + duration,
            forced,
        )

    def write_recordings(self, storage_paths: np.ndarray) -> None:
        folders = sorted({str(Path(path).parent) for path in storage_paths.tolist()})
        for folder in folders:
            Path(folder).mkdir(parents=True, exist_ok=True)
        for path in storage_paths.tolist():
            with open(path, "wb") as handle:
                handle.write(WAV_BYTES)
        self.recording_files += storage_paths.size

    def transcribe(
        self, rng, at, call_id, customer, phone, identified, agent, ended, forced
    ) -> None:
        if at.size == 0:
            return
        count = at.size
        transcript_id = self.ids("telephony.transcripts", count)
        languages = np.array([pools.COUNTRIES[code][3] for code in self.regions], dtype=object)
        language = np.where(identified[at], languages[self.country[customer[at]]], "en")
        spoken_style = rng.integers(0, 3, count)
        with_email = rng.random(count) < 0.6
        cards, _ = identifiers.card_numbers(rng, count)
        with_card = rng.random(count) < 0.06
        with_ssn = rng.random(count) < 0.05
        expiry_month = rng.integers(1, 13, count)
        expiry_year = rng.integers(27, 32, count)
        plain = rng.random(count) < 0.15
        picks = rng.integers(0, 1000, (count, 6))
        bodies = np.empty(count, dtype=object)
        for j, i in enumerate(at.tolist()):
            who = customer[i]
            if identified[i]:
                parts = phones.PhoneNumberParts(
                    self.regions[self.phone_region[phone[i]]],
                    int(self.phone_prefix[phone[i]]),
                    int(self.phone_suffix[phone[i]]),
                )
                spoken = phones.format_number(
                    self.book, parts, ("national", "international", "digits")[spoken_style[j]]
                )
                if forced:
                    spoken = phones.format_number(self.book, parts, "international")
                email = self.email[who] if (with_email[j] or forced) else None
                if forced and email:
                    email = email.upper()
                mention = texts.Mention(
                    first_name=self.first[who],
                    last_name=self.last[who],
                    agent_first_name=self.agent_first[agent[i] - 1],
                    phone=spoken,
                    email=email,
                    card=identifiers.spaced_card(cards[j]) if with_card[j] else None,
                    card_expiry=f"{expiry_month[j]:02d}/{expiry_year[j]}",
                    ssn=self.ssn[who] if with_ssn[j] else None,
                )
                style = 0 if (plain[j] and not forced) else 1
            else:
                mention = texts.Mention(
                    "", "", self.agent_first[agent[i] - 1], None, None, None, None, None
                )
                style = 0
            bodies[j] = texts.transcript(language[j], mention, (*picks[j].tolist(), style))
        created = ended[at] + rng.integers(60, 3600, count)
        self.load(
            "telephony.transcripts",
            {
                "transcript_id": transcript_id,
                "call_id": call_id[at],
                "language": language,
                "body": bodies,
                "created_at": loader.timestamps(created),
            },
        )
        self.note_overdue("telephony.transcripts", transcript_id, "created_at", created)

    # -- crm --------------------------------------------------------------------

    def load_crm(self) -> None:
        rng = self.rng("crm")
        n = self.customer_count
        updated = _between(rng, self.created, self.lifetime_end)
        self.load(
            "crm.customers",
            {
                "customer_id": self.customer_id,
                "first_name": self.first,
                "last_name": self.last,
                "email": self.email,
                "date_of_birth": loader.dates(self.birth_day),
                "gender": self.gender,
                "country_code": self.country_code,
                "state_code": self.state,
                "status": np.where(self.closed, "closed", "active"),
                "created_at": loader.timestamps(self.created),
                "updated_at": loader.timestamps(np.maximum(updated, self.last_contact)),
                "last_contact_at": loader.timestamps(self.last_contact, self.last_contact < 0),
                "closed_at": loader.timestamps(self.closed_at, ~self.closed),
                "attr_3": self.ssn,
            },
        )
        closed_clock = np.where(self.closed, self.closed_at, self.now)
        self.note_overdue("crm.customers", self.customer_id, "closed_at", closed_clock)
        self.load(
            "crm.customer_phones",
            {
                "phone_id": self.phone_id,
                "customer_id": self.customer_id[self.phone_owner],
                "phone_raw": self.phone_raw,
                "phone_kind": self.phone_kind,
                "is_primary": self.phone_is_primary,
                "is_disconnected": self.phone_disconnected,
                "created_at": loader.timestamps(self.phone_created),
            },
        )
        self.note_overdue(
            "crm.customer_phones",
            self.phone_id,
            "customers.closed_at",
            closed_clock[self.phone_owner],
        )

        # One current address per customer, an older one for some.
        older = np.flatnonzero(rng.random(n) < 0.12)
        owner = np.concatenate([np.arange(n), older])
        current = np.arange(owner.size) < n
        street = np.empty(owner.size, dtype=object)
        city = np.empty(owner.size, dtype=object)
        postcode = np.empty(owner.size, dtype=object)
        for index, code in enumerate(self.regions):
            at = np.flatnonzero(self.country[owner] == index)
            pool = self.pools[code]
            street[at] = pool.streets[rng.integers(0, pool.streets.size, at.size)]
            city[at] = pool.cities[rng.integers(0, pool.cities.size, at.size)]
            postcode[at] = pool.postcodes[rng.integers(0, pool.postcodes.size, at.size)]
        # Duplicate records share their original's address, as typed again.
        copies = np.arange(self.base_customers, n)
        street[copies] = street[self.copy_source]
        city[copies] = city[self.copy_source]
        postcode[copies] = postcode[self.copy_source]
        created = np.where(
            current,
            self.created[owner],
            self.created[owner] - rng.integers(DAY, 5 * YEAR, owner.size),
        )
        address_id = self.ids("crm.customer_addresses", owner.size)
        self.load(
            "crm.customer_addresses",
            {
                "address_id": address_id,
                "customer_id": self.customer_id[owner],
                "street": street,
                "city": city,
                "postal_code": postcode,
                "state_code": self.state[owner],
                "country_code": self.country_code[owner],
                "created_at": loader.timestamps(created),
            },
        )
        self.note_overdue(
            "crm.customer_addresses", address_id, "customers.closed_at", closed_clock[owner]
        )
        self.postal_address = street[:n] + ", " + city[:n] + " " + postcode[:n]

    # -- billing ----------------------------------------------------------------

    def make_billing(self) -> None:
        rng = self.rng("billing")
        per_customer = rng.poisson(3.0, self.customer_count)
        owner = np.repeat(np.arange(self.customer_count), per_customer)
        self.invoices_and_payments(rng, owner, None)

    def invoices_and_payments(self, rng, owner, forced_card_style) -> None:
        count = owner.size
        low = np.maximum(self.created[owner], self.now - 12 * YEAR)
        issued_day = _between(rng, low, self.lifetime_end[owner]) // DAY
        currencies = np.array([pools.COUNTRIES[code][2] for code in self.regions], dtype=object)
        amount = np.round(rng.lognormal(4.0, 0.6, count), 2)
        recent = issued_day > self.now // DAY - 30
        status = np.where(
            recent & (rng.random(count) < 0.7),
            "open",
            _choice(rng, ["paid", "void", "open"], [0.88, 0.06, 0.06], count),
        )
        if forced_card_style is not None:
            status = np.full(count, "paid", dtype=object)
        invoice_id = self.ids("billing.invoices", count)
        self.load(
            "billing.invoices",
            {
                "invoice_id": invoice_id,
                "customer_id": self.customer_id[owner],
                "issued_at": loader.dates(issued_day),
                "amount": amount,
                "currency": currencies[self.country[owner]],
                "billing_address": self.postal_address[owner],
                "status": status,
            },
        )
        self.note_overdue("billing.invoices", invoice_id, "issued_at", issued_day * DAY)

        paid = np.flatnonzero(status == "paid")
        payments = paid.size
        paid_at = np.minimum(
            issued_day[paid] * DAY + rng.integers(0, 30 * DAY, payments), self.now - 1
        )
        form = _choice(rng, ["full", "masked", "none"], [0.03, 0.85, 0.12], payments)
        if forced_card_style is not None:
            form = np.full(payments, forced_card_style, dtype=object)
        card = np.full(payments, None, dtype=object)
        # Legacy rows kept the whole card number, typed plain, spaced or dashed.
        full = np.flatnonzero(form == "full")
        numbers, _ = identifiers.card_numbers(rng, full.size)
        layout = rng.random(full.size)
        card[full] = [
            number
            if how < 0.6
            else identifiers.spaced_card(number).replace(" ", "-" if how > 0.85 else " ")
            for number, how in zip(numbers.tolist(), layout.tolist(), strict=True)
        ]
        masked = np.flatnonzero(form == "masked")
        amex = rng.random(masked.size) < 0.12  # 15 digits: 11 stars
        card[masked] = np.where(amex, "*" * 11, "*" * 12) + identifiers.zero_pad(
            rng.integers(0, 10_000, masked.size), 4
        )
        expiry = (
            identifiers.zero_pad(rng.integers(1, 13, payments), 2)
            + "/"
            + identifiers.zero_pad(
                (
                    paid_at.astype("datetime64[s]").astype("datetime64[Y]").astype(np.int64)
                    + 1970
                    + rng.integers(1, 5, payments)
                )
                % 100,
                2,
            )
        )
        payment_id = self.ids("billing.payments", payments)
        self.load(
            "billing.payments",
            {
                "payment_id": payment_id,
                "invoice_id": invoice_id[paid],
                "customer_id": self.customer_id[owner[paid]],
                "amount": amount[paid],
                "currency": currencies[self.country[owner[paid]]],
                "card_number": card,
                "card_expiry": np.where(form == "none", None, expiry),
                "paid_at": loader.timestamps(paid_at),
            },
        )
        self.note_overdue("billing.payments", payment_id, "paid_at", paid_at)

    # -- marketing --------------------------------------------------------------

    def phone_spelled(self, rng, rows: np.ndarray) -> np.ndarray:
        """A customer's number as other systems hold it: CRM text, E.164 or digits."""
        pick = rng.random(rows.size)
        return np.where(
            pick < 0.4,
            self.phone_raw[rows],
            np.where(pick < 0.8, self.phone_e164[rows], self.phone_nsn[rows]),
        )

    def outsider_emails(self, rng, count: int) -> np.ndarray:
        pool = self.pools["US"]
        first = pool.female_first.draw(rng, count)
        last = pool.last.draw(rng, count)
        numbers = rng.integers(1, 100, count)
        domains = pool.domains[rng.integers(0, pool.domains.size, count)]
        return np.array(
            [
                _email(f, s, 1, k, d)
                for f, s, k, d in zip(first, last, numbers.tolist(), domains, strict=True)
            ],
            dtype=object,
        )

    def make_marketing(self) -> None:
        rng = self.rng("marketing")
        count = round(self.customer_count * 1.2)
        is_customer = rng.random(count) < 0.8
        customer = rng.integers(0, self.customer_count, count)
        channel = _choice(rng, ["phone", "email", "sms"], [0.5, 0.35, 0.15], count)
        no_email = is_customer & (channel == "email") & ~self.has_email[customer]
        channel = np.where(no_email, "phone", channel)
        first_campaign = self.campaign_start.min()
        low = np.maximum(self.created[customer], first_campaign)
        contacted = np.where(
            is_customer,
            _between(rng, low, np.maximum(low, self.lifetime_end[customer]), skew=0.7),
            _between(rng, np.full(count, first_campaign), np.full(count, self.now), skew=0.7),
        )
        campaign = np.zeros(count, dtype=np.int64)
        for name in ("phone", "email", "sms"):
            at = channel == name
            campaign[at] = self.campaign_at(name, contacted[at])
        campaign = np.where(
            campaign == 0, self.campaign_at("phone", np.full(count, self.now)), campaign
        )
        row = self.primary_row[customer]
        outsider = rng.integers(0, self.outsider_e164.size, count)
        customer_phone = self.phone_spelled(rng, row)
        outsider_phone = np.where(
            rng.random(count) < 0.5, self.outsider_e164[outsider], self.outsider_nsn[outsider]
        )
        phone = np.where(is_customer, customer_phone, outsider_phone)
        phone = np.where(channel == "email", None, phone)
        email = self.email[customer].copy()
        email[~is_customer] = self.outsider_emails(rng, int((~is_customer).sum()))
        upper = rng.random(count) < 0.05
        email = np.array(
            [e.upper() if (u and e) else e for e, u in zip(email, upper, strict=True)], dtype=object
        )
        email = np.where(channel == "email", email, None)
        outcome = np.select(
            [channel == "phone", channel == "email"],
            [
                _choice(
                    rng,
                    ["answered", "no_answer", "voicemail", "converted", "opted_out"],
                    [0.4, 0.3, 0.2, 0.07, 0.03],
                    count,
                ),
                _choice(
                    rng,
                    ["delivered", "opened", "clicked", "bounced", "unsubscribed"],
                    [0.45, 0.3, 0.1, 0.1, 0.05],
                    count,
                ),
            ],
            _choice(
                rng, ["delivered", "replied", "failed", "opted_out"], [0.8, 0.08, 0.08, 0.04], count
            ),
        )
        contact_id = self.ids("marketing.campaign_contacts", count)
        self.load(
            "marketing.campaign_contacts",
            {
                "contact_id": contact_id,
                "campaign_id": campaign,
                "customer_id": loader.integers(self.customer_id[customer], ~is_customer),
                "phone": phone,
                "email": email,
                "contacted_at": loader.timestamps(contacted),
                "outcome": outcome,
            },
        )
        self.note_overdue("marketing.campaign_contacts", contact_id, "contacted_at", contacted)

        customers = round(self.customer_count * 0.04)
        count = customers + round(customers * 0.3) + 1
        is_customer = np.arange(count) < customers
        customer = rng.integers(0, self.customer_count, count)
        channel = _choice(rng, ["phone", "email", "sms", "all"], [0.45, 0.3, 0.15, 0.1], count)
        channel = np.where(
            is_customer & (channel == "email") & ~self.has_email[customer], "phone", channel
        )
        phone = np.where(
            is_customer,
            self.phone_spelled(rng, self.primary_row[customer]),
            self.outsider_e164[rng.integers(0, self.outsider_e164.size, count)],
        )
        email = self.email[customer].copy()
        email[~is_customer] = self.outsider_emails(rng, int((~is_customer).sum()))
        opted = np.where(
            is_customer,
            _between(rng, self.created[customer], self.lifetime_end[customer]),
            _between(rng, np.full(count, self.now - 10 * YEAR), np.full(count, self.now)),
        )
        self.load(
            "marketing.opt_outs",
            {
                "opt_out_id": self.ids("marketing.opt_outs", count),
                "customer_id": loader.integers(self.customer_id[customer], ~is_customer),
                "phone": np.where(channel == "email", None, phone),
                "email": np.where(np.isin(channel, ["email", "all"]), email, None),
                "channel": channel,
                "opted_out_at": loader.timestamps(opted),
                "source": _choice(rng, ["call", "web", "email_link"], [0.5, 0.3, 0.2], count),
            },
        )

    # -- support ----------------------------------------------------------------

    def make_support(self) -> None:
        rng = self.rng("support")
        count = round(self.customer_count * 0.35)
        customer = rng.integers(0, self.customer_count, count)
        self.tickets(rng, customer, rng.random(count) < 0.03, None)

    def tickets(self, rng, customer, anonymous, forced_started) -> None:
        count = customer.size
        opened = _between(rng, self.created[customer], self.lifetime_end[customer])
        if forced_started is not None:
            opened = forced_started
        recent = opened > self.now - 30 * DAY
        status = np.where(
            recent,
            _choice(rng, ["open", "pending", "closed"], [0.5, 0.2, 0.3], count),
            np.where(rng.random(count) < 0.98, "closed", "pending"),
        )
        closed = status == "closed"
        closed_at = np.minimum(opened + rng.integers(600, 20 * DAY, count), self.now - 1)
        rows = self.primary_row[customer]
        style = rng.integers(0, 3, count)
        with_email = rng.random(count) < 0.5
        with_card = rng.random(count) < 0.02
        with_ssn = rng.random(count) < 0.01
        plain = rng.random(count) < 0.25
        cards, _ = identifiers.card_numbers(rng, count)
        picks = rng.integers(0, 1000, (count, 4)).tolist()
        notes = np.empty(count, dtype=object)
        for j in range(count):
            who = customer[j]
            row = rows[j]
            if anonymous[j]:
                mention = texts.Mention(
                    "a caller",
                    "",
                    "",
                    self.outsider_e164[j % self.outsider_e164.size],
                    None,
                    None,
                    None,
                    None,
                )
            else:
                parts = phones.PhoneNumberParts(
                    self.regions[self.phone_region[row]],
                    int(self.phone_prefix[row]),
                    int(self.phone_suffix[row]),
                )
                spelled = (
                    ("national", "dashes", "e164")[style[j]]
                    if forced_started is None
                    else "national"
                )
                mention = texts.Mention(
                    first_name=self.first[who],
                    last_name=self.last[who],
                    agent_first_name="",
                    phone=phones.format_number(self.book, parts, spelled),
                    email=self.email[who]
                    if (with_email[j] or forced_started is not None)
                    else None,
                    card=cards[j] if with_card[j] else None,
                    card_expiry=None,
                    ssn=self.ssn[who] if with_ssn[j] else None,
                )
            note_style = 0 if (plain[j] and forced_started is None) else 1
            notes[j] = texts.ticket_note(mention, (*picks[j], note_style))
        ticket_id = self.ids("support.tickets", count)
        self.load(
            "support.tickets",
            {
                "ticket_id": ticket_id,
                "customer_id": loader.integers(self.customer_id[customer], anonymous),
                "opened_at": loader.timestamps(opened),
                "closed_at": loader.timestamps(closed_at, ~closed),
                "category": _choice(
                    rng,
                    ["billing", "technical", "account", "complaint", "cancellation"],
                    [0.35, 0.3, 0.15, 0.1, 0.1],
                    count,
                ),
                "priority": _choice(
                    rng, ["low", "normal", "high", "urgent"], [0.3, 0.5, 0.15, 0.05], count
                ),
                "status": status,
                "notes": notes,
            },
        )
        self.note_overdue("support.tickets", ticket_id, "closed_at", closed_at, mask=closed)

    # -- compliance -------------------------------------------------------------

    def make_compliance(self) -> None:
        rng = self.rng("compliance")
        us_valid = np.flatnonzero((self.phone_region == 0) & ~self.phone_invalid)
        on_list = us_valid[rng.random(us_valid.size) < 0.08]
        outsiders = np.flatnonzero(rng.random(self.outsider_nsn.size) < 0.5)
        numbers = np.concatenate([self.phone_nsn[on_list], self.outsider_nsn[outsiders]])
        # Duplicate customers share numbers; the registry lists each number once.
        _, first_seen = np.unique(numbers.astype(str), return_index=True)
        numbers = numbers[np.sort(first_seen)]
        count = numbers.size
        reference_month = np.datetime64(self.reference_date.isoformat()[:7], "M")
        months_back = (rng.random(count) ** 2 * 13 * 12).astype(np.int64)
        snapshot = (reference_month - months_back).astype("datetime64[D]")
        self.load(
            "compliance.dnc_registry",
            {
                "phone_number": numbers,
                "snapshot_date": pa_dates(snapshot),
                "source_file": "dnc_us_"
                + np.strings.replace(snapshot.astype("datetime64[M]").astype(str), "-", "").astype(
                    object
                )
                + ".txt",
            },
        )
        snapshot_seconds = snapshot.astype(np.int64) * DAY
        self.note_overdue(
            "compliance.dnc_registry",
            numbers + "|" + snapshot.astype(str).astype(object),
            "snapshot_date",
            snapshot_seconds,
        )

        per_customer = (rng.random(self.customer_count) < 0.5).astype(np.int64) + (
            rng.random(self.customer_count) < 0.15
        )
        owner = np.repeat(np.arange(self.customer_count), per_customer)
        self.consents(rng, owner, None)

        # Legal holds: by subject, by record, by table and date range; some ended.
        now = self.now
        closed_ancient = np.flatnonzero(self.closed & (self.closed_at < self.cutoff))
        ancient_subject = int(self.customer_id[closed_ancient[0]]) if closed_ancient.size else 1
        holds = [
            (
                "subject",
                int(self.customer_id[self.spread[0]]),
                None,
                None,
                None,
                None,
                now - 200 * DAY,
                None,
                None,
            ),
            ("subject", ancient_subject, None, None, None, None, now - 2 * YEAR, None, None),
            (
                "subject",
                int(self.customer_id[self.duplicate_members[0]]),
                None,
                None,
                None,
                None,
                now - 3 * YEAR,
                None,
                now - YEAR,
            ),
            ("record", None, "telephony.calls", "1", None, None, now - 400 * DAY, None, None),
            (
                "record",
                None,
                "support.tickets",
                "2",
                None,
                None,
                now - 5 * YEAR,
                now - 2 * YEAR,
                None,
            ),
            (
                "table",
                None,
                "billing.invoices",
                None,
                now - 9 * YEAR,
                now - 8 * YEAR,
                now - YEAR,
                None,
                None,
            ),
            (
                "table",
                None,
                "telephony.call_recordings",
                None,
                now - 3 * YEAR,
                now - 2 * YEAR,
                now - 90 * DAY,
                now + YEAR,
                None,
            ),
            (
                "table",
                None,
                "marketing.campaign_contacts",
                None,
                now - 6 * YEAR,
                now - 5 * YEAR,
                now - 4 * YEAR,
                None,
                now - 2 * YEAR,
            ),
        ]

        def instants(values):
            array = np.array([v if v is not None else 0 for v in values], dtype=np.int64)
            return loader.timestamps(array, np.array([v is None for v in values]))

        def days(values):
            array = np.array([v // DAY if v is not None else 0 for v in values], dtype=np.int64)
            return loader.dates(array, np.array([v is None for v in values]))

        columns = list(zip(*holds, strict=True))
        self.load(
            "compliance.legal_holds",
            {
                "hold_id": np.arange(1, len(holds) + 1),
                "case_reference": np.array(
                    [f"CASE-{2019 + i}-{(i * 7919) % 10_000:04d}" for i in range(len(holds))],
                    dtype=object,
                ),
                "scope": np.array(columns[0], dtype=object),
                "customer_id": loader.integers(
                    np.array([v or 0 for v in columns[1]]),
                    np.array([v is None for v in columns[1]]),
                ),
                "source_table": np.array(columns[2], dtype=object),
                "record_key": np.array(columns[3], dtype=object),
                "date_from": days(columns[4]),
                "date_to": days(columns[5]),
                "placed_at": instants(columns[6]),
                "expires_at": instants(columns[7]),
                "released_at": instants(columns[8]),
            },
        )

    def consents(self, rng, owner, forced_phone_style) -> None:
        count = owner.size
        kind = _choice(
            rng,
            ["express_written", "ebr_purchase", "ebr_inquiry", "call_recording"],
            [0.35, 0.3, 0.15, 0.2],
            count,
        )
        rows = self.primary_row[owner]
        phone = np.where(
            np.isin(kind, ["express_written", "call_recording"]),
            self.phone_spelled(rng, rows),
            None,
        )
        if forced_phone_style is not None:
            kind = np.full(count, "express_written", dtype=object)
            phone = np.array(
                [
                    phones.format_number(
                        self.book,
                        phones.PhoneNumberParts(
                            self.regions[self.phone_region[r]],
                            int(self.phone_prefix[r]),
                            int(self.phone_suffix[r]),
                        ),
                        forced_phone_style,
                    )
                    for r in rows.tolist()
                ],
                dtype=object,
            )
        granted = _between(rng, self.created[owner], self.lifetime_end[owner])
        revoked = (rng.random(count) < 0.12) & (forced_phone_style is None)
        revoked_at = _between(rng, granted, self.lifetime_end[owner])
        consent_id = self.ids("compliance.consents", count)
        self.load(
            "compliance.consents",
            {
                "consent_id": consent_id,
                "customer_id": self.customer_id[owner],
                "phone": phone,
                "consent_type": kind,
                "granted_at": loader.timestamps(granted),
                "revoked_at": loader.timestamps(revoked_at, ~revoked),
            },
        )
        self.note_overdue("compliance.consents", consent_id, "revoked_at", revoked_at, mask=revoked)

    # -- spread subjects ----------------------------------------------------------

    def plant_spread_subjects(self) -> None:
        """Customers in every system, their number spelled at least four ways."""
        rng = self.rng("spread")
        subjects = self.spread
        k = subjects.size
        rows = self.primary_row[subjects]
        # Calls: inbound from the switch (E.164) and outbound dialled (1 + digits),
        # all connected, recorded and transcribed (international spelling, e-mail
        # in capitals).
        per = 3
        phone = np.repeat(rows, per)
        started = self.now - rng.integers(10 * DAY, 2 * YEAR, k * per)
        forced = {
            "phone": phone,
            "identified": np.ones(k * per, dtype=bool),
            "outbound": np.tile(np.array([False, False, True]), k),
            "started": started,
        }
        self.call_chunk(rng, k * per, forced)
        self.invoices_and_payments(rng, np.repeat(subjects, 2), "masked")
        self.tickets(
            rng, subjects, np.zeros(k, dtype=bool), self.now - rng.integers(5 * DAY, YEAR, k)
        )
        self.consents(rng, subjects, "trunk")

        contacted = self.now - rng.integers(30 * DAY, 3 * YEAR, k)
        dotted = np.array(
            [
                phones.format_number(
                    self.book,
                    phones.PhoneNumberParts(
                        self.regions[self.phone_region[r]],
                        int(self.phone_prefix[r]),
                        int(self.phone_suffix[r]),
                    ),
                    "dots",
                )
                for r in rows.tolist()
            ],
            dtype=object,
        )
        emails_upper = np.array([e.upper() for e in self.email[subjects]], dtype=object)
        self.load(
            "marketing.campaign_contacts",
            {
                "contact_id": self.ids("marketing.campaign_contacts", 2 * k),
                "campaign_id": np.concatenate(
                    [self.campaign_at("phone", contacted), self.campaign_at("email", contacted)]
                ),
                "customer_id": np.tile(self.customer_id[subjects], 2),
                "phone": np.concatenate([dotted, np.full(k, None, dtype=object)]),
                "email": np.concatenate([np.full(k, None, dtype=object), emails_upper]),
                "contacted_at": loader.timestamps(np.tile(contacted, 2)),
                "outcome": np.array(["answered"] * k + ["opened"] * k, dtype=object),
            },
        )
        self.load(
            "marketing.opt_outs",
            {
                "opt_out_id": self.ids("marketing.opt_outs", k),
                "customer_id": self.customer_id[subjects],
                "phone": self.phone_nsn[rows],
                "email": self.email[subjects],
                "channel": np.full(k, "all", dtype=object),
                "opted_out_at": loader.timestamps(self.now - rng.integers(DAY, 30 * DAY, k)),
                "source": np.full(k, "call", dtype=object),
            },
        )

    # -- ground truth ----------------------------------------------------------

    def load_ground_truth(self) -> None:
        truth = GROUND_TRUTH_SCHEMA
        info = {
            "scale": self.scale.name,
            "seed": str(self.seed),
            "reference_date": self.reference_date.isoformat(),
            "recordings_root": str(self.recordings_root),
            "ancient_cutoff": str(np.datetime64(self.cutoff, "s")),
        }
        self.load(
            f"{truth}.seed_info",
            {
                "setting_name": np.array(list(info), dtype=object),
                "setting_value": np.array(list(info.values()), dtype=object),
            },
        )
        columns = list(zip(*PII_COLUMNS, strict=True))
        self.load(
            f"{truth}.pii_columns",
            {
                name: np.array(values, dtype=object)
                for name, values in zip(
                    ("schema_name", "table_name", "column_name", "category"), columns, strict=True
                )
            },
        )
        self.load(
            f"{truth}.duplicate_customers",
            {
                "cluster_id": self.duplicate_clusters,
                "customer_id": self.customer_id[self.duplicate_members],
                "is_original": self.duplicate_is_original,
            },
        )

        # Same customer, same number, more than one row.
        valid = np.flatnonzero(~self.phone_invalid)
        key = self.phone_e164[valid]
        pairs = {}
        for row, owner, number in zip(
            valid.tolist(), self.phone_owner[valid].tolist(), key.tolist(), strict=True
        ):
            pairs.setdefault((owner, number), []).append(row)
        doubled = np.array(
            sorted(row for group in pairs.values() if len(group) > 1 for row in group),
            dtype=np.int64,
        )
        self.load(
            f"{truth}.duplicate_phones",
            {
                "customer_id": self.customer_id[self.phone_owner[doubled]],
                "phone_id": self.phone_id[doubled],
                "e164": self.phone_e164[doubled],
            },
        )

        status = np.where(
            self.phone_invalid,
            "invalid",
            np.where(self.phone_disconnected, "disconnected", "valid"),
        )
        inactive = self.phone_last_connected < self.now - INACTIVE_AFTER
        self.load(
            f"{truth}.phone_cases",
            {
                "phone_id": self.phone_id,
                "customer_id": self.customer_id[self.phone_owner],
                "phone_raw": self.phone_raw,
                "region": self.country_code[self.phone_owner],
                "spelling": self.phone_spelling,
                "expected_e164": np.where(self.phone_invalid, None, self.phone_e164),
                "expected_status": status,
                "last_connected_call_at": loader.timestamps(
                    self.phone_last_connected, self.phone_last_connected < 0
                ),
                "is_inactive": inactive,
            },
        )
        self.load(
            f"{truth}.spread_subjects",
            {
                "customer_id": self.customer_id[self.spread],
                "e164": self.phone_e164[self.primary_row[self.spread]],
                "email": self.email[self.spread],
            },
        )
        if self.overdue:
            self.load(
                f"{truth}.retention_overdue",
                {
                    "schema_name": np.concatenate(
                        [
                            np.full(len(keys), schema, dtype=object)
                            for schema, _, keys, _, _ in self.overdue
                        ]
                    ),
                    "table_name": np.concatenate(
                        [
                            np.full(len(keys), table, dtype=object)
                            for _, table, keys, _, _ in self.overdue
                        ]
                    ),
                    "record_key": np.concatenate(
                        [keys.astype(str).astype(object) for _, _, keys, _, _ in self.overdue]
                    ),
                    "clock_column": np.concatenate(
                        [
                            np.full(len(keys), column, dtype=object)
                            for _, _, keys, column, _ in self.overdue
                        ]
                    ),
                    "clock": loader.timestamps(
                        np.concatenate([clocks for *_, clocks in self.overdue])
                    ),
                },
            )


def pa_dates(values: np.ndarray):
    return loader.dates(values.astype(np.int64))
