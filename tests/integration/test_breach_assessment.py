"""Breach impact on the seeded warehouse: a planted incident's counts per jurisdiction.

Expectations come from independent SQL over the source tables and from
steward_ground_truth (which column holds national ids), never from the code
under test. The module seeds its own warehouse (scale s, seed 42), runs the PII
catalogue (so the undeclared SSN column crm.customers.attr_3 counts) and applies
the access policy (for the compromised-role incident).
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid

import pytest
import pyzipper
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from steward import audit, paths, schema, warehouse
from steward.access import apply
from steward.access.policy import DEFAULT_POLICY_FILE
from steward.airflow import bootstrap, dag_defaults
from steward.breach import assess, export, register
from steward.breach.exposure import Exposure, ExposureError
from steward.catalogue import nightly as catalogue

pytestmark = [pytest.mark.integration, pytest.mark.slow]

AWARE = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
EEA_IN_SEED = ("FR", "DE", "ES")  # the seed's EU countries (crm.customers.country_code)


@pytest.fixture(scope="module")
def breach_url(server_admin_url):
    from steward.seed import generate

    name = f"steward_breach_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    url = make_url(server_admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        generate.seed_warehouse(scale="s", seed=42, url=url, progress=False)
        catalogue.run_scan(url)
        assert catalogue.build_marts(url)
        apply.apply_policy(url, policy_file=DEFAULT_POLICY_FILE)
        yield url
    finally:
        warehouse._engine_for.cache_clear()
        with admin.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()
        shutil.rmtree(paths.recordings_dir() / name, ignore_errors=True)


def _scalar(url: str, query: str, **params):
    with warehouse.engine(url).connect() as conn:
        return conn.execute(sa.text(query), params).scalar_one()


def _notice(result: dict, law: str, recipient: str) -> dict | None:
    found = [
        n for n in result["notifications"] if (n["law_code"], n["recipient"]) == (law, recipient)
    ]
    return found[0] if found else None


@pytest.fixture(scope="module")
def national_id_column(breach_url) -> str:
    """The column the generator filled with SSNs, from its answer key."""
    return _scalar(
        breach_url,
        "select column_name from steward_ground_truth.pii_columns"
        " where schema_name = 'crm' and table_name = 'customers'"
        " and category like 'user.government_id%'",
    )


@pytest.fixture(scope="module")
def planted(breach_url):
    """CRM customer table and card numbers exfiltrated in the clear."""
    return assess.assess_new(
        reference="INC-PLANTED-1",
        summary_text="CRM export and the payments card column copied to an unmanaged laptop",
        aware_at=AWARE,
        exposure=Exposure(columns=["crm.customers", "billing.payments.card_number"]),
        url=breach_url,
    )


def test_every_exposed_customer_is_counted_once(planted, breach_url):
    expected = _scalar(
        breach_url,
        "select count(*) from (select customer_id from crm.customers union"
        " select customer_id from billing.payments where card_number is not null) as people",
    )
    assert planted["affected_subjects"] == expected
    assert planted["subjects_by_kind"] == {"customer": expected}
    assert planted["status"] == "assessed"


def test_gdpr_and_uk_gdpr_counts_and_72_hour_deadline(planted, breach_url):
    eea = _scalar(
        breach_url,
        "select count(*) from crm.customers where country_code = any(:c)",
        c=list(EEA_IN_SEED),
    )
    uk = _scalar(breach_url, "select count(*) from crm.customers where country_code = 'GB'")
    authority = _notice(planted, "GDPR", "supervisory_authority")
    assert authority["affected"] == eea and authority["is_required"]
    assert authority["due_at"] == (AWARE + dt.timedelta(hours=72)).isoformat()
    assert _notice(planted, "UK_GDPR", "supervisory_authority")["affected"] == uk
    by_place = {row["jurisdiction"]: row["subjects"] for row in planted["by_jurisdiction"]}
    assert sum(by_place[c] for c in EEA_IN_SEED) == eea


def _us_state_expectation(
    url: str, state: str, national_id_column: str, date_of_birth: bool = False
) -> int:
    """Residents with a name exposed together with an SSN or a full card number
    (Washington's definition also counts a full date of birth, RCW 19.255.005)."""
    return _scalar(
        url,
        "select count(*) from crm.customers as c"
        " where c.country_code = 'US' and c.state_code = :state"
        " and (c.first_name is not null or c.last_name is not null)"
        f" and (length(regexp_replace(c.{national_id_column}, '[^0-9]', '', 'g')) >= 9"
        " or exists (select from billing.payments as p where p.customer_id = c.customer_id"
        " and length(regexp_replace(p.card_number, '[^0-9]', '', 'g')) >= 9)"
        + (" or c.date_of_birth is not null" if date_of_birth else "")
        + ")",
        state=state,
    )


@pytest.mark.parametrize("state", ["CA", "TX", "NY", "FL", "WA", "OH"])
def test_us_state_counts_need_a_name_with_an_ssn_or_card(
    planted, breach_url, state, national_id_column
):
    expected = _us_state_expectation(
        breach_url, state, national_id_column, date_of_birth=state == "WA"
    )
    notice = _notice(planted, f"US_{state}", "individuals")
    assert expected > 0
    assert notice["affected"] == expected and notice["is_required"]


def test_us_thresholds_and_deadlines(planted, breach_url, national_id_column):
    texas = _us_state_expectation(breach_url, "TX", national_id_column)
    assert texas < 250  # the seed is small: the Texas attorney general threshold is not met
    tx_ag = _notice(planted, "US_TX", "attorney_general")
    assert tx_ag["affected"] == texas and not tx_ag["is_required"]
    assert (
        _notice(planted, "US_TX", "individuals")["due_at"]
        == (AWARE + dt.timedelta(days=60)).isoformat()
    )
    # California: 30 days to the residents; the attorney general 15 days after that, above 500.
    ca_ag = _notice(planted, "US_CA", "attorney_general")
    assert ca_ag["due_at"] == (AWARE + dt.timedelta(days=45)).isoformat()
    assert not ca_ag["is_required"]
    # HIPAA does not apply unless the incident says so.
    assert not [n for n in planted["notifications"] if n["law_code"] == "HIPAA"]


def test_encrypted_data_is_exempt_where_the_law_says_so(planted, breach_url):
    result = assess.assess_new(
        reference="INC-ENCRYPTED-1",
        summary_text="Encrypted backup tape lost in transit; the key was not on it",
        aware_at=AWARE,
        exposure=Exposure(
            columns=["crm.customers", "billing.payments.card_number"], protection="encrypted"
        ),
        url=breach_url,
    )
    # GDPR art. 33 has no encryption exemption; art. 34(3)(a) and the US state laws do.
    assert (
        _notice(result, "GDPR", "supervisory_authority")["affected"]
        == _notice(planted, "GDPR", "supervisory_authority")["affected"]
    )
    assert _notice(result, "GDPR", "individuals") is None
    assert not [n for n in result["notifications"] if n["law_code"].startswith("US_")]


def test_hipaa_counts_when_the_incident_involves_phi(breach_url):
    result = assess.assess_new(
        reference="INC-HIPAA-1",
        summary_text="Health plan member calls exposed through a misconfigured share",
        aware_at=AWARE,
        exposure=Exposure(columns=["crm.customers"]),
        hipaa=True,
        url=breach_url,
    )
    us = _scalar(breach_url, "select count(*) from crm.customers where country_code = 'US'")
    hhs_large = [
        n
        for n in result["notifications"]
        if n["law_code"] == "HIPAA" and n["recipient"] == "hhs_secretary"
    ]
    assert {n["affected"] for n in hhs_large} == {us}
    required = {n["threshold_min"]: n["is_required"] for n in hhs_large}
    assert required == {500: us >= 500, 1: us < 500}
    media = _notice(result, "HIPAA", "media")
    largest_state = _scalar(
        breach_url,
        "select max(n) from (select count(*) as n from crm.customers where country_code = 'US'"
        " group by state_code) as s",
    )
    assert media["is_required"] == (largest_state > 500)


def test_a_compromised_analyst_role_exposes_only_masked_identifiers(breach_url):
    result = assess.assess_new(
        reference="INC-ROLE-1",
        summary_text="Analyst reporting account credentials phished",
        aware_at=AWARE,
        exposure=Exposure(role="steward_analyst"),
        url=breach_url,
    )
    eea = _scalar(
        breach_url,
        "select count(*) from crm.customers where country_code = any(:c)",
        c=list(EEA_IN_SEED),
    )
    assert _notice(result, "GDPR", "supervisory_authority")["affected"] == eea
    # SSNs hidden, card numbers masked to 4 digits, names hashed: no US state notice.
    assert not [n for n in result["notifications"] if n["law_code"].startswith("US_")]
    categories = {c["data_category"]: c for c in result["by_category"]}
    assert "user.government_id.national_id" not in categories
    assert categories["user.financial.card_number"]["unprotected_subjects"] == 0


def test_an_access_window_counts_rows_that_existed_in_it(breach_url):
    window_to = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    result = assess.assess_new(
        reference="INC-WINDOW-1",
        summary_text="Replica readable from the internet for two weeks",
        aware_at=AWARE,
        exposure=Exposure(
            columns=["crm.customers"],
            window_from=dt.datetime(2023, 12, 15, tzinfo=dt.UTC),
            window_to=window_to,
        ),
        url=breach_url,
    )
    expected = _scalar(
        breach_url, "select count(*) from crm.customers where created_at <= :t", t=window_to
    )
    assert 0 < expected < _scalar(breach_url, "select count(*) from crm.customers")
    assert result["affected_subjects"] == expected


def test_bad_input_registers_nothing(breach_url):
    engine = warehouse.engine(breach_url)
    schema.upgrade(engine)
    before = _scalar(breach_url, "select count(*) from steward.breach_incidents")
    with pytest.raises(ExposureError, match=r"crm\.nope is not a table of the data map"):
        assess.assess_new(
            reference="INC-BAD-1",
            summary_text="Unknown table",
            aware_at=AWARE,
            exposure=Exposure(columns=["crm.nope", "crm.customers.no_such_column"]),
            url=breach_url,
        )
    with pytest.raises(ExposureError, match=r"is not schema\.table"):
        Exposure(columns=["crm.customers; drop table crm.customers"]).check()
    with pytest.raises(register.IncidentError, match="personal data"):
        assess.assess_new(
            reference="INC-BAD-2",
            summary_text="Customer jane.doe@example.org called about her SSN 123-45-6789",
            aware_at=AWARE,
            exposure=Exposure(columns=["crm.customers"]),
            url=breach_url,
        )
    with pytest.raises(ExposureError, match="does not exist"):
        assess.assess_new(
            reference="INC-BAD-3",
            summary_text="Unknown role",
            aware_at=AWARE,
            exposure=Exposure(role="no_such_role_xyz"),
            url=breach_url,
        )
    assert _scalar(breach_url, "select count(*) from steward.breach_incidents") == before
    assert _scalar(breach_url, "select count(*) from crm.customers") > 0


def test_status_machine_notices_and_audit(planted, breach_url):
    engine = warehouse.engine(breach_url)
    incident = planted["incident_id"]
    with pytest.raises(register.IncidentError, match="cannot become closed"):
        register.change_status(engine, incident, "closed")
    with pytest.raises(register.IncidentError, match="no pending required notice"):
        register.mark_notified(engine, incident, "US_TX", "attorney_general")  # below threshold
    required = [n for n in planted["notifications"] if n["is_required"]]
    for notice in required[:-1]:
        register.mark_notified(engine, incident, notice["law_code"], notice["recipient"])
    assert register.get(engine, incident).status == "notifying"
    # A re-assessment keeps the notices already given.
    again = assess.assess(engine, incident)
    assert sum(1 for n in again["notifications"] if n["notified_at"]) == len(required) - 1
    last = required[-1]
    register.mark_notified(engine, incident, last["law_code"], last["recipient"])
    assert register.get(engine, incident).status == "notified"
    register.change_status(engine, incident, "closed")
    with pytest.raises(register.IncidentError, match="final"):
        register.change_status(engine, incident, "assessed")
    spurious = register.create(
        engine,
        reference="INC-SPURIOUS-1",
        summary="Alert on a test database",
        aware_at=AWARE,
        exposure={"columns": ["crm.customers"]},
    )
    with pytest.raises(register.IncidentError, match="needs a reason"):
        register.change_status(engine, spurious, "dismissed")
    register.change_status(engine, spurious, "dismissed", reason="synthetic rows only")
    assert register.get(engine, spurious).status == "dismissed"
    report = audit.verify(engine)
    assert report.ok
    with engine.connect() as conn:
        actions = conn.execute(
            sa.text(
                "select action, details::text from steward.audit_log"
                " where details->>'incident_id' = :i order by seq"
            ),
            {"i": str(incident)},
        ).all()
    assert [a for a, _ in actions][:2] == ["breach.incident.registered", "breach.incident.assessed"]
    assert actions[-1][0] == "breach.incident.closed"


def test_the_notification_list_is_encrypted_and_complete(breach_url, tmp_path, monkeypatch):
    monkeypatch.setenv("STEWARD_DSAR_EXPORT_KEY", "breach-test-export-key-0123")
    engine = warehouse.engine(breach_url)
    incident = assess.assess_new(
        reference="INC-EXPORT-1",
        summary_text="CRM export left on a public bucket",
        aware_at=AWARE,
        exposure=Exposure(columns=["crm.customers"]),
        url=breach_url,
    )
    result = export.build_notification_list(engine, incident["incident_id"], target_dir=tmp_path)
    # Independent count: customers in a place whose individual notice is required
    # for any exposed personal data (GDPR, UK GDPR, LGPD, PIPEDA: every resident;
    # US states: name with an SSN).
    with pytest.raises(RuntimeError), pyzipper.AESZipFile(result["path"]) as archive:
        archive.read("notification_list.csv")
    with pyzipper.AESZipFile(result["path"]) as archive:
        archive.setpassword(b"breach-test-export-key-0123")
        lines = archive.read("notification_list.csv").decode().splitlines()
    header = lines[0].split(",")
    assert header[:6] == [
        "subject_kind",
        "subject_key",
        "country_code",
        "region_code",
        "data_categories",
        "notify_under",
    ]
    assert {"first_name", "last_name", "email", "street", "city", "postal_code"} <= set(header)
    individuals_required = {
        (n["law_code"])
        for n in incident["notifications"]
        if n["recipient"] == "individuals" and n["is_required"]
    }
    assert "GDPR" in individuals_required
    non_us = _scalar(
        breach_url,
        "select count(*) from crm.customers where country_code = any(:c)",
        c=["FR", "DE", "ES", "GB", "BR", "CA"],
    )
    assert result["rows"] == len(lines) - 1 >= non_us
    with engine.connect() as conn:
        details = conn.execute(
            sa.text(
                "select details from steward.audit_log"
                " where action = 'breach.notification_list.exported' order by seq desc limit 1"
            )
        ).scalar_one()
    assert details["rows"] == result["rows"] and set(details) == {
        "incident_id",
        "rows",
        "package_sha256",
    }


def test_the_breach_dag_assesses_from_names_only(breach_url, tmp_path_factory, caplog):
    from airflow.dag_processing.dagbag import DagBag

    # The session's Airflow home (one `airflow db migrate` per test process).
    home = tmp_path_factory.getbasetemp() / "airflow_home"
    env = {
        **bootstrap.airflow_environment(url=breach_url, home=home),
        dag_defaults.TASK_RETRIES_ENV: "0",
        warehouse.DATABASE_URL_ENV: breach_url,
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        bootstrap.apply_environment(env)
        bootstrap.ensure_airflow_db(home)
        bag = DagBag(dag_folder=str(paths.dags_dir()))
        assert bag.import_errors == {}
        dag = bag.get_dag("steward_breach")
        caplog.set_level("DEBUG")
        run = dag.test(
            run_conf={
                "reference": "INC-DAG-1",
                "summary": "Support tool export reachable without login",
                "aware_at": AWARE.isoformat(),
                "columns": ["crm.customers", "support.tickets"],
            }
        )
        states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
        assert states == {"assess_impact": "success", "export_notification_list": "skipped"}
        bad = dag.test(run_conf={"reference": "INC-DAG-2", "summary": "x", "columns": ["crm.nope"]})
        assert {ti.task_id: str(ti.state) for ti in bad.get_task_instances()}[
            "assess_impact"
        ] == "failed"
    expected = _scalar(
        breach_url,
        "select count(*) from (select customer_id from crm.customers union"
        " select customer_id from support.tickets where notes is not null"
        " and customer_id is not null) as people",
    )
    assert (
        _scalar(
            breach_url,
            "select affected_subjects from steward.breach_incidents where reference = 'INC-DAG-1'",
        )
        == expected
    )
    # The logs carry counts, never an exposed e-mail address.
    emails = [
        row
        for row in sa.create_engine(breach_url)
        .connect()
        .execute(sa.text("select email from crm.customers where email is not null limit 50"))
        .scalars()
    ]
    logs = caplog.text + "".join(
        path.read_text(errors="ignore") for path in home.rglob("*.log") if path.is_file()
    )
    assert not [email for email in emails if email in logs]


def test_the_dashboard_shows_the_breach_clock(planted, breach_url):
    from steward import dbt_runner
    from steward.dashboard import page

    assert dbt_runner.run(["build", "--select", "path:models/marts/breach"], breach_url).success
    built = page.build(breach_url, static=True)
    section = built.dashboard.section("breaches")
    assert section.state == "ready"
    assert "INC-ENCRYPTED-1" in built.html and "GDPR" in built.html
    emails = _scalar(breach_url, "select string_agg(email, '|') from crm.customers")
    assert not [email for email in emails.split("|") if email in built.html]
