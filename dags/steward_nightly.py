"""The nightly Airflow DAG: Steward's whole governance pipeline, once a night.

Kept thin on purpose: the work lives in ``steward.airflow`` (the stages' dbt
selections, Cosmos' configuration, the first check and the summary), the area
packages of ``steward`` and the dbt project; this file only says what runs in
which order.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task, task_group

from steward.airflow import dag_defaults, nightly
from steward.airflow.cosmos_config import dbt_task_group, dbt_test_operator


@dag(
    dag_id=dag_defaults.NIGHTLY_DAG_ID,
    schedule="0 2 * * *",  # 02:00 UTC, after the call centres' day has closed
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=dag_defaults.nightly_default_args(),
    tags=["steward", "governance", "dbt"],
    params={
        "full_catalogue_scan": Param(
            False,
            type="boolean",
            title="Full PII re-scan",
            description="Validate every column again, not only new or changed ones.",
        ),
        "apply_suppression": Param(
            False,
            type="boolean",
            title="Erase re-ingested data of deleted subjects",
            description="Off: the suppression re-scan only reports what came back.",
        ),
        "apply_retention": Param(
            False,
            type="boolean",
            title="Apply retention",
            description="Delete and anonymise what is due. Off: a dry run that only reports.",
        ),
        "apply_redaction": Param(
            False,
            type="boolean",
            title="Apply redaction of card data and SSNs in free text",
            description="Off: a dry run that only counts (unless STEWARD_REDACTION_APPLY=true).",
        ),
    },
)
def steward_nightly():
    """
    ### Steward nightly

    Runs every night on the call-centre warehouse:

    1. **validate_data_map**: the data map (dbt source `meta`) must describe the
       warehouse as it is. If it is malformed or out of date, the run stops here
       and nothing downstream runs.
    2. **upgrade_schema**: Steward's own tables (`steward warehouse upgrade`),
       which dbt reads as the internal source `steward`; then **dbt_staging**:
       the dbt staging views over every source table, then their
       data tests (Cosmos renders one Airflow task per dbt model).
    3. **pii_catalogue**: scan new or changed columns for personal data (counts
       only, never values), build `steward.pii_catalogue` and
       `steward.catalogue_drift`, and report undeclared personal data.
    4. **phone_quality**: normalise new phone numbers into `steward.phone_lookup`,
       build the phone marts (duplicates, inactive numbers, Do-Not-Call and consent
       checks), match duplicate customers with splink, and run the Great
       Expectations suite `phone_quality` (Data Docs without phone numbers).
    5. **data_subject_requests**: rebuild the subject index
       (`steward.dsar_subject_index`, identifiers to rows) and re-scan for data of
       erased subjects that came back (salted hashes only); erased with
       **apply_suppression**, else reported.
    6. **retention**: dbt (Cosmos group `dbt_retention`, selector `retention`)
       computes per policy the rows past their retention period, legal holds
       excluded, as of the instant `prepare_retention` chose; `enforce_retention`
       deletes or anonymises them in audited keyset batches, recording files
       removed; a circuit breaker stops any policy that would remove too much of
       a table; `verify_retention` (dbt test) checks that no due row remains. A
       dry run unless **apply_retention**.
       Then **redaction**: card numbers, CVVs, SSNs and bank details in free text
       replaced by markers (`[card ending 1234]`), held rows left alone, full card
       numbers in card columns reported (`steward.pci_violations`). A dry run
       unless **apply_redaction** (or `STEWARD_REDACTION_APPLY=true`).
    7. **access_review** (after the catalogue): load the role policy
       (`plugins/steward/access/policy.yml`), re-generate the per-role views of
       schema `governed` with their GRANTs, and review which database roles can
       read personal columns directly (`steward.access_violations`).
    8. **nightly_summary**: one JSON summary of the night (counts only), then
       **snapshot_dashboard** stores the day's figures for the Steward page's trends.

    Trigger with **full_catalogue_scan** to re-validate every column, and with
    **apply_retention** to enforce retention (the schedule's default is a dry run:
    set the param's default once the policies have been reviewed).
    """

    @task(retries=0)
    def validate_data_map() -> dict[str, int]:
        return nightly.validate_data_map()

    @task
    def upgrade_schema() -> dict:
        return nightly.upgrade_schema()

    dbt_staging = dbt_task_group("dbt_staging", nightly.STAGING_SELECTOR)

    @task
    def summarise_staging() -> dict:
        from steward.airflow import reports

        return reports.staging_summary()

    @task_group(group_id="pii_catalogue")
    def pii_catalogue():
        @task
        def scan_columns(params=None) -> dict:
            from steward.catalogue import nightly as catalogue

            return catalogue.run_scan(full=bool(params and params["full_catalogue_scan"]))

        marts = dbt_task_group("dbt_catalogue", nightly.CATALOGUE_SELECTOR)

        @task
        def summarise_catalogue() -> dict:
            from steward.catalogue import nightly as catalogue

            return catalogue.summarise()

        scan_columns() >> marts >> summarise_catalogue()

    @task_group(group_id="phone_quality")
    def phone_quality():
        @task
        def refresh_phone_lookup() -> dict:
            from steward.phones import nightly as phones

            return phones.run_refresh()

        marts = dbt_task_group("dbt_phones", nightly.PHONES_SELECTOR)

        @task
        def match_duplicate_customers() -> dict:
            from steward.dedupe import nightly as dedupe

            return dedupe.run()

        dedupe_marts = dbt_task_group("dbt_dedupe", nightly.DEDUPE_SELECTOR)

        @task
        def run_quality_checks() -> dict:
            from steward.quality import nightly as quality

            return quality.run()

        @task
        def summarise_phones() -> dict:
            from steward.phones import nightly as phones

            return phones.summarise()

        summary = summarise_phones()
        refresh_phone_lookup() >> marts
        marts >> match_duplicate_customers() >> dedupe_marts >> summary
        marts >> run_quality_checks() >> summary

    @task_group(group_id="data_subject_requests")
    def data_subject_requests():
        subject_index = dbt_task_group("dbt_subject_index", nightly.DSAR_SELECTOR)

        @task
        def rescan_suppressed_subjects(params=None) -> dict:
            from steward.dsar import suppression

            return suppression.rescan(apply=bool(params and params["apply_suppression"]))

        subject_index >> rescan_suppressed_subjects()

    @task_group(group_id="retention")
    def retention():
        @task
        def prepare_retention(params=None) -> dict:
            from steward.retention import nightly as retention_nightly

            return retention_nightly.prepare(apply=bool(params and params["apply_retention"]))

        marts = dbt_task_group(
            "dbt_retention",
            nightly.RETENTION_SELECTOR,
            operator_args={"env": nightly.RETENTION_DBT_ENV},
        )

        @task
        def enforce_retention(prepared: dict, params=None, ti=None) -> dict:
            from steward.retention import nightly as retention_nightly

            apply = bool(params and params["apply_retention"])
            summary = retention_nightly.enforce(prepared, apply=apply)
            ti.xcom_push(key="verification_env", value=retention_nightly.verification_env(summary))
            return summary

        verify = dbt_test_operator(
            "verify_retention",
            nightly.RETENTION_VERIFICATION_SELECTOR,
            nightly.RETENTION_VERIFICATION_ENV,
        )

        prepared = prepare_retention()
        prepared >> marts
        marts >> enforce_retention(prepared) >> verify

    @task_group(group_id="redaction")
    def redaction():
        @task
        def redact_free_text(params=None) -> dict:
            from steward.redaction import cli, runner

            return runner.nightly(
                apply=bool(params and params["apply_redaction"]) or cli.apply_from_env()
            )

        redact_free_text()

    @task_group(group_id="access_review")
    def access_review():
        @task(retries=0)
        def load_access_policy() -> dict:
            from steward.access import apply

            return apply.load_policy_into_warehouse()

        views = dbt_task_group("dbt_access", nightly.ACCESS_SELECTOR)

        @task
        def summarise_access() -> dict:
            from steward.access import apply

            return apply.summarise()

        load_access_policy() >> views >> summarise_access()

    @task
    def nightly_summary(ti=None) -> dict:
        return nightly.collect_summaries(ti)

    @task
    def snapshot_dashboard() -> dict:
        from steward.dashboard.snapshot import snapshot

        return snapshot()

    stages = [pii_catalogue(), phone_quality()]
    validate_data_map() >> upgrade_schema() >> dbt_staging >> [summarise_staging(), *stages]
    subject_requests = data_subject_requests()
    summary = nightly_summary()
    stages >> subject_requests >> retention() >> redaction() >> summary >> snapshot_dashboard()
    stages[0] >> access_review() >> summary


steward_nightly()
