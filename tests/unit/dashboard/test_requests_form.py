"""The request form's logic without a server: reading fields, CSRF, rendering."""

from __future__ import annotations

import datetime as dt

from steward.dashboard import requests_form


def test_empty_fields_are_not_given_and_corrections_are_read_line_by_line():
    submitted = requests_form.form_input(
        {
            "request_type": "correction",
            "email": "  ",
            "customer_id": "42",
            "corrections": "email = new@example.org\n\nlast_name: Newname\n",
        }
    )
    assert submitted.problems == []
    assert submitted.fields["email"] is None
    assert submitted.fields["customer_id"] == "42"
    assert submitted.fields["corrections"] == {
        "email": "new@example.org",
        "last_name": "Newname",
    }
    assert requests_form.form_input({}).fields["corrections"] is None


def test_a_correction_line_without_a_separator_is_named_by_line_not_value():
    corrections, problems = requests_form.parse_corrections("email new@example.org")
    assert corrections is None
    assert problems == ["corrections: line 1: write field = new value"]


def test_csrf_needs_both_tokens_equal():
    token = requests_form.new_csrf_token()
    assert requests_form.csrf_ok(token, token)
    assert not requests_form.csrf_ok(token, token + "x")
    assert not requests_form.csrf_ok(None, token)
    assert not requests_form.csrf_ok(token, "")


def test_same_origin_refuses_another_site():
    headers = {"host": "127.0.0.1:8080"}
    assert requests_form.same_origin(headers, "http")
    assert requests_form.same_origin({**headers, "origin": "http://127.0.0.1:8080"}, "http")
    assert not requests_form.same_origin({**headers, "origin": "https://evil.example"}, "http")
    assert not requests_form.same_origin({**headers, "origin": "null"}, "http")
    assert requests_form.same_origin(
        {**headers, "referer": "http://127.0.0.1:8080/plugin/steward-request"}, "http"
    )
    assert not requests_form.same_origin(
        {**headers, "referer": "http://127.0.0.1:8080.evil.example/"}, "http"
    )


def test_the_form_keeps_values_escaped_and_names_problems_by_field():
    html = requests_form.render_form(
        {"name": '"><script>alert(1)</script>', "jurisdiction": "GDPR"},
        ["email: not a valid e-mail address"],
        csrf_token="tok",
        today=dt.date(2026, 11, 20),
    )
    assert "<script>" not in html
    assert "&quot;&gt;&lt;script&gt;" in html
    assert '<option value="GDPR" selected>' in html
    assert 'value="2026-11-20"' in html  # received on: today, rendered at request time
    assert '<div class="error">email: not a valid e-mail address</div>' in html
    assert 'name="csrf_token" value="tok"' in html
    # Every field has its help text; verification has no default that parks a request.
    for name, (_, help_text) in requests_form.FIELDS.items():
        assert f'for="{name}"' in html and len(help_text) > 10
    assert '<option value="pending" selected>' not in html


def test_the_status_page_shows_no_identifier_fields():
    html = requests_form.render_status(
        {"request_id": 7, "ticket_reference": "PRIV-7", "status": "received", "result": None},
        "Registered",
    )
    assert "PRIV-7" in html and "Request 7" in html
