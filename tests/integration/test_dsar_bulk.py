"""Bulk intake: requests a web form inserted into the register, processed set-based.

A private seeded warehouse (scale ``s``) with the planted subject of
``test_dsar_requests``; 20 pending rows (valid and invalid) go through one run.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from tests.conftest import drop_database
from tests.integration.test_dsar_requests import (
    BASE,
    EMAIL_CAPS,
    KEY,
    C,
    _normalised,
    planted_warehouse,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TODAY = dt.date.today().isoformat()
COLUMNS = (
    "ticket_reference",
    "request_type",
    "jurisdiction",
    "received_on",
    "verification_status",
    "verification_method",
    "customer_id",
    "email",
    "phone",
    "full_name",
    "corrections",
)


@pytest.fixture(scope="module")
def bulk_warehouse(server_admin_url, tmp_path_factory):
    from steward import warehouse
    from steward.dsar import register

    url, _, truth = planted_warehouse(server_admin_url, tmp_path_factory, "steward_dsar_bulk")
    exports = tmp_path_factory.mktemp("exports")
    engine = sa.create_engine(url)
    register.ensure_register(engine)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(warehouse.DATABASE_URL_ENV, url)
        patch.setenv("STEWARD_DSAR_EXPORT_KEY", KEY)
        patch.setenv("STEWARD_DSAR_EXPORT_DIR", str(exports))
        patch.setenv("STEWARD_DSAR_SUPPRESSION_SALT", "test-suppression-key-0123456789")
        warehouse._engine_for.cache_clear()
        yield {"url": url, "engine": engine, "truth": truth, "exports": exports}
        warehouse._engine_for.cache_clear()
    engine.dispose()
    drop_database(server_admin_url, url)


def _insert(engine, rows: list[dict]) -> dict[str, int]:
    """What the web form does: a bare row per request, nothing computed."""
    with engine.begin() as conn:
        for row in rows:
            values = {column: row.get(column) for column in COLUMNS}
            values["corrections"] = (
                json.dumps(values["corrections"]) if values["corrections"] else None
            )
            conn.execute(
                sa.text(
                    f"insert into steward.dsar_requests ({', '.join(COLUMNS)}) values"
                    f" ({', '.join(':' + c for c in COLUMNS[:-1])}, cast(:corrections as jsonb))"
                ),
                values,
            )
        ids = conn.execute(
            sa.text("select ticket_reference, request_id from steward.dsar_requests")
        ).all()
    return dict(ids)


def _customers(engine) -> list[dict]:
    """Seeded customers with an e-mail and a valid phone, none sharing it (not planted)."""
    from steward.dsar import intake

    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select c.customer_id, c.email, p.phone_raw from crm.customers as c"
                " join crm.customer_phones as p using (customer_id)"
                " where c.email is not null and c.customer_id < :b and c.country_code = 'US'"
                " and not exists (select from compliance.legal_holds as h"
                "  where h.customer_id = c.customer_id)"
                " and not exists (select from crm.customer_phones as o"
                "  where o.phone_raw = p.phone_raw and o.customer_id <> c.customer_id)"
                " order by c.customer_id"
            ),
            {"b": BASE},
        ).all()
    chosen, seen = [], set()
    for customer_id, email, phone in rows:
        if customer_id in seen or intake.normalise_phone(phone) is None:
            continue
        if intake.normalise_email(email) is None:
            continue
        seen.add(customer_id)
        chosen.append({"customer_id": customer_id, "email": email, "phone": phone})
    return chosen


def _base(ticket: str, **fields) -> dict:
    return {
        "ticket_reference": ticket,
        "request_type": "access",
        "jurisdiction": "GDPR",
        "received_on": TODAY,
        "verification_status": "verified",
        "verification_method": "id_document",
        **fields,
    }


def _found(engine, request_id: int, phase: str = "find") -> set[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select distinct table_name, row_key::text, matched_by"
                " from steward.dsar_subject_rows where request_id = :id and phase = :phase"
            ),
            {"id": request_id, "phase": phase},
        ).all()
    return {(t, json.dumps(json.loads(k)), m) for t, k, m in rows}


def _audit_rows(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("select count(*) from steward.audit_log")).scalar_one()


@pytest.fixture(scope="module")
def first_run(bulk_warehouse):
    from steward.dsar import bulk

    engine = bulk_warehouse["engine"]
    people = _customers(engine)
    assert len(people) >= 18
    rows = [_base("WEB-PLANTED", email=EMAIL_CAPS, phone="650-253-9187", jurisdiction="CCPA")]
    # Access requests for real customers, by each kind of identifier.
    for index, person in enumerate(people[:11]):
        identifiers = [
            {"customer_id": person["customer_id"]},
            {"email": person["email"].upper()},
            {"phone": person["phone"]},
        ][index % 3]
        rows.append(_base(f"WEB-ACCESS-{index}", **identifiers))
    rows += [
        _base(
            "WEB-DELETE-1",
            request_type="deletion",
            customer_id=people[11]["customer_id"],
        ),
        _base(
            "WEB-CORRECT-1",
            request_type="correction",
            customer_id=people[12]["customer_id"],
            corrections={"last_name": "Bulkcorrected"},
        ),
        _base(
            "WEB-PENDING-1",
            customer_id=people[13]["customer_id"],
            verification_status="pending",
            verification_method="none",
        ),
        # Invalid: each says why, and nothing of the subject is touched.
        _base("WEB-BAD-EMAIL", email="not-an-email"),
        _base(
            "WEB-BAD-JURISDICTION", jurisdiction="ATLANTIS", customer_id=people[14]["customer_id"]
        ),
        _base(
            "WEB-BAD-FIELD",
            request_type="correction",
            customer_id=people[14]["customer_id"],
            corrections={"shoe_size": "44"},
        ),
        _base(
            "WEB-BAD-RIGHT",
            request_type="deletion",
            jurisdiction="PIPEDA",
            customer_id=people[14]["customer_id"],
        ),
        _base("WEB-NO-IDENTIFIER"),
    ]
    assert len(rows) == 20
    ids = _insert(engine, rows)
    summary = bulk.run_intake()
    return {"summary": summary, "ids": ids, "people": people, "rows": rows}


def _status(engine, request_id: int) -> dict:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                sa.text("select * from steward.dsar_requests where request_id = :id"),
                {"id": request_id},
            )
            .mappings()
            .one()
        )


def test_one_run_registers_rejects_and_completes_the_batch(bulk_warehouse, first_run):
    engine = bulk_warehouse["engine"]
    summary, ids = first_run["summary"], first_run["ids"]
    invalid = {t for t in ids if t.startswith(("WEB-BAD", "WEB-NO"))}
    assert sorted(summary["rejected_invalid"]) == sorted(ids[t] for t in invalid)
    assert summary["registered"] == 15
    assert summary["awaiting_verification"] == 1
    assert summary["batch"] == 14
    assert summary["completed"] == 14 and summary["failed"] == {}
    statuses = {t: _status(engine, i)["status"] for t, i in ids.items()}
    assert statuses["WEB-PENDING-1"] == "awaiting_verification"
    assert {statuses[t] for t in invalid} == {"rejected"}
    assert {s for t, s in statuses.items() if t not in invalid | {"WEB-PENDING-1"}} == {"completed"}
    for ticket, id_ in ids.items():
        row = _status(engine, id_)
        if ticket in invalid:
            assert row["due_on"] is None and row["resolved_identity"] is None
            assert not _found(engine, id_)
        elif ticket == "WEB-PENDING-1":
            assert row["due_on"] is not None and row["resolved_identity"] is None
            assert not _found(engine, id_)
        else:
            assert row["due_on"] is not None and row["completed_at"] is not None


def test_invalid_requests_say_what_is_wrong(bulk_warehouse, first_run):
    engine = bulk_warehouse["engine"]
    ids = first_run["ids"]
    expected = {
        "WEB-BAD-EMAIL": "email: not a valid e-mail address",
        "WEB-BAD-JURISDICTION": "jurisdiction: unknown",
        "WEB-BAD-FIELD": "corrections.shoe_size: no such correctable field",
        "WEB-BAD-RIGHT": "PIPEDA does not grant a deletion right",
        "WEB-NO-IDENTIFIER": "identifiers: give at least one",
    }
    for ticket, message in expected.items():
        reason = _status(engine, ids[ticket])["rejection_reason"]
        assert message in reason, (ticket, reason)
        assert "not-an-email" not in reason  # reasons name fields, never values


def test_the_planted_subject_is_found_everywhere(bulk_warehouse, first_run):
    import pyzipper

    engine = bulk_warehouse["engine"]
    request_id = first_run["ids"]["WEB-PLANTED"]
    found: dict[str, set] = {}
    for table, key, _ in _found(engine, request_id):
        found.setdefault(table, set()).add(key)
    for table, keys in _normalised(bulk_warehouse["truth"]).items():
        assert keys <= found.get(table, set()), table
    assert json.dumps({"contact_id": BASE + 3}) not in found["marketing.campaign_contacts"]
    package = bulk_warehouse["exports"] / f"dsar_{request_id}_access.zip"
    with pyzipper.AESZipFile(package) as archive:
        archive.setpassword(KEY.encode())
        customers = json.loads(archive.read("crm.customers.json"))
        manifest = json.loads(archive.read("manifest.json"))
    assert customers["rows"][0]["customer_id"] == C
    tables = {entry["table"]: entry for entry in manifest["tables"]}
    assert tables["telephony.transcripts"]["mentions_in_other_records"] == 1


def test_batch_finds_exactly_what_one_request_at_a_time_finds(bulk_warehouse, first_run):
    from steward import datamap
    from steward.dsar import finder, intake

    engine = bulk_warehouse["engine"]
    data_map = datamap.load_data_map()
    # The completed requests' register rows forgot their identifiers (keyed digest only):
    # the subjects are taken from what the form submitted.
    fields = {row["ticket_reference"]: row for row in first_run["rows"]}
    requests = {
        first_run["ids"][f"WEB-ACCESS-{index}"]: intake.validate_request(
            fields[f"WEB-ACCESS-{index}"]
        )
        for index in range(11)
    }
    together = finder.resolve_identities(engine, requests, data_map)
    for request_id, request in requests.items():
        row = _status(engine, request_id)
        assert row["resolved_identity"] is None and row["email"] is None
        assert row["phone"] is None and row["customer_id"] is None
        identity = finder.resolve_identity(engine, request, data_map)
        assert identity == together[request_id]
        shadow = 10_000_000 + request_id
        finder.find_rows(engine, shadow, identity, data_map)
        batch = _found(engine, request_id)
        assert batch, request_id
        assert batch == _found(engine, shadow), request_id
        assert (bulk_warehouse["exports"] / f"dsar_{request_id}_access.zip").exists()


def test_deletion_and_correction_are_fulfilled(bulk_warehouse, first_run):
    from steward import audit

    engine = bulk_warehouse["engine"]
    people, ids = first_run["people"], first_run["ids"]
    with engine.connect() as conn:
        deleted = conn.execute(
            sa.text("select email, first_name from crm.customers where customer_id = :c"),
            {"c": people[11]["customer_id"]},
        ).one()
        phones_left = conn.execute(
            sa.text("select count(*) from crm.customer_phones where customer_id = :c"),
            {"c": people[11]["customer_id"]},
        ).scalar_one()
        corrected = conn.execute(
            sa.text("select last_name from crm.customers where customer_id = :c"),
            {"c": people[12]["customer_id"]},
        ).scalar_one()
    assert tuple(deleted) == (None, None) and phones_left == 0
    assert corrected == "Bulkcorrected"
    deletion = _status(engine, ids["WEB-DELETE-1"])
    assert deletion["email"] is None and deletion["customer_id"] is None
    assert deletion["result"]["verified"] is True
    assert audit.verify(engine).ok


def test_a_second_run_does_nothing(bulk_warehouse, first_run):
    from steward.dsar import bulk

    engine = bulk_warehouse["engine"]
    audit_before = _audit_rows(engine)
    with engine.connect() as conn:
        before = conn.execute(
            sa.text(
                "select md5(string_agg(r::text, ',' order by request_id))"
                " from steward.dsar_requests as r"
            )
        ).scalar_one()
    summary = bulk.run_intake()
    assert summary["registered"] == 0 and summary["batch"] == 0
    assert summary["rejected_invalid"] == [] and summary["completed"] == 0
    with engine.connect() as conn:
        after = conn.execute(
            sa.text(
                "select md5(string_agg(r::text, ',' order by request_id))"
                " from steward.dsar_requests as r"
            )
        ).scalar_one()
    assert after == before and _audit_rows(engine) == audit_before


def test_a_request_another_run_holds_is_skipped(bulk_warehouse, first_run):
    from steward.dsar import bulk

    engine = bulk_warehouse["engine"]
    people = first_run["people"]
    ids = _insert(
        engine,
        [
            _base("WEB-LOCKED-1", customer_id=people[15]["customer_id"]),
            _base("WEB-LOCKED-2", customer_id=people[16]["customer_id"]),
        ],
    )
    other_run = engine.connect()
    try:
        # Another intake run in the middle of claiming request 1.
        other_run.execute(
            sa.text("select 1 from steward.dsar_requests where request_id = :id for update"),
            {"id": ids["WEB-LOCKED-1"]},
        )
        summary = bulk.run_intake()
        assert summary["registered"] == 1 and summary["completed"] == 1
        assert _status(engine, ids["WEB-LOCKED-1"])["status"] == "received"
        assert _status(engine, ids["WEB-LOCKED-2"])["status"] == "completed"
    finally:
        other_run.rollback()
        other_run.close()
    summary = bulk.run_intake()
    assert summary["registered"] == 1 and summary["completed"] == 1
    assert _status(engine, ids["WEB-LOCKED-1"])["status"] == "completed"


@pytest.fixture(scope="module")
def intake_airflow(bulk_warehouse, tmp_path_factory):
    """Airflow on this module's warehouse (the migrated home of the session is reused)."""
    from steward.airflow import bootstrap, dag_defaults

    home = tmp_path_factory.getbasetemp() / "airflow_home"
    env = {
        **bootstrap.airflow_environment(url=bulk_warehouse["url"], home=home),
        dag_defaults.TASK_RETRIES_ENV: "0",
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        bootstrap.apply_environment(env)
        bootstrap.ensure_airflow_db(home)
        yield env


def test_the_scheduled_dag_takes_pending_requests_without_identifiers_in_logs(
    bulk_warehouse, first_run, intake_airflow, caplog
):
    from airflow.dag_processing.dagbag import DagBag

    from steward import paths

    engine = bulk_warehouse["engine"]
    person = first_run["people"][17]
    ids = _insert(
        engine,
        [
            _base("WEB-DAG-1", email=person["email"].upper(), phone=person["phone"]),
            _base("WEB-DAG-BAD", email="still-not-an-email", jurisdiction="ATLANTIS"),
        ],
    )
    caplog.set_level("DEBUG")
    bag = DagBag(dag_folder=str(paths.dags_dir()))
    assert bag.import_errors == {}
    dag_run = bag.get_dag("steward_dsar_intake").test()
    states = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
    assert str(dag_run.state) == "success", states
    assert _status(engine, ids["WEB-DAG-1"])["status"] == "completed"
    assert _status(engine, ids["WEB-DAG-BAD"])["status"] == "rejected"
    assert _found(engine, ids["WEB-DAG-1"])
    logs = caplog.text + "".join(
        path.read_text(errors="ignore")
        for path in (paths.airflow_home() / "logs").rglob("*")
        if path.is_file()
    )
    digits = "".join(char for char in person["phone"] if char.isdigit())
    for secret in (person["email"].lower(), person["email"].upper(), digits[-7:]):
        assert secret not in logs
