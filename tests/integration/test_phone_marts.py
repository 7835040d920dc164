"""The phone marts, built by dbt on a seeded warehouse, against the generator's ground truth.

The module seeds its own database (scale s, seed 42) because it plants extra
rows (a DNC import, campaign calls, an opt-out, recordings) that other tests
must not see. Clock: the seed's reference date (var phones_reference_date).
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from steward import datamap, dbt_runner, warehouse
from steward.phones import nightly
from steward.phones.dnc import import_registry_file, registry_engine
from steward.phones.sources import sources_from_data_map

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REFERENCE_DATE = "2026-11-01"
PHONE_SELECTION = [
    "path:models/staging",
    "path:models/intermediate/phones",
    "path:models/marts/phones",
    "phones_dnc_registry_not_stale",
]


def run_dbt(url: str, arguments: list[str], scratch):
    return dbt_runner.run(arguments, url, scratch=scratch, quiet=False)


def _vars(reference_date: str = REFERENCE_DATE) -> list[str]:
    return ["--vars", f"{{phones_reference_date: '{reference_date}'}}"]


def _plant(engine, folder) -> dict:
    """A DNC import, campaign calls before/after listing, an opt-out, recordings."""
    with engine.begin() as conn:
        # US customers with one valid, connected number and no consent, opt-out or listing.
        candidates = conn.execute(
            sa.text(
                """
                select p.customer_id, l.e164
                from crm.customer_phones as p
                join crm.customers as c using (customer_id)
                join steward.phone_lookup as l
                  on l.raw_value = steward.phone_raw_key(p.phone_raw)
                 and l.region_hint = steward.phone_region_key(c.country_code)
                where c.country_code = 'US' and l.parse_status = 'valid'
                  and not p.is_disconnected
                  and (select count(*) from crm.customer_phones as q
                       where q.customer_id = p.customer_id) = 1
                  and not exists (select from compliance.consents as k
                                  where k.customer_id = p.customer_id)
                  and not exists (select from marketing.opt_outs as o
                                  where o.customer_id = p.customer_id)
                  and not exists (select from compliance.dnc_registry as d
                                  where '+1' || d.phone_number = l.e164)
                  and not exists (select from crm.customer_phones as q
                                  join steward.phone_lookup as m
                                    on m.raw_value = steward.phone_raw_key(q.phone_raw)
                                  where m.e164 = l.e164 and q.customer_id <> p.customer_id)
                order by p.customer_id
                limit 4
                """
            )
        ).all()
        assert len(candidates) == 4
        (
            (added_customer, added),
            (deleted_customer, deleted),
            (opted_customer, opted),
            (
                recorded_customer,
                _,
            ),
        ) = candidates
        campaign = conn.execute(
            sa.text("select max(campaign_id) from marketing.campaigns where channel = 'phone'")
        ).scalar_one()
        next_call = conn.execute(sa.text("select max(call_id) + 1 from telephony.calls"))
        call_id = next_call.scalar_one()

        calls = {
            # (customer, number, day): expected violation reason or None
            "added_before": (added_customer, added, "2026-10-18", None),
            "added_after": (added_customer, added, "2026-10-25", "national_dnc"),
            "deleted_before": (deleted_customer, deleted, "2026-10-16", "national_dnc"),
            "deleted_after": (deleted_customer, deleted, "2026-10-25", None),
            "opted_before": (opted_customer, opted, "2026-09-01", None),
            "opted_after": (opted_customer, opted, "2026-10-05", "internal_opt_out"),
        }
        planted_calls = {}
        for customer, e164, day, reason in calls.values():
            conn.execute(
                sa.text(
                    "insert into telephony.calls (call_id, customer_id, direction,"
                    " caller_number, callee_number, agent_id, campaign_id, started_at, ended_at,"
                    " duration_seconds, disposition) values (:id, :customer, 'outbound',"
                    " '+18005550199', :dialled, 1, :campaign, :at, :at, 0, 'no_answer')"
                ),
                {
                    "id": call_id,
                    "customer": customer,
                    "dialled": "1" + e164[2:],
                    "campaign": campaign,
                    "at": f"{day} 15:00:00+00",
                },
            )
            planted_calls[call_id] = reason
            call_id += 1
        conn.execute(
            sa.text(
                "insert into marketing.opt_outs (opt_out_id, customer_id, phone, channel,"
                " opted_out_at, source) select max(opt_out_id) + 1, :customer, :phone, 'phone',"
                " '2026-10-01 12:00:00+00', 'call' from marketing.opt_outs"
            ),
            {"customer": opted_customer, "phone": opted},
        )
        # Recordings without consent: a US customer in Pennsylvania (flagged) and the
        # same state code for a Brazilian customer (Pará: not flagged).
        brazilian = conn.execute(
            sa.text("select min(customer_id) from crm.customers where country_code = 'BR'")
        ).scalar_one()
        recordings = {}
        for customer, expected in ((recorded_customer, True), (brazilian, False)):
            conn.execute(
                sa.text(
                    "insert into telephony.calls (call_id, customer_id, direction,"
                    " caller_number, callee_number, started_at, ended_at, duration_seconds,"
                    " disposition) values (:id, :customer, 'inbound', '+12025550100',"
                    " '+18005550199', '2026-10-20 10:00+00', '2026-10-20 10:05+00', 300,"
                    " 'connected')"
                ),
                {"id": call_id, "customer": customer},
            )
            recording_id = conn.execute(
                sa.text(
                    "insert into telephony.call_recordings (recording_id, call_id, storage_path,"
                    " recording_consent, customer_state, recorded_at)"
                    " select max(recording_id) + 1, :call, 'planted.wav', false, 'PA',"
                    " '2026-10-20 10:00+00' from telephony.call_recordings"
                    " returning recording_id"
                ),
                {"call": call_id},
            ).scalar_one()
            recordings[recording_id] = expected
            call_id += 1

    full = folder / "dnc_full.txt"
    full.write_text(f"{deleted[2:5]},{deleted[5:]}\nnot-a-number\n202555\n")
    changes = folder / "dnc_changes.txt"
    changes.write_text(f"{added[2:]},A\n{deleted[2:]},D\n")
    reports = [
        import_registry_file(full, snapshot_date=dt.date(2026, 10, 15), engine=engine),
        import_registry_file(
            changes, changes=True, snapshot_date=dt.date(2026, 10, 20), engine=engine
        ),
    ]
    return {
        "calls": planted_calls,
        "recordings": recordings,
        "reports": reports,
        "added": (added_customer, added),
        "opted": (opted_customer, opted),
    }


@pytest.fixture(scope="module")
def phone_marts(server_admin_url, tmp_path_factory):
    from steward.seed import generate

    name = f"steward_phones_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    url = make_url(server_admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        generate.seed_warehouse(
            scale="s",
            seed=42,
            url=url,
            progress=False,
            recordings_root=tmp_path_factory.mktemp("recordings"),
        )
        engine = registry_engine(url)
        refresh = nightly.run_refresh(url)
        planted = _plant(engine, tmp_path_factory.mktemp("dnc"))
        nightly.run_refresh(url)  # the planted values are new: parsed incrementally
        scratch = tmp_path_factory.mktemp("dbt")
        result = run_dbt(url, ["build", "--select", *PHONE_SELECTION, *_vars()], scratch)
        yield {
            "url": url,
            "engine": engine,
            "result": result,
            "refresh": refresh,
            "scratch": scratch,
            **planted,
        }
    finally:
        warehouse._engine_for.cache_clear()
        with admin.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


def _rows(engine, query: str, **params) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.text(query), params).all()


def test_dbt_builds_every_phone_model_and_test(phone_marts):
    result = phone_marts["result"]
    assert result.success, result.exception
    statuses = {str(node.status) for node in result.result.results}
    assert statuses <= {"success", "pass"}, statuses
    built = {node.node.name for node in result.result.results}
    assert {"contactable_numbers", "dnc_violations", "phones_dnc_registry_not_stale"} <= built


def test_every_phone_column_of_the_data_map_is_normalised(phone_marts):
    seen = {
        f"{table}.{column}"
        for table, column in _rows(
            phone_marts["engine"],
            "select distinct source_table, source_column from intermediate.int_phones__normalised",
        )
    }
    assert seen == {source.label for source in sources_from_data_map(datamap.load_data_map())}
    not_normalised = _rows(
        phone_marts["engine"],
        "select count(*) from intermediate.int_phones__normalised"
        " where parse_status = 'not_normalised'",
    )
    assert not_normalised[0][0] == 0


def test_crm_numbers_normalise_as_the_ground_truth_expects(phone_marts):
    wrong = _rows(
        phone_marts["engine"],
        """select count(*), count(*) filter (where t.expected_e164 is distinct from c.e164)
           from steward_ground_truth.phone_cases as t
           join steward.customer_phone_numbers as c using (phone_id)""",
    )
    total, mismatched = wrong[0]
    assert total > 1000
    assert mismatched == 0


def test_outbound_calls_to_foreign_customers_normalise(phone_marts):
    # The dialler's '011 44 ...' read with a British customer's region hint.
    by_status = dict(
        _rows(
            phone_marts["engine"],
            """select parse_status, count(*) from intermediate.int_phones__normalised
               where source_column = 'callee_number' and party = 'customer'
               group by 1""",
        )
    )
    assert set(by_status) == {"valid"}


def test_planted_duplicate_phones_are_found(phone_marts):
    engine = phone_marts["engine"]
    truth = set(
        _rows(engine, "select customer_id, phone_id from steward_ground_truth.duplicate_phones")
    )
    found = set(
        _rows(
            engine,
            "select customer_id, phone_id from steward.phone_duplicate_groups"
            " where duplicate_kind = 'same_customer'",
        )
    )
    assert truth
    assert found == truth
    # Every planted duplicate customer shares its original's number.
    missed = _rows(
        engine,
        """select count(*) from steward_ground_truth.duplicate_customers as d
           where not exists (select from steward.phone_duplicate_groups as g
                             where g.duplicate_kind = 'shared_number'
                               and g.customer_id = d.customer_id)""",
    )
    assert missed[0][0] == 0


def test_inactive_invalid_and_disconnected_numbers_are_flagged(phone_marts):
    engine = phone_marts["engine"]
    by_status = _rows(
        engine,
        """select t.expected_status,
                  count(*) filter (where i.inactive_reasons @> array[
                      case t.expected_status when 'invalid' then 'failed_validation'
                      when 'disconnected' then 'disconnected' end]),
                  count(*)
           from steward_ground_truth.phone_cases as t
           left join steward.inactive_phone_numbers as i using (phone_id)
           where t.expected_status <> 'valid' group by 1""",
    )
    for status, flagged, total in by_status:
        assert flagged == total, status
    # No connected call in 365 days: judged per number (a number held twice is one line).
    disagreements = _rows(
        engine,
        """with truth as (
               select expected_e164 as e164, bool_and(is_inactive) as inactive
               from steward_ground_truth.phone_cases where expected_e164 is not null group by 1),
           found as (
               select c.e164, bool_or(coalesce(i.inactive_reasons @> array['no_connected_call'],
                                               false)) as inactive
               from steward.customer_phone_numbers as c
               left join steward.inactive_phone_numbers as i using (phone_id)
               where c.e164 is not null group by 1)
           select count(*), count(*) filter (where truth.inactive <> found.inactive)
           from truth join found using (e164)""",
    )
    total, wrong = disagreements[0]
    assert total > 1000
    assert wrong == 0


def test_dnc_imports_counted_bad_lines(phone_marts):
    full, changes = phone_marts["reports"]
    assert (full.numbers_added, full.lines_rejected) == (1, 2)
    assert full.rejected_by_reason == {"letters": 1, "wrong_length": 1}
    assert (changes.numbers_added, changes.numbers_removed) == (1, 1)


def test_contactable_numbers_give_a_reason_for_every_refusal(phone_marts):
    engine = phone_marts["engine"]
    refused_without_reason = _rows(
        engine,
        "select count(*) from steward.contactable_numbers"
        " where is_contactable = (not_contactable_reason is not null)",
    )
    assert refused_without_reason[0][0] == 0
    reasons = dict(
        _rows(
            engine,
            "select not_contactable_reason, count(*) from steward.contactable_numbers"
            " where not is_contactable group by 1",
        )
    )
    assert {"invalid_number", "disconnected", "national_dnc", "internal_opt_out"} <= set(reasons)
    # Registered numbers without an exemption are never contactable.
    leaks = _rows(
        engine,
        "select count(*) from steward.contactable_numbers"
        " where is_on_national_dnc and contact_basis is null and is_contactable",
    )
    assert leaks[0][0] == 0
    customer, e164 = phone_marts["added"]
    (row,) = _rows(
        engine,
        "select is_contactable, reasons from steward.contactable_numbers"
        " where customer_id = :c and e164 = :e",
        c=customer,
        e=e164,
    )
    assert row == (False, ["national_dnc", "no_consent"])
    customer, e164 = phone_marts["opted"]
    (row,) = _rows(
        engine,
        "select not_contactable_reason from steward.contactable_numbers"
        " where customer_id = :c and e164 = :e",
        c=customer,
        e=e164,
    )
    assert row == ("internal_opt_out",)
    invalid = _rows(
        engine,
        """select count(*) filter (where c.not_contactable_reason = 'invalid_number'), count(*)
           from steward_ground_truth.phone_cases as t
           join steward.contactable_numbers as c on t.phone_id = any(c.phone_ids)
           where t.expected_status = 'invalid'""",
    )
    assert invalid[0][0] == invalid[0][1] > 0


def test_dnc_violations_judge_each_call_at_its_own_time(phone_marts):
    planted = phone_marts["calls"]
    found = dict(
        _rows(
            phone_marts["engine"],
            "select call_id, violation_reason from steward.dnc_violations"
            " where call_id = any(:ids)",
            ids=list(planted),
        )
    )
    expected = {call: reason for call, reason in planted.items() if reason}
    assert found == expected
    # The seed's own campaign calls to registered numbers are found too.
    seeded = _rows(
        phone_marts["engine"],
        "select count(*) from steward.dnc_violations where violation_reason = 'national_dnc'",
    )
    assert seeded[0][0] > len(expected)


def test_recording_consent_violations(phone_marts):
    engine = phone_marts["engine"]
    flagged = {
        row[0]
        for row in _rows(engine, "select recording_id from steward.recording_consent_violations")
    }
    for recording, expected in phone_marts["recordings"].items():
        assert (recording in flagged) is expected
    # Independently: no consent flag, no standing consent, a US all-party state.
    expected = {
        row[0]
        for row in _rows(
            engine,
            """select r.recording_id from telephony.call_recordings as r
               join telephony.calls as k using (call_id)
               left join crm.customers as c using (customer_id)
               where not r.recording_consent
                 and r.customer_state in ('CA','FL','IL','MD','MA','MT','NH','PA','WA')
                 and coalesce(c.country_code, 'US') = 'US'
                 and not exists (select from compliance.consents as s
                                 where s.customer_id = k.customer_id
                                   and s.consent_type = 'call_recording'
                                   and s.granted_at <= r.recorded_at
                                   and (s.revoked_at is null or s.revoked_at > r.recorded_at))""",
        )
    }
    assert flagged == expected
    assert len(flagged) >= 2


def test_summary_reads_the_marts(phone_marts):
    summary = nightly.summarise(phone_marts["url"])
    assert summary["available"]
    assert 0.9 < summary["valid_rate"] < 1
    assert summary["duplicate_groups"]["same_customer"] > 0
    assert summary["dnc_violations_total"] >= 3
    assert summary["dnc_registry"]["is_stale"] is False
    assert summary["dnc_registry"]["snapshot_age_days"] == 0  # the seed's Nov 1 download
    assert summary["dnc_registry"]["import_count"] == 2
    assert phone_marts["refresh"]["new_parsed"] > 1000


def test_a_registry_older_than_31_days_fails_the_check(phone_marts, tmp_path):
    url = phone_marts["url"]
    selection = ["dnc_registry_status", "phones_dnc_registry_not_stale"]
    stale = run_dbt(url, ["build", "--select", *selection, *_vars("2026-12-15")], tmp_path)
    failed = {
        node.node.name for node in stale.result.results if str(node.status) in {"fail", "error"}
    }
    assert failed == {"phones_dnc_registry_not_stale"}
    fresh = run_dbt(url, ["build", "--select", *selection, *_vars()], tmp_path)
    assert fresh.success
