"""Suppression re-scan: a deleted subject's data ingested again is found and removed.

A private seeded warehouse with the planted subject of test_dsar_requests (a
household member shares their line). The subject is deleted through the
pipeline; then an account, a phone and a campaign contact with the same e-mail
and number are inserted again. The re-scan's dry run reports exactly those rows
(not the household member's, not the rows the erasure kept or anonymised),
apply erases them the erasure's way, and a second run finds nothing.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.conftest import drop_database
from tests.integration.test_dsar_requests import BASE, EMAIL_CAPS, planted_warehouse

pytestmark = [pytest.mark.integration, pytest.mark.slow]

AGAIN = BASE + 70  # ids of the re-ingested rows


@pytest.fixture(scope="module")
def erased_warehouse(server_admin_url, tmp_path_factory):
    """The planted subject deleted through the pipeline, then partly re-ingested."""
    from steward import warehouse
    from steward.dsar import pipeline

    url, _, _ = planted_warehouse(server_admin_url, tmp_path_factory, "steward_dsar_suppr")
    engine = sa.create_engine(url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(warehouse.DATABASE_URL_ENV, url)
        patch.setenv("STEWARD_DSAR_SUPPRESSION_SALT", "test-salt-suppression")
        patch.setenv("STEWARD_DSAR_EXPORT_DIR", str(tmp_path_factory.mktemp("exports")))
        patch.setenv("STEWARD_DSAR_EXPORT_KEY", "test-export-key-0123456789")
        warehouse._engine_for.cache_clear()
        submitted = pipeline.submit(
            {
                "request_type": "deletion",
                "jurisdiction": "CCPA",
                "received_on": dt.date.today().isoformat(),
                "ticket_reference": "PRIV-SUPPRESS-1",
                "verification_status": "verified",
                "verification_method": "id_document",
                "email": EMAIL_CAPS,
                "phone": "650-253-9187",
            }
        )
        result = pipeline.process(submitted["request_id"])
        assert result["verified"]["verified"]
        now = dt.datetime.now(dt.UTC)
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "insert into crm.customers values (:a, 'Zedekiah', 'Quillfeather', :email,"
                    " '1980-02-03', 'X', 'US', 'CA', 'active', :now, :now, null, null, null)"
                ),
                {"a": AGAIN, "email": "Zed.Quill@Example.org", "now": now},
            )
            conn.execute(
                sa.text(
                    "insert into crm.customer_phones values"
                    " (:a, :a, '+1 (650) 253-9187', 'mobile', true, false, :now)"
                ),
                {"a": AGAIN, "now": now},
            )
            conn.execute(
                sa.text(
                    "insert into marketing.campaign_contacts values"
                    " (:a, 1, null, '650.253.9187', :email, :now, 'answered')"
                ),
                {"a": AGAIN, "email": EMAIL_CAPS, "now": now},
            )
        yield engine
        warehouse._engine_for.cache_clear()
    engine.dispose()
    drop_database(server_admin_url, url)


def _exists(engine, query: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(query), {"a": AGAIN, "b": BASE}).scalar_one()


def test_dry_run_reports_exactly_the_reingested_rows(erased_warehouse):
    from steward.dsar import suppression

    summary = suppression.rescan()
    assert summary["matched"] == {
        "crm.customer_phones": 1,
        "crm.customers": 1,
        "marketing.campaign_contacts": 1,
    }
    assert summary["suppression_entries"] > 0
    # A dry run changes nothing.
    assert _exists(erased_warehouse, "select count(*) from crm.customer_phones where phone_id = :a")
    # The household member's own rows on the shared line are not the subject's.
    assert _exists(
        erased_warehouse,
        "select count(*) from marketing.campaign_contacts where contact_id = :b + 3",
    )


def test_apply_erases_them_resumes_after_a_crash_and_a_rerun_finds_nothing(
    erased_warehouse, monkeypatch
):
    from steward import audit
    from steward.dsar import erasure, suppression

    engine = erased_warehouse
    # Killed after its first table: the next run finishes the interrupted plan first.
    original = erasure._execute_table
    calls = {"n": 0}

    def crashing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("killed mid-way")
        return original(*args, **kwargs)

    monkeypatch.setattr(erasure, "_execute_table", crashing)
    with pytest.raises(KeyboardInterrupt):
        suppression.rescan(apply=True)
    monkeypatch.setattr(erasure, "_execute_table", original)
    assert _exists(engine, "select count(*) from crm.customer_phones where phone_id = :a") == 0
    resumed = suppression.rescan(apply=True)
    assert resumed["resumed_rows"] == 2
    assert resumed["matched_total"] == 0
    assert _exists(engine, "select count(*) from crm.customer_phones where phone_id = :a") == 0
    assert (
        _exists(engine, "select count(*) from marketing.campaign_contacts where contact_id = :a")
        == 0
    )
    # The account row is anonymised (the data map's action for customers), not deleted.
    assert _exists(
        engine,
        "select count(*) from crm.customers where customer_id = :a and email is null"
        " and first_name is null",
    )
    assert _exists(
        engine, "select count(*) from marketing.campaign_contacts where contact_id = :b + 3"
    )
    again = suppression.rescan(apply=True)
    assert again["matched_total"] == 0
    assert suppression.rescan()["matched"] == {}

    assert audit.verify(engine).ok
    with engine.connect() as conn:
        details = conn.execute(
            sa.text(
                "select string_agg(details::text, ' ') from steward.audit_log"
                " where action like 'dsar.suppression.%'"
            )
        ).scalar_one()
    for secret in ("zed.quill", "9187", "test-salt-suppression"):
        assert secret not in details.lower()
