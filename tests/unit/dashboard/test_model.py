"""The view model and its HTML: states, hints, figures, tones, escaping."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from steward.dashboard import model, phones_view, render, view
from steward.dashboard.app import safe_file
from steward.dashboard.queries import SectionData

NOW = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)


def read(**sections: SectionData) -> dict:
    keys = ("catalogue", "retention", "phones", "requests", "quality")
    filled = {k: sections.get(k, SectionData(k, missing=[f"{k}_mart"])) for k in keys}
    return {"sections": filled, "snapshots": []}


def test_missing_marts_say_what_to_run():
    dashboard = model.build_dashboard(read(), generated_at=NOW)
    for section in dashboard.sections:
        assert section.state == "not_built"
        assert "steward" in section.hint
        assert section.metrics == []
    html = render.render_page(dashboard)
    assert "<code>steward catalogue scan --persist</code>" in html
    assert html.count('data-state="not_built"') == 5


def test_failed_section_shows_the_error_not_the_others():
    failed = SectionData("phones", error="UndefinedColumn: column x does not exist")
    dashboard = model.build_dashboard(read(phones=failed), generated_at=NOW)
    assert dashboard.section("phones").state == "error"
    assert "UndefinedColumn" in dashboard.section("phones").message


def phones(**overrides) -> SectionData:
    data = {
        "records": 200,
        "valid": 180,
        "parse_statuses": [{"parse_status": "valid", "records": 180}],
        "duplicate_groups": 4,
        "duplicate_records": 9,
        "inactive": [{"inactive_reason": "disconnected", "records": 7}],
        "dnc_violations": [{"violation_reason": "national_dnc", "calls": 3}],
        "recording_consent_violations": 0,
        "customer_duplicate_clusters": None,
    }
    data.update(overrides)
    return SectionData("phones", data=data)


def test_phone_figures_and_tones():
    snapshots = [
        {
            "taken_on": dt.date(2026, 10, 30),
            "phone_valid_rate": 0.85,
            "phone_duplicate_groups": 6,
            "inactive_numbers": 9,
            "dnc_violations": 5,
        },
        {
            "taken_on": dt.date(2026, 10, 31),
            "phone_valid_rate": 0.9,
            "phone_duplicate_groups": 4,
            "inactive_numbers": 7,
            "dnc_violations": None,
        },
    ]
    section = model.phones_section(phones(), snapshots)
    metrics = {m.label: m for m in section.metrics}
    assert metrics["Valid rate"].value == "90.0%"
    assert metrics["Valid rate"].tone == model.WARN  # below the 95 % target
    assert metrics["DNC violations"].value == "3"
    assert metrics["DNC violations"].tone == model.BAD
    assert metrics["Recording-consent violations"].tone == model.GOOD
    assert metrics["Customer duplicate clusters"].note == "not built"
    titles = [chart.title for chart in section.charts]
    assert "Valid rate over nights" in titles and "DNC violations over nights" in titles


def test_no_phone_record_is_an_empty_section():
    section = model.phones_section(phones(records=0, valid=0), [])
    assert section.state == "empty"
    assert "steward phones refresh" in section.hint


def _requests_data(today: dt.date) -> dict:
    return {
        "open_by_status": [{"status": "in_progress", "requests": 2, "overdue": 1, "stalled": 1}],
        "open_requests_list": [
            {
                "request_id": 7,
                "request_type": "access",
                "jurisdiction": "GDPR",
                "status": "in_progress",
                "received_on": today - dt.timedelta(days=40),
                "due_on": today - dt.timedelta(days=3),
                "days_left": -3,
                "is_stalled": True,
                "last_change_at": dt.datetime(2026, 10, 28, 9, 30),
            },
            {
                "request_id": 8,
                "request_type": "deletion",
                "jurisdiction": "CCPA",
                "status": "in_progress",
                "received_on": today,
                "due_on": today + dt.timedelta(days=20),
                "days_left": 20,
                "is_stalled": False,
                "last_change_at": dt.datetime(2026, 11, 1, 9, 30),
            },
        ],
        "closed_requests": [
            {
                "request_id": 3,
                "request_type": "access",
                "jurisdiction": "GDPR",
                "received_on": today - dt.timedelta(days=30),
                "due_on": today - dt.timedelta(days=5),
                "closed_on": today - dt.timedelta(days=2),
                "outcome": "completed_late",
                "days_to_close": 28,
            },
            {
                "request_id": 5,
                "request_type": "deletion",
                "jurisdiction": "GDPR",
                "received_on": today - dt.timedelta(days=3),
                "due_on": None,
                "closed_on": today - dt.timedelta(days=3),
                "outcome": "rejected_invalid",
                "days_to_close": 0,
            },
        ],
        "received": 19,
        "open_requests": 2,
        "overdue": 1,
        "stalled": 1,
        "completed": 4,
        "completed_on_time": 3,
        "completed_late": 1,
        "rejected": 13,
        "rejected_invalid": 12,
        "rejected_unverified": 1,
        "rejected_other": 0,
        "median_days": 12.0,
        "today": today,
    }


def test_requests_show_failures_stalls_and_outcomes_honestly():
    today = dt.date(2026, 11, 1)
    section = model.requests_section(SectionData("requests", data=_requests_data(today)))
    metrics = {m.label: m for m in section.metrics}
    assert {label: m.value for label, m in metrics.items()} == {
        "Open requests": "2",
        "Overdue": "1",
        "Stalled": "1",
        "Completed on time": "75.0%",
        "Median days to complete": "12.0",
        "Failed validation": "12",
        "Received": "19",
    }
    assert metrics["Stalled"].tone == model.BAD
    assert metrics["Completed on time"].tone == model.WARN
    assert "1 late" in metrics["Completed on time"].note
    assert metrics["Received"].note == "13 rejected (12 invalid, 1 identity not verified)"
    open_rows, closed_rows = section.tables[0].rows, section.tables[1].rows
    assert open_rows[0][-1].text == "overdue by 3 d" and open_rows[0][-1].tone == model.BAD
    assert open_rows[0][3].text == "in progress: stalled since 2026-10-28 09:30"
    assert open_rows[1][-1].text == "20 d" and open_rows[1][-1].tone == ""
    assert [cell.text for cell in closed_rows[0]] == [
        "#3",
        "access",
        "GDPR",
        "2026-10-02",
        "2026-10-27",
        "2026-10-30",
        "28",
        "completed late",
    ]
    assert closed_rows[0][-1].tone == model.BAD
    assert closed_rows[1][-1].text == "rejected: failed validation"
    assert [chart.title for chart in section.charts] == [
        "Open requests by status",
        "Closed requests by outcome",
    ]


def test_request_marts_built_before_the_register_say_so():
    stale = {"fct_dsar_requests": ["dsar_requests"]}
    section = model.requests_section(SectionData("requests", stale=stale))
    assert section.state == "not_built"
    assert "steward.fct_dsar_requests (since: steward.dsar_requests)" in section.message
    assert "dbt build --select path:models/marts/dsar" in section.hint


def test_valid_rate_axis_runs_from_0_to_100_percent():
    snapshots = [
        {
            "taken_on": dt.date(2026, 11, day),
            "phone_valid_rate": 0.97,
            "phone_duplicate_groups": 3,
            "inactive_numbers": 5,
            "dnc_violations": 4,
        }
        for day in (1, 2, 3)
    ]
    trends = phones_view._phone_trends(snapshots)
    rate = next(c for c in trends if c.title == "Valid rate over nights")
    assert ">0%</text>" in rate.svg and ">100%</text>" in rate.svg
    assert "197%" not in rate.svg


def test_days_left_tones():
    assert view.days_left_cell(None).text == "–"
    assert view.days_left_cell(0).tone == model.WARN
    assert view.days_left_cell(8).tone == ""


def test_catalogue_gaps_undeclared_first_and_escaped():
    data = {
        "by_category": [
            {
                "category": "user.contact.email",
                "source_system": "crm",
                "status": "confirmed",
                "columns": 2,
            },
            {
                "category": "user.contact.email",
                "source_system": "crm",
                "status": "suggested",
                "columns": 1,
            },
        ],
        "statuses": {"confirmed": 2, "suggested": 1},
        "gap_counts": {"undeclared": 1},
        "gaps": [
            {
                "drift_kind": "undeclared",
                "schema_name": "crm",
                "table_name": "t",
                "column_name": "<b>x</b>",
                "declared_category": None,
                "found_categories": "user.contact.email",
                "confidence": 0.9,
                "detail": "d",
            }
        ],
    }
    section = model.catalogue_section(SectionData("catalogue", data=data))
    assert section.tables[0].rows[0][0].tone == model.BAD
    assert section.tables[1].rows[0][2].text == "2"
    html = render.render_page(model.Dashboard(NOW, [section]))
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert not re.search(r"<script", html)


def test_retention_stops_awaiting_approval():
    history = [
        {
            "run_id": "r1",
            "started_at": NOW,
            "run_mode": "apply",
            "run_status": "done",
            "policy_name": "telephony.calls",
            "retention_action": "delete",
            "policy_status": "stopped_by_breaker",
            "overdue_rows": 50,
            "held_rows": 0,
            "due_rows": 50,
            "deleted": 0,
            "anonymised": 0,
            "files_removed": 0,
        },
        {
            "run_id": "r1",
            "started_at": NOW,
            "run_mode": "apply",
            "run_status": "done",
            "policy_name": "crm.customers",
            "retention_action": "anonymise",
            "policy_status": "done",
            "overdue_rows": 4,
            "held_rows": 1,
            "due_rows": 3,
            "deleted": 0,
            "anonymised": 3,
            "files_removed": 2,
        },
    ]
    stops = [
        {
            "policy_name": "telephony.calls",
            "started_at": NOW,
            "due_rows": 50,
            "table_rows": 100,
            "due_share": 0.5,
            "approved": False,
        }
    ]
    data = {"history": history, "stops": stops, "backlog": [], "backlog_source": None}
    section = model.retention_section(SectionData("retention", data=data))
    metrics = {m.label: m for m in section.metrics}
    assert metrics["Breaker stops awaiting approval"].value == "1"
    assert metrics["Breaker stops awaiting approval"].tone == model.BAD
    assert metrics["Anonymised, latest run"].value == "3"
    assert metrics["Files removed, latest run"].value == "2"
    assert section.tables[0].rows[0][-1].text == "awaiting approval"


def test_quality_link_to_data_docs_only_when_given():
    data = {
        "suites": [
            {
                "suite": "phone_quality",
                "run_at": NOW,
                "expectations": 4,
                "passed": 4,
                "failed_checks": "",
            }
        ],
        "nightly": [],
    }
    with_docs = model.quality_section(SectionData("quality", data=data), "data-docs/index.html")
    assert with_docs.links[0].href == "data-docs/index.html"
    assert model.quality_section(SectionData("quality", data=data), None).links == []


def test_safe_file_stays_inside_its_folder(tmp_path: Path):
    root = tmp_path / "docs"
    (root / "static").mkdir(parents=True)
    (root / "index.html").write_text("ok")
    (root / "static" / "a.css").write_text("ok")
    (tmp_path / "secret").write_text("no")
    (root / "link").symlink_to(tmp_path / "secret")
    assert safe_file(root, "index.html") == (root / "index.html").resolve()
    assert safe_file(root, "static/a.css") is not None
    for attempt in (
        "../secret",
        "static/../../secret",
        "link",
        "/etc/passwd",
        "static",
        "a\0b",
        "missing.html",
    ):
        assert safe_file(root, attempt) is None, attempt
    assert safe_file(tmp_path / "absent", "index.html") is None
