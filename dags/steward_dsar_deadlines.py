"""Daily watch over the legal deadlines of open data-subject requests.

Kept thin: the work lives in ``steward.dsar.deadlines``.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from steward.airflow import dag_defaults


@dag(
    dag_id=dag_defaults.DSAR_DEADLINES_DAG_ID,
    schedule="0 7 * * *",  # 07:00 UTC: before the privacy team's day starts
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    # Legal deadlines are watched from the first day: not paused on first load.
    is_paused_upon_creation=False,
    default_args=dag_defaults.privacy_default_args(),
    tags=["steward", "privacy", "dsar"],
)
def steward_dsar_deadlines():
    """
    ### Data-subject request deadlines

    Every morning: counts the open requests due within 7 days and the overdue
    ones (request ids only, no personal data), hands them to the notifier
    (`STEWARD_DSAR_NOTIFIER`, default: the task log) and stores the day's SLA
    figures (median days to complete, share on time) in `steward.dsar_sla_daily`.
    """

    @task
    def watch_deadlines() -> dict:
        from steward.dsar import deadlines

        return deadlines.run()

    watch_deadlines()


steward_dsar_deadlines()
