"""Build the dashboard's views over an executor's tables when they are missing or stale.

The quality and redaction sections read dbt views (``models/marts/quality``,
``models/marts/redaction``) over tables their jobs write. Views stay current by
themselves, so they need building once after the tables exist, not every night:
the jobs' nightly steps call :func:`ensure_views`, which runs dbt only when a
view is missing or was built on an earlier release's empty stand-in.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from steward import dbt_runner, warehouse
from steward.dashboard import queries

log = logging.getLogger(__name__)


def ensure_views(selector: str, views: Sequence[str], url: str | None = None) -> bool:
    """``dbt run --selector selector`` (dbt_project/selectors.yml) if one of ``views``
    is missing or stale; True if built.

    A failed build is logged, not raised: the job's own work is done, and the
    dashboard says which views to build.
    """
    with warehouse.engine(url).connect() as conn:
        tables = queries.steward_tables(conn)
        stale = queries.stale_views(conn, tables)
    if all(view in tables and view not in stale for view in views):
        return False
    result = dbt_runner.run(["run", "--selector", selector], url)
    if not result.success:
        log.warning(
            "dashboard views %s not built: %s", selector, dbt_runner.failure_summary(result)
        )
        return False
    return True
