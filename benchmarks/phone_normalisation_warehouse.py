"""Phone normalisation benchmark on an existing seeded warehouse (``--warehouse-url``).

Run through ``benchmarks/phone_normalisation.py`` (what it measures: see there).
"""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

import phonenumbers
from psycopg2 import sql
from sqlalchemy.engine import make_url

from steward import warehouse
from steward.phones import normalise, refresh_phone_lookup
from steward.phones.lookup import DEFAULT_COUNTRY_HINT, CountryHint
from steward.phones.normalise import resolve_region
from steward.phones.sources import (
    PhoneSource,
    country_hint_from_data_map,
    sources_from_data_map,
)

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
