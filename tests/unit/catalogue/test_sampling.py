"""Sample plans: bounded, and stable while a table's statistics drift a little."""

from __future__ import annotations

import pytest

from steward.catalogue import sampling


def _table(rows: float, kind: str = "table") -> sampling.TableInfo:
    return sampling.TableInfo("telephony", "calls", kind, rows, ())


def test_small_tables_are_read_up_to_the_row_cap():
    assert sampling.plan_sample(_table(1500), 1000, full=False) == sampling.SamplePlan(
        "limit", None, 1000
    )
    assert sampling.plan_sample(_table(10**7, kind="view"), 1000, full=False).method == "limit"
    assert sampling.plan_sample(_table(10**7), 1000, full=True).method == "full"


@pytest.mark.parametrize("rows", [2_001, 10_009, 3 * 10**6, 5 * 10**8])
def test_the_rate_oversamples_but_stays_within_twenty_percent_of_the_target(rows):
    plan = sampling.plan_sample(_table(rows), 1000, full=False)
    wanted = 150.0 * 1000 / rows
    assert plan.method == "tablesample" and plan.row_cap == 1000
    assert wanted <= plan.percent <= min(100.0, wanted * 2**0.25) + 1e-9


def test_statistics_that_drift_a_little_keep_the_same_rate():
    # An ANALYZE or VACUUM between two nights, or a 1% growth: the same pages are sampled.
    base = sampling.plan_sample(_table(10_009), 1000, full=False).percent
    assert {
        sampling.plan_sample(_table(rows), 1000, full=False).percent
        for rows in (10_000, 10_009, 10_050, 10_109)
    } == {base}


def _counters(relkind: str = "r", writes: int | None = 7, **server) -> str | None:
    row = {"relkind": relkind, "relfilenode": "16384", "writes_counted": writes}
    return sampling._write_counters(row, {"uncounted": False, "stats_reset": None} | server)


def test_write_counters_name_the_file_and_the_writes_counted():
    assert _counters() != _counters(writes=8)
    assert _counters() == _counters(writes=7)
    # Statistics reset (a crash, pg_stat_reset): the counters start again, never match.
    assert _counters(stats_reset="2026-12-07 01:00:00+00") != _counters()


@pytest.mark.parametrize(
    ("relkind", "writes", "server"),
    [
        ("v", 7, {}),  # views have no counters
        ("p", 7, {}),  # nor partitioned parents
        ("r", None, {}),  # no statistics row yet
        ("r", 7, {"uncounted": True}),  # a standby, or track_counts off
    ],
)
def test_no_write_counters_where_postgresql_counts_nothing(relkind, writes, server):
    assert _counters(relkind, writes, **server) is None
