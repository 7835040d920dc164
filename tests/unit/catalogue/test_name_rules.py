"""Name evidence: patterns in several languages, negatives, table context, file validation."""

from __future__ import annotations

import pytest
import yaml

from steward.catalogue import categories as cat
from steward.catalogue import name_rules, scoring
from steward.catalogue.name_rules import NamePatternError


@pytest.fixture(scope="module")
def rules():
    return name_rules.default_rules()


@pytest.mark.parametrize(
    ("column", "normalized"),
    [
        ("Primary Contact-First Name", "primary_contact_first_name"),
        ("MetadataFrom", "metadata_from"),
        ("CODE_GENDER", "code_gender"),
        ("E-mail", "e_mail"),
        ("IBANNumber", "iban_number"),
        ("Teléfono", "telefono"),
    ],
)
def test_normalize(column, normalized):
    assert name_rules.normalize(column) == normalized


@pytest.mark.parametrize(
    ("column", "category"),
    [
        ("customer_email", cat.EMAIL),
        ("E-mail", cat.EMAIL),
        ("courriel", cat.EMAIL),
        ("tel", cat.PHONE),
        ("msisdn", cat.PHONE),
        ("telefono", cat.PHONE),
        ("mobile_number", cat.PHONE),
        ("caller_number", cat.PHONE),
        ("dob", cat.DATE_OF_BIRTH),
        ("fecha_nacimiento", cat.DATE_OF_BIRTH),
        ("Geburtsdatum", cat.DATE_OF_BIRTH),
        ("ssn", cat.US_SSN),
        ("nino", cat.NATIONAL_ID + ".gb_nino"),
        ("codice_fiscale", cat.NATIONAL_ID + ".it_codice_fiscale"),
        ("passport_no", cat.NATIONAL_ID),
        ("iban", cat.BANK_ACCOUNT),
        ("nom", cat.LAST_NAME),
        ("prenom", cat.FIRST_NAME),
        ("Vorname", cat.FIRST_NAME),
        ("apellido", cat.LAST_NAME),
        ("first_name", cat.FIRST_NAME),
        ("FullName", cat.FULL_NAME),
        ("agent_name", cat.EMPLOYEE_NAME),
        ("street_address", cat.STREET),
        ("adresse", cat.STREET),
        ("zip", cat.POSTAL_CODE),
        ("PLZ", cat.POSTAL_CODE),
        ("Sexe", cat.GENDER),
        ("Current Age", cat.AGE),
        ("credit card", cat.CARD_NUMBER),
        ("client_ip", cat.IP_ADDRESS),
        ("VIN", cat.VIN),
        ("recording_path", cat.CALL_RECORDING),
        ("ticket_notes", cat.FREE_TEXT),
    ],
)
def test_positive_names(rules, column, category):
    verdict = rules.evaluate(column)
    assert category in verdict.evidence, verdict
    best = max(verdict.evidence.values(), key=lambda e: e.strength)
    assert best.category == category


@pytest.mark.parametrize(
    "column",
    [
        "call_count",
        "is_active",
        "has_email",
        "email_verified",
        "campaign_id",
        "Num Credit Cards",
        "FLAG_WORK_PHONE",
        "phone_type",
        "company_name",
        "street_name",
        "ip_address_count",
        "Credit_History_Age",
        "NAME_INCOME_TYPE",
        "host_identity_verified",
    ],
)
def test_negative_names_have_no_evidence(rules, column):
    assert rules.evaluate(column).evidence == {}


def test_negatives_veto_content_too(rules):
    assert cat.PHONE in rules.evaluate("customer_id").vetoed
    assert cat.FULL_NAME in rules.evaluate("product_name").vetoed


def test_strong_names_beat_the_key_negative(rules):
    verdict = rules.evaluate("national_id")
    assert verdict.evidence[cat.NATIONAL_ID].strength >= name_rules.STRONG_NAME


def test_a_pattern_before_the_end_is_a_modifier(rules):
    head = rules.evaluate("customer_phone").evidence[cat.PHONE].strength
    modifier = rules.evaluate("phone_carrier").evidence[cat.PHONE].strength
    assert modifier == pytest.approx(head * name_rules.MODIFIER_DISCOUNT)


def test_ip_address_is_not_a_street(rules):
    verdict = rules.evaluate("ip_address")
    assert set(verdict.evidence) == {cat.IP_ADDRESS}


def test_bare_name_is_weak_unless_the_table_is_about_people(rules):
    assert rules.evaluate("name").evidence[cat.FULL_NAME].strength < 0.5
    in_people = rules.evaluate("name", table_name="customers").evidence
    assert in_people[cat.FULL_NAME].strength >= 0.8
    in_staff = rules.evaluate("Name", table_name="Agents").evidence
    assert set(in_staff) == {cat.EMPLOYEE_NAME}
    assert rules.evaluate("name", table_name="products").evidence[cat.FULL_NAME].strength < 0.5


def test_bare_name_beside_a_person_only_attribute_is_a_persons_name(rules):
    # A table named for nothing in particular, but with a date of birth or an id beside it.
    verdicts = rules.evaluate_table("export_q3", ["Name", "DateOfBirth", "balance"])
    assert verdicts["Name"].evidence[cat.FULL_NAME].strength >= 0.8
    assert "date_of_birth" in verdicts["Name"].evidence[cat.FULL_NAME].pattern
    # Contact details are not enough: shops and clinics have phones too.
    plain = rules.evaluate_table("export_q3", ["name", "phone", "email"])
    assert plain["name"].evidence[cat.FULL_NAME].strength < 0.5
    # A column never vouches for itself.
    assert set(rules.evaluate_table("t", ["sex"])["sex"].evidence) == {cat.GENDER}


def test_table_context_needs_tables_or_siblings():
    document = _document()
    document["table_context"][0]["siblings"] = [cat.GENDER]
    with pytest.raises(NamePatternError, match="exactly one of tables and siblings"):
        name_rules.parse(document)
    document = _document()
    document["table_context"][-1]["siblings"] = ["user.nonsense"]
    with pytest.raises(NamePatternError, match="must be a list of categories"):
        name_rules.parse(document)


@pytest.mark.parametrize(
    "column", ["nombres_y_apellidos", "vorname_und_nachname", "first_and_last_name", "nom_prenom"]
)
def test_given_and_family_names_in_one_header_are_a_full_name(rules, column):
    evidence = rules.evaluate(column).evidence
    assert evidence[cat.FULL_NAME].strength >= 0.9


@pytest.mark.parametrize(
    ("column", "category"),
    [("referee_last", cat.LAST_NAME), ("last", cat.LAST_NAME), ("given", cat.FIRST_NAME)],
)
def test_bare_first_and_last_are_weak_name_evidence(rules, column, category):
    # A role with "_last" holds surnames only if the values say so: weak on its own.
    assert 0 < rules.evaluate(column).evidence[category].strength < 0.5


def _document():
    return yaml.safe_load(name_rules.PATTERNS_FILE.read_text())


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["categories"].update({"user.nonsense": d["categories"]["user.name"]}),
            "unknown key",
        ),
        (lambda d: d["categories"]["user.name"]["patterns"][0].update(strength=1.5), "(0, 1]"),
        (
            lambda d: d["categories"]["user.name"]["patterns"][0].update(match="(unclosed"),
            "invalid regular expression",
        ),
        (lambda d: d["categories"]["user.name"].update(validator="nope"), "unknown validator"),
        (lambda d: d["categories"]["user.name"]["patterns"][0].pop("strength"), "missing key"),
        (
            lambda d: d["negatives"][0].update(categories=["user.nonsense"]),
            "must be 'all' or a list",
        ),
        (lambda d: d.update(version=2), "unsupported version"),
    ],
)
def test_malformed_pattern_files_fail_with_a_clear_message(mutate, message):
    document = _document()
    mutate(document)
    with pytest.raises(NamePatternError, match=message.replace("(", r"\(").replace("]", r"\]")):
        name_rules.parse(document)


def test_unparseable_yaml_is_reported(tmp_path):
    broken = tmp_path / "patterns.yml"
    broken.write_text("categories: [unclosed\n")
    with pytest.raises(NamePatternError, match="not valid YAML"):
        name_rules.load(broken)


@pytest.mark.parametrize(
    ("column", "category"), [("workphone", cat.PHONE), ("kundennachname", cat.LAST_NAME)]
)
def test_a_known_word_inside_a_longer_token_is_weak_evidence(rules, column, category):
    found = rules.evaluate(column).evidence[category]
    # Never enough on its own: the values must agree before the column is reported.
    assert found.strength * scoring.NAME_ONLY_FACTOR < scoring.PII_THRESHOLD
    assert "inside a word" in found.pattern


def test_compound_words_keep_their_negatives(rules):
    # "macaddress" is a network address, "emailcount" a count: split, they stay vetoed.
    assert not rules.evaluate("macaddress").evidence
    assert not rules.evaluate("emailcount").evidence
    # Short words hide inside too many others ("percentage", "mileage"): not split out.
    assert not rules.evaluate("percentage").evidence
