"""PII spans in free text: found by span finders, confirmed by the validators."""

from __future__ import annotations

from steward.catalogue import free_text


def test_finds_each_kind_of_span():
    note = (
        "Customer called from (650) 253-0000 and wrote to jane.doe@example.com; "
        "card 4111 1111 1111 1111, ssn 219-09-9998, iban GB82 WEST 1234 5698 7654 32, "
        "logged in from 192.168.10.4"
    )
    assert free_text.pii_kinds(note) == {
        "phone_number", "email", "payment_card", "us_ssn", "iban", "ip_address",
    }  # fmt: skip


def test_invalid_lookalikes_are_not_spans():
    note = (
        "Order 4111 1111 1111 1112 shipped, ref 000-12-3456, see host@example.invalidtld, "
        "version 1.2.3 installed in 2021 for $12,995"
    )
    assert free_text.pii_kinds(note) == set()


def test_plain_prose_has_no_spans():
    assert free_text.pii_kinds("Customer was happy with the service, no follow-up needed.") == set()


def test_prose_detection():
    assert free_text.looks_like_prose(["The caller asked to move the appointment to Friday."])
    assert not free_text.looks_like_prose(["jane.doe@example.com", "bob@example.org"])
    assert not free_text.looks_like_prose([])
