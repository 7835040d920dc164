"""The rule that turns name and content evidence into one confidence."""

from __future__ import annotations

import pytest

from steward.catalogue import categories as cat
from steward.catalogue import name_rules, scoring
from steward.catalogue.validators import ValueContext

PHONES = ["(650) 253-0000", "+44 20 7946 0958", "212-639-1234", "(415) 829-7000", "303-499-7111"]


@pytest.fixture(scope="module")
def rules():
    return name_rules.default_rules()


def scored(rules, column, values, numeric=False):
    verdict = rules.evaluate(column)
    tally = scoring.ColumnTally(scoring.validators_to_run(rules, verdict, numeric))
    for value in values:
        tally.add(value, ValueContext(numeric=numeric))
    return {f.category: f for f in scoring.score_column(rules, verdict, tally)}


def test_name_and_content_agree(rules):
    finding = scored(rules, "phone", PHONES * 4)[cat.PHONE]
    assert finding.is_pii and finding.confidence >= 0.9
    assert finding.evidence["matches"] == 20 and finding.evidence["sample_rows"] == 20


def test_content_alone_finds_pii_behind_an_unhelpful_name(rules):
    ssns = [f"219-09-{n:04d}" for n in range(1, 40)]
    finding = scored(rules, "attr_3", ssns)[cat.NATIONAL_ID]
    assert finding.is_pii and finding.evidence["rule"] == "content only"


def test_content_contradicting_the_name_brings_it_below_threshold(rules):
    findings = scored(rules, "email", ["yes", "no", "yes", "maybe", "no"] * 5)
    assert not findings[cat.EMAIL].is_pii
    assert findings[cat.EMAIL].confidence == pytest.approx(0.9 * scoring.CONTRADICTED_FLOOR)


def test_a_strong_name_alone_is_reported_when_there_is_nothing_to_read(rules):
    verdict = rules.evaluate("customer_email")
    (finding,) = scoring.score_column(rules, verdict, scoring.ColumnTally(()), unreadable=True)
    assert finding.is_pii and finding.evidence["rule"] == "name only"
    weak = scoring.score_column(rules, rules.evaluate("name"), None)
    assert not any(f.is_pii for f in weak)


def test_near_constant_columns_give_no_content_evidence(rules):
    findings = scored(rules, "attr_1", ["(650) 253-0000"] * 50)
    assert cat.PHONE not in findings


def test_boolean_like_gender_codes_need_the_name(rules):
    assert not scored(rules, "attr_2", ["m", "f", "m", "f", "m"] * 10)
    assert scored(rules, "sex", ["m", "f", "m", "f", "m"] * 10)[cat.GENDER].is_pii
    words = scored(rules, "attr_2", ["male", "female", "female", "male"] * 10)
    assert words[cat.GENDER].is_pii


def test_numbers_that_happen_to_validate_need_a_name_or_a_non_key_column(rules):
    ids = [str(7316825357 + n * 977) for n in range(50)]  # 10-digit ids, valid US numbers
    assert not scored(rules, "listing_id", ids, numeric=True)
    assert scored(rules, "attr_4", ids, numeric=True)[cat.PHONE].is_pii


def test_dictionary_content_needs_distinct_values_and_yields_to_a_clear_name(rules):
    colours = ["Black", "White", "Brown", "Green", "Gray"] * 10  # all surnames too
    assert not any(f.is_pii for f in scored(rules, "paint_colour", colours).values())
    cities = ["Warren", "Jackson", "Marion", "Clinton", "Franklin", "Madison", "Lincoln",
              "Monroe", "Hamilton", "Chester", "Milton", "Salem", "Dayton", "Quincy", "Newton",
              "Florence"] * 3  # fmt: skip
    findings = scored(rules, "city", cities)
    best = max(findings.values(), key=lambda f: f.confidence)
    assert best.category == cat.CITY


def test_free_text_confidence_grows_with_the_share_of_values_with_spans(rules):
    clean = [
        f"Customer asked about tariff {n} and was satisfied with the answer." for n in range(40)
    ]
    leaky = ["Please call me back on (650) 253-0000 after five, thanks a lot."] * 8
    findings = scored(rules, "notes", clean + leaky)
    finding = findings[cat.FREE_TEXT]
    assert finding.is_pii
    assert finding.evidence["values_with_pii_spans"] == 8
    assert finding.evidence["span_kinds"] == {"phone_number": 8}
    assert not scored(rules, "notes", clean)[cat.FREE_TEXT].is_pii
    assert scored(rules, "notes", clean)[cat.FREE_TEXT].confidence == 0


def test_evidence_never_holds_values(rules):
    findings = scored(rules, "phone", PHONES * 4)
    text = repr(findings)
    assert not any(phone in text for phone in PHONES)
