"""Which rows a legal hold keeps: dbt's answer, read, never re-implemented.

``intermediate.int_retention__held_rows`` (a view over every row of every
mapped table) applies the macro ``legal_hold_matches`` to the active holds of
``int_retention__active_holds``: the same definition retention uses for its
overdue rows. Reading it with the session setting ``steward.as_of`` set to now
makes a view built by a retention run with a fixed as-of answer for now.
"""

from __future__ import annotations

import logging

from steward import dbt_runner

log = logging.getLogger(__name__)

HELD_ROWS = ("intermediate", "int_retention__held_rows")
HELD_ROWS_SQL = "intermediate.int_retention__held_rows"
# Selectors of dbt_project/selectors.yml: the hold views, with or without the
# staging views they read.
SELECTOR = "legal_holds"
SELECTOR_WITH_STAGING = "legal_holds_with_staging"


class HoldsUnavailableError(RuntimeError):
    """The hold views cannot be built: nothing may be erased."""


def as_of_now(cursor) -> None:
    """Evaluate the hold views as of this transaction's start (transaction-local)."""
    cursor.execute("select set_config('steward.as_of', now()::text, true)")


def views_ready(cursor, tables: list[str]) -> bool:
    """Is the held-rows view there, and does it cover every table in ``tables``?"""
    cursor.execute("select to_regclass(%s) is not null", (HELD_ROWS_SQL,))
    if not cursor.fetchone()[0]:
        return False
    cursor.execute(
        "select pg_get_viewdef(%s::regclass)",
        ("intermediate.int_retention__rows",),
    )
    definition = cursor.fetchone()[0] or ""
    return all(f"'{name}'::text" in definition for name in tables)


def ensure_views(engine, url: str | None, tables: list[str]) -> None:
    """Build the hold views with dbt when they are missing or miss a table."""
    connection = engine.raw_connection()
    try:
        with connection.cursor() as cursor:
            ready = views_ready(cursor, tables)
        connection.rollback()
    finally:
        connection.close()
    if ready:
        return
    log.info("building the legal-hold views (%s)", SELECTOR)
    # Rebuilding a staging view would drop (cascade) the views others built on it.
    selector = SELECTOR if dbt_runner.staging_built(url) else SELECTOR_WITH_STAGING
    result = dbt_runner.run(["run", "--selector", selector], url)
    if not result.success:
        raise HoldsUnavailableError(
            "the legal-hold views could not be built, so nothing is erased: "
            + dbt_runner.failure_summary(result)
        )
