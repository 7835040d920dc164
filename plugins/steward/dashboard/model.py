"""The view model: what each section shows, as text, tones and SVG, before any HTML.

:func:`build_dashboard` takes what :func:`steward.dashboard.queries.read_all`
read and decides everything a reader sees: the figures and how they are
formatted, which are red, which charts, and, for a section whose marts do not
exist yet or are empty, which command to run instead. ``render`` only lays it out.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from steward.dashboard import charts
from steward.dashboard.phones_view import PHONES_HINT, phones_section
from steward.dashboard.queries import SectionData
from steward.dashboard.requests_view import REQUESTS_HINT, requests_section
from steward.dashboard.view import (
    BAD,
    GOOD,
    WARN,
    Cell,
    Chart,
    Dashboard,
    Link,
    Metric,
    Section,
    Table,
    count,
    day,
    num,
    share,
    unavailable,
)

RETENTION_NIGHTS_LISTED = 7
STATUS_ORDER = ("confirmed", "suggested")

HINTS = {
    "catalogue": (
        "Run the PII scan and build the catalogue marts: `steward catalogue scan --persist`, "
        "then `dbt build --select path:models/marts/catalogue` (the nightly DAG "
        "`steward_nightly` does both)."
    ),
    "retention": (
        "Run retention once: `steward retention run` (a dry run, changes nothing) records "
        "the plan per policy and builds the retention marts (`dbt build --select "
        "path:models/marts/retention`); `steward retention run --apply` deletes and "
        "anonymises. The nightly DAG `steward_nightly` runs it every night."
    ),
    "phones": PHONES_HINT,
    "requests": REQUESTS_HINT,
    "quality": (
        "No Great Expectations results yet: `steward quality run` (after the phone marts) "
        "validates the `phone_quality` suite, builds the Data Docs and records each "
        "expectation in `steward.quality_results`; `dbt build --select "
        "path:models/marts/quality` builds the views this section reads. The nightly DAG "
        "`steward_nightly` runs both."
    ),
}


def catalogue_section(data: SectionData) -> Section:
    section = Section("catalogue", "PII catalogue")
    if unavailable(section, data, HINTS[section.key]):
        return section
    figures = data.data
    statuses = figures["statuses"]
    gap_counts = figures["gap_counts"]
    if not statuses:
        section.state = "empty"
        section.message = "The catalogue is empty: no scan has been stored yet."
        section.hint = HINTS["catalogue"]
        return section
    undeclared = gap_counts.get("undeclared", 0)
    section.metrics = [
        Metric("Gaps: undeclared columns", count(undeclared), BAD if undeclared else GOOD),
        Metric(
            "Gaps: category mismatches",
            count(gap_counts.get("category_mismatch", 0)),
            WARN if gap_counts.get("category_mismatch") else GOOD,
        ),
        Metric("Declared, no evidence", count(gap_counts.get("no_evidence", 0))),
        Metric("Confirmed", count(statuses.get("confirmed", 0))),
        Metric("Suggested (awaiting review)", count(statuses.get("suggested", 0))),
        Metric("Rejected", count(statuses.get("rejected", 0))),
    ]
    section.tables.append(_gaps_table(figures["gaps"], sum(gap_counts.values())))
    by_category: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_source: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in figures["by_category"]:
        by_category[row["category"]][row["status"]] += int(row["columns"])
        by_source[row["source_system"]][row["status"]] += int(row["columns"])
    for title, groups in (
        ("Personal-data columns by category", by_category),
        ("Personal-data columns by source system", by_source),
    ):
        labels = sorted(groups, key=lambda k: (-sum(groups[k].values()), k))
        section.charts.append(
            Chart(
                title,
                charts.stacked_bar_chart(
                    labels,
                    {status: [groups[k][status] for k in labels] for status in STATUS_ORDER},
                    title,
                    colors=(charts.PALETTE[2], charts.PALETTE[1]),
                ),
            )
        )
    section.tables.append(
        Table(
            "Columns by category and source system",
            ["Category", "Source system", "Confirmed", "Suggested"],
            _category_rows(figures["by_category"]),
            empty="No personal-data column is catalogued.",
        )
    )
    return section


def _gaps_table(gaps: Sequence[dict[str, Any]], total: int) -> Table:
    rows = []
    for gap in gaps:
        tone = BAD if gap["drift_kind"] == "undeclared" else WARN
        if gap["drift_kind"] == "no_evidence":
            tone = ""
        confidence = gap.get("confidence")
        rows.append(
            [
                Cell(gap["drift_kind"].replace("_", " "), tone),
                Cell(f"{gap['schema_name']}.{gap['table_name']}.{gap['column_name']}"),
                Cell(gap.get("declared_category") or "–"),
                Cell(gap.get("found_categories") or "–"),
                Cell("–" if confidence is None else f"{float(confidence):.2f}", numeric=True),
                Cell(gap.get("detail") or ""),
            ]
        )
    note = f"Showing {len(rows):,} of {total:,}." if total > len(rows) else ""
    return Table(
        "Governance gaps (undeclared first)",
        ["Gap", "Column", "Declared", "Found", "Confidence", "Detail"],
        rows,
        empty="No gaps: the data map and the catalogue agree.",
        note=note,
    )


def _category_rows(rows: Sequence[dict[str, Any]]) -> list[list[Cell]]:
    pivot: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        pivot[(row["category"], row["source_system"])][row["status"]] += int(row["columns"])
    return [
        [Cell(category), Cell(source), num(counts["confirmed"]), num(counts["suggested"])]
        for (category, source), counts in sorted(pivot.items())
    ]


def retention_section(data: SectionData) -> Section:
    section = Section("retention", "Retention")
    if unavailable(section, data, HINTS[section.key]):
        return section
    figures = data.data
    history = figures["history"]
    if not history:
        section.state = "empty"
        section.message = "No retention run is recorded yet."
        section.hint = HINTS["retention"]
        return section
    awaiting = [stop for stop in figures["stops"] if not stop["approved"]]
    backlog_due = sum(int(row["due_rows"]) for row in figures["backlog"])
    nights = _retention_nights(history)
    latest_night = nights[-1]
    section.metrics = [
        Metric(
            "Breaker stops awaiting approval",
            count(len(awaiting)),
            BAD if awaiting else GOOD,
            "approve with `steward retention approve POLICY`" if awaiting else "",
        ),
        Metric("Backlog: rows due", count(backlog_due), WARN if backlog_due else GOOD),
        Metric("Deleted, latest run", count(latest_night["deleted"])),
        Metric("Anonymised, latest run", count(latest_night["anonymised"])),
        Metric("Held back, latest run", count(latest_night["held"])),
        Metric("Files removed, latest run", count(latest_night["files"])),
    ]
    labels = [night["label"] for night in nights]
    section.charts.append(
        Chart(
            "Rows deleted and anonymised per run",
            charts.stacked_bar_chart(
                labels,
                {
                    "deleted": [night["deleted"] for night in nights],
                    "anonymised": [night["anonymised"] for night in nights],
                },
                "Rows deleted and anonymised per run",
            ),
        )
    )
    section.tables.append(
        Table(
            "Circuit-breaker stops",
            ["Policy", "Stopped by run of", "Rows due", "Share of table", "State"],
            [
                [
                    Cell(stop["policy_name"]),
                    Cell(day(stop["started_at"])),
                    num(stop["due_rows"]),
                    Cell(share(stop["due_rows"], stop["table_rows"]), numeric=True),
                    Cell("approved, next applied run")
                    if stop["approved"]
                    else Cell("awaiting approval", BAD),
                ]
                for stop in figures["stops"]
            ],
            empty="No policy is stopped at the circuit breaker.",
        )
    )
    source = "retention plan" if figures["backlog_source"] == "plan" else "latest run"
    section.tables.append(
        Table(
            f"Backlog per policy (from the {source})",
            ["Policy", "Overdue", "Held back", "Due", "Share of table"],
            [
                [
                    Cell(row["policy_name"]),
                    num(row["overdue_rows"]),
                    num(row["held_rows"]),
                    num(row["due_rows"], WARN if row["due_rows"] else ""),
                    Cell(share(row["due_rows"], row["table_rows"]), numeric=True),
                ]
                for row in figures["backlog"]
            ],
            empty="Nothing overdue.",
        )
    )
    recent = {night["run_id"] for night in nights[-RETENTION_NIGHTS_LISTED:]}
    section.tables.append(
        Table(
            f"Per policy, last {len(recent)} run(s)",
            [
                "Run",
                "Mode",
                "Policy",
                "Status",
                "Deleted",
                "Anonymised",
                "Held back",
                "Files removed",
            ],
            [
                [
                    Cell(day(row["started_at"])),
                    Cell(str(row["run_mode"]).replace("_", " ")),
                    Cell(row["policy_name"]),
                    Cell(
                        str(row["policy_status"]).replace("_", " "),
                        BAD if row["policy_status"] == "stopped_by_breaker" else "",
                    ),
                    num(row["deleted"]),
                    num(row["anonymised"]),
                    num(row["held_rows"]),
                    num(row["files_removed"]),
                ]
                for row in reversed(history)
                if row["run_id"] in recent
            ],
        )
    )
    return section


def _retention_nights(history: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per run (oldest first): its label and totals over policies."""
    nights: dict[str, dict[str, Any]] = {}
    for row in history:
        night = nights.setdefault(
            row["run_id"],
            {
                "run_id": row["run_id"],
                "label": day(row["started_at"])
                + (" (dry)" if row["run_mode"] not in ("apply", "applied") else ""),
                "deleted": 0,
                "anonymised": 0,
                "held": 0,
                "files": 0,
            },
        )
        night["deleted"] += int(row["deleted"])
        night["anonymised"] += int(row["anonymised"])
        night["held"] += int(row["held_rows"])
        night["files"] += int(row["files_removed"])
    return list(nights.values())


def quality_section(data: SectionData, data_docs_href: str | None) -> Section:
    section = Section("quality", "Data quality")
    if data_docs_href:
        section.links.append(Link("Great Expectations Data Docs", data_docs_href))
    if unavailable(section, data, HINTS[section.key]):
        return section
    figures = data.data
    suites = figures["suites"]
    if not suites:
        section.state = "empty"
        section.message = "No expectation suite has been run yet."
        section.hint = HINTS["quality"]
        return section
    expectations = sum(int(row["expectations"]) for row in suites)
    passed = sum(int(row["passed"]) for row in suites)
    failing_suites = sum(1 for row in suites if int(row["passed"]) < int(row["expectations"]))
    section.metrics = [
        Metric("Suites", count(len(suites))),
        Metric("Suites with failures", count(failing_suites), BAD if failing_suites else GOOD),
        Metric(
            "Expectations passed (latest runs)",
            share(passed, expectations),
            GOOD if passed == expectations else BAD,
            f"{passed:,} of {expectations:,}",
        ),
    ]
    section.tables.append(
        Table(
            "Latest result per suite",
            ["Suite", "Run", "Expectations", "Passed", "Failed", "Pass rate", "Failing checks"],
            [
                [
                    Cell(str(row["suite"])),
                    Cell(day(row["run_at"])),
                    num(row["expectations"]),
                    num(row["passed"]),
                    num(
                        int(row["expectations"]) - int(row["passed"]),
                        BAD if int(row["passed"]) < int(row["expectations"]) else "",
                    ),
                    Cell(share(row["passed"], row["expectations"]), numeric=True),
                    Cell(row["failed_checks"] or "–", BAD if row["failed_checks"] else ""),
                ]
                for row in suites
            ],
        )
    )
    nightly = figures["nightly"]
    section.charts.append(
        Chart(
            "Expectations passed per night",
            charts.line_chart(
                [
                    (day(row["night"]), int(row["passed"]) / int(row["expectations"]))
                    for row in nightly
                    if int(row["expectations"])
                ],
                "Expectations passed per night",
                height=130,
                value_format=lambda v: f"{v:.0%}",
                y_min=0.0,
                y_max=1.0,
            ),
        )
    )
    return section


def build_dashboard(
    read: dict[str, Any],
    *,
    generated_at: dt.datetime | None = None,
    data_docs_href: str | None = None,
    static: bool = False,
) -> Dashboard:
    """The whole page's view model from :func:`steward.dashboard.queries.read_all`."""
    sections = read["sections"]
    return Dashboard(
        generated_at=generated_at or dt.datetime.now(dt.UTC),
        static=static,
        sections=[
            catalogue_section(sections["catalogue"]),
            retention_section(sections["retention"]),
            phones_section(sections["phones"], read.get("snapshots", [])),
            requests_section(sections["requests"]),
            quality_section(sections["quality"], data_docs_href),
            *_governance_sections(sections),
        ],
    )


def _governance_sections(sections: dict) -> list[Section]:
    """Access, breaches and redaction (steward.dashboard.governance, its own module)."""
    from steward.dashboard import governance

    return governance.sections(sections)
