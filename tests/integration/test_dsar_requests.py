"""Data-subject requests end to end on a private seeded warehouse (they change data).

A subject is planted across every system in varied formats: the phone spelled
four ways and more, the e-mail in capitals, mentions in other people's
transcripts and ticket notes, a household line shared with another customer.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import create_database, drop_database

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PHONE = "+16502539187"
EMAIL_CAPS = "ZED.QUILL@EXAMPLE.ORG"
BASE = 900_000_000
C, D = BASE + 1, BASE + 2  # the subject, and a household member sharing a line
KEY = "test-export-key-0123456789"


def _plant(conn, recordings: Path) -> dict[str, set]:
    now = dt.datetime.now(dt.UTC)
    ancient = now - dt.timedelta(days=365 * 10)
    recording = recordings / "planted.wav"
    recording.write_bytes(b"RIFF....WAVE")
    other_call = conn.execute(
        sa.text("select call_id from telephony.calls where customer_id is not null limit 1")
    ).scalar_one()
    other_ticket_customer = conn.execute(
        sa.text("select customer_id from crm.customers where customer_id < :b limit 1"),
        {"b": BASE},
    ).scalar_one()
    statements = [
        (
            "insert into crm.customers values (:c, 'Zedekiah', 'Quillfeather', :email,"
            " '1980-02-03', 'X', 'US', 'CA', 'active', :now, :now, null, null, null),"
            " (:d, 'Ada', 'Householder', 'ada.h@example.org', '1982-04-05', 'F', 'US', 'CA',"
            " 'active', :now, :now, null, null, null)",
            {"email": "zed.quill@example.org"},
        ),
        (
            "insert into crm.customer_phones values (:b + 1, :c, '(650) 253-9187', 'mobile', true,"
            " false, :now), (:b + 2, :c, '650.253.9187', 'home', false, false, :now),"
            " (:b + 3, :c, '+1 650 253 9187', 'work', false, false, :now),"
            " (:b + 4, :c, '001 650 253 9187', 'work', false, false, :now),"
            " (:b + 5, :d, '(650) 253-9187', 'home', false, false, :now)",
            {},
        ),
        (
            "insert into crm.customer_addresses values (:b + 1, :c, '1 Main St', 'Mountain View',"
            " '94043', 'CA', 'US', :now)",
            {},
        ),
        (
            "insert into telephony.calls values"
            " (:b + 1, :c, 'inbound', '+16502539187', '+18005550199', 1, null, :now, :now, 60,"
            "  'connected'),"
            " (:b + 2, :c, 'outbound', '+18005550199', '16502539187', 1, null, :now, :now, 60,"
            "  'connected'),"
            " (:b + 3, null, 'inbound', '650-253-9187', '+18005550199', 1, null, :now, :now, 5,"
            "  'connected')",
            {},
        ),
        (
            "insert into telephony.call_recordings values"
            " (:b + 1, :b + 1, :path, true, 'CA', :now)",
            {"path": str(recording)},
        ),
        (
            "insert into telephony.transcripts values"
            " (:b + 1, :b + 1, 'en', 'Customer: hi, Zedekiah here', :now),"
            " (:b + 2, :other_call, 'en', 'Caller gave a friend''s number +1 (650) 253-9187 and"
            " mail ZED.QUILL@EXAMPLE.ORG for Zedekiah', :now)",
            {"other_call": other_call},
        ),
        (
            "insert into billing.invoices values"
            " (:b + 1, :c, :now, 10, 'USD', '1 Main St', 'paid'),"
            " (:b + 2, :c, :ancient, 10, 'USD', '1 Main St', 'paid')",
            {"ancient": ancient},
        ),
        (
            "insert into billing.payments values (:b + 1, :b + 1, :c, 10, 'USD',"
            " '************1234', '01/30', :now)",
            {},
        ),
        (
            "insert into marketing.campaign_contacts values"
            " (:b + 1, 1, null, '650 253 9187', null, :now, 'answered'),"
            " (:b + 2, 1, null, null, :email, :now, 'opened'),"
            " (:b + 3, 1, :d, '650 253 9187', null, :now, 'answered')",
            {"email": EMAIL_CAPS},
        ),
        (
            "insert into marketing.opt_outs values (:b + 1, :c, '6502539187', null, 'all', :now,"
            " 'call')",
            {},
        ),
        (
            "insert into support.tickets values (:b + 1, :c, :now, :now, 'billing', 'low',"
            " 'closed', 'asked about invoice'),"
            " (:b + 2, :other, :now, null, 'other', 'low', 'open', 'cb# 650.253.9187 re friend')",
            {"other": other_ticket_customer},
        ),
        (
            "insert into compliance.dnc_registry values ('6502539187', :today, 'planted.txt')",
            {"today": now.date()},
        ),
        (
            "insert into compliance.consents values (:b + 1, :c, '(650) 253-9187',"
            " 'express_written', :now, null)",
            {},
        ),
    ]
    for statement, extra in statements:
        conn.execute(sa.text(statement), {"b": BASE, "c": C, "d": D, "now": now, **extra})
    b = BASE
    return {
        "crm.customers": {f'{{"customer_id": {C}}}'},
        "crm.customer_phones": {f'{{"phone_id": {b + i}}}' for i in range(1, 5)},
        "crm.customer_addresses": {f'{{"address_id": {b + 1}}}'},
        "telephony.calls": {f'{{"call_id": {b + i}}}' for i in range(1, 4)},
        "telephony.call_recordings": {f'{{"recording_id": {b + 1}}}'},
        "telephony.transcripts": {f'{{"transcript_id": {b + i}}}' for i in (1, 2)},
        "billing.invoices": {f'{{"invoice_id": {b + i}}}' for i in (1, 2)},
        "billing.payments": {f'{{"payment_id": {b + 1}}}'},
        "marketing.campaign_contacts": {f'{{"contact_id": {b + i}}}' for i in (1, 2)},
        "marketing.opt_outs": {f'{{"opt_out_id": {b + 1}}}'},
        "support.tickets": {f'{{"ticket_id": {b + i}}}' for i in (1, 2)},
        "compliance.dnc_registry": {
            json.dumps({"phone_number": "6502539187", "snapshot_date": now.date().isoformat()})
        },
        "compliance.consents": {f'{{"consent_id": {b + 1}}}'},
    }


def planted_warehouse(
    server_admin_url: str, tmp_path_factory, prefix: str
) -> tuple[str, Path, dict[str, set]]:
    """A new database seeded at scale s with the planted subject: (url, recordings, truth)."""
    from steward.seed import generate

    url = create_database(server_admin_url, prefix=prefix)
    recordings = tmp_path_factory.mktemp("recordings")
    generate.seed_warehouse(scale="s", seed=42, url=url, progress=False, recordings_root=recordings)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            truth = _plant(conn, recordings)
    finally:
        engine.dispose()
    return url, recordings, truth


@pytest.fixture(scope="module")
def private_warehouse(server_admin_url, tmp_path_factory):
    """A seeded warehouse of this module's own, with the planted subject."""
    from steward import warehouse

    url, recordings, truth = planted_warehouse(server_admin_url, tmp_path_factory, "steward_dsar")
    exports = tmp_path_factory.mktemp("exports")
    engine = sa.create_engine(url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(warehouse.DATABASE_URL_ENV, url)
        patch.setenv("STEWARD_DSAR_EXPORT_KEY", KEY)
        patch.setenv("STEWARD_DSAR_EXPORT_DIR", str(exports))
        patch.setenv("STEWARD_DSAR_SUPPRESSION_SALT", "test-suppression-key-0123456789")
        warehouse._engine_for.cache_clear()
        yield {
            "url": url,
            "engine": engine,
            "truth": truth,
            "exports": exports,
            "recording": recordings / "planted.wav",
        }
        warehouse._engine_for.cache_clear()
    engine.dispose()
    drop_database(server_admin_url, url)


def _request(**overrides):
    fields = {
        "request_type": "access",
        "jurisdiction": "CCPA",
        "received_on": dt.date.today().isoformat(),
        "ticket_reference": "PRIV-ACCESS-1",
        "verification_status": "verified",
        "verification_method": "id_document",
    }
    fields.update(overrides)
    return fields


def _found(engine, request_id, phase="find") -> dict[str, set]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select distinct table_name, row_key::text from steward.dsar_subject_rows"
                " where request_id = :id and phase = :phase"
            ),
            {"id": request_id, "phase": phase},
        ).all()
    found: dict[str, set] = {}
    for table, key in rows:
        found.setdefault(table, set()).add(json.dumps(json.loads(key)))
    return found


def _normalised(truth):
    return {t: {json.dumps(json.loads(k)) for k in keys} for t, keys in truth.items()}


def _fingerprint(engine) -> tuple:
    with engine.connect() as conn:
        requests = (
            conn.execute(sa.text("select count(*) from steward.dsar_requests")).scalar_one()
            if conn.execute(sa.text("select to_regclass('steward.dsar_requests')")).scalar()
            else 0
        )
        customers = conn.execute(
            sa.text(
                "select md5(string_agg(t::text, ',' order by customer_id)) from crm.customers as t"
            )
        ).scalar_one()
    return requests, customers


def test_invalid_requests_are_rejected_and_change_nothing(private_warehouse):
    from steward.dsar import intake, pipeline

    engine = private_warehouse["engine"]
    before = _fingerprint(engine)
    for bad in (
        _request(email="not-an-email"),
        _request(jurisdiction="ATLANTIS", email=EMAIL_CAPS),
        _request(jurisdiction="PIPEDA", request_type="deletion", email=EMAIL_CAPS),
        _request(request_type="correction", email=EMAIL_CAPS, corrections={"shoe_size": "44"}),
    ):
        with pytest.raises(intake.IntakeError):
            pipeline.submit(bad)
    assert _fingerprint(engine) == before


def test_access_by_email_and_phone_finds_every_planted_row(private_warehouse):
    import pyzipper

    from steward import audit
    from steward.dsar import pipeline

    engine = private_warehouse["engine"]
    submitted = pipeline.submit(_request(phone="650-253-9187", email=EMAIL_CAPS))
    result = pipeline.process(submitted["request_id"])
    found = _found(engine, submitted["request_id"])
    truth = _normalised(private_warehouse["truth"])
    for table, keys in truth.items():
        assert keys <= found.get(table, set()), table
    # The household member's own row with the shared line is not the subject's.
    household = json.dumps({"contact_id": BASE + 3})
    assert household not in found.get("marketing.campaign_contacts", set())
    assert result["verified"]["verified"]

    package = Path(result["fulfilled"]["path"])
    with pyzipper.AESZipFile(package) as archive:
        archive.setpassword(KEY.encode())
        manifest = json.loads(archive.read("manifest.json"))
        names = set(archive.namelist())
        customers = json.loads(archive.read("crm.customers.json"))
    assert {"README.txt", "crm.customers.csv", "telephony.calls.json"} <= names
    assert customers["rows"][0]["customer_id"] == C
    tables = {entry["table"]: entry for entry in manifest["tables"]}
    assert tables["crm.customer_phones"]["rows"] >= 4
    assert tables["telephony.transcripts"]["mentions_in_other_records"] == 1
    # Encrypted: no password, no content.
    with pytest.raises(RuntimeError), pyzipper.AESZipFile(package) as archive:
        archive.read("manifest.json")
    with engine.connect() as conn:
        log = conn.execute(sa.text("select string_agg(details::text, ' ') from steward.audit_log"))
        text = log.scalar_one()
    assert result["fulfilled"]["sha256"] in text
    # Whole identifiers and telling fragments (short digit runs also occur in digests).
    for secret in (PHONE, PHONE[2:], "253-9187", "2539187", "quill", "Zedekiah"):
        assert secret.lower() not in text.lower()
    assert audit.verify(engine).ok


def test_second_submission_is_not_processed_twice(private_warehouse):
    from steward.dsar import pipeline

    again = pipeline.submit(_request(phone="650-253-9187", email=EMAIL_CAPS))
    assert again["created"] is False
    assert pipeline.process(again["request_id"]) == {
        "request_id": again["request_id"],
        "skipped": "already finished",
    }


def test_correction_reaches_every_copy(private_warehouse):
    from steward.dsar import pipeline

    engine = private_warehouse["engine"]
    submitted = pipeline.submit(
        _request(
            request_type="correction",
            ticket_reference="PRIV-CORR-1",
            customer_id=D,
            corrections={"email": "Ada.New@Example.org", "last_name": "Newname"},
        )
    )
    result = pipeline.process(submitted["request_id"])
    assert result["fulfilled"]["total"] >= 2
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("select email, last_name from crm.customers where customer_id = :d"), {"d": D}
        ).one()
        audit_text = conn.execute(
            sa.text(
                "select string_agg(details::text, ' ') from steward.audit_log"
                " where action = 'dsar.correction.applied'"
            )
        ).scalar_one()
    assert tuple(row) == ("ada.new@example.org", "Newname")
    assert "old_values_digest" in audit_text and "ada.new" not in audit_text.lower()
    assert "householder" not in audit_text.lower()


def test_deletion_crash_resume_and_verification(private_warehouse, monkeypatch):
    from steward import audit, datamap
    from steward.dsar import erasure, pipeline

    engine = private_warehouse["engine"]
    submitted = pipeline.submit(
        _request(request_type="deletion", ticket_reference="PRIV-DEL-1", customer_id=C)
    )
    request_id = submitted["request_id"]
    assert pipeline.start(request_id) == "in_progress"
    pipeline.find(request_id)
    truth = _normalised(private_warehouse["truth"])
    found = _found(engine, request_id)
    for table, keys in truth.items():
        assert keys <= found.get(table, set()), table

    dry = pipeline.fulfil(request_id, dry_run=True)
    assert dry["dry_run"] and dry["executed_rows"] == 0
    with engine.connect() as conn:
        assert (
            conn.execute(
                sa.text("select count(*) from crm.customer_phones where customer_id = :c"), {"c": C}
            ).scalar_one()
            == 4
        )

    # Kill the erasure after its first tables: the rerun must finish the job.
    original = erasure._execute_table
    calls = {"n": 0}

    def crashing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("killed mid-way")
        return original(*args, **kwargs)

    monkeypatch.setattr(erasure, "_execute_table", crashing)
    with pytest.raises(KeyboardInterrupt):
        pipeline.fulfil(request_id, max_rows=1_000)
    monkeypatch.setattr(erasure, "_execute_table", original)
    pipeline.fulfil(request_id, max_rows=1_000)
    verified = pipeline.verify_and_complete(request_id)
    assert verified["verified"]

    kept = verified["kept"]
    assert set(kept) == {"billing.invoices", "billing.payments", "marketing.opt_outs"}
    b = BASE
    with engine.connect() as conn:

        def count(query, **params):
            return conn.execute(sa.text(query), {"b": b, "c": C, **params}).scalar_one()

        assert count("select count(*) from crm.customer_phones where customer_id = :c") == 0
        assert (
            count("select count(*) from telephony.calls where call_id between :b and :b + 3") == 0
        )
        assert (
            count("select count(*) from compliance.dnc_registry where phone_number = '6502539187'")
            == 0
        )
        assert (
            count(
                "select count(*) from marketing.campaign_contacts"
                " where contact_id in (:b + 1, :b + 2)"
            )
            == 0
        )
        # The household member's row stays.
        assert (
            count("select count(*) from marketing.campaign_contacts where contact_id = :b + 3") == 1
        )
        # Anonymised, not deleted: each personal column masked by its category's strategy
        # (names nulled, the e-mail's HMAC falls back to null without a secret, the birth
        # date generalised to its year).
        assert (
            count(
                "select count(*) from crm.customers where customer_id = :c and first_name is null"
                " and last_name is null and email is null and date_of_birth = '1980-01-01'"
                " and gender is null"
            )
            == 1
        )
        # Retained under exemptions: the recent invoice, payment and opt-out; the old invoice goes.
        assert count("select count(*) from billing.invoices where invoice_id = :b + 1") == 1
        assert count("select count(*) from billing.invoices where invoice_id = :b + 2") == 0
        assert count("select count(*) from marketing.opt_outs where opt_out_id = :b + 1") == 1
        # Other people's texts keep their row, lose the subject's identifiers.
        body = conn.execute(
            sa.text("select body from telephony.transcripts where transcript_id = :b + 2"),
            {"b": b},
        ).scalar_one()
        notes = conn.execute(
            sa.text("select notes from support.tickets where ticket_id = :b + 2"), {"b": b}
        ).scalar_one()
        suppressions = count("select count(*) from steward.dsar_suppressions")
        register_row = conn.execute(
            sa.text("select email, phone, status from steward.dsar_requests where request_id = :r"),
            {"r": request_id},
        ).one()
    assert "253" not in body and "quill" not in body.lower() and "Zedekiah" not in body
    assert "[redacted phone]" in body and "253" not in notes
    assert not private_warehouse["recording"].exists()
    assert suppressions >= 3
    assert tuple(register_row) == (None, None, "completed")
    assert audit.verify(engine).ok
    # A verification re-scan on demand finds nothing outside the exemptions.
    identity = erasure.SubjectIdentity(
        customer_ids=[C], emails=["zed.quill@example.org"], phones=[PHONE]
    )
    again = erasure.verify_erasure(engine, request_id, identity, datamap.load_data_map())
    assert again["residual_total"] == 0, again
