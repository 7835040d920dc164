"""The redaction policy on a seeded ``s`` warehouse (real PostgreSQL, real dbt hold views).

Planted card numbers and SSNs (the seed writes them into transcripts and ticket
notes) are counted by an independent check written here (any Luhn-valid 13-19
digit run, any issued-shape SSN), not by the redaction's own detectors.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys

import pytest
import sqlalchemy as sa
from stdnum import luhn

from steward import audit, dbt_runner, warehouse
from tests.integration import engine_helpers as helpers

pytestmark = [pytest.mark.integration]

FREE_TEXT = {
    "telephony.transcripts": ("transcript_id", "body"),
    "support.tickets": ("ticket_id", "notes"),
}
# Not after "+": an international phone number can pass Luhn by chance.
_DIGIT_RUN = re.compile(r"(?<![\d+-])\d(?:[ -]?\d){12,18}(?![\d-])")
_SSN = re.compile(r"(?<![\d-])(\d{3})-(\d{2})-(\d{4})(?![\d-])")
RUNNER = """
from steward import warehouse
from steward.redaction import runner
runner.run(warehouse.engine(), apply=True, batch_size=2)
"""


def _sensitive(text: str) -> bool:
    for match in _DIGIT_RUN.finditer(text):
        if luhn.is_valid(re.sub(r"\D", "", match.group())):
            return True
    return any(
        a not in {"000", "666"} and not a.startswith("9") and g != "00" and s != "0000"
        for a, g, s in _SSN.findall(text)
    )


def texts(url: str) -> dict[tuple[str, str], str]:
    engine = sa.create_engine(url)
    found = {}
    with engine.connect() as conn:
        for table, (key, column) in FREE_TEXT.items():
            for row_key, text in conn.execute(
                sa.text(f"select {key}::text, {column} from {table}")
            ):
                found[(table, row_key)] = text or ""
    engine.dispose()
    return found


def digest(url: str) -> str:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        payments = conn.execute(
            sa.text(
                "select string_agg(payment_id || ':' || coalesce(card_number, ''), ','"
                " order by payment_id) from billing.payments"
            )
        ).scalar()
    engine.dispose()
    body = repr(sorted(texts(url).items())) + (payments or "")
    return hashlib.sha256(body.encode()).hexdigest()


def held_keys(url: str) -> set[tuple[str, str]]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select distinct table_name, row_key ->> :k1 from steward.redaction_plan"
                " where action = 'held' and table_name = 'telephony.transcripts'"
                " union select distinct table_name, row_key ->> :k2 from steward.redaction_plan"
                " where action = 'held' and table_name = 'support.tickets'"
            ),
            {"k1": "transcript_id", "k2": "ticket_id"},
        ).all()
    engine.dispose()
    return {(t, k) for t, k in rows}


def run(url: str, apply: bool, **kwargs):
    from steward.redaction import runner

    warehouse._engine_for.cache_clear()
    engine = sa.create_engine(url)
    try:
        return runner.run(engine, apply=apply, **kwargs)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def template(server_admin_url, tmp_path_factory):
    root = tmp_path_factory.mktemp("redaction_recordings")
    name = "steward_test_redaction_template"
    url = helpers.seeded(server_admin_url, name, root)
    run(url, apply=False)  # builds the legal-hold views once, for every copy
    yield name, root
    helpers.drop(server_admin_url, name)


@pytest.fixture
def copy(server_admin_url, template, tmp_path, request):
    name = f"steward_test_redaction_{request.node.name[:30].lower()}"
    url = helpers.copy_of(server_admin_url, template[0], name, template[1], tmp_path / "rec")
    yield url
    helpers.drop(server_admin_url, name)


def test_dry_run_changes_nothing_and_reports_counts_only(copy):
    before = digest(copy)
    result = run(copy, apply=False)
    assert digest(copy) == before
    assert result.rows_changed == 0
    assert sum(result.redacted["telephony.transcripts.body"].values()) > 0
    assert result.violations["billing.payments.card_number"] > 0
    engine = sa.create_engine(copy)
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from steward.redaction_plan")).scalar() == 0
        assert conn.execute(sa.text("select count(*) from steward.pci_violations")).scalar() == 0
    engine.dispose()


def test_apply_leaves_no_planted_card_or_ssn_outside_holds_and_is_idempotent(copy):
    before = texts(copy)
    planted = {key for key, text in before.items() if _sensitive(text)}
    assert planted, "the seed plants card numbers and SSNs in free text"
    first = run(copy, apply=True)
    after = texts(copy)
    held = held_keys(copy)
    left = {key for key, text in after.items() if _sensitive(text)}
    assert left == planted & held  # share left outside holds: 0
    assert held and all(after[key] == before[key] for key in held)
    assert first.rows_changed >= len(planted - held)
    # Text other than the secrets is kept: a rewritten row differs only where a marker went.
    for key in planted - held:
        assert "[card ending" in after[key] or "[SSN removed]" in after[key]
    # Structured card numbers were only reported (not approved): unchanged.
    state = digest(copy)
    second = run(copy, apply=True)
    assert second.rows_changed == 0 and digest(copy) == state
    assert audit.verify(sa.create_engine(copy)).ok


def test_approved_truncation_keeps_first_six_and_last_four(copy):
    from steward.redaction import runner

    engine = sa.create_engine(copy)
    with pytest.raises(runner.RedactionError):
        runner.approve(engine, "billing.payments.amount", "tester")
    runner.approve(engine, "billing.payments.card_number", "tester")
    result = run(copy, apply=True)
    assert (
        result.truncated["billing.payments.card_number"]
        == result.violations["billing.payments.card_number"]
    )
    with engine.connect() as conn:
        full = conn.execute(
            sa.text("select count(*) from billing.payments where card_number ~ '^[0-9 -]{13,23}$'")
        ).scalar()
        truncated = conn.execute(
            sa.text(
                "select count(*) from billing.payments where card_number ~ '^[0-9]{6}[*]+[0-9]{4}$'"
            )
        ).scalar()
    assert full == 0 and truncated >= result.truncated["billing.payments.card_number"]
    assert audit.verify(engine).ok
    engine.dispose()


def test_kill_9_mid_run_then_rerun_gives_the_same_end_state(server_admin_url, template, tmp_path):
    reference = helpers.copy_of(
        server_admin_url, template[0], "steward_test_redaction_ref", template[1], tmp_path / "a"
    )
    killed = helpers.copy_of(
        server_admin_url, template[0], "steward_test_redaction_kill", template[1], tmp_path / "b"
    )
    try:
        run(reference, apply=True, batch_size=2)
        env = {**os.environ, warehouse.DATABASE_URL_ENV: killed, "STEWARD_ENGINE_KILL_AT": "4"}
        crashed = subprocess.run(
            [sys.executable, "-c", RUNNER], env=env, capture_output=True, text=True, timeout=300
        )
        assert crashed.returncode == -9, crashed.stderr
        assert digest(killed) != digest(reference)  # stopped part-way
        env.pop("STEWARD_ENGINE_KILL_AT")
        rerun = subprocess.run(
            [sys.executable, "-c", RUNNER], env=env, capture_output=True, text=True, timeout=300
        )
        assert rerun.returncode == 0, rerun.stderr
        assert digest(killed) == digest(reference)
        engine = sa.create_engine(killed)
        with engine.connect() as conn:
            open_runs = conn.execute(
                sa.text("select count(*) from steward.redaction_runs where status = 'running'")
            ).scalar()
        assert open_runs == 0
        assert audit.verify(engine).ok
        engine.dispose()
    finally:
        helpers.drop(server_admin_url, "steward_test_redaction_ref", "steward_test_redaction_kill")


def test_a_row_placed_under_legal_hold_is_not_rewritten(copy):
    before = texts(copy)
    ticket = min(
        (key for key, text in before.items() if key[0] == "support.tickets" and _sensitive(text)),
        key=lambda key: int(key[1]),
    )
    engine = sa.create_engine(copy)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into compliance.legal_holds"
                " (hold_id, case_reference, scope, source_table, record_key, placed_at)"
                " values (987654, 'CASE-REDACT-1', 'record', 'support.tickets', :key,"
                " now() - interval '1 day')"
            ),
            {"key": ticket[1]},
        )
    engine.dispose()
    result = run(copy, apply=True)
    after = texts(copy)
    assert after[ticket] == before[ticket] and _sensitive(after[ticket])
    assert result.held["support.tickets.notes"] >= 1
    others = {k for k, t in before.items() if _sensitive(t)} - held_keys(copy)
    assert others and not any(_sensitive(after[k]) for k in others)


def test_circuit_breaker_changes_nothing(copy):
    from steward.engine import CircuitBreakerError

    before = digest(copy)
    with pytest.raises(CircuitBreakerError):
        run(copy, apply=True, max_rows=1)
    assert digest(copy) == before
    engine = sa.create_engine(copy)
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from steward.redaction_plan")).scalar() == 0
    engine.dispose()


def test_the_dashboard_shows_the_applied_run_without_a_value(copy):
    from steward.dashboard import page

    before = texts(copy)
    planted = [text for text in before.values() if _sensitive(text)]
    result = run(copy, apply=True)
    # The section reads dbt views over the runner's tables (models/marts/redaction).
    marts = dbt_runner.run(["build", "--select", "path:models/marts/redaction"], copy)
    assert marts.success, dbt_runner.failure_summary(marts)
    built = page.build(copy, static=True)
    section = built.dashboard.section("redaction")
    assert section.state == "ready"
    metrics = {m.label: m.value for m in section.metrics}
    assert metrics["Rows rewritten"] == f"{result.rows_changed:,}"
    assert metrics["Held back by legal holds"] == f"{sum(result.held.values()):,}"
    violations = result.violations["billing.payments.card_number"]
    assert metrics["Full card numbers in card columns"] == f"{violations:,}"
    assert "billing.payments.card_number" in built.html
    engine = sa.create_engine(copy)
    with engine.connect() as conn:
        cards = conn.execute(sa.text("select card_number from billing.payments")).scalars().all()
    engine.dispose()
    digits = {re.sub(r"\D", "", card) for card in cards if card}
    digits = {number for number in digits if len(number) >= 13}
    assert digits, "full card numbers stay until truncation is approved"
    page_digits = re.sub(r"[^\d]", " ", built.html).split()
    assert not digits & set(page_digits)
    assert not [text for text in planted if text and text in built.html]
