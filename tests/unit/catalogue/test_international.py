"""Regions, national schemes, header tokens, suggestions and the benchmark's scoring."""

from __future__ import annotations

import pytest

from steward.catalogue import benchmark, name_rules, regions, scanner, scoring
from steward.catalogue import categories as cat
from steward.catalogue import validators as v
from steward.catalogue.validators import ValueContext, Verdict


@pytest.fixture(scope="module")
def rules():
    return name_rules.default_rules()


def scored(rules, column, values, numeric=False, phone_regions=("US",)):
    verdict = rules.evaluate(column)
    tally = scoring.ColumnTally(scoring.validators_to_run(rules, verdict, numeric))
    context = ValueContext(numeric=numeric, phone_regions=phone_regions)
    for value in values:
        tally.add(value, context)
    return {f.category: f for f in scoring.score_column(rules, verdict, tally)}


def test_regions_come_from_the_values_and_the_country_column(monkeypatch):
    values = ["+61 2 9374 4000", "+61 412 345 678", "02 9374 4001", None, "0412 345 679"]
    assert regions.from_phone_values(values) == ("AU",)
    assert regions.from_country_values(["Australia", "AUS", "au", "Germany", None]) == ("AU", "DE")
    assert regions.is_country_column("customer_country_code")
    monkeypatch.setenv(regions.REGIONS_ENV, "gb, uk ,IE")
    assert regions.configured_regions() == ("GB", "IE")
    monkeypatch.setenv(regions.REGIONS_ENV, "GB,Narnia")
    with pytest.raises(ValueError, match="Narnia"):
        regions.configured_regions()


def test_local_numbers_are_valid_once_their_region_is_known(rules):
    australian = ["02 9374 4000", "0412 345 678", "03 9600 1234", "0423 456 789", "08 8212 3456"]
    # US only: valid in some other region, written like phones: shape, less sure.
    guessed = scored(rules, "attr_1", australian)[cat.PHONE]
    assert guessed.evidence["matches"] == 0 and guessed.evidence["shape_only"] == len(australian)
    found = scored(rules, "attr_1", australian, phone_regions=("US", "AU"))[cat.PHONE]
    assert found.is_pii and found.evidence["matches"] == len(australian)
    assert found.confidence > guessed.confidence


@pytest.mark.parametrize(
    ("value", "scheme"),
    [
        ("219-09-9998", "us_ssn"),
        ("AB123456C", "gb_nino"),
        ("943 476 5919", "gb_nhs"),
        ("130 692 544", "ca_sin"),
        ("2 95 10 99 126 111 93", "fr_nir"),
        ("36 574 261 809", "de_idnr"),
        ("54362315K", "es_dni"),
        ("RCCMNL83S18D969H", "it_codice_fiscale"),
        ("390.533.447-05", "br_cpf"),
        ("234123412346", "in_aadhaar"),
        ("123 456 782", "au_tfn"),
        ("360426199101010071", "cn_ric"),
        ("111222333", "nl_bsn"),
        ("880320-0016", "se_personnummer"),
        ("44051401359", "pl_pesel"),
        ("BOXW310820HNERXN09", "mx_curp"),
    ],
)
def test_national_schemes(value, scheme):
    verdict, tags = v.national_id(value)
    assert verdict is Verdict.VALID and scheme in tags


def test_a_column_of_one_scheme_is_named_after_it(rules):
    nirs = ["295109912611193", "172023201312126", "297086005766807", "226026204103089"] * 3
    found = scored(rules, "ref", nirs)
    assert found[f"{cat.NATIONAL_ID}.fr_nir"].is_pii
    # An "ssn" column of French numbers is a NIR column.
    assert f"{cat.NATIONAL_ID}.fr_nir" in scored(rules, "ssn", nirs)


def test_weak_checksums_need_nearly_every_value(rules):
    # About one random 9-digit number in ten passes the SIN's Luhn check.
    ids = [f"{n:09d}" for n in range(100_000_001, 100_000_101)]
    assert not any(f.is_pii for f in scored(rules, "ref", ids).values())


@pytest.mark.parametrize(
    ("column", "category"),
    [
        ("nameFirst", cat.FIRST_NAME),
        ("name_last", cat.LAST_NAME),
        ("address_en", cat.STREET),  # a qualifier after the head noun
        ("nino", f"{cat.NATIONAL_ID}.gb_nino"),
        ("codice_fiscale", f"{cat.NATIONAL_ID}.it_codice_fiscale"),
        ("cpf", f"{cat.NATIONAL_ID}.br_cpf"),
    ],
)
def test_header_tokens(rules, column, category):
    assert category in rules.evaluate(column).evidence


@pytest.mark.parametrize(
    "column",
    ["showEmail", "hideAddress", "ExchangeForSex", "has_phone", "phone_count", "order_number",
     "cholesterol_mg_dl", "transferrin_level", "company_name"],
)  # fmt: skip
def test_negative_headers(rules, column):
    verdict = rules.evaluate(column)
    strong = [e for e in verdict.evidence.values() if e.strength >= 0.5]
    assert not strong, verdict


def test_header_alone_on_an_empty_or_tiny_column_is_a_suggestion(rules):
    for values in ([], ["a@example.com"]):
        (finding,) = scored(rules, "customer_email", values).values()
        assert not finding.is_pii and finding.confidence == pytest.approx(
            scoring.NO_CONTENT_FACTOR * 0.9
        )


def test_flag_columns_hold_no_personal_data(rules):
    assert not scored(rules, "email_flag_x", ["yes", "no", "yes"] * 10)
    assert not scored(rules, "attr", ["Y", "N", "Y", "N"] * 10)


def test_a_bare_name_header_with_full_names_is_reported(rules):
    names = ["Maria Garcia", "John Smith", "Wei Zhang", "Anna Kowalska", "Luca Rossi"]
    found = scored(rules, "name", names)[cat.FULL_NAME]
    assert found.is_pii
    assert scored(rules, "Judge", names)[cat.FULL_NAME].is_pii


def test_company_columns_are_not_surnames(rules):
    companies = ["Imbert", "Pichon SARL", "Gertz", "Schuster AG", "Meyer", "Klein GmbH"] * 5
    assert not any(f.is_pii for f in scored(rules, "attr", companies).values())


def test_measurements_are_not_phones(rules):
    values = [str(1_200_000 + n * 7919) for n in range(40)]
    assert cat.PHONE not in scored(rules, "cholesterol_mg_dl", values, numeric=True)
    assert v.phone_number("5.25", ValueContext(numeric=True))[0] is Verdict.NO


def _finding(table, column, category, confidence=0.9):
    return scanner.ColumnFinding("s", table, column, category, confidence, True, {})


def test_benchmark_counts_false_positives_of_types_the_corpus_never_uses(tmp_path):
    (tmp_path / "labels.json").write_text('{"t": {"a": "Email_Address"}}')
    corpus = benchmark.load_corpus_spec(tmp_path)
    report = scanner.ScanReport(
        findings=[
            _finding("t", "a", cat.EMAIL),
            _finding("t", "b", cat.US_SSN),  # a type absent from the labels: still a FP
            _finding("t", "c", cat.CITY),  # a kind the corpus never annotates: apart
        ],
        columns=[scanner.ColumnStatus("s", "t", column, "text", "scanned") for column in "abcd"],
    )
    result = benchmark.score(report, corpus, "s")
    assert result.per_type["US_Social_Security_Number"]["fp"] == 1
    assert result.non_pii_false_positives == 1 and result.non_pii_columns == 3
    assert [item["column"] for item in result.outside_taxonomy] == ["c"]
    assert result.overall["precision"] == 0.5
