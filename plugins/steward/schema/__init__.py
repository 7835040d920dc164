"""Steward's own tables in schema ``steward``: one place that creates and upgrades them.

The tables are defined in :mod:`steward.schema.tables`; Alembic migrations in
``migrations/versions`` build them, with their own version table
``steward.schema_version`` (Airflow's ``alembic_version`` is never touched).

:func:`upgrade` brings a warehouse to the newest revision. Every entry point that
writes Steward's tables calls it (the nightly and DSAR tasks, the CLI, the
seed), so it is cheap when there is nothing to do: one query reads the version
row and compares it with the newest revision. Otherwise it takes a
transaction-level advisory lock, so two processes upgrading at once (Airflow
workers, tests under pytest-xdist) run the migrations once; the second finds the
work done. A warehouse laid out by a release before migrations (tables, no
version row) is adopted by the first revision, which only creates what is
missing. Tables built by dbt (marts, seeds) are dbt's, not this module's.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field
from pathlib import Path

import sqlalchemy as sa

from steward.schema.tables import SCHEMA

VERSION_TABLE = "schema_version"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_LOCK_KEY = "steward.schema"


class SchemaError(RuntimeError):
    """The warehouse's schema cannot be brought up to date (privileges, an unknown revision)."""


@dataclass
class SchemaStatus:
    """Where a warehouse stands: its revision, the newest one, and what is missing."""

    current: str | None
    head: str
    pending: list[str] = field(default_factory=list)  # revisions not applied yet, oldest first
    missing_tables: list[str] = field(default_factory=list)  # at head, yet not there

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head and not self.missing_tables

    def as_dict(self) -> dict:
        return {**asdict(self), "up_to_date": self.up_to_date}


def _config(connection: sa.Connection | None = None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(rev)s")  # the revision id holds the slug
    config.attributes["connection"] = connection
    return config


@functools.cache
def _script():
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())


def head() -> str:
    """The newest revision of Steward's schema."""
    heads = _script().get_heads()
    if len(heads) != 1:
        raise SchemaError(f"the migrations have {len(heads)} heads: merge them ({heads})")
    return heads[0]


def _engine(bind: sa.Engine | str | None) -> sa.Engine:
    from steward import warehouse

    if isinstance(bind, sa.Engine):
        return bind
    return warehouse.engine(bind)


def current(conn: sa.Connection) -> str | None:
    """The warehouse's revision; None before the first upgrade (new, or laid out pre-migrations)."""
    # pg_catalog read with the statement's own snapshot rather than to_regclass(), which may
    # answer from the backend's catalog cache: an upgrader that waited on the lock must see
    # the version table the first one committed (once in CI both reported "no revision").
    if not conn.execute(
        sa.text(
            "select exists (select from pg_catalog.pg_tables"
            " where schemaname = :schema and tablename = :table)"
        ),
        {"schema": SCHEMA, "table": VERSION_TABLE},
    ).scalar_one():
        return None
    return conn.execute(
        sa.text(f"select max(version_num) from {SCHEMA}.{VERSION_TABLE}")
    ).scalar_one()


def upgrade(bind: sa.Engine | str | None = None) -> str | None:
    """Bring the warehouse to the newest revision; return the revision it was at.

    Idempotent; one query when already up to date. ``bind``: an engine, a URL, or
    None for :func:`steward.warehouse.engine`.
    """
    engine = _engine(bind)
    newest = head()
    with engine.connect() as conn:
        before = current(conn)
    if before == newest:
        return before
    from alembic import command

    try:
        with engine.begin() as conn:
            # Held to commit: a second process waits here, then finds the work done.
            conn.execute(
                sa.text("select pg_advisory_xact_lock(hashtext(:key))"), {"key": _LOCK_KEY}
            )
            before = current(conn)
            if before != newest:
                if conn.execute(
                    sa.text("select to_regnamespace(:schema) is null"), {"schema": SCHEMA}
                ).scalar_one():
                    conn.execute(sa.schema.CreateSchema(SCHEMA, if_not_exists=True))
                command.upgrade(_config(conn), "head")
    except sa.exc.ProgrammingError as exc:
        raise SchemaError(
            f"cannot upgrade Steward's schema from {before or 'nothing'} to {newest}: "
            f"{exc.orig}. Run `steward warehouse upgrade` as the role that owns schema "
            f"{SCHEMA!r}."
        ) from exc
    return before


def status(bind: sa.Engine | str | None = None) -> SchemaStatus:
    """The warehouse's revision against the newest, and any of Steward's tables missing."""
    engine = _engine(bind)
    newest = head()
    with engine.connect() as conn:
        at = current(conn)
        present = set(sa.inspect(conn).get_table_names(schema=SCHEMA))
    script = _script()
    pending = [
        revision.revision
        for revision in script.iterate_revisions(newest, at)
        if revision.revision != at
    ]
    missing = []
    if at == newest:
        from steward.schema.tables import metadata

        missing = sorted(t.name for t in metadata.sorted_tables if t.name not in present)
    return SchemaStatus(current=at, head=newest, pending=pending[::-1], missing_tables=missing)


def new_revision(message: str, bind: sa.Engine | str | None = None) -> Path:
    """Write the next revision: what :mod:`steward.schema.tables` changed, against a warehouse
    at the newest revision (Alembic's autogenerate; read it over before committing it)."""
    import re

    from alembic import command

    if not message.strip():
        raise SchemaError("a revision needs a message saying what it changes")
    engine = _engine(bind)
    upgrade(engine)
    number = len(list(_script().walk_revisions())) + 1
    slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:40]
    with engine.begin() as conn:
        script = command.revision(
            _config(conn), message=message, autogenerate=True, rev_id=f"{number:04d}_{slug}"
        )
    _script.cache_clear()
    if not script:  # Alembic returns no script (an empty list) when nothing changed
        raise SchemaError("tables.py matches the migrations: there is nothing to migrate")
    return Path(script.path)
