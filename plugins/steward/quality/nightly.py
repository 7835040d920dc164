"""The nightly task: the ``phone_quality`` checkpoint (counts and outcomes only).

Order in the DAG: after ``dbt build -s path:models/marts/phones`` (the marts it checks).
"""

from __future__ import annotations

from steward.quality.checkpoint import run_checkpoint

QUALITY_MARTS = "quality_marts"  # a selector of dbt_project/selectors.yml


def run(url: str | None = None) -> dict:
    """Validate the phone marts, build Data Docs, store the results summary; return it.

    Then the dashboard's views over the results (``models/marts/quality``), if
    they are missing or were built before the results table existed.
    """
    from steward.dashboard import marts, queries

    summary = run_checkpoint(url)
    summary["dashboard_views_built"] = marts.ensure_views(
        QUALITY_MARTS, queries.QUALITY_TABLES, url
    )
    return summary
