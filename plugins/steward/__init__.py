"""Steward: data governance for call-centre warehouses (Airflow + dbt + PostgreSQL)."""

__version__ = "0.1.0"
