"""Starting Airflow runs from Steward's own pages (inside Airflow's API server)."""

from __future__ import annotations

from steward.airflow.dag_defaults import DSAR_DAG_ID


class TriggerError(RuntimeError):
    """Airflow could not start a run (the DAG is not loaded yet, say)."""


def trigger_request_run(request_id: int, *, user_name: str, via: str = "rest_api") -> str:
    """Start a ``steward_dsar`` run for a registered request; return its run id.

    Called inside Airflow's API server (the Steward app's routes), so it uses the
    same function as ``airflow dags trigger``, on the API server's metadata database
    session. The conf is ``{"request_id": N}`` and nothing else; the run records
    ``user_name`` as its triggering user, and the DAG's tasks name them in the audit.
    """
    from airflow.api.common.trigger_dag import trigger_dag
    from airflow.exceptions import AirflowException
    from airflow.utils import timezone
    from airflow.utils.types import DagRunTriggeredByType

    triggered_by = DagRunTriggeredByType.UI if via == "ui" else DagRunTriggeredByType.REST_API
    run_id = f"steward_request_{int(request_id)}__{timezone.utcnow():%Y%m%dT%H%M%S%f}"
    try:
        dag_run = trigger_dag(
            DSAR_DAG_ID,
            triggered_by=triggered_by,
            triggering_user_name=user_name,
            run_id=run_id,
            conf={"request_id": int(request_id)},
        )
    except (AirflowException, ValueError) as exc:
        raise TriggerError(str(exc) or type(exc).__name__) from exc
    if dag_run is None:
        raise TriggerError(f"Airflow started no run of {DSAR_DAG_ID}")
    return dag_run.run_id


def dag_is_paused(dag_id: str = DSAR_DAG_ID) -> bool:
    """Whether Airflow holds ``dag_id`` paused (its runs then wait in ``queued``)."""
    from airflow.models.dag import DagModel

    model = DagModel.get_current(dag_id)
    return bool(model is not None and model.is_paused)
