"""The nightly DAG's building blocks: its stages' dbt selections, first check and summary.

``dags/steward_nightly.py`` only wires these together; the work lives here and in
the area packages so it can be read, reused and tested without Airflow's scheduler.
"""

from __future__ import annotations

from steward.retention.dbt_runner import RETENTION_ENV

# Each stage's dbt nodes: the names of selectors in dbt_project/selectors.yml,
# where they are defined; a node's data tests come along with it.
STAGING_SELECTOR = "staging"
CATALOGUE_SELECTOR = "catalogue"
PHONES_SELECTOR = "phones"
DEDUPE_SELECTOR = "dedupe"
DSAR_SELECTOR = "dsar"
RETENTION_SELECTOR = "retention"
RETENTION_VERIFICATION_SELECTOR = "retention_verification"
ACCESS_SELECTOR = "access"


def _rendered_env(pulled: str) -> dict[str, str]:
    """One template per variable of retention's environment, read from the XCom ``pulled``."""
    return {name: "{{ " + pulled + "['" + name + "'] }}" for name in RETENTION_ENV}


# Retention's dbt environment (the run's as-of, the periods, the policies to verify),
# as its tasks chose it: templates the Cosmos tasks render when they run. Environment
# variables, not dbt vars, so the group shares the other groups' partial parse.
RETENTION_DBT_ENV = _rendered_env("ti.xcom_pull(task_ids='retention.prepare_retention')['dbt_env']")
RETENTION_VERIFICATION_ENV = _rendered_env(
    "ti.xcom_pull(task_ids='retention.enforce_retention', key='verification_env')"
)
# The task whose return value is each stage's part of the nightly summary.
SUMMARY_TASKS = {
    "staging": "summarise_staging",
    "catalogue": "pii_catalogue.summarise_catalogue",
    "phones": "phone_quality.summarise_phones",
    "dedupe": "phone_quality.match_duplicate_customers",
    "quality": "phone_quality.run_quality_checks",
    "suppression": "data_subject_requests.rescan_suppressed_subjects",
    "retention": "retention.enforce_retention",
    "redaction": "redaction.redact_free_text",
    "access": "access_review.summarise_access",
}


def collect_summaries(ti) -> dict:
    """The night's summary: each stage's own summary (counts only), by stage."""
    return {stage: ti.xcom_pull(task_ids=task_id) for stage, task_id in SUMMARY_TASKS.items()}


def upgrade_schema() -> dict[str, str | None]:
    """Bring Steward's own tables to the newest revision before any dbt task:
    the models read them as the internal source ``steward``, which must exist."""
    from steward import schema, warehouse

    before = schema.upgrade(warehouse.engine())
    return {"before": before, "revision": schema.head()}


def validate_data_map() -> dict[str, int]:
    """Load the data map and check it against the warehouse; raise on any problem.

    Returns counts only (the map describes personal data; it holds none).
    """
    from airflow.sdk.exceptions import AirflowFailException

    from steward import datamap, warehouse

    try:
        data_map = datamap.load_data_map()
        datamap.validate_against_warehouse(data_map, warehouse.engine())
    except datamap.DataMapError as exc:
        # A malformed map will not fix itself: fail now, without retries.
        raise AirflowFailException(f"the data map is invalid: {exc}") from exc
    return {
        "tables": len(data_map.tables),
        "personal_columns": sum(len(table.columns) for table in data_map.tables),
    }
