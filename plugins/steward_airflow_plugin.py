"""Steward's Airflow plugin: the stewards' dashboard inside the Airflow UI.

``fastapi_apps`` mounts the dashboard (``steward.dashboard.app``) in Airflow's
API server at ``/steward``, behind Airflow's own authentication;
``external_views`` adds **Steward** to the UI's navigation, which shows the page
in an iframe at ``/plugin/steward``, and **New data-subject request**, Steward's
form (``/plugin/steward-request``). The ``href`` is relative (no leading slash)
so that it follows ``[api] base_url`` when Airflow is served under a sub-path.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from steward.dashboard.app import URL_PREFIX, create_app


class StewardPlugin(AirflowPlugin):
    """The Steward dashboard: a FastAPI app and its navigation entry."""

    name = "steward"
    fastapi_apps = [  # noqa: RUF012 - AirflowPlugin declares these as class attributes
        {"app": create_app(), "url_prefix": URL_PREFIX, "name": "Steward dashboard"}
    ]
    external_views = [  # noqa: RUF012
        {
            "name": "Steward",
            "href": URL_PREFIX.lstrip("/") + "/",
            "destination": "nav",
            "url_route": "steward",
        },
        {
            # Data-subject requests enter through Steward, never through a DAG's
            # trigger form: the identifiers stay out of Airflow's run conf.
            "name": "New data-subject request",
            "href": URL_PREFIX.lstrip("/") + "/requests/new",
            "destination": "nav",
            "url_route": "steward-request",
        },
    ]
