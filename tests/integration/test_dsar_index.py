"""The nightly subject index narrows the finder without changing what it finds.

On a private seeded `s` warehouse with the planted subject of test_dsar_requests
(phone spelled many ways, e-mail in capitals, a shared household line), the
index-assisted finder records exactly the rows the live finder records, for the
planted subject and for seeded customers, also for rows inserted after the index
was built and for rows deleted since.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.conftest import drop_database
from tests.integration.test_dsar_requests import BASE, EMAIL_CAPS, C, planted_warehouse

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PHONE = "+16502539187"


@pytest.fixture(scope="module")
def indexed_warehouse(server_admin_url, tmp_path_factory):
    """A private seeded warehouse with the planted subject and a built subject index."""
    from steward import dbt_runner, warehouse
    from steward.dsar import finder

    url, _, _ = planted_warehouse(server_admin_url, tmp_path_factory, "steward_dsar_index")
    engine = sa.create_engine(url)
    finder.refresh_lookup(engine)
    dbt_runner.run_or_raise(
        ["build", "--select", "path:models/marts/dsar"],
        url,
        scratch=tmp_path_factory.mktemp("dbt"),
    )
    yield engine
    engine.dispose()
    warehouse._engine_for.cache_clear()
    drop_database(server_admin_url, url)


def _request(**identifiers):
    from steward.dsar.intake import DsarRequest

    return DsarRequest(
        request_type="access",
        jurisdiction="CCPA",
        received_on=dt.date.today(),
        ticket_reference="PRIV-INDEX",
        verification_status="verified",
        verification_method="id_document",
        **identifiers,
    )


def _recorded(engine, request_id: int) -> set[tuple]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select table_name, row_key::text, matched_by, owned"
                " from steward.dsar_subject_rows where request_id = :id and phase = 'find'"
            ),
            {"id": request_id},
        ).all()
    return {tuple(row) for row in rows}


def _subjects(engine) -> list:
    with engine.connect() as conn:
        seeded = conn.execute(
            sa.text(
                "select c.customer_id, lower(c.email) from crm.customers as c"
                " where c.email is not null and c.customer_id < :b"
                " and exists (select from telephony.calls as k where k.customer_id = c.customer_id)"
                " order by c.customer_id limit 3"
            ),
            {"b": BASE},
        ).all()
    return [
        _request(email=EMAIL_CAPS.lower(), phone=PHONE),
        _request(phone=PHONE),
        _request(customer_id=C),
        _request(customer_id=seeded[0][0]),
        _request(email=seeded[1][1]),
        _request(customer_id=seeded[2][0], email=seeded[2][1]),
    ]


def _compare(engine, request_base: int) -> int:
    """Live and index-assisted results per subject must be identical; rows compared."""
    from steward import datamap
    from steward.dsar import finder

    data_map = datamap.load_data_map()
    compared = 0
    for offset, request in enumerate(_subjects(engine)):
        identity = finder.resolve_identity(engine, request, data_map)
        live_id, indexed_id = request_base + 2 * offset, request_base + 2 * offset + 1
        finder.find_rows(engine, live_id, identity, data_map)
        finder.find_with_index(engine, indexed_id, identity, data_map)
        live, indexed = _recorded(engine, live_id), _recorded(engine, indexed_id)
        assert live, offset
        assert indexed == live, offset
        compared += len(live)
    return compared


def test_index_covers_every_identifier_column(indexed_warehouse):
    from steward import datamap
    from steward.dsar import finder

    engine = indexed_warehouse
    assert finder.subject_index_age_hours(engine) is not None
    with engine.connect() as conn:
        indexed = {
            (kind, table)
            for kind, table in conn.execute(
                sa.text(
                    "select distinct identifier_kind, source_table from steward.dsar_subject_index"
                )
            )
        }
        planted = conn.execute(
            sa.text(
                "select count(distinct row_key) from steward.dsar_subject_index"
                " where identifier_kind = 'phone' and identifier_value = :p"
                " and source_table = 'crm.customer_phones'"
            ),
            {"p": PHONE},
        ).scalar_one()
    expected = set()
    for table in finder.subject_tables(datamap.load_data_map()):
        for kind, category in (("email", finder.EMAIL), ("phone", finder.PHONE)):
            if finder.columns_of(table, category):
                expected.add((kind, table.qualified_name))
        if table.identifier_columns(finder.CUSTOMER_KEY):
            expected.add(("customer_id", table.qualified_name))
    assert indexed == expected
    # Four spellings of the subject's number plus the household member's line.
    assert planted == 5


def test_index_assisted_finder_equals_live_finder(indexed_warehouse, caplog):
    caplog.set_level("INFO", logger="steward.dsar.finder")
    assert _compare(indexed_warehouse, 10_000) > 0
    assert "(indexed, phones searched live: False)" in caplog.text
    assert "live search" not in caplog.text


def test_rows_written_after_the_index_are_found(indexed_warehouse, caplog):
    from steward.dsar import finder

    engine = indexed_warehouse
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into marketing.campaign_contacts values"
                " (:b + 50, 1, null, null, :email, :now, 'opened'),"
                " (:b + 51, 1, null, '(650) 253-9187', null, :now, 'answered')"
            ),
            {"b": BASE, "email": "Zed.Quill@Example.org", "now": now},
        )
        conn.execute(
            sa.text(
                "insert into crm.customer_phones values"
                " (:b + 50, :c, '650.253.9187', 'mobile', false, false, :now)"
            ),
            {"b": BASE, "c": C, "now": now},
        )
        # An indexed row changed since to the subject's address (an update, not an insert).
        updated = conn.execute(
            sa.text(
                "update marketing.campaign_contacts set email = :email where contact_id ="
                " (select min(contact_id) from marketing.campaign_contacts"
                "  where customer_id is null and email is not null) returning contact_id"
            ),
            {"email": EMAIL_CAPS},
        ).scalar_one()
        # An indexed row deleted since: the index names it, the live check drops it.
        conn.execute(
            sa.text("delete from crm.customer_phones where phone_id = :id"), {"id": BASE + 2}
        )
    finder.refresh_lookup(engine)
    caplog.set_level("INFO", logger="steward.dsar.finder")
    _compare(engine, 20_000)
    # Known spellings only: the phone matches went through the index, not a live search.
    assert "(indexed, phones searched live: False)" in caplog.text
    found = _recorded(engine, 20_001)  # the planted subject by e-mail and phone, with the index
    keys = {(table, key) for table, key, _, _ in found}
    for table, key in (
        ("marketing.campaign_contacts", f'{{"contact_id": {BASE + 50}}}'),
        ("marketing.campaign_contacts", f'{{"contact_id": {BASE + 51}}}'),
        ("crm.customer_phones", f'{{"phone_id": {BASE + 50}}}'),
        ("marketing.campaign_contacts", f'{{"contact_id": {updated}}}'),
    ):
        assert (table, key) in keys
    assert ("crm.customer_phones", f'{{"phone_id": {BASE + 2}}}') not in keys


def _index_entries(engine) -> set[tuple]:
    with engine.connect() as conn:
        return {
            tuple(row)
            for row in conn.execute(
                sa.text(
                    "select identifier_kind, identifier_value, source_table, row_key::text"
                    " from steward.dsar_subject_index"
                )
            )
        }


def _entry_times(engine, source_table: str, row_key: str) -> set[tuple]:
    """A row's entries with the time each was written."""
    with engine.connect() as conn:
        return {
            tuple(row)
            for row in conn.execute(
                sa.text(
                    "select identifier_kind || ':' || identifier_value, indexed_at"
                    " from steward.dsar_subject_index"
                    " where source_table = :table and row_key = cast(:key as jsonb)"
                ),
                {"table": source_table, "key": row_key},
            )
        }


def _build_index(engine, tmp_path_factory, *extra: str) -> None:
    from steward import dbt_runner

    dbt_runner.run_or_raise(
        ["build", "--select", "dsar_subject_index", *extra],
        engine.url.render_as_string(hide_password=False),
        scratch=tmp_path_factory.mktemp("dbt"),
    )


def test_incremental_build_indexes_what_was_written_since(indexed_warehouse, tmp_path_factory):
    """After the writes of the test above, a nightly (incremental) build equals a full
    rebuild on every live row; a quiet build writes nothing and still moves the watermark."""
    from steward.dsar import finder

    engine = indexed_warehouse
    before = finder.subject_index_state(engine)
    customer_row = ("crm.customers", f'{{"customer_id": {C}}}')
    with engine.begin() as conn:
        # Written again, holding the same identifiers: re-indexed, its entries kept as
        # they are (not deleted and inserted again).
        conn.execute(
            sa.text("update crm.customers set last_name = last_name where customer_id = :c"),
            {"c": C},
        )
    kept_before = _entry_times(engine, *customer_row)
    _build_index(engine, tmp_path_factory)
    after = finder.subject_index_state(engine)
    assert after[2] > before[2] and after[1] >= before[1]
    assert kept_before and _entry_times(engine, *customer_row) == kept_before
    assert all(indexed_at < after[2] for _, indexed_at in kept_before)
    incremental = _index_entries(engine)
    with engine.connect() as conn:
        rewritten = conn.execute(
            sa.text(
                "select count(*) from steward.dsar_subject_index"
                " where indexed_at = :at and indexed_xmin = :xmin"
            ),
            {"at": after[2], "xmin": after[1]},
        ).scalar_one()
        total = conn.execute(sa.text("select count(*) from steward.dsar_subject_index")).scalar()
        # The watermark is the build's snapshot xmin, which any transaction open elsewhere on
        # the server holds back (other test processes): then rows written before the build
        # (none of crm.customers was written since the seed) count as new, and are indexed
        # again, correctly but not sparingly.
        held_back = conn.execute(
            sa.text("select exists (select from crm.customers where age(xmin) <= age(:w ::xid))"),
            {"w": str(before[1] % 2**32)},
        ).scalar_one()
    assert 0 < rewritten <= total
    if not held_back:  # only the rows written since: a handful of the thousands of entries
        assert rewritten < total / 100

    _build_index(engine, tmp_path_factory)  # a quiet night
    quiet = finder.subject_index_state(engine)
    assert quiet[2] > after[2]
    assert _index_entries(engine) == incremental

    _build_index(engine, tmp_path_factory, "--full-refresh")
    full = _index_entries(engine)
    # The deleted phone's entries stay until a full refresh (the finder re-checks
    # candidates live); everything else is the same.
    deleted = ("crm.customer_phones", f'{{"phone_id": {BASE + 2}}}')
    stale = {entry for entry in incremental if entry[2:] == deleted}
    assert stale and not any(entry[2:] == deleted for entry in full)
    assert incremental - stale == full
    assert _compare(engine, 25_000) > 0


def _index_definitions(engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(
            definition.split(" USING ")[1]
            for definition in conn.execute(
                sa.text(
                    "select indexdef from pg_indexes"
                    " where schemaname = 'steward' and tablename = 'dsar_subject_index'"
                )
            ).scalars()
        )


def test_an_index_of_another_layout_is_refilled_whole_with_its_indexes(
    indexed_warehouse, tmp_path_factory
):
    """A nightly build over an index of another layout (a changed data map, an older
    Steward) re-indexes every row into an emptied table and builds its indexes again:
    the same entries and the same two indexes as a full refresh, no more."""
    engine = indexed_warehouse
    _build_index(engine, tmp_path_factory, "--full-refresh")
    full, indexes = _index_entries(engine), _index_definitions(engine)
    assert indexes == ["btree (identifier_value)", "btree (source_table, row_key)"]
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "comment on table steward.dsar_subject_index is"
                """ '{"indexed_xmin": 1, "indexed_at": "2000-01-01T00:00:00+00:00","""
                """ "layout": "another"}'"""
            )
        )
        # An entry no build would write: the refill must not keep it.
        conn.execute(
            sa.text(
                "insert into steward.dsar_subject_index values"
                " ('email', 'gone@example.org', 'crm.customers', '{\"customer_id\": -1}',"
                " now(), 1)"
            )
        )
    _build_index(engine, tmp_path_factory)
    assert _index_entries(engine) == full
    assert _index_definitions(engine) == indexes
    from steward.dsar import finder

    assert finder.subject_index_state(engine) is not None


def test_stale_or_missing_index_falls_back_to_the_live_finder(indexed_warehouse):
    from steward import datamap
    from steward.dsar import finder

    engine = indexed_warehouse
    data_map = datamap.load_data_map()
    identity = finder.resolve_identity(engine, _request(customer_id=C), data_map)
    finder.find_rows(engine, 30_000, identity, data_map)
    finder.find_with_index(engine, 30_001, identity, data_map, max_age_hours=0)
    assert _recorded(engine, 30_001) == _recorded(engine, 30_000)


def test_auto_search_takes_the_index_only_where_identifier_columns_are_not_indexed(
    indexed_warehouse, monkeypatch
):
    from steward import datamap
    from steward.dsar import finder_indexes, pipeline

    engine = indexed_warehouse
    data_map = datamap.load_data_map()
    monkeypatch.delenv(pipeline.USE_SUBJECT_INDEX_ENV, raising=False)
    monkeypatch.delenv(pipeline.SEARCH_ENV, raising=False)
    missing = finder_indexes.missing_finder_indexes(engine, data_map)
    assert "crm.customers.email" in missing
    assert pipeline.search_mode(engine, data_map) == "index"

    monkeypatch.setenv(pipeline.SEARCH_ENV, "live")
    assert pipeline.search_mode(engine, data_map) == "live"
    monkeypatch.setenv(pipeline.SEARCH_ENV, "sometimes")
    with pytest.raises(ValueError, match="expected one of auto, live, index"):
        pipeline.search_mode(engine, data_map)

    monkeypatch.setenv(pipeline.SEARCH_ENV, "auto")
    created = finder_indexes.ensure_finder_indexes(engine, data_map)
    try:
        assert finder_indexes.missing_finder_indexes(engine, data_map) == []
        assert pipeline.search_mode(engine, data_map) == "live"
        monkeypatch.setenv(pipeline.SEARCH_ENV, "index")
        assert pipeline.search_mode(engine, data_map) == "index"
    finally:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for name in created:
                conn.exec_driver_sql(f"drop index if exists {name}")
