"""The nightly Airflow DAG: Steward's whole governance pipeline, once a night.

Kept thin on purpose: the work lives in ``steward.airflow_support`` and the dbt
project; this file only says what runs in which order.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task
from cosmos import DbtTaskGroup

from steward import airflow_support as nightly


@dag(
    dag_id=nightly.NIGHTLY_DAG_ID,
    schedule="0 2 * * *",  # 02:00 UTC, after the call centres' day has closed
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=nightly.nightly_default_args(),
    tags=["steward", "governance", "dbt"],
)
def steward_nightly():
    """
    ### Steward nightly

    Runs every night on the call-centre warehouse:

    1. **validate_data_map**: the data map (dbt source `meta`) must describe the
       warehouse as it is. If it is malformed or out of date, the run stops here
       and nothing downstream runs.
    2. **dbt_staging**: the dbt staging views over every source table, then the
       dbt data tests (Cosmos renders one Airflow task per dbt model).
    3. **summarise_staging**: row counts per staging view next to its source
       table (counts only, no personal data), returned as the task's XCom.
    """

    @task(retries=0)
    def validate_data_map() -> dict[str, int]:
        return nightly.validate_data_map()

    dbt_staging = DbtTaskGroup(
        group_id="dbt_staging",
        **nightly.dbt_task_group_kwargs(select=[nightly.STAGING_SELECTOR]),
    )

    @task
    def summarise_staging() -> dict:
        return nightly.staging_summary()

    # Each later stage (PII catalogue, phone quality, retention) is one more
    # task group chained between dbt_staging and the summary.
    validate_data_map() >> dbt_staging >> summarise_staging()


steward_nightly()
