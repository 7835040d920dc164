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
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from steward import paths, warehouse
from steward.seed import loader, phones, pools
from steward.seed.common import (  # re-exported: the seed's public settings
    ANCIENT_YEARS,
    CHUNK_ROWS,
    GROUND_TRUTH_SCHEMA,
    PII_COLUMNS,
    REFERENCE_DATE,
    SCALES,
    Scale,
    epoch_seconds,
    years_before,
)
from steward.seed.ground_truth import GroundTruthTables
from steward.seed.sources.billing import BillingTables
from steward.seed.sources.compliance import ComplianceTables
from steward.seed.sources.crm import CrmTables
from steward.seed.sources.marketing import MarketingTables
from steward.seed.sources.support import SupportTables
from steward.seed.sources.telephony import TelephonyTables

__all__ = [
    "ANCIENT_YEARS",
    "CHUNK_ROWS",
    "GROUND_TRUTH_SCHEMA",
    "PII_COLUMNS",
    "REFERENCE_DATE",
    "SCALES",
    "Scale",
    "SeedReport",
    "generate_tables",
    "seed_warehouse",
]


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
) -> WarehouseGenerator:
    """Generate every table into ``sink.load(table, columns)`` (no database needed).

    Writes the recording files under ``recordings_root`` (emptied first).
    """
    generator = WarehouseGenerator(
        SCALES[scale],
        seed,
        reference_date,
        recordings_root,
        sink,
        progress or loader.Progress(enabled=False),
    )
    generator.run()
    return generator


class WarehouseGenerator(
    CrmTables,
    TelephonyTables,
    BillingTables,
    MarketingTables,
    SupportTables,
    ComplianceTables,
    GroundTruthTables,
):
    """Generates the warehouse in steps (:meth:`run`); each source system's in its own module."""

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
        self.now = epoch_seconds(reference_date)
        self.cutoff = epoch_seconds(years_before(reference_date, ANCIENT_YEARS))
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
