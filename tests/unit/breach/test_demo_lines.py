"""The demo's breach-register line under "What the night found": counts and a time only."""

from __future__ import annotations

import datetime as dt

from steward import demo


def test_the_demo_prints_open_incidents_and_the_next_notice(capsys):
    due = dt.datetime(2026, 12, 9, 14, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    demo._print_breaches({"open_incidents": 2, "pending_notices": 5, "next_due": due})
    out = capsys.readouterr().out
    assert "Breach register: 2 open incidents, 5 required notices not yet given" in out
    assert "the next is due 2026-12-09 13:30 UTC" in out
    assert "breach list" in out


def test_an_empty_register_says_how_to_assess_an_incident(capsys):
    demo._print_breaches({"open_incidents": 0, "pending_notices": 0, "next_due": None})
    out = capsys.readouterr().out
    assert "Breach register: no open incident" in out
    assert "breach assess" in out


def test_one_incident_without_a_dated_notice(capsys):
    demo._print_breaches({"open_incidents": 1, "pending_notices": 1, "next_due": None})
    out = capsys.readouterr().out
    assert "1 open incident, 1 required notice not yet given (" in out
