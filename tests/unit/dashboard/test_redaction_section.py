"""The dashboard's "Card data in free text" section: counts and places, never a value."""

from __future__ import annotations

import datetime as dt

from steward.dashboard import governance, model, render
from steward.dashboard.queries import SectionData

WHEN = dt.datetime(2026, 11, 1, 2, 30, tzinfo=dt.UTC)


def _data(**overrides) -> SectionData:
    figures = {
        "last_run": {"run_id": 3, "status": "finished", "started_at": WHEN, "finished_at": WHEN},
        "runs": 3,
        "places": [
            {
                "location": "billing.payments.card_number",
                "planned": 0,
                "done": 0,
                "reported": 40,
                "held": 2,
            },
            {
                "location": "telephony.transcripts.body",
                "planned": 120,
                "done": 120,
                "reported": 0,
                "held": 7,
            },
        ],
        "rows_changed": 95,
        "violations": [
            {
                "location": "billing.payments.card_number",
                "full_card_rows": 40,
                "held_rows": 2,
                "truncated_rows": 0,
                "checked_at": WHEN,
                "approved": False,
            },
        ],
    }
    figures.update(overrides)
    return SectionData("redaction", data=figures)


def test_the_section_shows_the_last_run_holds_and_violations():
    section = governance.redaction_section(_data())
    assert section.title == "Card data in free text"
    metrics = {m.label: m for m in section.metrics}
    assert metrics["Last applied run"].value == "2026-11-01 02:30"
    assert metrics["Rows rewritten"].value == "95"
    assert metrics["Held back by legal holds"].value == "9"
    assert metrics["Full card numbers in card columns"].value == "40"
    assert metrics["Full card numbers in card columns"].tone == model.BAD
    places, violations = section.tables
    assert [c.text for c in places.rows[1]] == [
        "telephony.transcripts.body",
        "120",
        "120",
        "0",
        "7",
    ]
    assert [c.text for c in violations.rows[0]][-2] == "not approved"
    html = render.render_page(model.Dashboard(generated_at=WHEN, sections=[section]))
    assert "Card data in free text" in html and "billing.payments.card_number" in html


def test_no_applied_run_says_how_to_run_one():
    section = governance.redaction_section(_data(last_run=None, places=[], violations=[]))
    assert section.state == "empty"
    assert "steward redact run --apply" in section.hint


def test_the_dashboard_builds_the_section_from_its_read():
    keys = ("catalogue", "retention", "phones", "requests", "quality")
    sections = {k: SectionData(k, missing=[f"{k}_mart"]) for k in keys}
    sections["redaction"] = _data()
    dashboard = model.build_dashboard({"sections": sections, "snapshots": []}, generated_at=WHEN)
    assert dashboard.section("redaction").state != "not_built"


def test_absent_tables_say_the_job_has_not_run():
    missing = SectionData("redaction", missing=list(governance.REDACTION_TABLES))
    section = governance.redaction_section(missing)
    assert section.state == "not_built"
    assert "steward.redaction_last_run" in section.message
    assert "path:models/marts/redaction" in section.hint
    assert "steward redact" in section.hint
