"""Steward on Airflow, one module per concern (none imports Airflow at import time):

* :mod:`~steward.airflow.bootstrap`: Airflow's home, settings, metadata database, sign-in;
* :mod:`~steward.airflow.standalone`: ``steward airflow standalone``'s supervisor;
* :mod:`~steward.airflow.dag_defaults`: the DAG ids and each DAG family's ``default_args``;
* :mod:`~steward.airflow.cosmos_config`: how Cosmos renders dbt models as tasks;
* :mod:`~steward.airflow.nightly`: the nightly DAG's stages, first check and summary;
* :mod:`~steward.airflow.reports`: the staging row-count report;
* :mod:`~steward.airflow.runs`: starting ``steward_dsar`` runs from Steward's pages.
"""
