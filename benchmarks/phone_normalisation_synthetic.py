"""Phone normalisation benchmark, synthetic mode: a scratch phone workload, naive vs lookup.

Run through ``benchmarks/phone_normalisation.py`` (what it measures: see there).
"""

from __future__ import annotations

import io
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

import phonenumbers
from phone_normalisation_warehouse import phonenumbers_as_shipped
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from steward import warehouse
from steward.phones import normalise, normalise_raw, refresh_phone_lookup
from steward.phones.lookup import CountryHint
from steward.phones.sources import (
    PhoneSource,
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
