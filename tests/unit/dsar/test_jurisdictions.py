import datetime as dt

import pytest

from steward.dsar import jurisdictions as j


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (dt.date(2025, 1, 31), dt.date(2025, 2, 28)),
        (dt.date(2024, 1, 31), dt.date(2024, 2, 29)),  # leap year
        (dt.date(2025, 3, 31), dt.date(2025, 4, 30)),
        (dt.date(2025, 12, 15), dt.date(2026, 1, 15)),
        (dt.date(2025, 2, 28), dt.date(2025, 3, 28)),
    ],
)
def test_gdpr_one_calendar_month(received, due):
    assert j.rule_for("GDPR", "access").due_on(received) == due


def test_add_months_across_years_and_clamping():
    assert j.add_months(dt.date(2025, 11, 30), 3) == dt.date(2026, 2, 28)
    assert j.add_months(dt.date(2025, 1, 31), 12) == dt.date(2026, 1, 31)


def test_gdpr_extension_two_more_months_notice_within_first_month():
    rule = j.rule_for("UK_GDPR", "deletion")
    received = dt.date(2025, 1, 31)
    assert rule.extended_due_on(received) == dt.date(2025, 4, 28)
    assert rule.extension_notice_by(received) == dt.date(2025, 2, 28)
    assert rule.pause_allowed


def test_ccpa_45_days_plus_45_and_confirmation_in_10_business_days():
    rule = j.rule_for("CCPA", "deletion")
    received = dt.date(2025, 3, 7)  # a Friday
    assert rule.due_on(received) == dt.date(2025, 4, 21)
    assert rule.extended_due_on(received) == dt.date(2025, 6, 5)
    assert rule.confirm_by(received) == dt.date(2025, 3, 21)
    assert not rule.pause_allowed


@pytest.mark.parametrize(
    ("jurisdiction", "kind", "days", "extension"),
    [
        ("VCDPA", "access", 45, 45),
        ("CPA", "correction", 45, 45),
        ("LGPD", "access", 15, None),
        ("PIPEDA", "access", 30, 30),
        ("HIPAA", "access", 30, 30),
        ("HIPAA", "correction", 60, 30),
    ],
)
def test_day_periods(jurisdiction, kind, days, extension):
    rule = j.rule_for(jurisdiction, kind)
    received = dt.date(2025, 6, 1)
    assert rule.due_on(received) == received + dt.timedelta(days=days)
    if extension is None:
        assert rule.extended_due_on(received) is None
    else:
        assert rule.extended_due_on(received) == received + dt.timedelta(days=days + extension)


def test_granted_types():
    assert j.granted_types("GDPR") == ["access", "correction", "deletion"]
    assert "deletion" not in j.granted_types("PIPEDA")
    assert "deletion" not in j.granted_types("HIPAA")
    with pytest.raises(KeyError):
        j.rule_for("HIPAA", "deletion")


def test_malformed_rules_are_reported():
    text = ",".join(j.RULE_COLUMNS) + "\nGDPR,x,erase,1,week,,,,,maybe,basis\n"
    with pytest.raises(j.JurisdictionRulesError) as error:
        j.parse_rules(text)
    assert "request_type" in str(error.value)
