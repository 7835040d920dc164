"""Phone normalisation: row-by-row parsing versus Steward's distinct-only lookup refresh.

    .venv/bin/python benchmarks/phone_normalisation.py [--rows 1000000] [--workers 2]

Builds a scratch database on the warehouse's server (``steward.warehouse``:
STEWARD_DATABASE_URL, else the embedded PostgreSQL) holding a call-centre-like
phone workload of ``--rows`` phone values: customers with ~1.3 numbers each,
typed by agents in several spellings, and calls that repeat those numbers as
caller ids (mostly E.164, sometimes national digits, some junk). Then, in the
same run, it times

(a) the naive baseline: fetch every row and parse it with ``phonenumbers`` in a
    Python loop (results are not even written back: a lower bound);
(b) ``refresh_phone_lookup`` on an empty lookup (distinct pairs only, bulk COPY);
(c) the second night, after 1% new numbers arrived in the calls;

and prints a Markdown table. Targets: (b) at least 5x faster than (a); (c) at
most 10% of (b). The scratch database is dropped at the end.

    .venv/bin/python benchmarks/phone_normalisation.py --warehouse-url URL \
        [--naive-sample-rows 2000000] [--workers 2]

measures the same three steps on an existing seeded warehouse instead (the
issue's `l` warehouse), over every phone column of the data map:

(a) naive: stream the phone values with their customer's country (server-side
    cursor) and run ``phonenumbers.parse`` + ``is_valid_number`` on each in a
    Python loop (phonenumbers as shipped: its pattern cache off), reported as
    rows/second; (a') the same on the sample with the pattern cache on. First on a reproducible
    ``tablesample bernoulli ... repeatable`` sample of 2M rows taking the same
    fraction of every column; then on every row if the sample's rate projects
    that to take at most 12 minutes (else the sample's figure stands).
    ``--naive-sample-rows N`` only samples N rows, ``0`` only runs every row;
(b) ``refresh_phone_lookup(full=True)`` over the whole warehouse, starting
    from no lookup (the first night; an existing one is dropped): rows/second =
    every source row it covers / seconds;
(c) the second night: ``--new-call-share`` (1%) more calls, each with a number
    the warehouse has never held (set-based ``insert ... select`` in the seed's
    call formats), then the incremental ``refresh_phone_lookup()``.

It adds those calls to ``telephony.calls`` (and rewrites ``steward.phone_lookup``)
and deletes nothing else: a rerun adds another share of calls.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from psycopg2 import sql
from sqlalchemy.engine import make_url

from steward import warehouse
from steward.phones import normalise, normalise_raw, refresh_phone_lookup
from steward.phones.lookup import DEFAULT_COUNTRY_HINT, CountryHint
from steward.phones.normalise import resolve_region
from steward.phones.sources import (
    PhoneSource,
    country_hint_from_data_map,
    sources_from_data_map,
)

SCHEMA = "bench_phones"
HINT = CountryHint(SCHEMA, "customers", "customer_id", "country_code")
SOURCES = [
    PhoneSource(SCHEMA, "customer_phones", "phone_raw", "customer_id"),
    PhoneSource(SCHEMA, "calls", "caller_number", "customer_id"),
    PhoneSource(SCHEMA, "calls", "callee_number", "customer_id"),
]
# Where a US call centre's customers live.
COUNTRY_WEIGHTS = {
    "US": 0.70,
    "CA": 0.05,
    "GB": 0.07,
    "MX": 0.05,
    "DE": 0.04,
    "FR": 0.03,
    "IN": 0.03,
    "BR": 0.03,
}
PHONES_PER_CUSTOMER = (1, 1, 1, 2, 2, 1, 1, 2, 1, 1)  # mean 1.3
CALLS_PER_CUSTOMER = 10  # as the seed's scales: 1k customers / 10k calls ... 1M / 10M
CENTRE_NUMBERS = ("+18005550199", "+18885550142", "+18665550175", "+18775550123")
OUTBOUND_SHARE = 0.40
UNIDENTIFIED_SHARE = 0.08  # inbound calls from numbers no customer owns
ANONYMOUS_SHARE = 0.02
NEW_NUMBER_SHARE = 0.01
CALLS_PER_NEW_NUMBER = 3


@dataclass
class Number:
    region: str
    e164: str
    typed: tuple[str, ...]  # as agents type it into the CRM
    caller_id: str  # as the switch delivers it when not in E.164
    dialled: str  # as the dialer stores an outbound call


def _random_number(region: str, rng: random.Random) -> Number:
    kind = rng.choice([PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE])
    example = phonenumbers.example_number_for_type(region, kind)
    digits = str(example.national_number)
    for _ in range(50):
        # Keep the leading digits (they carry area code and type); vary the rest.
        tail = "".join(str(rng.randrange(10)) for _ in range(4))
        candidate = phonenumbers.PhoneNumber(
            country_code=example.country_code, national_number=int(digits[:-4] + tail)
        )
        if phonenumbers.is_valid_number(candidate):
            break
    else:
        candidate = example
    national = phonenumbers.format_number(candidate, PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(candidate, PhoneNumberFormat.INTERNATIONAL)
    e164 = phonenumbers.format_number(candidate, PhoneNumberFormat.E164)
    nsn = phonenumbers.national_significant_number(candidate)
    nanp = candidate.country_code == 1
    return Number(
        region=region,
        e164=e164,
        typed=(national, international, e164, national.replace(" ", "-")),
        caller_id=nsn if nanp else e164,
        dialled="1" + nsn if nanp else e164,
    )


@dataclass
class Workload:
    customers: list[tuple[int, str]]
    customer_phones: list[tuple[int, str]]
    calls: list[tuple[int | None, str | None, str | None]]
    numbers: dict[int, list[Number]]
    outsiders: list[Number]

    @property
    def phone_values(self) -> int:
        return len(self.customer_phones) + 2 * len(self.calls)


def make_workload(rows: int, seed: int) -> Workload:
    """About ``rows`` phone values: CRM phones plus a caller and a callee per call."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    per_customer = 1.3 + 2 * CALLS_PER_CUSTOMER
    customer_count = max(10, round(rows / per_customer))
    regions = list(COUNTRY_WEIGHTS)
    weights = list(COUNTRY_WEIGHTS.values())
    customers = [
        (customer_id, rng.choices(regions, weights)[0])
        for customer_id in range(1, customer_count + 1)
    ]
    numbers: dict[int, list[Number]] = {}
    customer_phones = []
    for customer_id, region in customers:
        owned = [_random_number(region, rng) for _ in range(rng.choice(PHONES_PER_CUSTOMER))]
        numbers[customer_id] = owned
        for number in owned:
            customer_phones.append((customer_id, rng.choice(number.typed)))
    outsiders = [_random_number("US", rng) for _ in range(max(1, customer_count // 3))]
    workload = Workload(customers, customer_phones, [], numbers, outsiders)
    call_count = (rows - len(customer_phones)) // 2
    workload.calls = [_call(workload, rng) for _ in range(call_count)]
    return workload


def _call(workload: Workload, rng: random.Random, number: Number | None = None):
    """(customer_id, caller_number, callee_number) of one call."""
    centre = rng.choice(CENTRE_NUMBERS)
    if number is None:
        draw = rng.random()
        if draw < ANONYMOUS_SHARE:
            return None, "anonymous", centre
        if draw < ANONYMOUS_SHARE + UNIDENTIFIED_SHARE:
            return None, rng.choice(workload.outsiders).e164, centre
        customer_id = rng.randint(1, len(workload.customers))
        number = rng.choice(workload.numbers[customer_id])
    else:
        customer_id = rng.randint(1, len(workload.customers))
    if rng.random() < OUTBOUND_SHARE:
        return customer_id, centre, number.dialled
    caller = number.e164 if rng.random() < 0.75 else number.caller_id
    return customer_id, caller, centre


def _copy_rows(connection, table: str, rows) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join("\\N" if value is None else str(value) for value in row) + "\n")
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.copy_expert(f"copy {SCHEMA}.{table} from stdin", buffer)


def load(url: str, workload: Workload) -> None:
    connection = warehouse.psycopg2_connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"create schema {SCHEMA}")
            cursor.execute(
                f"create table {SCHEMA}.customers (customer_id bigint primary key,"
                " country_code char(2))"
            )
            cursor.execute(
                f"create table {SCHEMA}.customer_phones (customer_id bigint, phone_raw text)"
            )
            cursor.execute(
                f"create table {SCHEMA}.calls (customer_id bigint, caller_number text,"
                " callee_number text)"
            )
        _copy_rows(connection, "customers", workload.customers)
        _copy_rows(connection, "customer_phones", workload.customer_phones)
        _copy_rows(connection, "calls", workload.calls)
        connection.commit()
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f"vacuum analyze {SCHEMA}.customers")
            cursor.execute(f"vacuum analyze {SCHEMA}.customer_phones")
            cursor.execute(f"vacuum analyze {SCHEMA}.calls")
    finally:
        connection.close()


def add_new_numbers(url: str, workload: Workload, count: int, seed: int) -> int:
    """Calls from ``count`` numbers never seen before; returns the calls added."""
    rng = random.Random(seed + 1)  # noqa: S311 - synthetic data, not secrets
    calls = []
    for _ in range(count):
        number = _random_number(rng.choice(list(COUNTRY_WEIGHTS)), rng)
        calls += [_call(workload, rng, number) for _ in range(CALLS_PER_NEW_NUMBER)]
    connection = warehouse.psycopg2_connect(url)
    try:
        _copy_rows(connection, "calls", calls)
        connection.commit()
    finally:
        connection.close()
    return len(calls)


NAIVE_QUERY = f"""
    select p.phone_raw, c.country_code
    from {SCHEMA}.customer_phones as p
    left join {SCHEMA}.customers as c on c.customer_id = p.customer_id
    union all
    select k.caller_number, c.country_code
    from {SCHEMA}.calls as k
    left join {SCHEMA}.customers as c on c.customer_id = k.customer_id
    union all
    select k.callee_number, c.country_code
    from {SCHEMA}.calls as k
    left join {SCHEMA}.customers as c on c.customer_id = k.customer_id
"""


def _parse_with_phonenumbers(raw: str | None, country: str | None):
    """What a row-by-row job typically does with each value."""
    try:
        number = phonenumbers.parse(raw or "", (country or "US").strip())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return (
        phonenumbers.format_number(number, PhoneNumberFormat.E164),
        phonenumbers.number_type(number),
        phonenumbers.region_code_for_number(number),
    )


def naive_baseline(url: str, parse) -> tuple[float, int]:
    """Fetch every phone row with its customer's country, parse each in a loop."""
    started = time.perf_counter()
    connection = warehouse.psycopg2_connect(url)
    parsed = 0
    try:
        cursor = connection.cursor(name="naive_phone_rows")
        cursor.itersize = 50_000
        cursor.execute(NAIVE_QUERY)
        for raw, country in cursor:
            parse(raw, country)
            parsed += 1
        cursor.close()
    finally:
        connection.close()
    return time.perf_counter() - started, parsed


def _fresh_refresh(engine, **options):
    # Earlier steps warmed this process's per-number cache; start each step cold.
    normalise._classify_digits.cache_clear()
    return refresh_phone_lookup(engine, SOURCES, country_hint=HINT, **options)


def run(rows: int, seed: int, workers: int | None, serial_too: bool) -> tuple[str, bool]:
    mark = time.perf_counter()
    workload = make_workload(rows, seed)
    with warehouse.scratch_database("steward_bench_phones") as url:
        load(url, workload)
        setup_seconds = time.perf_counter() - mark
        engine = warehouse.engine(url)

        with phonenumbers_as_shipped():
            naive_seconds, naive_rows = naive_baseline(url, _parse_with_phonenumbers)
        normalise._classify_digits.cache_clear()
        steward_rowwise_seconds, _ = naive_baseline(url, normalise_raw)
        first = _fresh_refresh(engine, workers=workers)
        serial = _fresh_refresh(engine, full=True, workers=1) if serial_too else None
        new_numbers = max(1, round(first.distinct_seen * NEW_NUMBER_SHARE))
        new_calls = add_new_numbers(url, workload, new_numbers, seed)
        second = _fresh_refresh(engine, workers=workers)
        weekly = _fresh_refresh(engine, workers=workers, full_scan=True)

    speedup = naive_seconds / first.elapsed_seconds
    second_share = second.elapsed_seconds / first.elapsed_seconds

    def row(step: str, parsed: str, seconds: float) -> str:
        return (
            f"| {step} | {parsed} | {seconds:.2f} | {naive_seconds / seconds:.1f}x "
            f"| {seconds / first.elapsed_seconds:.1%} |"
        )

    lines = [
        f"Phone normalisation: {naive_rows:,} phone values in {len(workload.customers):,} "
        f"customers' CRM phones ({len(workload.customer_phones):,}) and the caller and callee "
        f"of {len(workload.calls):,} calls; phonenumbers {first.library_version}; "
        f"setup {setup_seconds:.1f}s.",
        "",
        "| step | values parsed | seconds | speed-up vs (a) | vs (b) |",
        "|---|---:|---:|---:|---:|",
        row(
            "(a) naive: fetch every row, parse each with phonenumbers",
            f"{naive_rows:,}",
            naive_seconds,
        ),
        row("(a') every row, Steward's normalise_raw", f"{naive_rows:,}", steward_rowwise_seconds),
        row(
            f"(b) Steward refresh, first night ({first.workers} worker(s))",
            f"{first.new_parsed:,} distinct",
            first.elapsed_seconds,
        ),
    ]
    if serial is not None:
        lines.append(
            row(
                "(b') full re-parse, 1 worker",
                f"{serial.new_parsed:,} distinct",
                serial.elapsed_seconds,
            )
        )
    lines += [
        row(
            f"(c) second night: {new_numbers:,} new numbers in {new_calls:,} new calls",
            f"{second.new_parsed:,} distinct",
            second.elapsed_seconds,
        ),
        row(
            "(c') the same, as the weekly full scan (reads every row, prunes)",
            f"{weekly.new_parsed:,} distinct",
            weekly.elapsed_seconds,
        ),
        "",
        f"Distinct (raw, region) pairs: {first.distinct_seen:,} "
        f"({naive_rows / first.distinct_seen:.1f} rows per pair). "
        f"Status of the pairs: {first.status_counts}.",
        "(b) timings: " + ", ".join(f"{k} {v:.2f}s" for k, v in first.timings.items()) + ".",
        f"(c) {second.scan} scan timings: "
        + ", ".join(f"{k} {v:.2f}s" for k, v in second.timings.items())
        + ".",
        "",
        f"Targets: (b) >= 5x faster than (a): {'met' if speedup >= 5 else 'MISSED'} "
        f"({speedup:.1f}x); (c) <= 10% of (b): "
        f"{'met' if second_share <= 0.10 else 'MISSED'} ({second_share:.1%}).",
    ]
    return "\n".join(lines), speedup >= 5 and second_share <= 0.10


# -- an existing warehouse (--warehouse-url) ------------------------------------

NAIVE_TIME_BUDGET_SECONDS = 12 * 60  # beyond this, the naive loop runs on a sample
DEFAULT_NAIVE_SAMPLE_ROWS = 2_000_000
SAMPLE_MARGIN = 1.01  # bernoulli draws vary by ~0.1% at 2M rows: ask for 1% more
SAMPLE_SEED = 42
# The seed writes calls' numbers as digits ('14155550123', '011447400123456') or
# E.164; every 5-digit ending of the seed's prefixes is a valid number, so a new
# ending keeps a number plausible and, checked against the lookup, new.
CALL_NUMBER_PATTERN = r"^\+?[0-9]{10,15}$"
NEW_ENDING_DIGITS = 5


@dataclass
class NaiveResult:
    rows: int
    seconds: float
    parse_seconds: float  # inside phonenumbers; the rest is reading the rows
    valid: int
    sample_percent: float | None  # None: every row
    rows_per_source: dict[str, int]

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds


@contextlib.contextmanager
def phonenumbers_as_shipped(pattern_cache: bool = False):
    """phonenumbers with its pattern cache off (the library's default) unless asked.

    Importing Steward turns the cache on for the whole process; the naive
    baseline is phonenumbers as a plain loop would use it.
    """
    from phonenumbers import re_util

    saved = re_util._COMPILED_PATTERNS
    re_util._COMPILED_PATTERNS = (saved or {}) if pattern_cache else None
    try:
        yield
    finally:
        re_util._COMPILED_PATTERNS = saved


def naive_is_valid(raw: str | None, country: str | None) -> bool:
    """The row-by-row baseline: phonenumbers.parse + is_valid_number, Steward's region hint."""
    try:
        # Steward's region rules, without its cache of them.
        number = phonenumbers.parse(raw or "", resolve_region.__wrapped__(country))
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number)


def sample_percent(wanted_rows: int, total_rows: int) -> float | None:
    """Bernoulli percentage drawing about ``wanted_rows`` of ``total_rows``; None for all."""
    if wanted_rows <= 0 or total_rows <= 0 or wanted_rows * SAMPLE_MARGIN >= total_rows:
        return None
    return 100.0 * wanted_rows * SAMPLE_MARGIN / total_rows


def naive_source_sql(
    source: PhoneSource, hint: CountryHint, percent: float | None
) -> sql.Composable:
    """One phone column's values with their customer's country, optionally sampled.

    The sample is ``percent`` of the column's rows drawn evenly from the whole
    table (bernoulli), the same rows on every run over the same table.
    """
    sampled = sql.SQL("")
    if percent is not None:
        sampled = sql.SQL(" tablesample bernoulli ({}) repeatable ({})").format(
            sql.Literal(percent), sql.Literal(SAMPLE_SEED)
        )
    table = sql.Identifier(source.schema, source.table)
    column = sql.Identifier(source.column)
    if source.customer_key is None:
        return sql.SQL("select src.{}::text, null::text from {} as src{}").format(
            column, table, sampled
        )
    return sql.SQL(
        "select src.{}::text, hint.{}::text from {} as src{}"
        " left join {} as hint on hint.{} = src.{}"
    ).format(
        column,
        sql.Identifier(hint.country_column),
        table,
        sampled,
        sql.Identifier(hint.schema, hint.table),
        sql.Identifier(hint.key_column),
        sql.Identifier(source.customer_key),
    )


def source_row_counts(url: str, sources: list[PhoneSource]) -> dict[str, int]:
    """Rows per phone column (every row: null and junk values are normalised too)."""
    counts: dict[tuple[str, str], int] = {}
    connection = warehouse.psycopg2_connect(url)
    try:
        with connection.cursor() as cursor:
            for source in sources:
                key = (source.schema, source.table)
                if key not in counts:
                    cursor.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(*key)))
                    counts[key] = cursor.fetchone()[0]
    finally:
        connection.close()
    return {source.label: counts[(source.schema, source.table)] for source in sources}


def naive_on_warehouse(
    url: str,
    sources: list[PhoneSource],
    hint: CountryHint,
    percent: float | None,
    pattern_cache: bool = False,
) -> NaiveResult:
    """Stream every (or a sample of every) phone column and parse each value in a loop."""
    with phonenumbers_as_shipped(pattern_cache):
        return _naive_on_warehouse(url, sources, hint, percent)


def _naive_on_warehouse(
    url: str, sources: list[PhoneSource], hint: CountryHint, percent: float | None
) -> NaiveResult:
    started = time.perf_counter()
    parse_seconds = 0.0
    rows_per_source: dict[str, int] = {}
    valid = 0
    clock = time.perf_counter
    connection = warehouse.psycopg2_connect(url)
    try:
        for index, source in enumerate(sources):
            cursor = connection.cursor(name=f"naive_phone_rows_{index}")
            cursor.itersize = 50_000
            cursor.execute(naive_source_sql(source, hint, percent))
            rows = 0
            for raw, country in cursor:
                mark = clock()
                valid += naive_is_valid(raw, country)
                parse_seconds += clock() - mark
                rows += 1
            cursor.close()
            rows_per_source[source.label] = rows
        connection.rollback()
    finally:
        connection.close()
    return NaiveResult(
        rows=sum(rows_per_source.values()),
        seconds=time.perf_counter() - started,
        parse_seconds=parse_seconds,
        valid=valid,
        sample_percent=percent,
        rows_per_source=rows_per_source,
    )


SECOND_NIGHT_CALLS_SQL = """
with picked as (
    select
        c.*,
        case when c.direction = 'outbound' then c.callee_number else c.caller_number end
            as customer_side
    from telephony.calls as c
    where abs(hashtextextended(c.call_id::text, %(seed)s)) %% 100000 < %(pick_per_100k)s
),

renumbered as (
    select
        p.*,
        left(p.customer_side, -%(ending)s)
        || lpad((abs(hashtextextended(p.call_id::text, %(seed)s + 1)) %% 100000)::text,
            %(ending)s, '0') as new_number
    from picked as p
    where p.customer_side ~ %(pattern)s
),

unseen as (
    select distinct on (r.new_number) r.*
    from renumbered as r
    where not exists (
        select from steward.phone_lookup as l
        where l.raw_value = steward.phone_raw_key(r.new_number)
    )
    order by r.new_number, r.call_id
),

chosen as (
    select
        u.*,
        row_number() over (order by u.call_id) as n
    from unseen as u
    order by u.call_id
    limit %(calls)s
),

final as (
    select
        ch.n,
        ch.customer_id,
        ch.direction,
        case when ch.direction = 'outbound' then ch.caller_number else ch.new_number end
            as caller_number,
        case when ch.direction = 'outbound' then ch.new_number else ch.callee_number end
            as callee_number,
        ch.agent_id,
        ch.duration_seconds,
        ch.disposition,
        now() - (ch.n %% 86400) * interval '1 second' as started_at
    from chosen as ch
)

insert into telephony.calls (
    call_id, customer_id, direction, caller_number, callee_number, agent_id, campaign_id,
    started_at, ended_at, duration_seconds, disposition
)
select
    (select max(call_id) from telephony.calls) + f.n,
    f.customer_id,
    f.direction,
    f.caller_number,
    f.callee_number,
    f.agent_id,
    null,
    f.started_at,
    f.started_at + f.duration_seconds * interval '1 second',
    f.duration_seconds,
    f.disposition
from final as f
"""


def add_second_night_calls(url: str, share: float, seed: int) -> tuple[int, int]:
    """Insert ``share`` of the calls again, each with a number the lookup has never seen.

    The calls copy sampled existing calls (customer, direction, disposition, the
    call centre's side) with a new 5-digit ending on the customer's number, in
    the same spelling. Returns (calls added, calls before).
    """
    connection = warehouse.psycopg2_connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("select count(*) from telephony.calls")
            before = cursor.fetchone()[0]
            wanted = max(1, round(before * share))
            cursor.execute(
                SECOND_NIGHT_CALLS_SQL,
                {
                    # Reproducible for a given warehouse, other calls on a rerun.
                    "seed": seed + before,
                    # Over-pick: some calls are anonymous, some endings already exist.
                    "pick_per_100k": min(100_000, int(share * 100_000 * 2) + 1),
                    "ending": NEW_ENDING_DIGITS,
                    "pattern": CALL_NUMBER_PATTERN,
                    "calls": wanted,
                },
            )
            added = cursor.rowcount
        connection.commit()
    finally:
        connection.close()
    return added, before


def _warehouse_sources() -> tuple[list[PhoneSource], CountryHint]:
    # What the nightly refresh uses: the same sources keep its state incremental.
    return sources_from_data_map(), country_hint_from_data_map() or DEFAULT_COUNTRY_HINT


def _refresh(engine, sources, hint, **options):
    # Earlier steps warmed this process's per-number cache; start each step cold.
    normalise._classify_digits.cache_clear()
    return refresh_phone_lookup(engine, sources, country_hint=hint, **options)


def run_on_warehouse(
    url: str,
    workers: int | None,
    naive_sample_rows: int | None,
    new_call_share: float,
    seed: int,
) -> tuple[str, bool]:
    """(a), (b), (c) on an existing warehouse; returns the Markdown report and goals met.

    ``naive_sample_rows``: None samples first, then runs every row if the
    sample projects that within the time budget; 0 every row; else only a
    sample of about that many rows.
    """
    sources, hint = _warehouse_sources()
    engine = warehouse.engine(url)
    counts = source_row_counts(url, sources)
    total_rows = sum(counts.values())

    pilot = None
    if naive_sample_rows is None:
        # The sample first: it says whether every row fits the time budget.
        pilot_percent = sample_percent(DEFAULT_NAIVE_SAMPLE_ROWS, total_rows)
        pilot = naive_on_warehouse(url, sources, hint, pilot_percent)
        fits = total_rows / pilot.rows_per_second <= NAIVE_TIME_BUDGET_SECONDS
        naive_sample_rows = 0 if fits and pilot_percent is not None else None
    if naive_sample_rows is None:
        naive = pilot
        percent = pilot.sample_percent
    else:
        percent = sample_percent(naive_sample_rows, total_rows)
        naive = naive_on_warehouse(url, sources, hint, percent)
    # The first night: no lookup yet (an earlier run's lookup would be re-parsed
    # by full=True too, but deleting its rows first is not what a first night does).
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "drop table if exists steward.phone_lookup, steward.phone_lookup_state"
        )
    # The same loop with phonenumbers' pattern cache on (as Steward runs it), on a sample.
    cached_percent = sample_percent(DEFAULT_NAIVE_SAMPLE_ROWS, total_rows)
    naive_cached = naive_on_warehouse(url, sources, hint, cached_percent, pattern_cache=True)
    first = _refresh(engine, sources, hint, full=True, workers=workers)
    added, calls_before = add_second_night_calls(url, new_call_share, seed)
    second = _refresh(engine, sources, hint, workers=workers)
    counts_after = source_row_counts(url, sources)
    total_after = sum(counts_after.values())
    new_values = total_after - total_rows

    naive_rate = naive.rows_per_second
    first_rate = total_rows / first.elapsed_seconds
    second_rate = total_after / second.elapsed_seconds
    speedup = first_rate / naive_rate
    second_share = second.elapsed_seconds / first.elapsed_seconds
    projected = total_rows / naive_rate

    def row(step: str, rows: int, seconds: float, rate: float, share: str) -> str:
        return (
            f"| {step} | {rows:,} | {seconds:,.1f} | {rate:,.0f} | {rate / naive_rate:.1f}x "
            f"| {share} |"
        )

    if percent is None:
        naive_step = "(a) naive: every row, phonenumbers.parse + is_valid_number in a loop"
    else:
        naive_step = (
            f"(a) naive: bernoulli {percent:.2f}% sample of every column, "
            "phonenumbers.parse + is_valid_number in a loop"
        )
    lines = [
        f"Phone normalisation on the existing warehouse `{make_url(url).database}`: "
        f"{total_rows:,} phone values in {len(sources)} data-map columns "
        f"({', '.join(f'{label} {n:,}' for label, n in counts.items())}); "
        f"phonenumbers {first.library_version}; parser workers for (b)/(c): "
        f"{first.workers}/{second.workers}.",
        "",
        "| step | rows | seconds | rows/s | vs naive | vs (b) |",
        "|---|---:|---:|---:|---:|---:|",
        row(naive_step, naive.rows, naive.seconds, naive_rate, "-"),
        row(
            "(a') the same loop with phonenumbers' pattern cache on (as Steward runs it), "
            + (
                "every row" if cached_percent is None else f"bernoulli {cached_percent:.2f}% sample"
            ),
            naive_cached.rows,
            naive_cached.seconds,
            naive_cached.rows_per_second,
            "-",
        ),
        row(
            "(b) Steward `refresh_phone_lookup(full=True)`, every row",
            total_rows,
            first.elapsed_seconds,
            first_rate,
            "100%",
        ),
        row(
            f"(c) second night: +{added:,} calls ({added / calls_before:.2%}) with new numbers, "
            f"incremental refresh ({second.scan} scan)",
            total_after,
            second.elapsed_seconds,
            second_rate,
            f"{second_share:.1%}",
        ),
        "",
    ]
    if percent is not None:
        lines.append(
            f"(a) was measured on a reproducible sample of {naive.rows:,} rows "
            f"({percent:.2f}% of every column, `tablesample bernoulli repeatable "
            f"({SAMPLE_SEED})`), not on all rows: at {naive_rate:,.0f} rows/s the loop over "
            f"all {total_rows:,} rows would take ~{projected / 60:.1f} min "
            f"(budget {NAIVE_TIME_BUDGET_SECONDS // 60} min). Rows per column: "
            + ", ".join(f"{label} {n:,}" for label, n in naive.rows_per_source.items())
            + "."
        )
    if pilot is not None and pilot is not naive:
        lines.append(
            f"(a) on every row because its {pilot.rows:,}-row bernoulli sample "
            f"({pilot.sample_percent:.2f}% of every column) ran at "
            f"{pilot.rows_per_second:,.0f} rows/s, projecting "
            f"~{total_rows / pilot.rows_per_second / 60:.1f} min for every row "
            f"(budget {NAIVE_TIME_BUDGET_SECONDS // 60} min)."
        )
    lines += [
        f"(a) {naive.parse_seconds / naive.seconds:.0%} of its time is inside phonenumbers, "
        f"the rest reading rows; {naive.valid / max(naive.rows, 1):.1%} of its rows valid.",
        f"(b) {first.distinct_seen:,} distinct (raw, region) pairs parsed "
        f"({total_rows / max(first.distinct_seen, 1):.1f} rows per pair); timings: "
        + ", ".join(f"{k} {v:.1f}s" for k, v in first.timings.items())
        + f". Status of the pairs: {first.parsed_status_counts}.",
        f"(c) {new_values:,} new phone rows (the customer's side of each new call holds a "
        f"new number, the other side the call centre's); {second.distinct_seen:,} distinct "
        f"pairs in the rows written since (b), {second.new_parsed:,} parsed "
        f"({second.parsed_status_counts}); timings: "
        + ", ".join(f"{k} {v:.1f}s" for k, v in second.timings.items())
        + ".",
    ]
    if added < round(calls_before * new_call_share):
        lines.append(f"WARNING: only {added:,} new calls could be given a new number.")
    if second.scan != "incremental" or second.new_parsed < added:
        lines.append(
            "WARNING: (c) was not the plain incremental night (another refresh of this "
            "database may have run in between); its figure is not comparable."
        )
    lines += [
        "",
        f"(b) vs (a'): {first_rate / naive_cached.rows_per_second:.1f}x.",
        f"Goals: (b) >= 5x the naive rows/s: {'met' if speedup >= 5 else 'MISSED'} "
        f"({speedup:.1f}x); (c) <= 10% of (b): "
        f"{'met' if second_share <= 0.10 else 'MISSED'} ({second_share:.1%}).",
    ]
    return "\n".join(lines), speedup >= 5 and second_share <= 0.10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="phone values in all")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workers", type=int, default=None, help="parser processes")
    parser.add_argument(
        "--serial-too", action="store_true", help="also time a full re-parse with one worker"
    )
    parser.add_argument(
        "--warehouse-url",
        help="measure on this existing seeded warehouse instead of a synthetic scratch one "
        "(adds --new-call-share calls to telephony.calls)",
    )
    parser.add_argument(
        "--naive-sample-rows",
        type=int,
        default=None,
        help="with --warehouse-url: rows the naive loop parses, drawn evenly from every "
        f"phone column (0: every row; default: a {DEFAULT_NAIVE_SAMPLE_ROWS:,}-row sample, "
        "then every row if the sample projects <= 12 min)",
    )
    parser.add_argument(
        "--new-call-share",
        type=float,
        default=NEW_NUMBER_SHARE,
        help="with --warehouse-url: new calls with new numbers on the second night",
    )
    args = parser.parse_args(argv)
    if args.warehouse_url:
        table, met = run_on_warehouse(
            args.warehouse_url,
            args.workers,
            args.naive_sample_rows,
            args.new_call_share,
            args.seed,
        )
    else:
        table, met = run(args.rows, args.seed, args.workers, args.serial_too)
    print(table)
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
