"""Bulk intake of data-subject requests written to the register by a web form or the CRM.

Kept thin: the work lives in ``steward.dsar.bulk``.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from steward.airflow import dag_defaults


@dag(
    dag_id=dag_defaults.DSAR_INTAKE_DAG_ID,
    schedule="*/15 * * * *",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    # Overlapping runs would be safe (rows are claimed with SKIP LOCKED and
    # advisory locks), but one at a time keeps the warehouse load even.
    max_active_runs=1,
    # The bulk table is only worked through while this runs: not paused on first load.
    is_paused_upon_creation=False,
    default_args=dag_defaults.privacy_default_args(),
    tags=["steward", "privacy", "dsar"],
)
def steward_dsar_intake():
    """
    ### Data-subject requests: bulk intake

    Every 15 minutes, takes the requests a web form or the CRM inserted into
    `steward.dsar_requests` (status `received`, no due date yet), up to 1,000 a run:

    1. **validate** each one; invalid requests are rejected with the reasons
       (`rejection_reason`) before any data is touched;
    2. **register** the valid ones (legal due dates, identity verification);
    3. **find** all their subjects together, one pass per mapped table;
    4. **fulfil** each (access export, deletion, correction) and complete it.

    Two runs never take the same request. A request that fails stays open and is
    retried by the next run; the task then fails so that someone looks.
    The task log and XCom carry request ids and counts only.
    """

    @task
    def process_pending_requests() -> dict:
        from steward.dsar import bulk

        summary = bulk.run_intake()
        if summary.get("failed"):
            raise RuntimeError(
                f"{len(summary['failed'])} requests failed and stay open: "
                f"{sorted(summary['failed'])}"
            )
        return summary

    process_pending_requests()


steward_dsar_intake()
