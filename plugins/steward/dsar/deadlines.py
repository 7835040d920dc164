"""Deadline watch: open requests due soon or overdue, and SLA figures for the dashboard.

:func:`run` counts open requests due within ``within_days`` and overdue ones
(request ids only, no identifiers), hands the report to a notifier, and stores
the day's SLA figures (median days to complete, share completed on time) in
``steward.dsar_sla_daily``. The notifier is pluggable: ``STEWARD_DSAR_NOTIFIER``
names a ``module:callable`` taking the report dict; by default it is logged.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import os
from collections.abc import Callable

import sqlalchemy as sa

from steward import warehouse
from steward.dsar import register

log = logging.getLogger(__name__)

NOTIFIER_ENV = "STEWARD_DSAR_NOTIFIER"
DEFAULT_WITHIN_DAYS = 7


def log_notifier(report: dict) -> None:
    """The default notifier: one log line (ids and counts only)."""
    log.warning(
        "data-subject requests: %d overdue %s, %d due within %d days %s",
        len(report["overdue"]),
        report["overdue"],
        len(report["due_soon"]),
        report["within_days"],
        report["due_soon"],
    )


def notifier() -> Callable[[dict], None]:
    configured = os.environ.get(NOTIFIER_ENV)
    if not configured:
        return log_notifier
    module_name, _, attribute = configured.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def report(engine: sa.Engine, today: dt.date, within_days: int = DEFAULT_WITHIN_DAYS) -> dict:
    register.ensure_register(engine)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select request_id, due_on from steward.dsar_requests"
                " where status <> all(cast(:finished as text[])) order by due_on, request_id"
            ),
            {"finished": sorted(register.TERMINAL)},
        ).all()
        sla = conn.execute(
            sa.text(
                "select count(*) as completed,"
                " count(*) filter (where completed_at::date <= due_on) as on_time,"
                " percentile_cont(0.5) within group"
                "  (order by completed_at::date - received_on) as median_days"
                " from steward.dsar_requests where status = 'completed'"
            )
        ).one()
    overdue = [row.request_id for row in rows if row.due_on < today]
    due_soon = [
        row.request_id
        for row in rows
        if today <= row.due_on <= today + dt.timedelta(days=within_days)
    ]
    return {
        "as_of": today.isoformat(),
        "within_days": within_days,
        "open_requests": len(rows),
        "overdue": overdue,
        "due_soon": due_soon,
        "completed": int(sla.completed),
        "completed_on_time": int(sla.on_time),
        "share_on_time": round(sla.on_time / sla.completed, 4) if sla.completed else None,
        "median_days_to_complete": float(sla.median_days) if sla.median_days is not None else None,
    }


def run(
    url: str | None = None, today: dt.date | None = None, within_days: int = DEFAULT_WITHIN_DAYS
) -> dict:
    """Report, notify, store the day's SLA row; return the report (JSON-serialisable)."""
    engine = warehouse.engine(url)
    today = today or dt.date.today()
    result = report(engine, today, within_days)
    notifier()(result)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into steward.dsar_sla_daily (as_of, open_requests, due_soon, overdue,"
                " completed, completed_on_time, share_on_time, median_days_to_complete)"
                " values (:as_of, :open, :soon, :overdue, :completed, :on_time, :share, :median)"
                " on conflict (as_of) do update set open_requests = excluded.open_requests,"
                " due_soon = excluded.due_soon, overdue = excluded.overdue,"
                " completed = excluded.completed, completed_on_time = excluded.completed_on_time,"
                " share_on_time = excluded.share_on_time,"
                " median_days_to_complete = excluded.median_days_to_complete, recorded_at = now()"
            ),
            {
                "as_of": today,
                "open": result["open_requests"],
                "soon": len(result["due_soon"]),
                "overdue": len(result["overdue"]),
                "completed": result["completed"],
                "on_time": result["completed_on_time"],
                "share": result["share_on_time"],
                "median": result["median_days_to_complete"],
            },
        )
    return result
