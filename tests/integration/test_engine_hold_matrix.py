"""The hold matrix: every shape of legal hold, generated and planted on one seeded
warehouse; retention (applied) and DSAR erasure of the affected subjects keep exactly
the same held rows, and exactly the rows the semantics say (tests/integration/
engine_helpers.py: hold_active, hold_covers), byte for byte.

Shapes: scope subject | record | table, x (table) bounds none | from only | to only |
closed, x placed in the past | future, x released never | past | future, x expires
never | past | future. Two copies of one warehouse: retention runs on one, the
erasure on the other.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest
import sqlalchemy as sa

from steward import datamap, warehouse
from tests.integration import engine_helpers as helpers

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
PAST = NOW - dt.timedelta(days=400)
FUTURE = NOW + dt.timedelta(days=400)
WHEN = {"never": None, "past": PAST, "future": FUTURE}
REQUEST_ID = 7_001
BASE_HOLD = 1_000


def matrix() -> list[dict]:
    shapes = []
    for scope in ("subject", "record", "table"):
        bounds = ("none", "from", "to", "closed") if scope == "table" else ("none",)
        for bound, placed, released, expires in itertools.product(
            bounds, ("past", "future"), ("never", "past", "future"), ("never", "past", "future")
        ):
            shapes.append(
                {
                    "scope": scope,
                    "bounds": bound,
                    "placed_at": WHEN[placed],
                    "released_at": WHEN[released],
                    "expires_at": WHEN[expires],
                }
            )
    return shapes


def plant(engine: sa.Engine, rows: dict) -> tuple[list[dict], list[int]]:
    """Plant the matrix; return the holds and the customers the erasure is for."""

    def overdue_calls_by_customer():
        calls: dict[int, list[tuple[str, dt.datetime]]] = {}
        for (table, key), (customer, clock) in rows.items():
            if (
                table == "telephony.calls"
                and customer is not None
                and clock < NOW.replace(year=NOW.year - 3)
            ):
                calls.setdefault(customer, []).append((key, clock))
        return {c: sorted(v) for c, v in sorted(calls.items())}

    calls = overdue_calls_by_customer()
    customers = list(calls)
    shapes = matrix()
    subject_shapes = [s for s in shapes if s["scope"] == "subject"]
    record_shapes = [s for s in shapes if s["scope"] == "record"]
    table_shapes = [s for s in shapes if s["scope"] == "table"]
    subject_customers = customers[: len(subject_shapes)]
    record_customers = customers[len(subject_shapes) : len(subject_shapes) + len(record_shapes)]
    others = customers[len(subject_shapes) + len(record_shapes) :][:30]
    subjects = subject_customers + record_customers + others

    def dates(table: str) -> list[dt.date]:
        return sorted(
            {
                clock.date()
                for (name, _), (customer, clock) in rows.items()
                if name == table and customer in subjects and clock is not None
            }
        )

    holds = []
    for shape, customer in zip(subject_shapes, subject_customers, strict=True):
        holds.append({**shape, "customer_id": customer, "source_table": None, "record_key": None})
    for shape, customer in zip(record_shapes, record_customers, strict=True):
        key = calls[customer][0][0]
        holds.append(
            {**shape, "customer_id": None, "source_table": "telephony.calls", "record_key": key}
        )
    # Table holds: an inactive one reaches every row of its table (honouring it by
    # mistake shows), an active one a part the others do not.
    targets = {
        "none": ("telephony.transcripts", "marketing.opt_outs"),
        "from": ("support.tickets", "support.tickets"),
        "to": ("marketing.campaign_contacts", "marketing.campaign_contacts"),
        "closed": ("telephony.calls", "telephony.calls"),
    }
    active_index = 0
    for shape in table_shapes:
        active = helpers.hold_active(shape, NOW)
        table = targets[shape["bounds"]][0 if active else 1]
        days = dates(table) or [NOW.date()]
        middle = days[len(days) // 2 + active_index % max(1, len(days) // 2)]
        low, high = days[0] - dt.timedelta(days=1), days[-1] + dt.timedelta(days=1)
        date_from = date_to = None
        if shape["bounds"] == "from":
            date_from = middle if active else low
        elif shape["bounds"] == "to":
            date_to = days[active_index % len(days)] if active else high
        elif shape["bounds"] == "closed":
            date_from, date_to = (middle, middle) if active else (low, high)
        active_index += active
        holds.append(
            {
                **shape,
                "customer_id": None,
                "source_table": table,
                "record_key": None,
                "date_from": date_from,
                "date_to": date_to,
            }
        )
    with engine.begin() as conn:
        conn.execute(sa.text("delete from compliance.legal_holds"))
        for number, hold in enumerate(holds):
            hold.setdefault("date_from", None)
            hold.setdefault("date_to", None)
            hold["hold_id"] = BASE_HOLD + number
            conn.execute(
                sa.text(
                    "insert into compliance.legal_holds (hold_id, case_reference, scope,"
                    " customer_id, source_table, record_key, date_from, date_to, placed_at,"
                    " expires_at, released_at) values (:hold_id, :case, :scope, :customer_id,"
                    " :source_table, :record_key, :date_from, :date_to, :placed_at, :expires_at,"
                    " :released_at)"
                ),
                {**hold, "case": f"MATRIX-{number}"},
            )
    return holds, subjects


@pytest.fixture(scope="module")
def twins(server_admin_url, tmp_path_factory):
    from steward.dsar import erasure

    stamp = dt.datetime.now().strftime("%H%M%S%f")
    names = [f"steward_holds_retention_{stamp}", f"steward_holds_dsar_{stamp}"]
    root = tmp_path_factory.mktemp("holds_recordings")
    try:
        url = helpers.seeded(server_admin_url, names[0], root)
        engine = sa.create_engine(url)
        rows = helpers.table_rows(engine)
        holds, subjects = plant(engine, rows)
        # The hold views, built once (what erase() does when they are missing).
        erasure.ensure_tables(engine)
        digests = helpers.row_digests(engine, str(root))
        engine.dispose()
        warehouse._engine_for.cache_clear()
        dsar_root = tmp_path_factory.mktemp("holds_dsar")
        dsar_url = helpers.copy_of(server_admin_url, names[0], names[1], root, dsar_root)
    except BaseException:
        helpers.drop(server_admin_url, *names)
        raise
    # The copy's paths were rewritten: its digests ignore the root, as do the template's.
    yield {
        "retention_url": url,
        "dsar_url": dsar_url,
        "dsar_root": str(dsar_root),
        "root": str(root),
        "rows": rows,
        "holds": holds,
        "subjects": subjects,
        "digests": digests,
    }
    helpers.drop(server_admin_url, *names)


def test_retention_and_erasure_keep_exactly_the_held_rows(twins, monkeypatch):
    from steward import audit
    from steward.dsar import erasure, finder
    from steward.retention import executor
    from steward.retention.executor import RunOptions

    monkeypatch.setenv("STEWARD_RETENTION_HMAC_KEY", "matrix-secret")
    monkeypatch.setenv("STEWARD_DSAR_SUPPRESSION_SALT", "matrix-suppression-key-012345")
    holds, rows = twins["holds"], twins["rows"]
    expected = helpers.expected_held(holds, rows, NOW)
    reachable = helpers.expected_held(holds, rows, NOW, only_active=False)
    print(
        f"hold matrix: {len(holds)} holds, {sum(helpers.hold_active(h, NOW) for h in holds)}"
        f" active; rows held {len(expected)}, reachable by any hold {len(reachable)}"
    )

    # DSAR erasure of every affected subject (one request, set-based).
    data_map = datamap.load_data_map()
    dsar_engine = sa.create_engine(twins["dsar_url"])
    identity = finder.SubjectIdentity(customer_ids=twins["subjects"])
    finder.find_rows(dsar_engine, REQUEST_ID, identity, data_map)
    erasure.erase(dsar_engine, REQUEST_ID, identity, data_map, max_rows=1_000_000)
    by_name = {t.qualified_name: t for t in data_map.tables}
    with dsar_engine.connect() as conn:
        plan = conn.execute(
            sa.text(
                "select table_name, row_key::text, action, reason from steward.dsar_erasure_plan"
                " where request_id = :r"
            ),
            {"r": REQUEST_ID},
        ).all()
    planned = {
        (table, helpers.plan_record_key(by_name[table], json.loads(key))): (action, reason)
        for table, key, action, reason in plan
    }
    dsar_held = {r for r, (action, reason) in planned.items() if reason.startswith("legal hold")}
    assert all(planned[r][0] == "retain" for r in dsar_held)
    assert dsar_held == expected & set(planned), (
        sorted(dsar_held - expected)[:5],
        sorted((expected & set(planned)) - dsar_held)[:5],
    )
    dsar_after = helpers.row_digests(dsar_engine, twins["dsar_root"])
    assert audit.verify(dsar_engine).ok
    dsar_engine.dispose()

    # Retention on the other copy: first a dry run (builds the models) to see what it
    # counts as overdue, then the applied run.
    retention_engine = sa.create_engine(twins["retention_url"])
    executor.run(RunOptions(as_of=NOW, apply=False), url=twins["retention_url"])
    with retention_engine.connect() as conn:
        overdue = {
            (table, key)
            for table, key in conn.execute(
                sa.text("select policy_name, record_key from intermediate.int_retention__overdue")
            )
        }
    summary = executor.run(
        RunOptions(as_of=NOW, apply=True, max_share=1.0), url=twins["retention_url"]
    )
    assert summary["verification"]["passed"], summary["verification"]
    after = helpers.row_digests(retention_engine, twins["root"])
    with retention_engine.connect() as conn:
        anonymised = {
            (table, key)
            for table, key in conn.execute(
                sa.text("select policy_name, record_key from steward.retention_anonymised")
            )
        }
    assert audit.verify(retention_engine).ok
    retention_engine.dispose()
    before = twins["digests"]
    retention_kept = {r for r in overdue if r in after and r not in anonymised}
    assert retention_kept == expected & overdue, (
        sorted(retention_kept - expected)[:5],
        sorted((expected & overdue) - retention_kept)[:5],
    )
    # Held rows are byte-identical after both.
    for row in retention_kept:
        assert after[row] == before[row], row
    for row in dsar_held:
        assert dsar_after[row] == before[row], row

    # Both engines agree on every row both looked at.
    assert dsar_held & overdue == retention_kept & set(planned)
    # The matrix is discriminating: inactive holds reached rows both had to change,
    # and every scope of active hold kept something.
    assert (reachable - expected) & set(planned), "no inactive hold reached a planned row"
    assert (reachable - expected) & overdue, "no inactive hold reached an overdue row"
    kept_by_scope = {
        h["scope"] + "/" + h["bounds"]
        for h in holds
        if helpers.hold_active(h, NOW)
        and any(helpers.hold_covers(h, t, k, *rows[(t, k)]) for t, k in dsar_held | retention_kept)
    }
    assert kept_by_scope >= {
        "subject/none",
        "record/none",
        "table/none",
        "table/from",
        "table/to",
        "table/closed",
    }, kept_by_scope
