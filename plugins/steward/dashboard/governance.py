"""The dashboard's access, breach and free-text redaction sections (kept apart).

``READERS`` plug into :data:`steward.dashboard.queries.SECTIONS`; :func:`sections`
into :func:`steward.dashboard.model.build_dashboard`. Counts, role names, law
codes and times only: never a subject.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from steward.dashboard.view import (
    BAD,
    GOOD,
    WARN,
    Cell,
    Metric,
    Section,
    Table,
    count,
    day,
    num,
    unavailable,
)

ACCESS_TABLES = ("governed_views_by_role", "access_review_by_role")
BREACH_TABLES = ("breach_deadlines", "breach_clock_summary")
# Views over the redaction runner's tables (models/marts/redaction).
REDACTION_TABLES = ("redaction_last_run", "redaction_last_run_columns", "pci_violation_columns")
HINTS = {
    "redaction": "Redact card data in free text: `steward redact plan`, then"
    " `steward redact run --apply` (the nightly DAG runs a dry run);"
    " `dbt build --select path:models/marts/redaction` builds the views this section reads.",
    "access": "Apply the role policy: `steward access apply` (the nightly DAG does it too);"
    " it builds the marts of `models/marts/access` this section reads.",
    "breaches": "Assess an incident: `steward breach assess` or the DAG steward_breach;"
    " `dbt build --select path:models/marts/breach` builds the views this section reads.",
}
OPEN_NOTICES_SHOWN = 20


def _rows(conn: sa.Connection, statement: str) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(sa.text(statement)).mappings()]


def read_access(conn: sa.Connection, tables: dict[str, set[str]]) -> dict[str, Any]:
    """The access marts' counts (models/marts/access): governed views, reviewed reads per role."""
    roles = _rows(
        conn,
        "select database_role, view_count as views, masked_columns as masked,"
        " hashed_columns as hashed, hidden_columns as hidden"
        " from steward.governed_views_by_role order by database_role",
    )
    reads = _rows(
        conn,
        "select role_name, access_kind, object_kind, is_allowed, column_count, members"
        " from steward.access_review_by_role",
    )
    violations: dict[tuple[str, str], dict[str, Any]] = {}
    for row in reads:
        if row["is_allowed"]:
            continue
        key = (row["role_name"], row["access_kind"])
        # members: the role's login members, the same on each of its rows.
        entry = violations.setdefault(
            key,
            {"role_name": key[0], "access_kind": key[1], "columns": 0, "members": row["members"]},
        )
        entry["columns"] += int(row["column_count"])
    direct = {row["role_name"] for row in reads if row["object_kind"] == "source_table"}
    return {
        "roles": roles,
        "violations": sorted(violations.values(), key=lambda v: (-v["columns"], v["role_name"])),
        "roles_reading_directly": len(direct),
    }


def read_breaches(conn: sa.Connection, tables: dict[str, set[str]]) -> dict[str, Any]:
    notices = _rows(
        conn,
        "select incident_id, reference, incident_status, law_code, recipient, affected,"
        " due_at, hours_left, clock_state, citation from steward.breach_deadlines"
        " where clock_state <> 'given'"
        " order by due_at nulls last, incident_id, law_code"
        f" limit {OPEN_NOTICES_SHOWN}",
    )
    clock = _rows(
        conn,
        "select open_incidents, overdue_notices as overdue, pending_notices as pending"
        " from steward.breach_clock_summary",
    )[0]
    return {"notices": notices, **clock}


def read_redaction(conn: sa.Connection, tables: dict[str, set[str]]) -> dict[str, Any]:
    """The redaction marts (models/marts/redaction): the last applied run, its plan by
    column, PCI violations (counts only).

    A dry run writes nothing (its plan is rolled back), so these are applied runs.
    """
    last = _rows(
        conn,
        "select run_id, status, started_at, finished_at, applied_runs, rows_changed"
        " from steward.redaction_last_run",
    )
    last_run = last[0] if last else None
    places = _rows(
        conn,
        "select column_location as location, planned_rows as planned, done_rows as done,"
        " reported_rows as reported, held_rows as held"
        " from steward.redaction_last_run_columns order by 1",
    )
    violations = _rows(
        conn,
        "select column_location as location, full_card_rows, held_rows, truncated_rows,"
        " checked_at, is_approved as approved from steward.pci_violation_columns order by 1",
    )
    return {
        "last_run": last_run,
        "runs": int(last_run["applied_runs"]) if last_run else 0,
        "places": places,
        "rows_changed": last_run["rows_changed"] if last_run else None,
        "violations": violations,
    }


READERS = (
    ("access", read_access, ACCESS_TABLES),
    ("breaches", read_breaches, BREACH_TABLES),
    ("redaction", read_redaction, REDACTION_TABLES),
)


def access_section(data):

    section = Section("access", "Access to personal data")
    if unavailable(section, data, HINTS[section.key]):
        return section
    figures = data.data
    violations = figures["violations"]
    section.metrics = [
        Metric("Governed views", count(sum(int(r["views"]) for r in figures["roles"]))),
        Metric("Roles reading source tables", count(figures["roles_reading_directly"])),
        Metric(
            "Policy violations",
            count(sum(int(r["columns"]) for r in violations)),
            BAD if violations else GOOD,
        ),
    ]
    section.tables.append(
        Table(
            "Personal columns by role (governed views)",
            ["Role", "Views", "Masked", "Hashed", "Hidden"],
            [
                [
                    Cell(r["database_role"]),
                    num(r["views"]),
                    num(r["masked"]),
                    num(r["hashed"]),
                    num(r["hidden"]),
                ]
                for r in figures["roles"]
            ],
        )
    )
    section.tables.append(
        Table(
            "Access review: reads the policy does not allow",
            ["Role", "How", "Columns", "Login members"],
            [
                [
                    Cell(r["role_name"]),
                    Cell(str(r["access_kind"]).replace("_", " ")),
                    num(r["columns"], BAD),
                    Cell(r["members"] or "–"),
                ]
                for r in violations
            ],
            empty="None: every direct read of personal data is allowed by the policy.",
        )
    )
    return section


def breach_section(data):

    section = Section("breaches", "Breaches")
    if unavailable(section, data, HINTS[section.key]):
        return section
    figures = data.data
    if not figures["open_incidents"]:
        section.state = "empty"
        section.message = "No open breach incident."
        section.hint = HINTS["breaches"]
        return section
    section.metrics = [
        Metric("Open incidents", count(figures["open_incidents"])),
        Metric("Notices pending", count(figures["pending"])),
        Metric("Overdue", count(figures["overdue"]), BAD if figures["overdue"] else GOOD),
    ]
    rows = []
    for notice in figures["notices"]:
        hours = notice["hours_left"]
        if notice["clock_state"] == "without_undue_delay":
            clock = Cell("without undue delay", WARN)
        elif hours is not None and hours < 0:
            clock = Cell(f"overdue by {-float(hours):,.1f} h", BAD, numeric=True)
        else:
            clock = Cell(
                f"{float(hours):,.1f} h", WARN if hours is not None and hours < 24 else "", True
            )
        rows.append(
            [
                Cell(f"#{notice['incident_id']} {notice['reference']}"),
                Cell(notice["law_code"]),
                Cell(str(notice["recipient"]).replace("_", " ")),
                Cell(count(notice["affected"]), numeric=True),
                Cell(day(notice["due_at"])),
                clock,
            ]
        )
    section.tables.append(
        Table(
            "Required notices with the clock running",
            ["Incident", "Law", "Recipient", "People", "Due", "Time left"],
            rows,
        )
    )
    return section


def redaction_section(data):

    section = Section("redaction", "Card data in free text")
    if unavailable(section, data, HINTS[section.key]):
        return section
    figures = data.data
    last = figures["last_run"]
    if last is None and not figures["violations"]:
        section.state = "empty"
        section.message = "No applied redaction run yet (a dry run changes and records nothing)."
        section.hint = HINTS["redaction"]
        return section
    places, violations = figures["places"], figures["violations"]
    open_violations = sum(int(v["full_card_rows"]) for v in violations)
    held = sum(int(p["held"]) for p in places)
    section.metrics = [
        Metric(
            "Last applied run",
            day(last["finished_at"] or last["started_at"]) if last else "–",
            WARN if last and last["status"] != "finished" else "",
            note=(f"run #{last['run_id']}, {last['status']}" if last else "no applied run yet"),
        ),
        Metric(
            "Rows rewritten",
            "–" if figures["rows_changed"] is None else count(figures["rows_changed"]),
        ),
        Metric("Held back by legal holds", count(held), WARN if held else ""),
        Metric(
            "Full card numbers in card columns",
            count(open_violations),
            BAD if open_violations else GOOD,
        ),
    ]
    section.tables.append(
        Table(
            "Candidate rows of the last applied run, by column",
            ["Column", "To redact", "Done", "Reported only", "Held (legal hold)"],
            [
                [
                    Cell(p["location"]),
                    num(p["planned"]),
                    num(p["done"]),
                    num(p["reported"], BAD if p["reported"] else ""),
                    num(p["held"], WARN if p["held"] else ""),
                ]
                for p in places
            ],
            empty="No candidate row in the last applied run.",
        )
    )
    section.tables.append(
        Table(
            "PCI violations: full card numbers in card-number columns",
            ["Column", "Full card numbers", "Held", "Truncated so far", "Truncation", "Checked"],
            [
                [
                    Cell(v["location"]),
                    num(v["full_card_rows"], BAD if v["full_card_rows"] else GOOD),
                    num(v["held_rows"]),
                    num(v["truncated_rows"]),
                    Cell(
                        "approved" if v["approved"] else "not approved",
                        "" if v["approved"] else WARN,
                    ),
                    Cell(day(v["checked_at"]) if v["checked_at"] else "–"),
                ]
                for v in violations
            ],
            empty="None recorded.",
        )
    )
    return section


def sections(read_sections: dict) -> list:
    """The governance sections whose data was read (absent in older readers' output)."""
    built = []
    if "access" in read_sections:
        built.append(access_section(read_sections["access"]))
    if "breaches" in read_sections:
        built.append(breach_section(read_sections["breaches"]))
    if "redaction" in read_sections:
        built.append(redaction_section(read_sections["redaction"]))
    return built
