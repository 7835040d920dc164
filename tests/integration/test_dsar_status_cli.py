"""The privacy team moves requests through the status machine from the command line.

`steward dsar pause | resume | extend | reject` go through the register's
transition: due dates move as the jurisdiction says, refusals exit 2 with the
reason and change nothing, every change lands in the status history and the
hash-chained audit trail.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from steward import audit, warehouse
from steward.cli import app

pytestmark = pytest.mark.integration


@pytest.fixture
def register_url(empty_database, monkeypatch):
    monkeypatch.setenv(warehouse.DATABASE_URL_ENV, empty_database)
    warehouse._engine_for.cache_clear()
    yield empty_database
    warehouse._engine_for.cache_clear()


def _steward(*args: str) -> tuple[int, dict | None, str]:
    result = CliRunner().invoke(app, ["dsar", *args])
    try:
        payload = json.loads(result.stdout)
    except ValueError:
        payload = None
    return result.exit_code, payload, result.output


def _submit(ticket: str, jurisdiction: str, received_on: str) -> int:
    code, payload, output = _steward(
        "submit",
        "--request-type",
        "access",
        "--jurisdiction",
        jurisdiction,
        "--received-on",
        received_on,
        "--ticket-reference",
        ticket,
        "--email",
        "someone@example.org",
    )
    assert code == 0, output
    return payload["request_id"]


def _history(url: str, request_id: int) -> list[tuple[str | None, str, str]]:
    with sa.create_engine(url).connect() as conn:
        return [
            tuple(row)
            for row in conn.execute(
                sa.text(
                    "select from_status, to_status, reason from steward.dsar_status_history"
                    " where request_id = :id order by changed_at, to_status"
                ),
                {"id": request_id},
            )
        ]


def test_pause_resume_extend_move_the_gdpr_due_date(register_url):
    request_id = _submit("PRIV-CLI-1", "GDPR", "2026-01-31")

    code, paused, output = _steward(
        "pause", str(request_id), "--reason", "waiting for ID document", "--on", "2026-02-02"
    )
    assert code == 0, output
    assert paused["status"] == "paused"
    assert paused["due_on"] == "2026-02-28"  # one calendar month from 31 January

    code, resumed, output = _steward(
        "resume", str(request_id), "--reason", "ID checked", "--on", "2026-02-12", "--verified"
    )
    assert code == 0, output
    assert resumed["previous_status"] == "paused"
    assert resumed["status"] == "in_progress"
    assert resumed["paused_days"] == 10
    assert resumed["due_on"] == "2026-03-10"  # the clock stopped for ten days

    code, extended, output = _steward(
        "extend", str(request_id), "--reason", "complex request", "--on", "2026-02-20"
    )
    assert code == 0, output
    assert extended["status"] == "extended"
    # Two further months after the first (28 February -> 28 April), plus the paused days.
    assert extended["due_on"] == "2026-05-08"

    code, _, output = _steward("extend", str(request_id), "--reason", "again")
    assert code == 2
    assert "already extended" in output or "cannot go from extended" in output

    assert _history(register_url, request_id)[1:] == [
        ("received", "paused", "waiting for ID document"),
        ("paused", "in_progress", "ID checked"),
        ("in_progress", "extended", "complex request"),
    ]
    report = audit.verify(warehouse.engine(register_url))
    assert report.ok
    with sa.create_engine(register_url).connect() as conn:
        actions = conn.execute(
            sa.text(
                "select action, actor from steward.audit_log where action like 'dsar.status.%'"
                " order by 1"
            )
        ).all()
    assert [a for a, _ in actions] == [
        "dsar.status.extended",
        "dsar.status.in_progress",
        "dsar.status.paused",
    ]
    assert all(actor.startswith("cli:") for _, actor in actions)


def test_refusals_exit_2_and_change_nothing(register_url):
    request_id = _submit("PRIV-CLI-2", "CCPA", "2026-03-01")
    before = _steward("status", str(request_id))[1]

    # CCPA does not let the clock stop.
    code, _, output = _steward("pause", str(request_id), "--reason", "waiting")
    assert code == 2
    assert "does not let the clock stop" in output
    # Extending a request that was never started is not a legal transition.
    code, _, output = _steward("extend", str(request_id), "--reason", "busy")
    assert code == 2
    assert "cannot go from received to extended" in output
    # No reason, a bad date, an unknown request.
    assert _steward("reject", str(request_id), "--reason", "  ")[0] == 2
    assert _steward("reject", str(request_id), "--reason", "x", "--on", "31/12/2026")[0] == 2
    code, _, output = _steward("reject", "999999", "--reason", "spam")
    assert code == 2
    assert "no data-subject request 999999" in output

    assert _steward("status", str(request_id))[1] == before
    assert [to for _, to, _ in _history(register_url, request_id)] == ["received"]

    code, rejected, output = _steward("reject", str(request_id), "--reason", "manifestly unfounded")
    assert code == 0, output
    assert rejected["status"] == "rejected"
    assert rejected["rejection_reason"] == "manifestly unfounded"
    # Final: nothing moves it any more.
    assert _steward("resume", str(request_id), "--reason", "oops", "--verified")[0] == 2
