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
    assert runner.invoke(audit_app, []).exit_code == 0
    with engine.begin() as conn:
        conn.execute(sa.text("set local session_replication_role = replica"))
        conn.execute(sa.text("update steward.audit_log set action = 'other' where seq = 1"))
    result = runner.invoke(audit_app, [])
    assert result.exit_code == 1
    warehouse._engine_for.cache_clear()
