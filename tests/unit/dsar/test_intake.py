import datetime as dt

import pytest

from steward.dsar.intake import IntakeError, validate_correction_value, validate_request

TODAY = dt.date(2026, 6, 1)


def valid(**overrides):
    fields = {
        "request_type": "access",
        "jurisdiction": "GDPR",
        "received_on": "2026-05-20",
        "ticket_reference": "PRIV-1234",
        "verification_status": "verified",
        "verification_method": "id_document",
        "email": "Jane.Doe@Example.COM",
    }
    fields.update(overrides)
    return fields


def problems(**overrides):
    with pytest.raises(IntakeError) as error:
        validate_request(valid(**overrides), today=TODAY)
    return error.value.problems


def test_valid_request_is_normalised():
    request = validate_request(valid(phone="(650) 253-0000", customer_id="42"), today=TODAY)
    assert request.email == "jane.doe@example.com"
    assert request.phone == "+16502530000"
    assert request.customer_id == 42
    assert request.received_on == dt.date(2026, 5, 20)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"phone": "12345"}, "phone"),
        ({"customer_id": "12a"}, "customer_id"),
        ({"customer_id": -3}, "customer_id"),
        ({"jurisdiction": "MARS"}, "jurisdiction"),
        ({"request_type": "erase"}, "request_type"),
        ({"jurisdiction": "PIPEDA", "request_type": "deletion"}, "request_type"),
        ({"received_on": "2026-13-01"}, "received_on"),
        ({"received_on": "2027-01-01"}, "received_on"),
        ({"ticket_reference": "x"}, "ticket_reference"),
        ({"verification_status": "verified", "verification_method": "none"}, "verification"),
    ],
)
def test_invalid_fields_are_named(overrides, field):
    found = problems(**overrides)
    assert any(problem.startswith(field) for problem in found), found


def test_no_identifier_is_rejected():
    assert any("identifiers" in p for p in problems(email=None))


def test_messages_do_not_echo_identifiers():
    found = problems(email="secret.person@nowhere", phone="999")
    assert not any("secret.person" in p or "999" in p for p in found)


def test_corrections_must_exist_in_the_data_map_and_validate():
    found = problems(
        request_type="correction",
        corrections={"shoe_size": "42", "phone": "not a phone", "email": "x@y"},
    )
    assert any(p.startswith("corrections.shoe_size") for p in found)
    assert any(p.startswith("corrections.phone") for p in found)
    assert any(p.startswith("corrections.email") for p in found)
    restricted = frozenset({"user.contact.email"})
    with pytest.raises(IntakeError):
        validate_request(
            valid(request_type="correction", corrections={"phone": "+16502530000"}),
            correctable_categories=restricted,
            today=TODAY,
        )


def test_valid_correction_is_keyed_by_category():
    request = validate_request(
        valid(request_type="correction", corrections={"phone": "650 253 0000", "last_name": "Li"}),
        today=TODAY,
    )
    assert request.corrections == {
        "user.contact.phone_number": "+16502530000",
        "user.name.last": "Li",
    }


def test_correction_request_needs_corrections_and_others_must_not_carry_them():
    assert any("corrections" in p for p in problems(request_type="correction"))
    assert any("corrections" in p for p in problems(corrections={"phone": "+16502530000"}))


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "Zed\x00Quill"},
        {"email": "zed\x00@example.org"},
        {"phone": "650\x07253 9187"},
        {"ticket_reference": "PRIV-\u202e123"},
        {"name": "Z" * 201},
        {"name": "Smith; drop table crm.customers"},
        {"jurisdiction": "GDPR" + "x" * 2000},
    ],
)
def test_control_characters_over_long_and_ill_fitting_values_are_refused(fields):
    found = problems(**fields)
    assert found
    assert not any("\x00" in p or "drop table" in p for p in found)


@pytest.mark.parametrize(
    ("category", "value", "fits"),
    [
        ("user.name.last", "O'Brien", True),
        ("user.name.last", "Müller-Lüdenscheidt", True),
        ("user.name.first", "Zoë", True),
        ("user.name", "Smith, Jr.", True),
        ("user.name.last", "Smith'); drop table crm.customers; --", False),
        ("user.name.last", "Robert--", False),
        ("user.name.last", "a" * 101, False),
        ("user.name.last", "Tab\tName", False),
        ("user.contact.address.street", "1 Main St. #4", True),
        ("user.contact.address.street", "1 Main; St", False),
        ("user.contact.address.postal_code", "SW1A 1AA", True),
        ("user.contact.address.postal_code", "94043-1351-99999", False),
        ("user.contact.email", "zed@example", False),
        ("user.contact.phone_number", "12", False),
    ],
)
def test_correction_values_must_fit_their_category(category, value, fits):
    _normalised, problem = validate_correction_value(category, value)
    assert (problem is None) is fits, problem
    if not fits:
        assert value not in problem
