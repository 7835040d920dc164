"""One subject matcher, Steward's own copies, the keyed register and the not-found outcome.

On a private seeded warehouse with the planted subject (test_dsar_requests) and
the nightly marts that copy identifiers (phone marts, subject index) built by
real dbt: the matcher gives the same rows on every path; bad input changes
nothing; a deletion purges Steward's own copies and leaves the register with
keyed digests only; a later access request by phone alone lists what was kept
and why; a deletion of nobody ends ``not_found`` and leaves no suppression entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tests.conftest import drop_database
from tests.integration.test_dsar_requests import BASE, EMAIL_CAPS, PHONE, C, D, planted_warehouse

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KEY = "test-export-key-0123456789"
EMAIL = EMAIL_CAPS.lower()


@pytest.fixture(scope="module")
def subject_warehouse(server_admin_url, tmp_path_factory):
    from steward import dbt_runner, warehouse
    from steward.dsar import finder

    url, _recordings, truth = planted_warehouse(
        server_admin_url, tmp_path_factory, "steward_dsar_subj"
    )
    exports = tmp_path_factory.mktemp("exports")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(warehouse.DATABASE_URL_ENV, url)
        patch.setenv("STEWARD_DSAR_EXPORT_KEY", KEY)
        patch.setenv("STEWARD_DSAR_EXPORT_DIR", str(exports))
        patch.setenv("STEWARD_DSAR_SEARCH", "live")
        warehouse._engine_for.cache_clear()
        engine = warehouse.engine(url)
        finder.refresh_lookup(engine)
        scratch = tmp_path_factory.mktemp("dbt")
        dbt_runner.run_or_raise(["seed"], url, scratch=scratch)
        dbt_runner.run_or_raise(
            [
                "run",
                "--select",
                "path:models/staging",
                "path:models/intermediate/phones",
                "path:models/marts/phones",
                "path:models/marts/dsar",
            ],
            url,
            scratch=scratch,
        )
        yield {"url": url, "engine": engine, "truth": truth, "exports": exports}
        warehouse._engine_for.cache_clear()
    drop_database(server_admin_url, url)


def _fields(**overrides):
    fields = {
        "request_type": "access",
        "jurisdiction": "GDPR",
        "received_on": dt.date.today().isoformat(),
        "ticket_reference": "PRIV-SUBJ-1",
        "verification_status": "verified",
        "verification_method": "id_document",
    }
    fields.update(overrides)
    return fields


def _fingerprint(engine) -> tuple:
    with engine.connect() as conn:
        register = (
            conn.execute(
                sa.text(
                    "select count(*), md5(string_agg(r::text, ',')) from steward.dsar_requests r"
                )
            ).one()
            if conn.execute(sa.text("select to_regclass('steward.dsar_requests')")).scalar()
            else (0, None)
        )
        customers = conn.execute(
            sa.text(
                "select md5(string_agg(t::text, ',' order by customer_id)) from crm.customers t"
            )
        ).scalar_one()
    return tuple(register), customers


def _rows(engine, request_id: int, phase: str = "find", mentions: bool = True) -> set:
    with engine.connect() as conn:
        return {
            (table, json.dumps(key, sort_keys=True))
            for table, key in conn.execute(
                sa.text(
                    "select distinct table_name, row_key from steward.dsar_subject_rows"
                    " where request_id = :id and phase = :phase"
                    + ("" if mentions else " and matched_by <> 'mention'")
                ),
                {"id": request_id, "phase": phase},
            )
        }


def test_bad_input_is_refused_and_changes_nothing(subject_warehouse, monkeypatch):
    from steward.cli import app
    from steward.dsar import intake, keys, pipeline

    engine = subject_warehouse["engine"]
    pipeline.submit(_fields(ticket_reference="PRIV-SUBJ-SEED", email="someone@example.org"))
    before = _fingerprint(engine)
    bad = [
        _fields(email=EMAIL, name="Zed\x00Quill"),
        _fields(email="zed\x00@example.org"),
        _fields(phone="650\x1b253 9187"),
        _fields(email=EMAIL, name="Z" * 300),
        _fields(email=EMAIL, ticket_reference="PRIV-\u202eLOOK"),
        _fields(
            request_type="correction",
            customer_id=C,
            corrections={"last_name": "Smith'); drop table crm.customers; --"},
        ),
        _fields(request_type="correction", customer_id=C, corrections={"email": "not-mail"}),
        _fields(request_type="correction", customer_id=C, corrections={"phone": "12"}),
        _fields(request_type="correction", customer_id=C, corrections={"city": "x" * 150}),
    ]
    for fields in bad:
        with pytest.raises(intake.IntakeError) as refused:
            pipeline.submit(fields)
        text = str(refused.value)
        assert "\x00" not in text and "drop table" not in text.lower()
    with pytest.raises(intake.IntakeError) as sql_surname:
        pipeline.submit(bad[5])
    assert "may hold only letters" in str(sql_surname.value)

    runner = CliRunner()
    cases = [
        (
            [
                "submit",
                "--request-type",
                "correction",
                "--jurisdiction",
                "GDPR",
                "--received-on",
                dt.date.today().isoformat(),
                "--ticket-reference",
                "PRIV-CLI-1",
                "--customer-id",
                str(C),
                "--corrections",
                "{not json",
            ],
            "--corrections is not valid JSON",
        ),
        (["status", "987654"], "no data-subject request 987654"),
        (["run", "987654"], "no data-subject request 987654"),
        (["extend", "1", "--reason", "complex"], "cannot go from"),
        (["pause", "1", "--reason", "wait\x00"], "control characters"),
    ]
    for args, message in cases:
        result = runner.invoke(app, ["dsar", *args])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, result.output
        assert "Traceback" not in result.output and result.output.count("\n") == 1
    # No key configured: a clear error before anything is written.
    monkeypatch.delenv(keys.SUBJECT_KEY_ENV)
    result = runner.invoke(
        app,
        [
            "dsar",
            "submit",
            "--request-type",
            "access",
            "--jurisdiction",
            "GDPR",
            "--received-on",
            dt.date.today().isoformat(),
            "--ticket-reference",
            "PRIV-CLI-NOKEY",
            "--email",
            EMAIL,
        ],
    )
    assert result.exit_code == 2 and keys.SUBJECT_KEY_ENV in result.output
    assert _fingerprint(engine) == before


def test_one_matcher_single_batch_index_and_suppression_find_the_same_rows(subject_warehouse):
    from steward import datamap
    from steward.dsar import erasure, finder, keys, suppression
    from steward.dsar.intake import DsarRequest

    engine = subject_warehouse["engine"]
    data_map = datamap.load_data_map()
    request = DsarRequest(
        request_type="access",
        jurisdiction="GDPR",
        received_on=dt.date.today(),
        ticket_reference="PRIV-MATCH",
        verification_status="verified",
        verification_method="id_document",
        customer_id=C,
    )
    household = DsarRequest(**{**request.__dict__, "customer_id": D})
    identity = finder.resolve_identity(engine, request, data_map)
    batch = finder.resolve_identities(engine, {1: request, 2: household}, data_map)
    assert batch[1] == identity
    finder.find_rows(engine, 40_001, identity, data_map)
    finder.find_rows_batch(engine, {40_002: identity, 40_003: batch[2]}, data_map)
    finder.find_with_index(engine, 40_004, identity, data_map)
    single = _rows(engine, 40_001)
    truth = {
        (table, json.dumps(json.loads(key), sort_keys=True))
        for table, keys_ in subject_warehouse["truth"].items()
        for key in keys_
    }
    assert truth <= single
    assert _rows(engine, 40_002) == single
    assert _rows(engine, 40_004) == single
    # The household member's own rows are theirs, not the subject's, on every path.
    theirs = {
        ("crm.customer_phones", json.dumps({"phone_id": BASE + 5})),
        ("marketing.campaign_contacts", json.dumps({"contact_id": BASE + 3})),
    }
    assert theirs <= _rows(engine, 40_003) and not theirs & single

    # The suppression re-scan, given the same identifiers as keyed hashes, matches the
    # same rows (free-text mentions aside: a hash cannot be searched for in text).
    erasure.ensure_tables(engine)
    key = keys.suppression_key()
    entries = (
        [("customer_id", str(c)) for c in identity.customer_ids]
        + [("email", e) for e in identity.emails]
        + [("phone", p) for p in identity.phones]
    )
    with engine.begin() as conn:
        for kind, value in entries:
            conn.execute(
                sa.text("insert into steward.dsar_suppressions values (:kind, :hash, -1, now())"),
                {"kind": kind, "hash": keys.identifier_hash(key, kind, value)},
            )
    try:
        rescanned = suppression.rescan(refresh_lookup=False)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("delete from steward.dsar_suppressions where request_id = -1"))
    per_table: dict[str, int] = {}
    for table, _ in _rows(engine, 40_001, mentions=False):
        per_table[table] = per_table.get(table, 0) + 1
    assert rescanned["matched"] == per_table


def test_deletion_purges_steward_copies_and_register_keeps_keyed_digests(subject_warehouse):
    from steward.dsar import derived, keys, pipeline

    engine = subject_warehouse["engine"]
    with engine.connect() as conn:
        copies_before = conn.execute(
            sa.text("select count(*) from steward.customer_phone_numbers where customer_id = :c"),
            {"c": C},
        ).scalar_one()
        index_before = conn.execute(
            sa.text(
                "select count(*) from steward.dsar_subject_index where identifier_value"
                " in (:c, :email) or source_table = 'crm.customer_phones'"
                " and (row_key ->> 'phone_id')::bigint between :b + 1 and :b + 4"
            ),
            {"c": str(C), "email": EMAIL, "b": BASE},
        ).scalar_one()
        # An access request completed before registers forgot identifiers: it kept them.
        conn.execute(
            sa.text(
                "insert into steward.dsar_requests (ticket_reference, request_type,"
                " jurisdiction, received_on, status, email, phone, full_name, date_of_birth,"
                " customer_id, subject_digest, completed_at) values ('PRIV-OLD-ACCESS',"
                " 'access', 'GDPR', current_date - 40, 'completed', :email, :phone,"
                " 'Zedekiah Quillfeather', '1980-02-03', null, :unsalted, now())"
            ),
            {
                "email": EMAIL,
                "phone": PHONE,
                "unsalted": hashlib.sha256(EMAIL.encode()).hexdigest(),
            },
        )
        conn.commit()
    assert copies_before == 4 and index_before > 0

    submitted = pipeline.submit(
        _fields(request_type="deletion", ticket_reference="PRIV-SUBJ-DEL", customer_id=C)
    )
    result = pipeline.process(submitted["request_id"])
    assert result["verified"]["verified"] and result["verified"]["derived_copies_left"] == 0
    purged = result["fulfilled"]["derived_copies"]
    assert purged["steward.customer_phone_numbers"] == 4
    assert purged["steward.dsar_subject_index"] > 0
    # The intermediate tables (contact checks) are copies too, purged now, not next night.
    assert purged["intermediate.int_phones__crm_contact_checks"] > 0
    assert not any(derived.count(engine, submitted["request_id"], _identity(result)).values())
    with engine.connect() as conn:
        for table in ("int_phones__crm_contact_checks", "int_phones__contact_checks"):
            query = f"select count(*) from intermediate.{table} where customer_id = :c"
            assert conn.execute(sa.text(query), {"c": C}).scalar_one() == 0, table

    with engine.connect() as conn:
        left = conn.execute(
            sa.text("select count(*) from steward.customer_phone_numbers where customer_id = :c"),
            {"c": C},
        ).scalar_one()
        household = conn.execute(
            sa.text("select count(*) from steward.customer_phone_numbers where phone_id = :b + 5"),
            {"b": BASE},
        ).scalar_one()
        # Index entries left for the subject point at rows kept under an exemption only.
        index_left = conn.execute(
            sa.text(
                "select i.source_table, i.row_key from steward.dsar_subject_index as i"
                " where (i.identifier_kind = 'customer_id' and i.identifier_value = :c)"
                " or (i.identifier_kind = 'email' and i.identifier_value = :email)"
            ),
            {"c": str(C), "email": EMAIL},
        ).all()
        retained = {
            (t, json.dumps(k, sort_keys=True))
            for t, k in conn.execute(
                sa.text(
                    "select table_name, row_key from steward.dsar_erasure_plan"
                    " where request_id = :r and action = 'retain'"
                ),
                {"r": submitted["request_id"]},
            )
        }
        register_rows = conn.execute(
            sa.text(
                "select ticket_reference, email, phone, full_name, date_of_birth, customer_id,"
                " resolved_identity, subject_digest from steward.dsar_requests"
                " where ticket_reference in ('PRIV-OLD-ACCESS', 'PRIV-SUBJ-DEL')"
                " order by ticket_reference"
            )
        ).all()
        settings_table = conn.execute(
            sa.text("select to_regclass('steward.dsar_settings')")
        ).scalar_one()
    assert left == 0 and household == 1
    assert {(t, json.dumps(k, sort_keys=True)) for t, k in index_left} <= retained
    assert settings_table is None  # no key generated and stored beside the hashes
    key = keys.subject_key()
    expected = {
        "PRIV-OLD-ACCESS": keys.subject_digest(None, EMAIL, PHONE, key),
        "PRIV-SUBJ-DEL": keys.subject_digest(C, None, None, key),
    }
    for ticket, email, phone, name, born, customer, resolved, digest in register_rows:
        assert (email, phone, name, born, customer, resolved) == (None,) * 6, ticket
        assert digest == expected[ticket]
        assert digest != hashlib.sha256(EMAIL.encode()).hexdigest()


def _identity(result):
    from steward.dsar.finder import SubjectIdentity

    # The register forgot the identity: rebuild the one the deletion used, for the check.
    return SubjectIdentity(customer_ids=[C], emails=[EMAIL], phones=[PHONE])


def _package(exports: Path, request_id: int) -> tuple[dict, str]:
    import pyzipper

    with pyzipper.AESZipFile(exports / f"dsar_{request_id}_access.zip") as archive:
        archive.setpassword(KEY.encode())
        return json.loads(archive.read("manifest.json")), archive.read("README.txt").decode()


@pytest.mark.parametrize(
    ("ticket", "identifier"),
    [("PRIV-AFTER-PHONE", {"phone": "(650) 253-9187"}), ("PRIV-AFTER-MAIL", {"email": EMAIL})],
)
def test_access_after_erasure_lists_what_is_kept_and_why(subject_warehouse, ticket, identifier):
    from steward.dsar import pipeline, register

    engine = subject_warehouse["engine"]
    submitted = pipeline.submit(_fields(ticket_reference=ticket, **identifier))
    result = pipeline.process(submitted["request_id"])
    assert register.get(engine, submitted["request_id"])["status"] == "completed"
    manifest, readme = _package(subject_warehouse["exports"], submitted["request_id"])
    kept = manifest["kept_after_erasure"]
    assert kept["total"] == 3  # the recent invoice, its payment and the opt-out
    tables = {entry["table"]: entry for e in kept["erasures"] for entry in e["kept"]}
    assert {"billing.invoices", "billing.payments", "marketing.opt_outs"} <= set(tables)
    assert "statutory minimum retention" in tables["billing.invoices"]["reason"]
    assert "kept because: statutory minimum retention" in readme
    assert "suppression list" in readme
    assert "We hold 0 records about you in 0 tables" not in readme or "We also keep" in readme
    assert result["fulfilled"]["kept_after_erasure"] == kept["total"]


def test_deletion_of_nobody_ends_not_found_without_suppression(subject_warehouse):
    from steward.dsar import pipeline, register

    engine = subject_warehouse["engine"]
    with engine.connect() as conn:
        suppressions = conn.execute(sa.text("select count(*) from steward.dsar_suppressions"))
        before = suppressions.scalar_one()
    submitted = pipeline.submit(
        _fields(
            request_type="deletion",
            ticket_reference="PRIV-NOBODY",
            email="no.such.person@example.net",
            phone="+44 20 7946 0000",
        )
    )
    result = pipeline.process(submitted["request_id"])
    assert result["status"] == "not_found"
    row = register.get(engine, submitted["request_id"])
    assert row["status"] == "not_found" and row["completed_at"] is None
    assert "found no personal data about you" in row["result"]["letter"]
    assert row["email"] is None and row["phone"] is None
    # A second trigger, the DAG's later steps: nothing happens.
    assert pipeline.fulfil(submitted["request_id"])["status"] == "not_found"
    assert pipeline.verify_and_complete(submitted["request_id"])["status"] == "not_found"
    assert not pipeline.should_process(submitted["request_id"])
    with engine.connect() as conn:
        after = conn.execute(sa.text("select count(*) from steward.dsar_suppressions"))
        plans = conn.execute(
            sa.text("select count(*) from steward.dsar_erasure_plan where request_id = :r"),
            {"r": submitted["request_id"]},
        )
        assert after.scalar_one() == before and plans.scalar_one() == 0
