"""One registered data-subject request, processed: find, fulfil, verify.

Kept thin: the work lives in ``steward.dsar.pipeline``. The run's conf holds the
request id only; the subject's identifiers stay in the register.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from steward.airflow import dag_defaults

DAG_ID = dag_defaults.DSAR_DAG_ID
REQUEST_ID_HELP = (
    "The request's number in Steward's register (steward.dsar_requests). Requests are "
    "submitted through Steward, never here: the New request form on the Steward page, "
    "POST /steward/api/requests or `steward dsar submit`; those start this DAG themselves. "
    "Trigger it by hand only to run a registered request again."
)


def _request_id() -> int:
    return int(get_current_context()["params"]["request_id"])


def _actor() -> str:
    """Who the audit trail names: the Airflow user who triggered the run."""
    from steward.dsar import pipeline

    user = getattr(get_current_context()["dag_run"], "triggering_user_name", None)
    return f"airflow:{user}" if user else pipeline.ACTOR


@dag(
    dag_id=DAG_ID,
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=4,
    # Steward triggers it when a request is submitted: paused, the runs would wait forever.
    is_paused_upon_creation=False,
    # One run per request, started on demand: no backfills, no schedule.
    allowed_run_types=["manual"],
    default_args=dag_defaults.privacy_default_args(),
    tags=["steward", "privacy", "dsar"],
    params={
        "request_id": Param(
            type="integer",
            minimum=1,
            title="Request id",
            description=REQUEST_ID_HELP,
        ),
    },
    render_template_as_native_obj=True,
)
def steward_dsar():
    """
    ### Data-subject request

    Processes one request **already registered** in `steward.dsar_requests`. The
    privacy team submits requests through Steward (the *New request* form on the
    Steward page, `POST /steward/api/requests`, `steward dsar submit`, or the bulk
    table), which validates and registers them and starts this DAG with
    `{"request_id": N}`: the run's conf never holds an identifier.

    1. **check**: the request exists and is open; a request whose identity is not
       verified yet waits (`awaiting_verification`), a finished one is skipped.
    2. **find**: every row of the subject in every mapped table, free text included.
    3. **fulfil**: access (encrypted export), deletion (with exemptions) or correction.
    4. **verify**: re-scan / package check, then the request is completed.

    The audit trail names the Airflow user who triggered the run. XComs and logs
    carry request ids and counts, never the subject's identifiers.
    """

    @task(retries=0)
    def check_request() -> int:
        from steward import warehouse
        from steward.dsar import pipeline, register

        unexpected = sorted(set(get_current_context()["dag_run"].conf or {}) - {"request_id"})
        if unexpected:
            # Named, never echoed: the values may be a subject's identifiers.
            raise AirflowFailException(
                f"the run's conf may hold request_id only, not {', '.join(unexpected)}: "
                "submit requests through Steward (form, API or `steward dsar submit`)"
            )
        request_id = _request_id()
        try:
            register.get(warehouse.engine(), request_id)
        except KeyError as exc:
            raise AirflowFailException(f"no data-subject request {request_id}") from exc
        if not pipeline.should_process(request_id):
            raise AirflowSkipException(f"request {request_id} is already completed or rejected")
        status = pipeline.start(request_id, actor=_actor())
        if status not in ("in_progress", "extended"):
            raise AirflowSkipException(f"request {request_id} is {status}")
        return request_id

    @task
    def find(request_id: int) -> int:
        from steward.dsar import pipeline

        pipeline.find(request_id, actor=_actor())
        return request_id

    @task
    def fulfil(request_id: int) -> int:
        from steward.dsar import pipeline

        pipeline.fulfil(request_id, actor=_actor())
        return request_id

    @task
    def verify(request_id: int) -> dict:
        from steward.dsar import pipeline

        return pipeline.verify_and_complete(request_id, actor=_actor())

    verify(fulfil(find(check_request())))


steward_dsar()
