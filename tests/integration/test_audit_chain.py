"""The audit trail on real PostgreSQL: append-only, and tampering is detected."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from steward import audit

pytestmark = [pytest.mark.integration]


@pytest.fixture
def engine(empty_database):
    engine = sa.create_engine(empty_database)
    yield engine
    engine.dispose()


def _fill(engine, rows=5):
    for index in range(rows):
        audit.record(engine, "tester", "test.action", {"index": index, "digest": "ab" * 32})


def test_chain_verifies_and_rows_cannot_be_changed(engine):
    _fill(engine)
    report = audit.verify(engine)
    assert report.ok and report.rows == 5 and report.head_seq == 5
    for statement in (
        "update steward.audit_log set actor = 'mallory'",
        "delete from steward.audit_log where seq = 2",
        "truncate steward.audit_log",
    ):
        with pytest.raises(sa.exc.DBAPIError), engine.begin() as conn:
            conn.execute(sa.text(statement))
    assert audit.verify(engine).ok


def test_superuser_edit_is_detected(engine):
    _fill(engine)
    with engine.begin() as conn:
        # A superuser can get round the trigger; the chain still gives it away.
        conn.execute(sa.text("set local session_replication_role = replica"))
        conn.execute(
            sa.text(
                "update steward.audit_log set details = jsonb_set(details, '{index}', '99')"
                " where seq = 3"
            )
        )
    report = audit.verify(engine)
    assert not report.ok
    assert report.broken_seqs == [3]


def test_superuser_delete_is_detected(engine):
    _fill(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("set local session_replication_role = replica"))
        conn.execute(sa.text("delete from steward.audit_log where seq = 2"))
    report = audit.verify(engine)
    assert not report.ok
    assert report.missing_seqs == [2]


def test_rehashing_one_row_breaks_the_next(engine):
    _fill(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("set local session_replication_role = replica"))
        conn.execute(
            sa.text(
                "update steward.audit_log set actor = 'mallory', row_hash = repeat('f', 64)"
                " where seq = 2"
            )
        )
    assert audit.verify(engine).broken_seqs == [2, 3]


def test_cli_exit_code(engine, empty_database, monkeypatch):
    from steward import warehouse
    from steward.audit.cli import audit_app

    monkeypatch.setenv(warehouse.DATABASE_URL_ENV, empty_database)
    warehouse._engine_for.cache_clear()
    _fill(engine, 2)
    runner = CliRunner()
    assert runner.invoke(audit_app, ["verify"]).exit_code == 0
    with engine.begin() as conn:
        conn.execute(sa.text("set local session_replication_role = replica"))
        conn.execute(sa.text("update steward.audit_log set action = 'other' where seq = 1"))
    result = runner.invoke(audit_app, ["verify"])
    assert result.exit_code == 1
    warehouse._engine_for.cache_clear()


@pytest.fixture
def app_role(engine):
    """A login role like the one in Steward's connection, and a fresh owner role name."""
    import uuid

    suffix = uuid.uuid4().hex[:8]
    app, owner = f"steward_app_{suffix}", f"steward_audit_owner_{suffix}"
    with engine.begin() as conn:
        conn.exec_driver_sql(f"create role {app} login")
        conn.exec_driver_sql(f"grant create on database {engine.url.database} to {app}")
    yield app, owner
    with engine.begin() as conn:
        for role in (owner, app):
            if conn.execute(
                sa.text("select 1 from pg_roles where rolname = :r"), {"r": role}
            ).first():
                conn.exec_driver_sql(f"reassign owned by {role} to current_user")
                conn.exec_driver_sql(f"drop owned by {role}")
                conn.exec_driver_sql(f"drop role {role}")


def test_protected_log_only_takes_appends_from_the_application_role(engine, app_role):
    app, owner = app_role
    _fill(engine, rows=2)
    assert audit.protect(engine, app, owner) == {
        "app_role": app,
        "owner_role": owner,
        "owner_role_created": True,
    }
    assert audit.protect(engine, app, owner)["owner_role_created"] is False  # idempotent

    as_app = sa.create_engine(engine.url.set(username=app))
    try:
        # What Steward does every day still works as the application role.
        audit.record(as_app, "steward.dsar", "dsar.status.completed", {"request_id": 1})
        assert audit.verify(as_app).rows == 3
        with as_app.begin() as conn:  # dbt builds its marts in the schema
            conn.exec_driver_sql("create table steward.some_mart as select 1 as x")
            conn.exec_driver_sql("drop table steward.some_mart")
        # What it must never do is refused by the server.
        for statement in (
            "update steward.audit_log set actor = 'mallory'",
            "delete from steward.audit_log",
            "truncate steward.audit_log",
            "drop table steward.audit_log",
            "alter table steward.audit_log disable trigger audit_log_append_only",
            "drop trigger audit_log_append_only on steward.audit_log",
            "create or replace function steward.audit_log_refuse_change() returns trigger"
            " language plpgsql as $$ begin return new; end $$",
        ):
            with pytest.raises(sa.exc.ProgrammingError), as_app.begin() as conn:
                conn.exec_driver_sql(statement)
    finally:
        as_app.dispose()
    report = audit.verify(engine)
    assert report.ok and report.rows == 3


def test_protect_refuses_roles_that_could_still_change_the_log(engine, app_role):
    app, owner = app_role
    with pytest.raises(audit.ProtectError, match="no role"):
        audit.protect(engine, "no_such_role_anywhere", owner)
    with engine.begin() as conn:
        superuser = conn.execute(sa.text("select current_user")).scalar_one()
    with pytest.raises(audit.ProtectError, match="superuser"):
        audit.protect(engine, superuser, owner)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"create role {owner} nologin")
        conn.exec_driver_sql(f"grant {owner} to {app}")
    with pytest.raises(audit.ProtectError, match="member of"):
        audit.protect(engine, app, owner)
