"""``steward.phone_lookup``: every distinct (raw phone, region hint), parsed once.

Call-centre tables repeat the same few numbers millions of times (a customer
calls back, campaigns dial the same list), so Steward never parses rows. Each
night :func:`refresh_phone_lookup`:

1. collects the distinct (raw value, region hint) pairs of the phone columns
   with one aggregate query (in parallel workers) into a temporary table: from every row on a full
   scan (the first night, after a change of sources, and weekly), else only
   from rows written since the last refresh (their ``xmin`` is newer than the
   stored snapshot watermark) and rows of customers whose country changed;
2. drops lookup rows parsed by another ``phonenumbers`` version (or default
   region), and on full scans rows whose value no longer appears in any
   source (an erased customer's number must not linger here);
3. streams the pairs not in the lookup through a server-side cursor, parses
   them in chunks (in a process pool when there are many), and COPYs the
   results in.

All of it is one transaction under an advisory lock: dbt models joining the
lookup see last night's rows until the new ones are committed.

The join contract for dbt: ``phone_lookup.raw_value = steward.phone_raw_key(raw)``
and ``phone_lookup.region_hint = steward.phone_region_key(customer country)``,
two SQL functions created with the table. Values longer than
:data:`~steward.phones.normalise.MAX_RAW_LENGTH` are keyed by their first
``MAX_RAW_LENGTH + 1`` characters: all of them are unparseable, so values that
share such a key share the verdict too, and the key stays small enough for a
btree whatever lands in a phone column.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import multiprocessing
import os
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field

import sqlalchemy as sa
from psycopg2 import sql

from steward import schema
from steward.phones.normalise import (
    DEFAULT_REGION,
    MAX_RAW_LENGTH,
    PARSER_VERSION,
    normalise_raw,
    resolve_region,
)
from steward.phones.sources import CountryHint, PhoneSource, country_hint_from_data_map

log = logging.getLogger(__name__)

LOOKUP_SCHEMA = "steward"
LOOKUP_TABLE = "phone_lookup"
STATE_TABLE = "phone_lookup_state"
# A full scan (which also prunes values gone from every source) at least this often.
FULL_SCAN_INTERVAL = dt.timedelta(days=7)
# Beyond this many transactions, xid ages could wrap: scan everything instead.
MAX_WATERMARK_AGE = 1_000_000_000
RAW_KEY_LENGTH = MAX_RAW_LENGTH + 1
# schema.sql documents crm.customers.country_code as the region hint for phones;
# used when the data map does not name a country column.
DEFAULT_COUNTRY_HINT = CountryHint("crm", "customers", "customer_id", "country_code")
DEFAULT_CHUNK_SIZE = 10_000
# Below this many new pairs, starting worker processes costs more than it saves.
POOL_THRESHOLD = 40_000
_LOCK_KEY = "steward.phone_lookup"
_PRIMARY_KEY = "phone_lookup_pkey"

_COPY_COLUMNS = (
    "raw_value",
    "region_hint",
    "e164",
    "parse_status",
    "number_type",
    "region_code",
    "has_extension",
    "rescued_idd",
    "region_used",
    "failure_reason",
    "default_region",
    "library_version",
)


@dataclass
class LookupRefreshReport:
    """What one refresh did. Counts only: never a phone number."""

    sources: int
    scan: str  # 'full': every source row; 'incremental': rows written since the last refresh
    distinct_seen: int  # distinct (raw value, region hint) pairs in the scanned rows
    new_parsed: int
    reused: int  # seen pairs already in the lookup, parsed by this library version
    pruned: int  # lookup rows whose value no longer appears in any source (full scans)
    stale_dropped: int  # rows parsed by another library version or default region
    full_reparse: bool
    library_version: str
    default_region: str
    workers: int
    elapsed_seconds: float
    status_counts: dict[str, int] = field(default_factory=dict)  # over the whole lookup
    parsed_status_counts: dict[str, int] = field(default_factory=dict)  # this run's parses
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def refresh_phone_lookup(
    engine: sa.Engine | None = None,
    sources: Sequence[PhoneSource] | None = None,
    full: bool = False,
    *,
    full_scan: bool | None = None,
    default_region: str = DEFAULT_REGION,
    country_hint: CountryHint | None = None,
    workers: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> LookupRefreshReport:
    """Bring ``steward.phone_lookup`` up to date with every phone column.

    ``sources`` defaults to the data map's phone columns; it must list all of
    them, since a full scan prunes pairs that no listed column holds.
    ``full`` re-parses everything; so does a new ``phonenumbers`` version or
    default region. ``full_scan`` reads every source row (and prunes) instead of
    only the rows written since the last refresh; by default it happens when
    needed (first run, other sources, stale rows) and every
    :data:`FULL_SCAN_INTERVAL`. ``workers``: parser processes (default: up to
    2 CPUs, used only for large batches).
    """
    started = time.perf_counter()
    default_region = resolve_region(None, default_region)  # fails early on a bad setting
    if engine is None:
        from steward import warehouse

        engine = warehouse.engine()
    if sources is None:
        from steward.phones.sources import sources_from_data_map

        sources = sources_from_data_map()
        if country_hint is None:
            country_hint = country_hint_from_data_map()
    if not sources:
        raise ValueError("no phone sources: the data map declares no user.contact.phone_number")
    country_hint = country_hint or DEFAULT_COUNTRY_HINT
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    signature = _sources_signature(sources, country_hint)
    lookup = sql.Identifier(LOOKUP_SCHEMA, LOOKUP_TABLE)

    timings: dict[str, float] = {}
    schema.upgrade(engine)
    pooled = engine.raw_connection()
    connection = pooled.driver_connection
    try:
        with connection.cursor() as cursor:
            cursor.execute("select pg_advisory_xact_lock(hashtext(%s))", (_LOCK_KEY,))
            # The distinct over millions of rows should hash in memory, not spill.
            cursor.execute("set local work_mem = '256MB'")
            cursor.execute("set local jit = off")
            # Row estimates of a union of phone columns are guesses (PostgreSQL
            # has no statistics of the pairs): left alone it sorts 20M rows.
            cursor.execute("set local enable_sort = off")

        mark = time.perf_counter()
        with connection.cursor() as cursor:
            # Taken before scanning: whatever this scan cannot see was written
            # by a transaction at least this new, and the next night reads it.
            cursor.execute("select pg_snapshot_xmin(pg_current_snapshot())::text")
            watermark = int(cursor.fetchone()[0])
            if full:
                cursor.execute(sql.SQL("delete from {}").format(lookup))
            else:
                cursor.execute(
                    sql.SQL(
                        "delete from {} where library_version <> %s or default_region <> %s"
                    ).format(lookup),
                    (PARSER_VERSION, default_region),
                )
            stale_dropped = cursor.rowcount
            previous = _read_state(cursor)
            # Empty: the first night, a full re-parse (rows deleted above) or an
            # emptied lookup, which only a full scan fills again.
            cursor.execute(sql.SQL("select not exists (select from {})").format(lookup))
            lookup_empty = cursor.fetchone()[0]
            if lookup_empty:
                previous = None
        since = _incremental_watermark(previous, signature, watermark, stale_dropped)
        interval_due = (
            previous is not None
            and full_scan is None
            and previous["since_full_scan"] > FULL_SCAN_INTERVAL
        )
        if full or full_scan or interval_due:
            since = None
        scan = "full" if since is None else "incremental"

        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("create temp table phone_pairs_seen on commit drop as {pairs}").format(
                    pairs=_distinct_pairs_sql(sources, country_hint, since)
                )
            )
            distinct_seen = cursor.rowcount
            cursor.execute("set local enable_sort = on")
            cursor.execute("analyze phone_pairs_seen")
        timings["collect_distinct"] = time.perf_counter() - mark

        mark = time.perf_counter()
        with connection.cursor() as cursor:
            pruned = 0
            if lookup_empty:  # every pair is new
                pairs_table, new_count = "phone_pairs_seen", distinct_seen
            else:
                if scan == "full":
                    cursor.execute(
                        sql.SQL(
                            "delete from {} as l where not exists (select from phone_pairs_seen"
                            " as p where p.raw_value = l.raw_value"
                            " and p.region_hint = l.region_hint)"
                        ).format(lookup)
                    )
                    pruned = cursor.rowcount
                cursor.execute(
                    sql.SQL(
                        "create temp table phone_pairs_new on commit drop as"
                        " select p.raw_value, p.region_hint from phone_pairs_seen as p"
                        " where not exists (select from {} as l"
                        " where l.raw_value = p.raw_value and l.region_hint = p.region_hint)"
                    ).format(lookup)
                )
                pairs_table, new_count = "phone_pairs_new", cursor.rowcount
        timings["compare_lookup"] = time.perf_counter() - mark

        mark = time.perf_counter()
        use_workers = workers if workers > 1 and new_count >= POOL_THRESHOLD else 1
        load_then_index = lookup_empty and new_count >= POOL_THRESHOLD
        if load_then_index:
            # Loading millions of rows into an empty lookup and then building
            # the key sorts once, where keeping the key up to date row by row
            # costs PostgreSQL a fifth of the run. The lock this takes is held
            # to commit: on a full re-parse readers wait for the new rows
            # instead of reading the old ones (the first night has none).
            with connection.cursor() as cursor:
                cursor.execute(
                    sql.SQL("alter table {} drop constraint {}").format(
                        lookup, sql.Identifier(_PRIMARY_KEY)
                    )
                )
        parsed_status_counts = _parse_and_copy(
            connection, lookup, pairs_table, default_region, chunk_size, use_workers
        )
        timings["parse_and_copy"] = time.perf_counter() - mark
        if load_then_index:
            mark = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("set local maintenance_work_mem = '512MB'")
                cursor.execute(
                    sql.SQL(
                        "alter table {} add constraint {} primary key (raw_value, region_hint)"
                    ).format(lookup, sql.Identifier(_PRIMARY_KEY))
                )
            timings["build_key"] = time.perf_counter() - mark

        with connection.cursor() as cursor:
            # Statistics where the table is written: the phone marts, the dedupe input and
            # the subject index join it on millions of rows, and autovacuum may be off.
            mark = time.perf_counter()
            cursor.execute(sql.SQL("analyze {}").format(lookup))
            timings["analyze"] = time.perf_counter() - mark
            cursor.execute(
                sql.SQL("select parse_status, count(*) from {} group by parse_status").format(
                    lookup
                )
            )
            status_counts = dict(cursor.fetchall())
            _write_state(cursor, signature, watermark, full_scan=scan == "full")
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        pooled.close()

    report = LookupRefreshReport(
        sources=len(sources),
        scan=scan,
        distinct_seen=distinct_seen,
        new_parsed=new_count,
        reused=distinct_seen - new_count,
        pruned=pruned,
        stale_dropped=stale_dropped,
        full_reparse=full or stale_dropped > 0,
        library_version=PARSER_VERSION,
        default_region=default_region,
        workers=use_workers,
        elapsed_seconds=time.perf_counter() - started,
        status_counts=dict(sorted(status_counts.items())),
        parsed_status_counts=dict(sorted(parsed_status_counts.items())),
        timings=timings,
    )
    log.info(
        "phone lookup (%s scan): %d distinct pairs in %d sources, %d parsed, %d reused, "
        "%d pruned, %d stale dropped, %.2fs",
        report.scan,
        report.distinct_seen,
        report.sources,
        report.new_parsed,
        report.reused,
        report.pruned,
        report.stale_dropped,
        report.elapsed_seconds,
    )
    return report


def _sources_signature(sources: Sequence[PhoneSource], hint: CountryHint) -> str:
    described = [*sorted(repr(source) for source in sources), repr(hint)]
    return hashlib.sha256("\n".join(described).encode()).hexdigest()


def _read_state(cursor) -> dict | None:
    cursor.execute(
        sql.SQL(
            "select sources_signature, watermark::text, now() - full_scan_at"
            " from {} where state_key = %s"
        ).format(sql.Identifier(LOOKUP_SCHEMA, STATE_TABLE)),
        (LOOKUP_TABLE,),
    )
    row = cursor.fetchone()
    if row is None:
        return None
    return {"signature": row[0], "watermark": int(row[1]), "since_full_scan": row[2]}


def _incremental_watermark(
    previous: dict | None, signature: str, watermark: int, stale_dropped: int
) -> int | None:
    """The watermark to scan from, or None when only a full scan is correct."""
    if previous is None or previous["signature"] != signature or stale_dropped:
        return None  # first run, other columns, or pairs to re-parse that only a full scan finds
    if watermark - previous["watermark"] > MAX_WATERMARK_AGE:
        return None
    return previous["watermark"]


def _write_state(cursor, signature: str, watermark: int, *, full_scan: bool) -> None:
    cursor.execute(
        sql.SQL(
            "insert into {} as s (state_key, sources_signature, watermark, full_scan_at,"
            " refreshed_at) values (%s, %s, %s::text::xid8, now(), now())"
            " on conflict (state_key) do update set sources_signature = excluded.sources_signature,"
            " watermark = excluded.watermark, refreshed_at = excluded.refreshed_at,"
            " full_scan_at = case when %s then excluded.full_scan_at else s.full_scan_at end"
        ).format(sql.Identifier(LOOKUP_SCHEMA, STATE_TABLE)),
        (LOOKUP_TABLE, signature, str(watermark), full_scan),
    )


def _distinct_pairs_sql(
    sources: Sequence[PhoneSource], hint: CountryHint, since: int | None = None
) -> sql.Composable:
    """Every distinct (raw key, region key) of the sources.

    Raw (value, country) pairs are deduplicated first and the key functions
    run on the distinct pairs only: twice as fast as keying every row.
    With ``since`` (a transaction-id watermark) only rows written since then
    are read, plus the rows of customers whose country row changed since then.
    """
    selects = []
    hint_table = sql.Identifier(hint.schema, hint.table)
    for source in sources:
        table = sql.Identifier(source.schema, source.table)
        column = sql.Identifier(source.column)
        if source.customer_key is None:
            select = sql.SQL("select src.{}::text as raw, null::text as country from {} as src")
            select = select.format(column, table)
            if since is not None:
                select += sql.SQL(" where ") + _written_since("src", since)
            selects.append(select)
            continue
        parts = {
            "column": column,
            "country": sql.Identifier(hint.country_column),
            "table": table,
            "hint_table": hint_table,
            "key": sql.Identifier(hint.key_column),
            "ckey": sql.Identifier(source.customer_key),
        }
        select = sql.SQL(
            "select src.{column}::text as raw, hint.{country}::text as country"
            " from {table} as src left join {hint_table} as hint on hint.{key} = src.{ckey}"
        ).format(**parts)
        if since is None:
            selects.append(select)
            continue
        selects.append(select + sql.SQL(" where ") + _written_since("src", since))
        # A customer who moved country gives their old phone rows a new region hint.
        moved = sql.SQL(
            "select src.{column}::text as raw, hint.{country}::text as country"
            " from {hint_table} as hint join {table} as src on hint.{key} = src.{ckey}"
        ).format(**parts)
        selects.append(moved + sql.SQL(" where ") + _written_since("hint", since))
    # 'union all' + 'group by', not 'union': PostgreSQL can hash-aggregate the
    # rows in parallel workers (partial aggregates per worker, then a final
    # one), where 'union' sorts every row in one process.
    return sql.SQL(
        "select {fn}.phone_raw_key(raw) as raw_value, {fn}.phone_region_key(country) as region_hint"
        " from (select raw, country from ({union}) as source_rows group by raw, country)"
        " as raw_pairs group by 1, 2"
    ).format(fn=sql.Identifier(LOOKUP_SCHEMA), union=sql.SQL(" union all ").join(selects))


def _written_since(alias: str, watermark: int) -> sql.Composable:
    """Rows whose current version was written by a transaction at or after ``watermark``.

    Row xmins are 32-bit and wrap around: compare ages, exact for anything
    younger than MAX_WATERMARK_AGE. A frozen or ancient row reads as old, or at
    worst as new, which only costs a rescan: never a row missed.
    """
    return sql.SQL("age({}.xmin) <= age({}::xid)").format(
        sql.Identifier(alias), sql.Literal(str(watermark % 2**32))
    )


def _parse_and_copy(
    connection, lookup, pairs_table: str, default_region, chunk_size, workers
) -> Counter:
    """Stream the new pairs out in chunks, parse, COPY the results into the lookup."""
    counts: Counter = Counter()
    copy_statement = sql.SQL("copy {} ({}) from stdin").format(
        lookup, sql.SQL(", ").join(sql.Identifier(name) for name in _COPY_COLUMNS)
    )
    stream = connection.cursor(name="steward_phone_pairs_new")
    stream.itersize = chunk_size
    # Spellings of one number share their last digits: streamed in that order
    # they land in the same chunk, and the parser's per-number cache of range
    # matches (the costly half of a parse) answers for all but the first.
    stream.execute(
        sql.SQL("select raw_value, region_hint from {} order by right(raw_value, 4)").format(
            sql.Identifier(pairs_table)
        )
    )
    try:
        chunks = _chunks(stream, chunk_size)
        with connection.cursor() as writer:
            for copy_text, chunk_counts in _parsed_chunks(chunks, default_region, workers):
                writer.copy_expert(copy_statement, io.StringIO(copy_text))
                counts.update(chunk_counts)
    finally:
        stream.close()
    return counts


def _chunks(cursor, size: int) -> Iterator[list[tuple[str, str]]]:
    while rows := cursor.fetchmany(size):
        yield rows


def _parsed_chunks(
    chunks: Iterable[list[tuple[str, str]]], default_region: str, workers: int
) -> Iterator[tuple[str, dict[str, int]]]:
    if workers <= 1:
        for rows in chunks:
            yield parse_chunk(rows, default_region)
        return
    # spawn, not fork: the parent holds an open database connection.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: deque = deque()
        for rows in chunks:
            pending.append(pool.submit(parse_chunk, rows, default_region))
            # Bounded read-ahead: memory stays flat however many pairs there are.
            if len(pending) > workers * 2:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def parse_chunk(rows: Sequence[tuple[str, str]], default_region: str) -> tuple[str, dict[str, int]]:
    """Parse (raw key, region key) pairs into COPY text rows; count statuses."""
    lines = []
    counts: Counter = Counter()
    # The same two values end every line.
    tail = f"{_copy_value(default_region)}\t{_copy_value(PARSER_VERSION)}"
    for raw_value, region_hint in rows:
        parsed = normalise_raw(raw_value, region_hint or None, default_region)
        status = parsed.status.value
        counts[status] += 1
        # Only the two keys come from the data; every other field is E.164
        # digits or a fixed name, with nothing COPY would need escaped.
        lines.append(
            "\t".join(
                (
                    _copy_value(raw_value),
                    _copy_value(region_hint),
                    parsed.e164 or "\\N",
                    status,
                    parsed.number_type or "\\N",
                    parsed.region_code or "\\N",
                    "t" if parsed.has_extension else "f",
                    "t" if parsed.rescued_idd else "f",
                    parsed.region_used,
                    parsed.failure_reason or "\\N",
                    tail,
                )
            )
        )
    lines.append("")
    return "\n".join(lines), dict(counts)


def _copy_value(value: str | None) -> str:
    """One field of COPY's text format."""
    if value is None:
        return "\\N"
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )
