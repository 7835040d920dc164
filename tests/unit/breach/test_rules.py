"""Breach-notification rules: the shipped file parses; deadlines; malformed rows refused."""

from __future__ import annotations

import datetime as dt

import pytest

from steward.breach import register, rules
from steward.breach.exposure import Exposure, ExposureError

AWARE = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC)  # a Friday


def _rule(key: str) -> rules.NotificationRule:
    return next(rule for rule in rules.load_rules() if rule.key == key)


def test_the_shipped_rules_cover_gdpr_hipaa_and_every_us_state():
    loaded = rules.load_rules()
    states = {rule.region_code for rule in loaded if rule.law_code.startswith("US_")}
    assert len(states) == 51  # 50 states and DC
    assert all(rule.citation for rule in loaded)
    assert {"GDPR", "UK_GDPR", "HIPAA", "LGPD", "PIPEDA"} <= {rule.law_code for rule in loaded}


def test_deadlines_from_awareness():
    assert _rule("GDPR:supervisory_authority:1").due_at(AWARE, None) == AWARE + dt.timedelta(
        hours=72
    )
    assert _rule("GDPR:individuals:1").due_at(AWARE, None) is None  # without undue delay
    assert _rule("HIPAA:individuals:1").due_at(AWARE, None) == AWARE + dt.timedelta(days=60)
    # 3 business days from a Friday: the next Wednesday.
    assert _rule("LGPD:supervisory_authority:1").due_at(AWARE, None) == dt.datetime(
        2026, 12, 9, 10, 0, tzinfo=dt.UTC
    )


def test_deadlines_after_the_individual_notice_and_the_year_end():
    individuals = _rule("US_CA:individuals:1").due_at(AWARE, None)
    assert individuals == AWARE + dt.timedelta(days=30)
    assert _rule("US_CA:attorney_general:501").due_at(AWARE, individuals) == AWARE + dt.timedelta(
        days=45
    )
    small = _rule("HIPAA:hhs_secretary:1")
    assert small.threshold_max == 499
    assert small.due_at(AWARE, None).date() == dt.date(2027, 3, 1)  # 60 days after 31 Dec


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ({"deadline_unit": "week"}, "deadline_unit: 'week'"),
        ({"deadline_count": "", "deadline_unit": "day"}, "go together"),
        ({"country_codes": "France"}, "country_codes"),
        ({"threshold_min": "-5"}, "threshold_min"),
        ({"requires_name": "yes"}, "requires_name"),
        ({"citation": ""}, "citation: empty"),
    ],
)
def test_malformed_rows_are_refused_with_their_line(row, problem):
    header = ",".join(rules.RULE_COLUMNS)
    good = {
        "law_code": "X",
        "law_name": "X law",
        "country_codes": "FR",
        "region_code": "",
        "recipient": "individuals",
        "deadline_count": "30",
        "deadline_unit": "day",
        "deadline_after": "awareness",
        "threshold_min": "1",
        "threshold_max": "",
        "threshold_scope": "residents",
        "triggering_categories": "*",
        "requires_name": "false",
        "encryption_exempt": "true",
        "applies_when": "always",
        "condition": "c",
        "citation": "X s. 1",
    }
    text = header + "\n" + ",".join({**good, **row}[c] for c in rules.RULE_COLUMNS) + "\n"
    with pytest.raises(rules.BreachRulesError, match="line 2") as raised:
        rules.parse_rules(text, "rules.csv")
    assert problem in str(raised.value)


def test_the_status_machine():
    register.check_transition("open", "assessed")
    register.check_transition("notifying", "assessed")
    for current, target in [("open", "notified"), ("closed", "assessed"), ("notified", "open")]:
        with pytest.raises(register.IncidentError):
            register.check_transition(current, target)
    with pytest.raises(register.IncidentError, match="unknown status"):
        register.check_transition("open", "lost")


def test_summaries_holding_identifiers_are_refused():
    assert register.check_summary("Laptop with a CRM export stolen") == (
        "Laptop with a CRM export stolen"
    )
    for text in ("Mail jane.doe@example.org", "SSN 536-22-8741 leaked", "", "x" * 2001):
        with pytest.raises(register.IncidentError):
            register.check_summary(text)


def test_exposures_are_names_only():
    Exposure(columns=["crm.customers", "billing.payments.card_number"]).check()
    with pytest.raises(ExposureError):
        Exposure().check()
    with pytest.raises(ExposureError, match=r"not schema\.table"):
        Exposure(columns=["crm.customers'; drop table x; --"]).check()
    with pytest.raises(ExposureError, match="time zone"):
        Exposure.from_dict({"columns": ["crm.customers"], "window_to": "2026-01-01T00:00:00"})
    with pytest.raises(ExposureError, match="unknown keys"):
        Exposure.from_dict({"columns": ["crm.customers"], "emails": ["a@b.c"]})
