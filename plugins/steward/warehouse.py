"""The one module that knows how to reach the warehouse.

``STEWARD_DATABASE_URL`` wins when set (any PostgreSQL). Otherwise Steward runs
an embedded PostgreSQL with ``pgserver`` (a real server shipped in a wheel), its
data directory under ``.steward/pgdata`` and reused across runs. Everything else
(SQLAlchemy, dbt's ``profiles.yml``, the Airflow connection ``steward_warehouse``)
gets its connection details from here; nothing else builds DSNs.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import os
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from steward import paths

DATABASE_URL_ENV = "STEWARD_DATABASE_URL"
AIRFLOW_CONN_ID = "steward_warehouse"
EMBEDDED_DATABASE = "steward"
# The embedded server trusts local socket connections; dbt and Airflow's
# Postgres connection still insist on a password field, which trust auth ignores.
EMBEDDED_PLACEHOLDER_PASSWORD = "embedded-trust"  # noqa: S105 - not a secret: trust auth


class WarehouseError(RuntimeError):
    """The warehouse cannot be reached or configured."""


@dataclass(frozen=True)
class ConnectionParams:
    host: str  # a hostname, or a directory holding the Unix socket
    port: int
    user: str
    password: str
    dbname: str

    @property
    def is_socket(self) -> bool:
        return self.host.startswith("/")


def is_embedded() -> bool:
    return not os.environ.get(DATABASE_URL_ENV)


def database_url() -> str:
    """The SQLAlchemy URL of the warehouse (starting the embedded server if needed)."""
    configured = os.environ.get(DATABASE_URL_ENV)
    if configured:
        return _with_driver(configured)
    return _embedded_url()


def connection_params(url: str | None = None) -> ConnectionParams:
    parsed = make_url(url or database_url())
    host = parsed.host or parsed.query.get("host") or "localhost"
    if isinstance(host, tuple):  # repeated ?host= parameters
        host = host[0]
    password = parsed.password or (
        EMBEDDED_PLACEHOLDER_PASSWORD if str(host).startswith("/") else ""
    )
    return ConnectionParams(
        host=str(host),
        port=int(parsed.port or 5432),
        user=parsed.username or "postgres",
        password=password,
        dbname=parsed.database or "postgres",
    )


def dbt_env(url: str | None = None) -> dict[str, str]:
    """Environment variables read by ``dbt_project/profiles.yml`` through ``env_var()``."""
    params = connection_params(url)
    return {
        "STEWARD_PG_HOST": params.host,
        "STEWARD_PG_PORT": str(params.port),
        "STEWARD_PG_USER": params.user,
        "STEWARD_PG_PASSWORD": params.password,
        "STEWARD_PG_DBNAME": params.dbname,
    }


def airflow_conn_uri(url: str | None = None) -> str:
    """The ``steward_warehouse`` connection as an Airflow connection URI.

    Airflow reads it from ``AIRFLOW_CONN_STEWARD_WAREHOUSE``; a socket directory
    is percent-encoded into the host part, which Airflow decodes.
    """
    params = connection_params(url)
    host = quote(params.host, safe="")
    # Cosmos's Postgres profile mapping refuses a connection without a password;
    # a server that trusts us (no password in the URL) ignores the placeholder.
    password = params.password or EMBEDDED_PLACEHOLDER_PASSWORD
    auth = quote(params.user, safe="") + ":" + quote(password, safe="")
    return f"postgres://{auth}@{host}:{params.port}/{quote(params.dbname, safe='')}"


def airflow_env(url: str | None = None) -> dict[str, str]:
    return {f"AIRFLOW_CONN_{AIRFLOW_CONN_ID.upper()}": airflow_conn_uri(url)}


@functools.lru_cache(maxsize=8)
def _engine_for(url: str) -> sa.Engine:
    return sa.create_engine(url, pool_pre_ping=True, future=True)


def engine(url: str | None = None) -> sa.Engine:
    # A bare postgresql:// URL would give SQLAlchemy's default driver; Steward's
    # bulk paths (COPY) speak psycopg2, so every engine does.
    return _engine_for(_with_driver(url) if url else database_url())


def psycopg2_connect(url: str | None = None):
    """A raw DBAPI connection, for COPY and other bulk work."""
    import psycopg2

    params = connection_params(url)
    return psycopg2.connect(
        host=params.host,
        port=params.port,
        user=params.user,
        password=params.password or None,
        dbname=params.dbname,
    )


# --- the embedded server -------------------------------------------------


def _with_driver(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg2")
    if not parsed.drivername.startswith("postgresql"):
        raise WarehouseError(
            f"{DATABASE_URL_ENV} must be a PostgreSQL URL, got driver {parsed.drivername!r}"
        )
    return parsed.render_as_string(hide_password=False)


def _server():
    pgdata = paths.pgdata_dir()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns about an unset XDG_RUNTIME_DIR on headless machines.
        warnings.simplefilter("ignore")
        import pgserver

        # pgserver logs every handle at INFO, including from an atexit hook after
        # the test runner has closed its log streams.
        logging.getLogger("pgserver").setLevel(logging.WARNING)
        # cleanup_mode=None: the server outlives this process, so `steward warehouse up`
        # starts it once and later commands (and Airflow tasks) reuse it.
        return pgserver.get_server(pgdata, cleanup_mode=None)


def _embedded_url() -> str:
    server = _server()
    admin = make_url(server.get_uri())
    socket_dir = admin.query.get("host")
    base = URL.create(
        "postgresql+psycopg2",
        username=admin.username or "postgres",
        database=EMBEDDED_DATABASE,
        query={"host": socket_dir} if socket_dir else {},
        host=None if socket_dir else admin.host,
        port=None if socket_dir else admin.port,
    )
    _ensure_database(base.set(database="postgres"), EMBEDDED_DATABASE)
    return base.render_as_string(hide_password=False)


def _ensure_database(admin_url: URL, name: str) -> None:
    admin_engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin_engine.connect() as conn:
            exists = conn.execute(
                sa.text("select 1 from pg_database where datname = :name"), {"name": name}
            ).scalar()
            if not exists:
                conn.execute(sa.text(f'create database "{name}"'))
    finally:
        admin_engine.dispose()


def _postmaster_info():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: unset XDG_RUNTIME_DIR
        from pgserver.utils import PostmasterInfo

    pgdata = paths.pgdata_dir()
    if not (pgdata / "PG_VERSION").exists():
        return None
    return PostmasterInfo.read_from_pgdata(pgdata)


def embedded_running() -> bool:
    info = _postmaster_info()
    return bool(info is not None and info.is_running())


def up() -> str:
    """Start the warehouse if embedded; return its URL (password hidden)."""
    return make_url(database_url()).render_as_string(hide_password=True)


def down() -> bool:
    """Stop the embedded server. Returns False when there was nothing to stop."""
    if not is_embedded():
        raise WarehouseError(
            f"{DATABASE_URL_ENV} points at an external server; Steward does not stop it"
        )
    if not embedded_running():
        return False
    from pgserver._commands import pg_ctl

    # pgserver runs postgres as an unprivileged system user when we are root.
    system_user = "pgserver" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=paths.pgdata_dir(), user=system_user)
    # pgserver caches one handle per data directory and would hand back the
    # stopped one; forget it so the next database_url() starts a fresh server.
    from pgserver.postgres_server import PostgresServer

    stale = PostgresServer._instances.pop(paths.pgdata_dir(), None)
    if stale is not None:
        # Its exit hook would remove it from the cache again, and fail.
        atexit.unregister(stale._cleanup)
    _engine_for.cache_clear()
    return True


def status() -> dict[str, str]:
    """What the warehouse is and whether it answers, without starting anything."""
    if is_embedded():
        info = {"kind": "embedded (pgserver)", "data_dir": str(paths.pgdata_dir())}
        if not embedded_running():
            return {**info, "state": "stopped"}
    else:
        info = {"kind": f"external ({DATABASE_URL_ENV})"}
    try:
        url = database_url()
        with engine(url).connect() as conn:
            version = conn.execute(sa.text("show server_version")).scalar()
        return {
            **info,
            "state": "running",
            "url": make_url(url).render_as_string(hide_password=True),
            "server_version": str(version),
        }
    except Exception as exc:  # report, don't crash: this is a status command
        return {**info, "state": f"unreachable: {type(exc).__name__}"}


@contextlib.contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """A throw-away empty database on the warehouse's server: its URL, dropped afterwards."""
    server_url = make_url(database_url())
    admin_url = server_url.set(database="postgres")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'create database "{name}"'))
        try:
            yield server_url.set(database=name).render_as_string(hide_password=False)
        finally:
            _engine_for.cache_clear()  # its pooled connections would block the drop
            with admin.connect() as conn:
                conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
    finally:
        admin.dispose()
