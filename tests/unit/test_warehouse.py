"""The connection module: one place turns the warehouse URL into every client's settings."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from steward import warehouse

SOCKET_URL = "postgresql+psycopg2://postgres@/steward?host=/srv/steward/.steward/pgdata"
TCP_URL = "postgresql://alice:s%3Acret@db.internal:6543/warehouse"


def test_socket_url_gives_socket_params_with_placeholder_password():
    params = warehouse.connection_params(SOCKET_URL)
    assert params.is_socket
    assert params.host == "/srv/steward/.steward/pgdata"
    assert (params.port, params.user, params.dbname) == (5432, "postgres", "steward")
    assert params.password == warehouse.EMBEDDED_PLACEHOLDER_PASSWORD


def test_tcp_url_keeps_credentials():
    params = warehouse.connection_params(TCP_URL)
    assert not params.is_socket
    assert (params.host, params.port, params.user, params.password, params.dbname) == (
        "db.internal",
        6543,
        "alice",
        "s:cret",
        "warehouse",
    )


def test_dbt_env_matches_profile_variables():
    env = warehouse.dbt_env(TCP_URL)
    assert env == {
        "STEWARD_PG_HOST": "db.internal",
        "STEWARD_PG_PORT": "6543",
        "STEWARD_PG_USER": "alice",
        "STEWARD_PG_PASSWORD": "s:cret",
        "STEWARD_PG_DBNAME": "warehouse",
    }


@pytest.mark.parametrize("url", [SOCKET_URL, TCP_URL])
def test_airflow_connection_uri_round_trips(url):
    from airflow.models.connection import Connection

    conn = Connection(conn_id=warehouse.AIRFLOW_CONN_ID, uri=warehouse.airflow_conn_uri(url))
    params = warehouse.connection_params(url)
    assert conn.host == params.host
    assert conn.port == params.port
    assert conn.login == params.user
    assert conn.password == params.password
    assert conn.schema == params.dbname


def test_non_postgres_url_is_rejected(monkeypatch):
    monkeypatch.setenv(warehouse.DATABASE_URL_ENV, "mysql://root@localhost/db")
    with pytest.raises(warehouse.WarehouseError, match="PostgreSQL"):
        warehouse.database_url()


def test_configured_url_is_used_and_reachable(warehouse_url):
    assert warehouse.database_url() == warehouse_url
    with warehouse.engine().connect() as conn:
        assert conn.execute(sa.text("select current_database()")).scalar() == (
            sa.engine.make_url(warehouse_url).database
        )
    assert warehouse.status()["state"] == "running"


def test_down_refuses_external_server(warehouse_url):
    with pytest.raises(warehouse.WarehouseError, match="external"):
        warehouse.down()
