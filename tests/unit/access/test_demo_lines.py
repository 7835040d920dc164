"""The demo's access lines under "What the night found": counts only."""

from __future__ import annotations

from steward import demo


def test_the_demo_prints_the_access_review(capsys):
    demo._print_access(
        {
            "available": True,
            "views": 48,
            "roles": [{}, {}, {}],
            "undeclared_columns": ["crm.customers.attr_3"],
            "roles_reading_directly": 2,
            "personal_columns_read": 24,
            "violations": 0,
        }
    )
    out = capsys.readouterr().out
    assert "Access: 48 governed views for 3 roles; 1 undeclared column hidden until declared" in out
    assert "access review: 2 roles can read 24 personal columns directly, 0 violations" in out


def test_nothing_is_printed_before_the_review_ran(capsys):
    demo._print_access({"available": False})
    assert capsys.readouterr().out == ""
