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


def scored(rules, column, values, numeric=False, regions=("US",)):
    verdict = rules.evaluate(column)
    tally = scoring.ColumnTally(scoring.validators_to_run(rules, verdict, numeric))
    for value in values:
        tally.add(value, ValueContext(numeric=numeric, phone_regions=regions))
    return {f.category: f for f in scoring.score_column(rules, verdict, tally)}


def test_name_and_content_agree(rules):
    finding = scored(rules, "phone", PHONES * 4)[cat.PHONE]
    assert finding.is_pii and finding.confidence >= 0.9
    assert finding.evidence["matches"] == 20 and finding.evidence["sample_rows"] == 20


def test_content_alone_finds_pii_behind_an_unhelpful_name(rules):
    ssns = [f"219-09-{n:04d}" for n in range(1, 40)]
    finding = scored(rules, "attr_3", ssns)[cat.US_SSN]
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


def test_numeric_codes_contradict_a_city_name(rules):
    codes = [f"{11001 + n * 7}" for n in range(30)]
    assert not scored(rules, "ciudad_municipio", codes)[cat.CITY].is_pii
    towns = ["Springfield", "Riverton", "Lakeside", "Fairview", "Kingsport"] * 6
    assert scored(rules, "city", towns)[cat.CITY].is_pii  # unknown towns: no evidence against


def test_one_repeated_value_of_the_wrong_kind_is_only_a_suggestion(rules):
    finding = scored(rules, "gender", ["Both genders"] * 40)[cat.GENDER]
    assert not finding.is_pii and "suggestion" in finding.evidence["rule"]
    assert scored(rules, "city", ["ALBANY"] * 40)[cat.CITY].is_pii  # one city is still a city


def test_organisations_under_a_weak_name_are_not_people(rules):
    firms = ["CHAMPOEG HOLDINGS, LLC", "BERNABE LLC", "Mary Smith", "John Baker", "Acme Inc"] * 6
    findings = scored(rules, "entity_of_record_name", firms)
    assert not any(f.is_pii for c, f in findings.items() if c in scoring.PERSON_NAME_CATEGORIES)


def test_content_only_phones_of_bare_digits_need_nearly_all_valid(rules):
    # Ten-digit parcel numbers: most pass as valid US numbers, some (leading 1) do not.
    parcels = [f"2027{n:06d}" for n in range(700_000, 700_040)]
    parcels += [f"10{n:08d}" for n in range(8)]
    assert cat.PHONE not in scored(rules, "parcel", parcels)
    # The same numbers formatted like phones, all valid, are still found without a name.
    formatted = [f"(212) 639-{n:04d}" for n in range(1000, 1040)]
    assert scored(rules, "attr_9", formatted)[cat.PHONE].is_pii
    bare_valid = [f"212639{n:04d}" for n in range(1000, 1040)]
    assert scored(rules, "attr_9", bare_valid)[cat.PHONE].is_pii


def test_phone_named_number_column_of_another_regions_mobiles(rules):
    # Australian mobiles stored as bigint lost their trunk 0 ("0412 345 678" -> 412345678);
    # judged in the US they are no number at all, but they are valid in Australia.
    mobiles = [str(412_345_000 + 37 * n) for n in range(30)]
    finding = scored(rules, "contact_phone", mobiles, numeric=True)[cat.PHONE]
    assert finding.is_pii and finding.evidence["rule"] == "name+content"
    # Without the name the same integers are no evidence.
    assert cat.PHONE not in scored(rules, "attr_4", mobiles, numeric=True)


def test_prose_under_an_address_name_is_checked_against_addresses(rules):
    projects = [
        f"Neighbourhood renewal phase {n}: sidewalks and lighting along the ravine trail"
        for n in range(20)
    ] + ["12 Elm Street", "40 Birch Road"]
    finding = scored(rules, "address", projects)[cat.STREET]
    assert not finding.is_pii and finding.evidence["rule"] == "name+content"


def test_a_weak_role_name_with_surnames_for_values_is_a_last_name(rules):
    surnames = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis"]
    finding = scored(rules, "referee_last", surnames * 3)[cat.LAST_NAME]
    assert finding.is_pii
    # A "last" column of dates or codes stays below the threshold.
    assert (
        not scored(rules, "last", ["2024-01-03", "2023-11-30", "2024-02-14"] * 5)
        .get(cat.LAST_NAME, scoring.Finding(cat.LAST_NAME, 0.0, {}))
        .is_pii
    )


def test_a_word_inside_a_token_needs_agreeing_values(rules):
    assert scored(rules, "workphone", PHONES * 4)[cat.PHONE].is_pii
    gadgets = ["Shure SM58", "Rode NT1", "AKG C214", "Blue Yeti", "Rode PodMic"] * 4
    assert not scored(rules, "microphone", gadgets)[cat.PHONE].is_pii
    (empty,) = scoring.score_column(rules, rules.evaluate("workphone"), None)
    assert not empty.is_pii
