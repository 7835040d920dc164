"""Shared fixtures: every test session gets its own PostgreSQL database.

The server is the one named by ``STEWARD_TEST_DATABASE_URL`` (for example the
machine's PostgreSQL at ``postgresql://postgres@127.0.0.1:5432/postgres``), or
else the project's embedded pgserver. Tests never touch the demo database.

In parallel (``pytest -n 2``, pytest-xdist, as ``make test`` runs) each worker
is its own session: its own databases (uuid names) and its own temp folder,
hence its own Airflow home. The embedded server, shared by the workers, is
started once by the controlling process before the workers and stopped after
them: a worker that stopped it would pull it from under the others.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

TEST_SERVER_ENV = "STEWARD_TEST_DATABASE_URL"
# Data-subject requests need configured keys (Steward never generates one): test keys
# for the whole session, DAG runs in this process included. A test may override them.
os.environ.setdefault("STEWARD_DSAR_SUBJECT_KEY", "test-subject-key-0123456789")
os.environ.setdefault("STEWARD_DSAR_SUPPRESSION_SALT", "test-suppression-key-0123456789")
# Never this machine's own keys file (.steward/secrets.env, which `make demo` writes): a test
# that removes a key must see it missing. Shared with the xdist workers through the
# environment; a test that generates keys (`steward airflow standalone`) uses a file of its own.
_TEST_KEYS_DIR = f"steward-test-keys-{uuid.uuid4().hex[:10]}"
os.environ.setdefault(
    "STEWARD_SECRETS_FILE", os.path.join(tempfile.gettempdir(), _TEST_KEYS_DIR, "secrets.env")
)


def _server_admin_url() -> str:
    configured = os.environ.get(TEST_SERVER_ENV)
    if configured:
        url = make_url(configured)
        if url.drivername in ("postgres", "postgresql"):
            url = url.set(drivername="postgresql+psycopg2")
        return url.set(database="postgres").render_as_string(hide_password=False)
    from steward import warehouse

    os.environ.pop(warehouse.DATABASE_URL_ENV, None)
    return (
        make_url(warehouse.database_url())
        .set(database="postgres")
        .render_as_string(hide_password=False)
    )


def create_database(admin_url: str, prefix: str = "steward_test") -> str:
    """Create an empty database on the admin URL's server; return its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


_STARTED_KEY = pytest.StashKey[bool]()


def _is_xdist_controller(config: pytest.Config) -> bool:
    return bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workerinput")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Under xdist: start the embedded server here and hand its URL to the workers."""
    config = session.config
    if not _is_xdist_controller(config) or os.environ.get(TEST_SERVER_ENV):
        return
    from steward import warehouse

    started_here = not warehouse.embedded_running()
    # The workers inherit the environment: they connect and never stop it.
    os.environ[TEST_SERVER_ENV] = _server_admin_url()
    config.stash[_STARTED_KEY] = started_here


def _scheduling_rank(item: pytest.Item) -> int:
    if item.get_closest_marker("longest"):
        return 0
    if item.get_closest_marker("slow"):
        return 1
    return 2 if item.get_closest_marker("integration") else 3


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Longest first: xdist (``--dist loadfile``) hands out test files in this order, so
    the Celery nightly starts at once and the quick unit tests fill the gaps at the end,
    instead of one worker starting a 4-minute file while the other runs out of work.
    A stable sort: files keep their order within a rank, tests theirs within a file."""
    items.sort(key=_scheduling_rank)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if session.config.stash.get(_STARTED_KEY, False):
        from steward import warehouse

        os.environ.pop(TEST_SERVER_ENV, None)
        os.environ.pop(warehouse.DATABASE_URL_ENV, None)
        warehouse.down()


@pytest.fixture(scope="session")
def server_admin_url() -> Iterator[str]:
    from steward import warehouse

    started_here = not os.environ.get(TEST_SERVER_ENV) and not warehouse.embedded_running()
    yield _server_admin_url()
    if started_here:
        # Leave the machine as we found it: stop the embedded server we started.
        warehouse._engine_for.cache_clear()
        os.environ.pop(warehouse.DATABASE_URL_ENV, None)
        warehouse.down()


@pytest.fixture(scope="session")
def warehouse_url(server_admin_url: str) -> Iterator[str]:
    """A database for this test session, exported as ``STEWARD_DATABASE_URL``.

    Everything that asks ``steward.warehouse`` for the warehouse (CLI, dbt,
    Airflow's connection) then lands here.
    """
    from steward import warehouse

    url = create_database(server_admin_url)
    previous = os.environ.get(warehouse.DATABASE_URL_ENV)
    os.environ[warehouse.DATABASE_URL_ENV] = url
    try:
        yield url
    finally:
        warehouse._engine_for.cache_clear()
        if previous is None:
            os.environ.pop(warehouse.DATABASE_URL_ENV, None)
        else:
            os.environ[warehouse.DATABASE_URL_ENV] = previous
        drop_database(server_admin_url, url)


@pytest.fixture
def empty_database(server_admin_url: str) -> Iterator[str]:
    """A throw-away empty database for one test (not exported to the environment)."""
    url = create_database(server_admin_url, prefix="steward_scratch")
    try:
        yield url
    finally:
        from steward import warehouse

        warehouse._engine_for.cache_clear()
        drop_database(server_admin_url, url)


@pytest.fixture(scope="session")
def seeded_warehouse(warehouse_url: str):
    """The session database seeded at scale ``s`` (seed 42); returns the seed report."""
    from steward import paths
    from steward.seed import generate

    report = generate.seed_warehouse(scale="s", seed=42, url=warehouse_url, progress=False)
    yield report
    # The recording files live beside the database; it is dropped, so are they.
    shutil.rmtree(paths.recordings_dir() / make_url(warehouse_url).database, ignore_errors=True)
