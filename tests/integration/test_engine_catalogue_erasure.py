"""Erasure covers what the PII catalogue knows, not only the data map.

The seed plants national IDs (SSNs) in ``crm.customers.attr_3``, a column the data
map does not declare and the nightly catalogue flags. A deletion anonymises the
customer row: with the catalogue built, attr_3 is masked by its category's strategy
(user.government_id -> nullify) and the verification checks it; before the
catalogue exists the report says so, and once it exists the earlier "verified"
erasure that left the SSN is caught. A catalogue column the engine cannot mask
(NOT NULL, nullify) makes the request not verified.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from steward import datamap, warehouse
from tests.integration import engine_helpers as helpers

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def catalogue_warehouse(server_admin_url, tmp_path_factory):
    name = f"steward_engine_catalogue_{dt.datetime.now().strftime('%H%M%S%f')}"
    root = tmp_path_factory.mktemp("catalogue_recordings")
    url = helpers.seeded(server_admin_url, name, root)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(warehouse.DATABASE_URL_ENV, url)
        patch.setenv("STEWARD_DSAR_SUPPRESSION_SALT", "catalogue-suppression-key-0123")
        patch.delenv("STEWARD_RETENTION_HMAC_KEY", raising=False)
        warehouse._engine_for.cache_clear()
        engine = sa.create_engine(url)
        yield url, engine
        engine.dispose()
    helpers.drop(server_admin_url, name)


def _erase(engine, request_id: int, customer: int) -> dict:
    from steward.dsar import erasure, finder

    data_map = datamap.load_data_map()
    identity = finder.SubjectIdentity(customer_ids=[customer])
    finder.find_rows(engine, request_id, identity, data_map)
    erasure.erase(engine, request_id, identity, data_map)
    return erasure.verify_erasure(engine, request_id, identity, data_map)


def _attr_3(engine, customer: int):
    with engine.connect() as conn:
        return conn.execute(
            sa.text("select attr_3 from crm.customers where customer_id = :c"), {"c": customer}
        ).scalar_one()


def test_catalogue_columns_are_erased_and_verified(catalogue_warehouse):
    from steward.catalogue import nightly
    from steward.dsar import erasure, finder

    url, engine = catalogue_warehouse
    with engine.connect() as conn:
        first, second, third = (
            row[0]
            for row in conn.execute(
                sa.text(
                    "select customer_id from crm.customers where attr_3 ~ '^[0-9]{3}-[0-9]{2}-'"
                    " and customer_id not in (select customer_id from compliance.legal_holds"
                    " where customer_id is not null) order by customer_id limit 3"
                )
            )
        )

    # No catalogue yet: the map's columns only, and the report says so.
    before = _erase(engine, 1, first)
    assert before["pii_catalogue"].startswith("not built yet"), before
    assert before["verified"], before
    assert _attr_3(engine, first) is not None  # nothing knew it held an SSN

    nightly.run_scan(url)
    assert nightly.build_marts(url)
    with engine.connect() as conn:
        assert (
            conn.execute(
                sa.text(
                    "select category from steward.pii_catalogue where schema_name = 'crm'"
                    " and table_name = 'customers' and column_name = 'attr_3'"
                )
            )
            .scalar_one()
            .startswith("user.government_id")
        )

    after = _erase(engine, 2, second)
    assert after["pii_catalogue"] == "checked"
    assert after["verified"], after
    assert "crm.customers.attr_3" in after["anonymised_columns_checked"]
    assert _attr_3(engine, second) is None
    with engine.connect() as conn:
        batch = conn.execute(
            sa.text(
                "select details from steward.audit_log where action = 'dsar.erasure.batch'"
                " and details ->> 'request_id' = '2' and details ->> 'table' = 'crm.customers'"
            )
        ).scalar_one()
    assert batch["masked_columns"]["attr_3"] == "nullify"

    # The first erasure, checked again now that the catalogue knows: not verified.
    data_map = datamap.load_data_map()
    recheck = erasure.verify_erasure(
        engine, 1, finder.SubjectIdentity(customer_ids=[first]), data_map
    )
    assert not recheck["verified"]
    assert recheck["anonymised_rows_with_personal_data"] == 1

    # A catalogue column the engine cannot mask: NOT NULL, and its category nulls.
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into steward.pii_catalogue (schema_name, table_name, column_name,"
                " category, status) values ('crm', 'customers', 'status',"
                " 'user.government_id.national_id', 'confirmed')"
            )
        )
    refused = _erase(engine, 3, third)
    assert not refused["verified"]
    assert refused["columns_not_handled"] == {"crm.customers.status": "NOT NULL: cannot be nulled"}
    assert _attr_3(engine, third) is None  # what it could mask, it masked


def test_a_file_that_cannot_be_removed_is_reported_and_retried(catalogue_warehouse, tmp_path):
    from steward import audit
    from steward.dsar import erasure, finder

    _, engine = catalogue_warehouse
    stuck = tmp_path / "stuck.wav"  # a directory: fsspec cannot remove it as a file
    stuck.mkdir()
    (stuck / "inside").write_bytes(b"x")
    with engine.begin() as conn:
        # The unmaskable catalogue column of the test before (if it ran) is not this one's.
        if conn.execute(sa.text("select to_regclass('steward.pii_catalogue')")).scalar():
            conn.execute(
                sa.text(
                    "delete from steward.pii_catalogue where schema_name = 'crm'"
                    " and table_name = 'customers' and column_name = 'status'"
                )
            )
        customer, recording = conn.execute(
            sa.text(
                "select c.customer_id, r.recording_id from telephony.call_recordings r"
                " join telephony.calls c using (call_id) where c.customer_id not in"
                " (select customer_id from compliance.legal_holds where customer_id is not null)"
                " order by r.recording_id limit 1"
            )
        ).one()
        conn.execute(
            sa.text(
                "update telephony.call_recordings set storage_path = :p where recording_id = :r"
            ),
            {"p": str(stuck), "r": recording},
        )
    report = _erase(engine, 4, customer)
    assert not report["verified"]
    assert report["recording_files_failed"] == 1
    with engine.connect() as conn:
        outcome = conn.execute(
            sa.text(
                "select file_outcome, file_error from steward.dsar_erasure_plan"
                " where request_id = 4 and file_path = :p"
            ),
            {"p": str(stuck)},
        ).one()
    assert outcome[0] == "failed" and outcome[1]
    # Once the storage is fixed, the rerun retries the file and the request verifies.
    (stuck / "inside").unlink()
    stuck.rmdir()
    data_map = datamap.load_data_map()
    identity = finder.SubjectIdentity(customer_ids=[customer])
    erasure.erase(engine, 4, identity, data_map)
    again = erasure.verify_erasure(engine, 4, identity, data_map)
    assert again["verified"], again
    assert audit.verify(engine).ok
