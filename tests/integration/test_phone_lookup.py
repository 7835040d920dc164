"""steward.phone_lookup on a real PostgreSQL: parse each distinct value once, then only news."""

from __future__ import annotations

import random

import psycopg2.errors
import pytest
import sqlalchemy as sa

from steward import warehouse
from steward.phones import lookup as phone_lookup
from steward.phones import normalise_raw, refresh_phone_lookup
from steward.phones.lookup import CountryHint
from steward.phones.normalise import MAX_RAW_LENGTH
from steward.phones.sources import PhoneSource

pytestmark = pytest.mark.integration

SCHEMA = "phone source"  # a space, to prove identifiers are quoted
HINT = CountryHint(SCHEMA, "Customers", "customer_id", "country_code")
SOURCES = [
    PhoneSource(SCHEMA, "customer_phones", "phone_raw", "customer_id"),
    PhoneSource(SCHEMA, "calls", "caller_number", "customer_id"),
    PhoneSource(SCHEMA, "dnc list", "Phone Number", None),
]
AWKWARD = [
    None,
    "",
    "   ",
    "n/a",
    "x123",
    "(415) 555-0123 ext. 12",
    "1-800-FLOWERS",
    "٠٧٤٠٠١٢٣٤٥٦",
    "０７４００１２３４５６",
    "+44 7400 123456",
    "001 415 555 0123",
    "tab\there",
    "new\nline",
    "back\\slash \\N",
    "+1 415 555 0123 " * 4,
    "9" * 5_000,  # far beyond what a btree key may hold
    "9" * 5_000 + "1",  # shares its key with the one above
]
COUNTRIES = ["US", "US", "US", "GB", "de", "IN", None, "ZZ", "BR", "CA "]


def _us_number(rng: random.Random) -> str:
    area = rng.choice(["415", "212", "646", "312", "617", "702"])
    line = rng.randrange(2_000_000, 9_999_999)
    spelling = rng.choice(["({a}) {p}-{l}", "{a}-{p}-{l}", "+1{a}{p}{l}", "{a}.{p}.{l}"])
    return spelling.format(a=area, p=str(line)[:3], l=str(line)[3:])


@pytest.fixture
def phone_warehouse(empty_database):
    engine = warehouse.engine(empty_database)
    rng = random.Random(11)
    customers = [{"id": i, "country": rng.choice(COUNTRIES)} for i in range(1, 301)]
    phones = []
    for customer in customers:
        for _ in range(rng.choice([1, 1, 1, 2])):
            phones.append({"customer_id": customer["id"], "raw": _us_number(rng)})
    phones += [{"customer_id": rng.randint(1, 300), "raw": raw} for raw in AWKWARD]
    phones.append({"customer_id": 999_999, "raw": "+49 30 1234567"})  # no such customer
    # Calls repeat the customers' numbers over and over.
    calls = [rng.choice(phones) for _ in range(3_000)]
    dnc = [{"raw": _us_number(rng)} for _ in range(100)] + [{"raw": phones[0]["raw"]}]
    with engine.begin() as conn:
        conn.execute(sa.text(f'create schema "{SCHEMA}"'))
        conn.execute(
            sa.text(
                f'create table "{SCHEMA}"."Customers" (customer_id bigint, country_code char(2))'
            )
        )
        conn.execute(
            sa.text(f'create table "{SCHEMA}".customer_phones (customer_id bigint, phone_raw text)')
        )
        conn.execute(
            sa.text(f'create table "{SCHEMA}".calls (customer_id bigint, caller_number text)')
        )
        conn.execute(sa.text(f'create table "{SCHEMA}"."dnc list" ("Phone Number" text)'))
        conn.execute(
            sa.text(f'insert into "{SCHEMA}"."Customers" values (:id, :country)'), customers
        )
        conn.execute(
            sa.text(f'insert into "{SCHEMA}".customer_phones values (:customer_id, :raw)'), phones
        )
        conn.execute(sa.text(f'insert into "{SCHEMA}".calls values (:customer_id, :raw)'), calls)
        conn.execute(sa.text(f'insert into "{SCHEMA}"."dnc list" values (:raw)'), dnc)
    return engine


def _expected_pairs(engine) -> set[tuple[str, str]]:
    """The distinct (key, hint) pairs, computed in Python from every row."""
    with engine.connect() as conn:
        countries = dict(
            conn.execute(
                sa.text(f'select customer_id, country_code from "{SCHEMA}"."Customers"')
            ).all()
        )
        rows = list(
            conn.execute(sa.text(f'select customer_id, phone_raw from "{SCHEMA}".customer_phones'))
        )
        rows += list(
            conn.execute(sa.text(f'select customer_id, caller_number from "{SCHEMA}".calls'))
        )
        dnc = [raw for (raw,) in conn.execute(sa.text(f'select * from "{SCHEMA}"."dnc list"'))]
    pairs = set()
    for customer_id, raw in rows:
        country = countries.get(customer_id)
        hint = country.strip().upper() if country else ""
        pairs.add(((raw or "")[: MAX_RAW_LENGTH + 1], hint))
    pairs |= {((raw or "")[: MAX_RAW_LENGTH + 1], "") for raw in dnc}
    return pairs


def _lookup_rows(engine) -> dict[tuple[str, str], dict]:
    with engine.connect() as conn:
        result = conn.execute(sa.text("select * from steward.phone_lookup")).mappings()
        return {(row["raw_value"], row["region_hint"]): dict(row) for row in result}


def _add_new_numbers(engine, count: int, rng: random.Random) -> set[str]:
    new = {f"+1 (917) {rng.randrange(200, 999)}-{rng.randrange(1000, 9999)}" for _ in range(count)}
    with engine.begin() as conn:
        conn.execute(
            sa.text(f'insert into "{SCHEMA}".calls values (1, :raw), (1, :raw)'),
            [{"raw": raw} for raw in new],
        )
    return new


def test_first_refresh_parses_each_distinct_pair_once(phone_warehouse):
    engine = phone_warehouse
    expected = _expected_pairs(engine)
    report = refresh_phone_lookup(engine, SOURCES, country_hint=HINT)
    assert report.scan == "full"

    assert report.distinct_seen == len(expected)
    assert report.new_parsed == len(expected)
    assert report.reused == 0
    assert sum(report.parsed_status_counts.values()) == len(expected)
    assert report.status_counts == report.parsed_status_counts  # the lookup: exactly these
    assert set(report.status_counts) == {
        "valid",
        "possible_but_invalid",
        "invalid",
        "unparseable",
        "empty",
    }
    rows = _lookup_rows(engine)
    assert set(rows) == expected  # duplicates across rows and tables: one lookup row each
    for (raw, hint), row in rows.items():
        parsed = normalise_raw(raw, hint or None)
        assert (row["parse_status"], row["e164"], row["number_type"]) == (
            parsed.status.value,
            parsed.e164,
            parsed.number_type,
        )
        assert row["library_version"] == report.library_version
        assert row["default_region"] == "US"


def test_lookup_joins_back_to_every_source_row(phone_warehouse):
    engine = phone_warehouse
    refresh_phone_lookup(engine, SOURCES, country_hint=HINT)
    with engine.connect() as conn:
        joined = conn.execute(
            sa.text(
                f"""
                select p.phone_raw, c.country_code, l.parse_status, l.e164, l.has_extension
                from "{SCHEMA}".calls as k
                join "{SCHEMA}".customer_phones as p
                    on p.phone_raw is not distinct from k.caller_number
                    and p.customer_id = k.customer_id
                left join "{SCHEMA}"."Customers" as c on c.customer_id = p.customer_id
                left join steward.phone_lookup as l
                    on l.raw_value = steward.phone_raw_key(p.phone_raw)
                    and l.region_hint = steward.phone_region_key(c.country_code)
                """
            )
        ).all()
    assert joined
    for raw, country, status, e164, has_extension in joined:
        parsed = normalise_raw(raw, country)
        assert status == parsed.status.value  # never null: every row finds its verdict
        assert e164 == parsed.e164
        assert has_extension == parsed.has_extension


def _written_after_watermark(engine) -> set[str]:
    """Raw values of the source rows the stored watermark does not cover: the next night's reads.

    The watermark is the refresh's snapshot xmin, which is server-wide: a transaction still
    open anywhere on the server (another test process) holds it back, and the next night
    then reads again what was written since. Correct, only more reading.
    """
    selects = " union ".join(
        f'select src."{source.column}"::text from "{source.schema}"."{source.table}" as src'
        " where age(src.xmin) <= age((state.watermark::text::bigint % 4294967296)::text::xid)"
        for source in SOURCES
    )
    with engine.connect() as conn:
        state = conn.execute(
            sa.text("select count(*) from steward.phone_lookup_state where state_key = :key"),
            {"key": phone_lookup.LOOKUP_TABLE},
        ).scalar_one()
        assert state == 1
        query = (
            f"select raw from (select * from steward.phone_lookup_state where state_key = :key)"
            f" as state, lateral ({selects}) as written(raw)"
        )
        return {raw for (raw,) in conn.execute(sa.text(query), {"key": phone_lookup.LOOKUP_TABLE})}


def test_second_night_parses_only_new_values(phone_warehouse):
    engine = phone_warehouse
    first = refresh_phone_lookup(engine, SOURCES, country_hint=HINT)
    assert first.scan == "full"
    parsed_at_before = {key: row["parsed_at"] for key, row in _lookup_rows(engine).items()}

    new_numbers = _add_new_numbers(engine, max(1, first.distinct_seen // 100), random.Random(5))
    reread_before_second = _written_after_watermark(engine) - new_numbers
    second = refresh_phone_lookup(engine, SOURCES, country_hint=HINT)

    # Only rows written since the first refresh are read, each new pair parsed once.
    assert second.scan == "incremental"
    assert second.new_parsed == len(new_numbers)
    if not reread_before_second:  # no transaction elsewhere held the watermark back
        assert second.distinct_seen == len(new_numbers)
    else:
        assert second.distinct_seen > len(new_numbers)
        assert second.reused == second.distinct_seen - len(new_numbers)
    assert second.parsed_status_counts == {"valid": len(new_numbers)}
    assert not second.full_reparse
    rows = _lookup_rows(engine)
    assert set(rows) == _expected_pairs(engine)
    for key, parsed_at in parsed_at_before.items():
        assert rows[key]["parsed_at"] == parsed_at  # untouched
    assert new_numbers <= {raw for raw, _ in rows}

    # A night with nothing new reads nothing; a full scan finds nothing to add.
    reread_before_quiet = _written_after_watermark(engine)
    quiet = refresh_phone_lookup(engine, SOURCES, country_hint=HINT)
    assert (quiet.scan, quiet.new_parsed) == ("incremental", 0)
    if not reread_before_quiet:  # the usual case: a quiet night reads nothing
        assert quiet.distinct_seen == 0
    else:
        assert reread_before_quiet <= new_numbers | reread_before_second
        assert 0 < quiet.distinct_seen == quiet.reused
    full_scan = refresh_phone_lookup(engine, SOURCES, country_hint=HINT, full_scan=True)
    assert (full_scan.scan, full_scan.new_parsed, full_scan.pruned) == ("full", 0, 0)
    assert full_scan.reused == first.distinct_seen + len(new_numbers)


def test_incremental_nights_see_edited_values_and_customers_who_moved(phone_warehouse):
    engine = phone_warehouse
    refresh_phone_lookup(engine, SOURCES, country_hint=HINT)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                f"update \"{SCHEMA}\".customer_phones set phone_raw = '+1 (202) 555-0199'"
                " where customer_id = 2"
            )
        )
        conn.execute(
            sa.text(
                f'update "{SCHEMA}"."Customers" set country_code = \'FR\' where customer_id = 3'
            )
        )
        moved_numbers = {
            raw
            for (raw,) in conn.execute(
                sa.text(
                    f'select phone_raw from "{SCHEMA}".customer_phones where customer_id = 3'
                    f' union select caller_number from "{SCHEMA}".calls where customer_id = 3'
                )
            )
        }
    report = refresh_phone_lookup(engine, SOURCES, country_hint=HINT)
    assert report.scan == "incremental"
    rows = _lookup_rows(engine)
    assert ("+1 (202) 555-0199", _country_of(engine, 2)) in rows
    assert {(raw or "", "FR") for raw in moved_numbers} <= set(rows)
    assert set(rows) >= _expected_pairs(engine)


def _country_of(engine, customer_id: int) -> str:
    with engine.connect() as conn:
        country = conn.execute(
            sa.text(f'select country_code from "{SCHEMA}"."Customers" where customer_id = :id'),
            {"id": customer_id},
        ).scalar()
    return (country or "").strip().upper()


def test_a_full_scan_comes_round_every_week(phone_warehouse):
    engine = phone_warehouse
    refresh_phone_lookup(engine, SOURCES, country_hint=HINT)
    assert refresh_phone_lookup(engine, SOURCES, country_hint=HINT).scan == "incremental"
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "update steward.phone_lookup_state set full_scan_at = now() - interval '8 days'"
            )
        )
    assert refresh_phone_lookup(engine, SOURCES, country_hint=HINT).scan == "full"
    assert refresh_phone_lookup(engine, SOURCES, country_hint=HINT).scan == "incremental"
    # Other phone columns than last night: a full scan, whatever the date.
    fewer = SOURCES[:2]
    assert refresh_phone_lookup(engine, fewer, country_hint=HINT).scan == "full"


def test_another_library_version_forces_a_full_reparse(phone_warehouse):
    engine = phone_warehouse
    first = refresh_phone_lookup(engine, SOURCES, country_hint=HINT)
    with engine.begin() as conn:
        conn.execute(sa.text("update steward.phone_lookup set library_version = '8.13.0'"))

    after_upgrade = refresh_phone_lookup(engine, SOURCES, country_hint=HINT)
    assert after_upgrade.full_reparse
    assert after_upgrade.stale_dropped == first.distinct_seen
    assert after_upgrade.new_parsed == first.distinct_seen
    with engine.connect() as conn:
        versions = conn.execute(
            sa.text("select distinct library_version from steward.phone_lookup")
        ).all()
    assert versions == [(first.library_version,)]

    forced = refresh_phone_lookup(engine, SOURCES, full=True, country_hint=HINT)
    assert forced.full_reparse and forced.new_parsed == first.distinct_seen


def test_a_new_default_region_reparses_too(phone_warehouse):
    engine = phone_warehouse
    first = refresh_phone_lookup(engine, SOURCES, country_hint=HINT)
    switched = refresh_phone_lookup(engine, SOURCES, country_hint=HINT, default_region="GB")
    assert switched.new_parsed == first.distinct_seen
    rows = _lookup_rows(engine)
    assert {row["default_region"] for row in rows.values()} == {"GB"}
    # The DNC list has no customers: its national US numbers now read as British.
    unhinted = [row for (_, hint), row in rows.items() if hint == ""]
    assert unhinted and {row["region_used"] for row in unhinted} == {"GB"}
    assert switched.status_counts["valid"] < first.status_counts["valid"]


def test_values_gone_from_every_source_are_pruned(phone_warehouse):
    engine = phone_warehouse
    refresh_phone_lookup(engine, SOURCES, country_hint=HINT)
    with engine.begin() as conn:
        conn.execute(
            sa.text(f"delete from \"{SCHEMA}\".calls where caller_number = '1-800-FLOWERS'")
        )
        conn.execute(
            sa.text(f"delete from \"{SCHEMA}\".customer_phones where phone_raw = '1-800-FLOWERS'")
        )
    incremental = refresh_phone_lookup(engine, SOURCES, country_hint=HINT)
    assert (incremental.scan, incremental.pruned) == ("incremental", 0)
    report = refresh_phone_lookup(engine, SOURCES, country_hint=HINT, full_scan=True)
    assert report.pruned == 1
    assert not any(raw == "1-800-FLOWERS" for raw, _ in _lookup_rows(engine))


def test_process_pool_gives_the_same_lookup(phone_warehouse, monkeypatch):
    engine = phone_warehouse
    serial = refresh_phone_lookup(engine, SOURCES, country_hint=HINT, workers=1)
    serial_rows = _lookup_rows(engine)
    monkeypatch.setattr(phone_lookup, "POOL_THRESHOLD", 0)
    pooled = refresh_phone_lookup(
        engine, SOURCES, full=True, country_hint=HINT, workers=2, chunk_size=50
    )
    assert pooled.workers == 2
    assert pooled.parsed_status_counts == serial.parsed_status_counts
    # A full re-parse empties the lookup: it was loaded first and keyed after.
    assert "build_key" in pooled.timings
    with engine.connect() as conn:
        key = conn.execute(
            sa.text(
                "select pg_get_constraintdef(oid) from pg_constraint"
                " where conrelid = 'steward.phone_lookup'::regclass and contype = 'p'"
            )
        ).scalar_one()
    assert key == "PRIMARY KEY (raw_value, region_hint)"
    # The writer leaves planner statistics (ANALYZE alone fills pg_stats) for the
    # models that join the lookup: autovacuum may be off.
    with engine.connect() as conn:
        analyzed = conn.execute(
            sa.text(
                "select count(*) from pg_stats"
                " where schemaname = 'steward' and tablename = 'phone_lookup'"
            )
        ).scalar_one()
    assert analyzed > 0
    pooled_rows = _lookup_rows(engine)
    strip = ("parsed_at",)
    assert {k: {c: v for c, v in r.items() if c not in strip} for k, r in pooled_rows.items()} == {
        k: {c: v for c, v in r.items() if c not in strip} for k, r in serial_rows.items()
    }


def test_an_emptied_lookup_is_filled_again_by_a_full_scan(phone_warehouse):
    engine = phone_warehouse
    first = refresh_phone_lookup(engine, SOURCES, country_hint=HINT)
    before = _lookup_rows(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("truncate steward.phone_lookup"))
    # The state still says last night scanned everything: an incremental scan
    # would only see new rows and leave the lookup nearly empty.
    again = refresh_phone_lookup(engine, SOURCES, country_hint=HINT)
    assert again.scan == "full"
    assert again.new_parsed == first.distinct_seen
    strip = ("parsed_at",)
    assert {k: {c: v for c, v in r.items() if c not in strip} for k, r in before.items()} == {
        k: {c: v for c, v in r.items() if c not in strip} for k, r in _lookup_rows(engine).items()
    }


def test_a_failed_refresh_leaves_the_lookup_as_it_was(phone_warehouse):
    engine = phone_warehouse
    refresh_phone_lookup(engine, SOURCES, country_hint=HINT)
    before = _lookup_rows(engine)
    broken = [*SOURCES, PhoneSource(SCHEMA, "no such table", "phone", None)]
    with pytest.raises(psycopg2.errors.UndefinedTable, match="no such table"):
        refresh_phone_lookup(engine, broken, full=True, country_hint=HINT)
    assert _lookup_rows(engine) == before


@pytest.mark.slow
def test_the_seeded_warehouse_matches_its_ground_truth(seeded_warehouse, warehouse_url):
    """Every CRM phone the generator planted gets the E.164 a correct normaliser returns."""
    engine = warehouse.engine(warehouse_url)
    try:
        # full=True: other tests on the shared session database may have refreshed already.
        report = refresh_phone_lookup(engine, full=True)  # the data map's phone columns
        with engine.connect() as conn:
            cases = conn.execute(
                sa.text(
                    """
                    select g.spelling, g.expected_e164, g.expected_status,
                        l.parse_status, l.e164
                    from steward_ground_truth.phone_cases as g
                    join crm.customer_phones as p on p.phone_id = g.phone_id
                    join crm.customers as c on c.customer_id = p.customer_id
                    left join steward.phone_lookup as l
                        on l.raw_value = steward.phone_raw_key(p.phone_raw)
                        and l.region_hint = steward.phone_region_key(c.country_code)
                    """
                )
            ).all()
    finally:
        # The session database is shared: leave no lookup for other tests to scan.
        # (Emptied, not dropped: the tables belong to steward.schema's migrations.)
        with engine.begin() as conn:
            conn.execute(sa.text("truncate steward.phone_lookup, steward.phone_lookup_state"))

    assert report.sources >= 5 and report.scan == "full" and report.new_parsed > 0
    spellings = {case.spelling for case in cases if case.expected_e164 is not None}
    assert {"national", "e164", "idd", "extension"} <= spellings
    assert any(case.expected_e164 is None for case in cases)  # planted invalid ones too
    wrong = [
        (spelling, expected_status, status)
        for spelling, expected_e164, expected_status, status, e164 in cases
        if status is None
        or (expected_e164 is not None and e164 != expected_e164)
        or (expected_e164 is None and status == "valid")
    ]
    assert not wrong, wrong[:10]  # spellings and statuses only: no phone numbers in output
