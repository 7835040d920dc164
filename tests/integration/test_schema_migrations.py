"""Steward's schema and its migrations on real PostgreSQL (``steward.schema``)."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from typer.testing import CliRunner

from steward import schema
from steward.cli import app
from steward.dsar.register import STATUSES
from steward.phones.lookup import RAW_KEY_LENGTH
from steward.schema import tables

pytestmark = [pytest.mark.integration]

BEFORE_MIGRATIONS_SQL = Path(__file__).parents[1] / "data" / "steward_schema_before_migrations.sql"


@pytest.fixture
def engine(empty_database):
    engine = sa.create_engine(empty_database)
    yield engine
    engine.dispose()


def _describe(engine: sa.Engine) -> dict[str, list]:
    """Schema ``steward`` as PostgreSQL's catalogue sees it: columns, types, defaults,
    constraints, indexes, triggers, functions and privileges (everything but oids)."""
    queries = {
        "columns": """
            select c.relname, array_agg(
                a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                || case when a.attnotnull then ' not null' else '' end
                || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
                || case when a.attidentity <> '' then ' identity ' || a.attidentity::text
                   else '' end
                order by a.attnum)
            from pg_class c
            join pg_namespace n on n.oid = c.relnamespace
            join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
            left join pg_attrdef d on d.adrelid = c.oid and d.adnum = a.attnum
            where n.nspname = 'steward' and c.relkind = 'r'
            group by c.relname order by c.relname
        """,
        "constraints": """
            select conrelid::regclass::text, conname, pg_get_constraintdef(oid)
            from pg_constraint where connamespace = 'steward'::regnamespace
            order by 1, 2
        """,
        "indexes": """
            select tablename, indexname, indexdef from pg_indexes
            where schemaname = 'steward' order by 1, 2
        """,
        "triggers": """
            select tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) from pg_trigger
            where not tgisinternal
            and tgrelid in (select oid from pg_class where relnamespace = 'steward'::regnamespace)
            order by 1, 2
        """,
        "functions": """
            select proname, pg_get_functiondef(oid) from pg_proc
            where pronamespace = 'steward'::regnamespace order by 1
        """,
        "sequences": """
            select relname from pg_class
            where relnamespace = 'steward'::regnamespace and relkind = 'S' order by 1
        """,
        "privileges": """
            -- effective privileges: no ACL and an explicit owner-only ACL are the same
            select relname, array_agg(
                acl.grantee::regrole::text || ':' || acl.privilege_type
                order by acl.grantee::regrole::text, acl.privilege_type
            )
            from pg_class, aclexplode(coalesce(relacl, acldefault('r', relowner))) as acl
            where relnamespace = 'steward'::regnamespace and relkind = 'r'
            group by relname order by 1
        """,
    }
    with engine.connect() as conn:
        return {
            name: [tuple(row) for row in conn.execute(sa.text(query))]
            for name, query in queries.items()
        }


def _load_before_migrations(engine: sa.Engine) -> None:
    """Lay the database out as the release before migrations did."""
    with engine.begin() as conn, conn.connection.driver_connection.cursor() as cursor:
        cursor.execute(BEFORE_MIGRATIONS_SQL.read_text())
        cursor.execute("reset all")  # the dump's session settings (search_path '')


def _count_statements(engine: sa.Engine) -> list[str]:
    statements: list[str] = []
    sa.event.listen(
        engine,
        "before_cursor_execute",
        lambda conn, cursor, statement, *args: statements.append(statement),
    )
    return statements


def test_a_new_warehouse_gets_every_table_and_a_second_upgrade_does_nothing(engine):
    assert schema.status(engine).current is None
    assert schema.upgrade(engine) is None  # it was at no revision

    state = schema.status(engine)
    assert state.current == schema.head() and state.up_to_date and state.pending == []
    present = set(sa.inspect(engine).get_table_names(schema="steward"))
    assert {table.name for table in tables.metadata.sorted_tables} <= present
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from steward.schema_version")).scalar() == 1
        # Airflow's version table is another matter: never created here.
        assert conn.execute(sa.text("select to_regclass('alembic_version')")).scalar() is None

    layout = _describe(engine)
    statements = _count_statements(engine)
    assert schema.upgrade(engine) == schema.head()
    assert len(statements) == 2 and all(s.lstrip().startswith("select") for s in statements)
    assert _describe(engine) == layout


def test_the_tables_definitions_match_what_the_migrations_build(engine):
    schema.upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_schemas": True,
                "include_name": lambda name, type_, parents: (
                    name == "steward"
                    if type_ == "schema"
                    else type_ != "table" or f"steward.{name}" in tables.metadata.tables
                ),
                "compare_type": True,
            },
        )
        assert compare_metadata(context, tables.metadata) == []


def test_constants_of_the_code_match_the_migrated_schema(engine):
    schema.upgrade(engine)
    with engine.connect() as conn:
        check = conn.execute(
            sa.text(
                "select pg_get_constraintdef(oid) from pg_constraint"
                " where conname = 'dsar_requests_status_check'"
            )
        ).scalar_one()
        assert check.count("::text") == len(STATUSES)
        assert all(f"'{status}'::text" in check for status in STATUSES)
        key = conn.execute(sa.text("select steward.phone_raw_key(repeat('9', 200))")).scalar()
        assert len(key) == RAW_KEY_LENGTH


def test_a_warehouse_from_before_migrations_is_adopted_with_its_rows(engine, empty_database):
    _load_before_migrations(engine)
    with engine.begin() as conn:
        # Older still: modules added these in place over the releases.
        conn.exec_driver_sql(
            "alter table steward.dsar_requests drop constraint dsar_requests_status_check;"
            " alter table steward.dsar_erasure_plan drop column file_outcome,"
            " drop column file_error;"
            " alter table steward.dedupe_runs drop column trained_at;"
            " insert into steward.dsar_requests (ticket_reference, request_type, jurisdiction,"
            "  received_on, status) values ('T-1', 'access', 'GDPR', '2026-11-02', 'completed');"
            " insert into steward.retention_runs (run_id, run_mode, run_status, as_of, max_share,"
            "  batch_size) values ('r1', 'apply', 'finished', now(), 0.2, 1000);"
            " insert into steward.audit_log values (1, now(), 'old', 'old.action', '{}',"
            "  repeat('0', 64), repeat('a', 64));"
            " insert into steward.phone_lookup (raw_value, region_hint, parse_status,"
            "  has_extension, rescued_idd, region_used, default_region, library_version)"
            "  values ('x', '', 'unparseable', false, false, 'US', 'US', 'v1');"
        )
    assert schema.status(engine).current is None

    assert schema.upgrade(engine) is None

    assert schema.status(engine).up_to_date
    with engine.connect() as conn:
        counts = {
            table: conn.execute(sa.text(f"select count(*) from steward.{table}")).scalar()
            for table in ("dsar_requests", "retention_runs", "audit_log", "phone_lookup")
        }
        identity = conn.execute(
            sa.text(
                "insert into steward.dsar_requests (ticket_reference, request_type, jurisdiction,"
                " received_on) values ('T-2', 'deletion', 'GDPR', '2026-11-03')"
                " returning request_id"
            )
        ).scalar()
    assert counts == {"dsar_requests": 1, "retention_runs": 1, "audit_log": 1, "phone_lookup": 1}
    assert identity == 2  # the identity carried on
    # The adopted layout is the one a new warehouse gets, to the last index and grant.
    adopted = _describe(engine)
    fresh_engine = sa.create_engine(
        sa.engine.make_url(empty_database).set(database=f"{engine.url.database}_fresh")
    )
    admin = sa.create_engine(engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'create database "{fresh_engine.url.database}"')
    try:
        schema.upgrade(fresh_engine)
        assert adopted == _describe(fresh_engine)
    finally:
        fresh_engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'drop database "{fresh_engine.url.database}" with (force)')
        admin.dispose()


def test_two_upgrades_at_once_both_succeed_and_migrate_once(empty_database):
    engines = [sa.create_engine(empty_database) for _ in range(2)]
    barrier = threading.Barrier(2)
    results: list = [None, None]
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = schema.upgrade(engines[index])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert not errors, errors
        # Exactly one of them found no revision and migrated; the other found the work done.
        assert set(results) == {None, schema.head()}
        assert schema.status(engines[0]).up_to_date
    finally:
        for engine in engines:
            engine.dispose()


def test_a_new_revision_adds_a_column_to_an_existing_warehouse(engine, tmp_path, monkeypatch):
    schema.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("insert into steward.dedupe_record_fingerprints values (7, 'abc')"))
    migrations = tmp_path / "migrations"
    shutil.copytree(schema.MIGRATIONS_DIR, migrations)
    (migrations / "versions" / "0002_fingerprint_note.py").write_text(
        f'''"""Add a note to fingerprints (a test revision)."""

import sqlalchemy as sa
from alembic import op

revision = "0002_fingerprint_note"
down_revision = "{schema.head()}"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "dedupe_record_fingerprints",
        sa.Column("note", sa.Text, server_default="kept"),
        schema="steward",
    )
'''
    )
    monkeypatch.setattr(schema, "MIGRATIONS_DIR", migrations)
    schema._script.cache_clear()
    try:
        state = schema.status(engine)
        assert state.pending == ["0002_fingerprint_note"] and not state.up_to_date

        result = CliRunner().invoke(
            app, ["warehouse", "upgrade", "--url", engine.url.render_as_string(False)]
        )
        assert result.exit_code == 0, result.output
        assert "0001_baseline -> 0002_fingerprint_note" in result.output

        assert schema.status(engine).current == "0002_fingerprint_note"
        with engine.connect() as conn:
            rows = conn.execute(sa.text("select * from steward.dedupe_record_fingerprints")).all()
        assert [tuple(row) for row in rows] == [(7, "abc", "kept")]
    finally:
        schema._script.cache_clear()
