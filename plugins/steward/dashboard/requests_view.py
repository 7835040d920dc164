"""The dashboard's requests section: open, overdue and stalled requests, outcomes, lists.

Everything from the dbt marts over the register (``models/marts/dsar``): no
identifier of a subject, only request ids, types, statuses and dates.
"""

from __future__ import annotations

from typing import Any

from steward.dashboard import charts
from steward.dashboard.queries import SectionData
from steward.dashboard.view import (
    BAD,
    GOOD,
    WARN,
    Cell,
    Chart,
    Metric,
    Section,
    Table,
    count,
    day,
    days_left_cell,
    num,
    share,
    unavailable,
)

REQUESTS_HINT = (
    "`steward dsar submit ...` registers a request (the Airflow DAG `steward_dsar` takes "
    "one from a form, `steward_dsar_intake` takes those a web form or the CRM inserted); "
    "`dbt build --select path:models/marts/dsar` builds the request marts this section "
    "reads (the nightly DAG `steward_nightly` does)."
)


OUTCOME_LABELS = {
    "completed_on_time": ("completed on time", GOOD),
    "completed_late": ("completed late", BAD),
    "rejected_invalid": ("rejected: failed validation", WARN),
    "rejected_unverified": ("rejected: identity not verified", WARN),
    "rejected_other": ("rejected", WARN),
}


def _open_status_cell(row: dict[str, Any]) -> Cell:
    status = str(row["status"]).replace("_", " ")
    if row["is_stalled"]:
        return Cell(f"{status}: stalled since {day(row['last_change_at'])}", BAD)
    return Cell(status)


def requests_section(data: SectionData) -> Section:
    section = Section("requests", "Requests")
    if unavailable(section, data, REQUESTS_HINT):
        return section
    figures = data.data
    if not figures["received"]:
        section.state = "empty"
        section.message = "No data-subject request has been received."
        section.hint = REQUESTS_HINT
        return section
    completed, on_time = figures["completed"], figures["completed_on_time"]
    section.metrics = [
        Metric("Open requests", count(figures["open_requests"])),
        Metric("Overdue", count(figures["overdue"]), BAD if figures["overdue"] else GOOD),
        Metric(
            "Stalled",
            count(figures["stalled"]),
            BAD if figures["stalled"] else GOOD,
            "received or in progress, unchanged for a day: a crashed run or never taken",
        ),
        Metric(
            "Completed on time",
            share(on_time, completed),
            "" if not completed else (GOOD if on_time == completed else WARN),
            f"{on_time:,} of {completed:,} completed"
            + (f", {figures['completed_late']:,} late" if figures["completed_late"] else ""),
        ),
        Metric(
            "Median days to complete",
            "–" if figures["median_days"] is None else f"{figures['median_days']:.1f}",
        ),
        Metric(
            "Failed validation",
            count(figures["rejected_invalid"]),
            WARN if figures["rejected_invalid"] else "",
            "rejected at intake, with the fields at fault",
        ),
        Metric(
            "Received",
            count(figures["received"]),
            "",
            f"{figures['rejected']:,} rejected ({figures['rejected_invalid']:,} invalid, "
            f"{figures['rejected_unverified']:,} identity not verified)",
        ),
    ]
    section.charts.append(
        Chart(
            "Open requests by status",
            charts.stacked_bar_chart(
                [str(row["status"]).replace("_", " ") for row in figures["open_by_status"]],
                {
                    "on time": [
                        int(row["requests"]) - int(row["overdue"])
                        for row in figures["open_by_status"]
                    ],
                    "overdue": [int(row["overdue"]) for row in figures["open_by_status"]],
                },
                "Open requests by status",
                colors=(charts.PALETTE[0], "#c53030"),
            ),
        )
    )
    outcomes = [(label, figures[key]) for key, (label, _) in OUTCOME_LABELS.items()]
    section.charts.append(
        Chart(
            "Closed requests by outcome",
            charts.bar_chart(
                [(label, value) for label, value in outcomes if value],
                "Closed requests by outcome",
            ),
        )
    )
    open_total = figures["open_requests"]
    shown = len(figures["open_requests_list"])
    section.tables.append(
        Table(
            "Open requests: stalled first, then by due date",
            ["Request", "Type", "Jurisdiction", "Status", "Received", "Due", "Days left"],
            [
                [
                    Cell(f"#{row['request_id']}"),
                    Cell(row["request_type"]),
                    Cell(row["jurisdiction"]),
                    _open_status_cell(row),
                    Cell(day(row["received_on"])),
                    Cell(
                        day(row["due_on"]),
                        BAD if row["days_left"] is not None and row["days_left"] < 0 else "",
                    ),
                    days_left_cell(row["days_left"]),
                ]
                for row in figures["open_requests_list"]
            ],
            empty="No open request.",
            note=f"The {shown:,} due first of {open_total:,}." if open_total > shown else "",
        )
    )
    closed_total = completed + figures["rejected"]
    closed_shown = len(figures["closed_requests"])
    section.tables.append(
        Table(
            "Closed requests: latest first",
            ["Request", "Type", "Jurisdiction", "Received", "Due", "Closed", "Days", "Outcome"],
            [
                [
                    Cell(f"#{row['request_id']}"),
                    Cell(row["request_type"]),
                    Cell(row["jurisdiction"]),
                    Cell(day(row["received_on"])),
                    Cell(day(row["due_on"])),
                    Cell(day(row["closed_on"])),
                    num(row["days_to_close"]),
                    Cell(*OUTCOME_LABELS.get(row["outcome"], (str(row["outcome"]), ""))),
                ]
                for row in figures["closed_requests"]
            ],
            empty="No request completed or rejected yet.",
            note=f"The latest {closed_shown:,} of {closed_total:,}."
            if closed_total > closed_shown
            else "",
        )
    )
    return section
