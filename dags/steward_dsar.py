"""Data-subject requests, triggered by the privacy team (form, REST API or CLI).

Kept thin: the work lives in ``steward.dsar.pipeline``.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from steward import airflow_support
from steward.dsar import jurisdictions

DAG_ID = "steward_dsar"
FORM_FIELDS = (
    "request_type",
    "jurisdiction",
    "received_on",
    "ticket_reference",
    "verification_status",
    "verification_method",
    "customer_id",
    "email",
    "phone",
    "name",
    "date_of_birth",
    "corrections",
)


def _form() -> dict:
    params = get_current_context()["params"]
    return {key: params.get(key) for key in FORM_FIELDS}


@dag(
    dag_id=DAG_ID,
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=4,
    default_args=airflow_support.nightly_default_args(),
    tags=["steward", "privacy", "dsar"],
    params={
        "request_type": Param("access", type="string", enum=list(jurisdictions.REQUEST_TYPES)),
        "jurisdiction": Param("GDPR", type="string", enum=jurisdictions.jurisdictions()),
        "received_on": Param(pendulum.today("UTC").to_date_string(), type="string", format="date"),
        "ticket_reference": Param("", type="string", minLength=3, maxLength=100),
        "verification_status": Param(
            "pending", type="string", enum=["verified", "pending", "failed"]
        ),
        "verification_method": Param(
            "none",
            type="string",
            enum=[
                "account_login",
                "knowledge_based",
                "id_document",
                "email_confirmation",
                "phone_callback",
                "authorised_agent",
                "none",
            ],
        ),
        "customer_id": Param(None, type=["null", "integer"], minimum=1),
        "email": Param(None, type=["null", "string"]),
        "phone": Param(None, type=["null", "string"]),
        "name": Param(None, type=["null", "string"]),
        "date_of_birth": Param(None, type=["null", "string"]),
        "corrections": Param(
            {}, type="object", description="correction requests: field -> new value"
        ),
    },
    render_template_as_native_obj=True,
)
def steward_dsar():
    """
    ### Data-subject request

    Triggered by the privacy team (trigger form, REST API, `airflow dags trigger
    --conf`), one run per request:

    1. **validate**: type, identifiers, jurisdiction and corrections are checked
       before anything is touched; an invalid request fails here with the reason.
    2. **register**: `steward.dsar_requests`, keyed by the ticket reference (a
       second trigger of a completed request does nothing) with its legal due date.
    3. **find**: every row of the subject in every mapped table, free text included.
    4. **fulfil**: access (encrypted export), deletion (with exemptions) or correction.
    5. **verify**: re-scan / package check, then the request is completed.

    XComs and logs carry request ids and counts, never the subject's identifiers.
    """

    @task(retries=0)
    def validate() -> dict:
        from steward.dsar import intake, pipeline

        try:
            return pipeline.validation_summary(pipeline.validate(_form()))
        except intake.IntakeError as exc:
            raise AirflowFailException(str(exc)) from exc

    @task
    def register(_: dict) -> int:
        from steward.dsar import pipeline

        submitted = pipeline.submit(_form())
        if not pipeline.should_process(submitted["request_id"]):
            raise AirflowSkipException(
                f"request {submitted['request_id']} is already completed or rejected"
            )
        status = pipeline.start(submitted["request_id"])
        if status not in ("in_progress", "extended"):
            raise AirflowSkipException(f"request {submitted['request_id']} is {status}")
        return submitted["request_id"]

    @task
    def find(request_id: int) -> int:
        from steward.dsar import pipeline

        pipeline.find(request_id)
        return request_id

    @task
    def fulfil(request_id: int) -> int:
        from steward.dsar import pipeline

        pipeline.fulfil(request_id)
        return request_id

    @task
    def verify(request_id: int) -> dict:
        from steward.dsar import pipeline

        return pipeline.verify_and_complete(request_id)

    verify(fulfil(find(register(validate()))))


steward_dsar()
