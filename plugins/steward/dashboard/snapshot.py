"""The nightly snapshot: the day's aggregate figures in ``steward.dashboard_snapshots``.

The marts hold today's state only; one row a day here is what lets the page draw
phone quality (and the catalogue, and the requests) as a trend over nights. The
nightly DAG calls :func:`snapshot` at its end; running it twice a day replaces
the day's row. Figures of marts that do not exist yet are stored as NULL.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import sqlalchemy as sa

from steward import schema, warehouse
from steward.dashboard import queries

log = logging.getLogger(__name__)


def figures(read: dict[str, Any]) -> dict[str, Any]:
    """The snapshot's figures from :func:`steward.dashboard.queries.read_all` (None: not built)."""
    sections = read["sections"]
    row: dict[str, Any] = dict.fromkeys(queries.SNAPSHOT_COLUMNS[1:])
    phones = sections["phones"]
    if phones.ready:
        data = phones.data
        row["phone_records"] = data["records"]
        row["phone_valid_rate"] = data["valid"] / data["records"] if data["records"] else None
        row["phone_duplicate_groups"] = data["duplicate_groups"]
        row["inactive_numbers"] = sum(int(r["records"]) for r in data["inactive"])
        if data["dnc_violations"] is not None:
            row["dnc_violations"] = sum(int(r["calls"]) for r in data["dnc_violations"])
        row["recording_consent_violations"] = data["recording_consent_violations"]
        if data["customer_duplicate_clusters"] is not None:
            row["customer_duplicate_clusters"] = data["customer_duplicate_clusters"]["clusters"]
    catalogue = sections["catalogue"]
    if catalogue.ready:
        row["catalogue_confirmed"] = catalogue.data["statuses"].get("confirmed", 0)
        row["catalogue_suggested"] = catalogue.data["statuses"].get("suggested", 0)
        row["catalogue_gaps"] = catalogue.data["gap_counts"].get("undeclared", 0) + (
            catalogue.data["gap_counts"].get("category_mismatch", 0)
        )
    requests = sections["requests"]
    if requests.ready:
        by_status = requests.data["open_by_status"]
        row["open_requests"] = sum(int(r["requests"]) for r in by_status)
        row["overdue_requests"] = sum(int(r["overdue"]) for r in by_status)
    return row


def snapshot(url: str | None = None, taken_on: dt.date | None = None) -> dict[str, Any]:
    """Store today's figures (replacing today's row); return them, JSON-serialisable."""
    engine = warehouse.engine(url)
    schema.upgrade(engine)
    row = figures(queries.read_all(engine))
    day = taken_on or dt.datetime.now(dt.UTC).date()
    columns = list(row)
    assignments = ", ".join(f"{c} = excluded.{c}" for c in columns)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                f"insert into steward.dashboard_snapshots (taken_on, {', '.join(columns)})"
                f" values (:taken_on, {', '.join(':' + c for c in columns)})"
                f" on conflict (taken_on) do update set {assignments},"
                " taken_at = clock_timestamp()"
            ),
            {"taken_on": day, **row},
        )
    built = sorted(k for k, v in row.items() if v is not None)
    log.info("dashboard snapshot for %s: %d figures", day, len(built))
    return {"taken_on": day.isoformat(), **row}
