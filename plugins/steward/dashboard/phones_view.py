"""The dashboard's phone-quality section: valid rate, duplicates, inactive numbers, DNC.

Figures from the mart ``steward.phone_quality_figures`` (and the dedupe clusters'
counts), trends from the nightly snapshots.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from steward.dashboard import charts
from steward.dashboard.queries import SectionData
from steward.dashboard.view import (
    BAD,
    GOOD,
    WARN,
    Chart,
    Metric,
    Section,
    count,
    day,
    unavailable,
)

VALID_RATE_TARGET = 0.95  # below this share of valid numbers the rate shows amber
PHONES_HINT = (
    "Normalise the phone numbers and build the phone marts: `steward phones refresh`, "
    "then `dbt build --select path:models/marts/phones` (the nightly DAG "
    "`steward_nightly` does both)."
)


def phones_section(data: SectionData, snapshots: Sequence[dict[str, Any]]) -> Section:
    section = Section("phones", "Phone quality")
    if unavailable(section, data, PHONES_HINT):
        return section
    figures = data.data
    if not figures["records"]:
        section.state = "empty"
        section.message = "No phone record in the marts yet."
        section.hint = PHONES_HINT
        return section
    rate = figures["valid"] / figures["records"]
    inactive_total = sum(int(row["records"]) for row in figures["inactive"])
    dnc = figures["dnc_violations"]
    dnc_total = None if dnc is None else sum(int(row["calls"]) for row in dnc)
    consent = figures["recording_consent_violations"]
    clusters = figures["customer_duplicate_clusters"]
    section.metrics = [
        Metric(
            "Valid rate",
            f"{rate:.1%}",
            GOOD if rate >= VALID_RATE_TARGET else WARN,
            f"{figures['valid']:,} of {figures['records']:,} records",
        ),
        Metric(
            "Duplicate groups",
            count(figures["duplicate_groups"]),
            WARN if figures["duplicate_groups"] else GOOD,
            f"{figures['duplicate_records']:,} records",
        ),
        Metric("Inactive numbers", count(inactive_total), WARN if inactive_total else GOOD),
        Metric(
            "DNC violations",
            count(dnc_total),
            BAD if dnc_total else ("" if dnc_total is None else GOOD),
            "not built" if dnc_total is None else "outbound calls",
        ),
        Metric(
            "Recording-consent violations",
            count(consent),
            BAD if consent else ("" if consent is None else GOOD),
            "not built" if consent is None else "",
        ),
        Metric(
            "Customer duplicate clusters",
            count(None if clusters is None else clusters["clusters"]),
            "",
            "not built" if clusters is None else f"{clusters['members']:,} customers",
        ),
    ]
    section.charts.extend(_phone_trends(snapshots))
    section.charts.append(
        Chart(
            "Phone records by parse status",
            charts.bar_chart(
                [
                    (row["parse_status"] or "unknown", row["records"])
                    for row in figures["parse_statuses"]
                ],
                "Phone records by parse status",
            ),
        )
    )
    if figures["inactive"]:
        section.charts.append(
            Chart(
                "Inactive numbers by reason",
                charts.bar_chart(
                    [
                        (str(row["inactive_reason"]).replace("_", " "), row["records"])
                        for row in figures["inactive"]
                    ],
                    "Inactive numbers by reason",
                    color=charts.PALETTE[1],
                ),
            )
        )
    if dnc:
        section.charts.append(
            Chart(
                "DNC violations by reason",
                charts.bar_chart(
                    [(str(row["violation_reason"]).replace("_", " "), row["calls"]) for row in dnc],
                    "DNC violations by reason",
                    color="#c53030",
                ),
            )
        )
    return section


def _rate(value: float) -> str:
    """A share: whole ends of the axis without decimals, nights with one."""
    return f"{value:.0%}" if value in (0, 1) else f"{value:.1%}"


def _phone_trends(snapshots: Sequence[dict[str, Any]]) -> list[Chart]:
    """Trend lines over the nightly snapshots (one point per night)."""
    labels = [day(row["taken_on"]) for row in snapshots]
    specs = (
        ("Valid rate over nights", "phone_valid_rate", _rate, True),
        ("Duplicate groups over nights", "phone_duplicate_groups", None, False),
        ("Inactive numbers over nights", "inactive_numbers", None, False),
        ("DNC violations over nights", "dnc_violations", None, False),
    )
    trends = []
    for title, column, value_format, is_rate in specs:
        points = [
            (label, None if row[column] is None else float(row[column]))
            for label, row in zip(labels, snapshots, strict=True)
        ]
        kwargs: dict[str, Any] = {"value_format": value_format} if value_format else {}
        if is_rate:  # a share: the axis runs from 0 % to 100 %, whatever the nights were
            kwargs.update(y_min=0.0, y_max=1.0)
        trends.append(Chart(title, charts.line_chart(points, title, height=130, **kwargs)))
    return trends
