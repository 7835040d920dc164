"""Personal-data breach impact assessment, triggered by the privacy team.

Kept thin: the work lives in ``steward.breach``.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from steward.airflow import dag_defaults

DAG_ID = dag_defaults.BREACH_DAG_ID
PARAM_NAMES = (
    "incident_id",
    "reference",
    "summary",
    "aware_at",
    "columns",
    "role",
    "window_from",
    "window_to",
    "encrypted",
    "hipaa",
)


def _params() -> dict:
    params = get_current_context()["params"]
    return {key: params.get(key) for key in PARAM_NAMES}


@dag(
    dag_id=DAG_ID,
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=dag_defaults.privacy_default_args(),
    tags=["steward", "privacy", "breach"],
    params={
        "incident_id": Param(
            None, type=["null", "integer"], minimum=1, description="Re-assess this incident."
        ),
        "reference": Param(
            None,
            type=["null", "string"],
            maxLength=64,
            description="Your incident ticket number (no personal data).",
        ),
        "summary": Param(
            None,
            type=["null", "string"],
            maxLength=2000,
            description="What happened, without personal data (refused if it holds any).",
        ),
        "aware_at": Param(
            None,
            type=["null", "string"],
            description="When the organisation became aware (ISO 8601 with zone); default now.",
        ),
        "columns": Param(
            [],
            type="array",
            items={"type": "string"},
            description="Exposed schema.table or schema.table.column names.",
        ),
        "role": Param(None, type=["null", "string"], description="A compromised database role."),
        "window_from": Param(
            None,
            type=["null", "string"],
            description="Start of the unauthorised access window (ISO date-time), if known.",
        ),
        "window_to": Param(
            None,
            type=["null", "string"],
            description="End of the unauthorised access window (ISO date-time), if known.",
        ),
        "encrypted": Param(False, type="boolean", description="Taken encrypted, key not taken."),
        "hipaa": Param(False, type="boolean", description="PHI held under HIPAA."),
        "export_notification_list": Param(
            False, type="boolean", description="Write the encrypted notification list."
        ),
    },
    render_template_as_native_obj=True,
)
def steward_breach():
    """
    ### Breach impact assessment

    Triggered with an incident id, or with what was exposed (names only: tables
    and columns, a compromised database role, an access window; never personal
    data):

    1. **assess_impact**: registers the incident (`steward.breach_incidents`),
       counts the affected people in the warehouse by jurisdiction and data
       category, and sets each law's notification deadline (GDPR / UK GDPR 72 h
       to the authority, HIPAA 60 days, US state laws from the seed
       `breach_notification_rules`). XCom: counts, places and deadlines only.
    2. **export_notification_list** (when asked): the AES-encrypted list of the
       people to notify.
    """

    @task(retries=0)
    def assess_impact() -> dict:
        from steward.breach import assess, register
        from steward.breach.exposure import ExposureError

        try:
            return assess.assess_from_params(_params())
        except (ExposureError, register.IncidentError, ValueError) as exc:
            raise AirflowFailException(str(exc)) from exc

    @task(retries=0)
    def export_notification_list(result: dict) -> dict:
        from steward import warehouse
        from steward.breach import export

        if not get_current_context()["params"].get("export_notification_list"):
            raise AirflowSkipException("no notification list asked for")
        return export.build_notification_list(warehouse.engine(), result["incident_id"])

    export_notification_list(assess_impact())


steward_breach()
