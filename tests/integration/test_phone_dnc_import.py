"""`steward phones import-dnc` on a real PostgreSQL: full lists, change lists, bad lines."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from steward.phones.dnc import RegistryImportError, import_registry_file, registry_engine

pytestmark = pytest.mark.integration

NUMBERS = [f"202555{n:04d}" for n in range(1000, 1100)]
BAD_LINES = ["202555ABCD", "20255510", "٢٠٢٥٥٥١٠٠٠", "1025551000", "202-555-1000", "x" * 5000]


def _listed(engine, on: dt.date) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select phone_number from steward.dnc_registry where listed_on <= :on"
                " and (delisted_on is null or delisted_on > :on)"
            ),
            {"on": on},
        )
        return {row[0] for row in rows}


@pytest.fixture
def registry_db(empty_database, tmp_path):
    return registry_engine(empty_database), tmp_path


def test_full_then_change_list_keeps_history(registry_db):
    engine, folder = registry_db
    full = folder / "dnc_full.txt"
    # Half the numbers as ten digits, half as area code + number; bad lines in between.
    lines = [n if i % 2 else f"{n[:3]},{n[3:]}" for i, n in enumerate(NUMBERS)]
    full.write_text("\n".join(lines[:50] + BAD_LINES + lines[50:] + ["", NUMBERS[0]]) + "\n")

    first = import_registry_file(full, snapshot_date=dt.date(2026, 10, 1), engine=engine)
    assert first.numbers_accepted == 100
    assert first.numbers_added == 100
    assert first.lines_rejected == len(BAD_LINES)
    assert first.rejected_by_reason == {
        "letters": 2,
        "non_ascii_digits": 1,
        "not_a_nanp_number": 1,
        "punctuation": 1,
        "wrong_length": 1,
    }
    assert first.blank_lines == 1
    assert _listed(engine, dt.date(2026, 10, 1)) == set(NUMBERS)

    # The same file again, a week later: nothing changes (idempotent).
    again = import_registry_file(full, snapshot_date=dt.date(2026, 10, 8), engine=engine)
    assert (again.numbers_added, again.numbers_removed, again.listed_after) == (0, 0, 100)

    changes = folder / "dnc_changes.txt"
    changes.write_text(
        "\n".join(
            [
                "202,5559001,2026-10-14,A",
                "2025559002,A",
                f"{NUMBERS[0]},D",
                f"{NUMBERS[1][:3]},{NUMBERS[1][3:]},2026-10-14,D",
                f"{NUMBERS[2]},D",
                f"{NUMBERS[2]},A",  # deleted then re-added: the last record wins
                "not a number,A",
            ]
        )
    )
    report = import_registry_file(
        changes, changes=True, snapshot_date=dt.date(2026, 10, 15), engine=engine
    )
    assert (report.numbers_added, report.numbers_removed) == (2, 2)
    assert report.rejected_by_reason == {"letters": 1}
    before = _listed(engine, dt.date(2026, 10, 14))
    after = _listed(engine, dt.date(2026, 10, 15))
    assert before == set(NUMBERS)
    assert after == (set(NUMBERS) - {NUMBERS[0], NUMBERS[1]}) | {"2025559001", "2025559002"}

    # A later full list replaces the snapshot: what it lacks is delisted that day.
    smaller = folder / "dnc_full_2.txt"
    smaller.write_text("\n".join(NUMBERS[5:]) + "\n")
    replaced = import_registry_file(smaller, snapshot_date=dt.date(2026, 11, 1), engine=engine)
    assert _listed(engine, dt.date(2026, 11, 1)) == set(NUMBERS[5:])
    assert replaced.numbers_removed == 5  # NUMBERS[2:5] and the two change-list additions
    assert _listed(engine, dt.date(2026, 10, 20)) == after  # history is kept

    with engine.connect() as conn:
        audit = conn.execute(
            sa.text(
                "select import_kind, numbers_added, numbers_removed, lines_rejected"
                " from steward.dnc_registry_imports order by import_id"
            )
        ).all()
    assert [tuple(row) for row in audit] == [
        ("full", 100, 0, len(BAD_LINES)),
        ("full", 0, 0, len(BAD_LINES)),
        ("changes", 2, 2, 1),
        ("full", 0, 5, 0),
    ]


def test_refusals_change_nothing(registry_db):
    engine, folder = registry_db
    changes = folder / "changes.txt"
    changes.write_text("2025551000,A\n")
    with pytest.raises(RegistryImportError, match="full import first"):
        import_registry_file(changes, changes=True, engine=engine)

    full = folder / "full.txt"
    full.write_text("\n".join(NUMBERS) + "\n")
    import_registry_file(full, snapshot_date=dt.date(2026, 10, 1), engine=engine)

    truncated = folder / "truncated.txt"
    truncated.write_text("\n".join(NUMBERS[:10]) + "\n")
    with pytest.raises(RegistryImportError, match="truncated download"):
        import_registry_file(truncated, snapshot_date=dt.date(2026, 10, 2), engine=engine)
    with pytest.raises(RegistryImportError, match="date order"):
        import_registry_file(full, snapshot_date=dt.date(2026, 9, 1), engine=engine)

    dry = import_registry_file(
        truncated,
        snapshot_date=dt.date(2026, 10, 2),
        engine=engine,
        dry_run=True,
        max_delist_share=1.0,
    )
    assert dry.numbers_removed == 90
    assert dry.import_id is None
    assert _listed(engine, dt.date(2026, 10, 3)) == set(NUMBERS)
    with engine.connect() as conn:
        imports = conn.execute(sa.text("select count(*) from steward.dnc_registry_imports"))
        assert imports.scalar_one() == 1


def test_a_file_of_garbage_imports_nothing_and_never_crashes(registry_db):
    engine, folder = registry_db
    garbage = folder / "garbage.bin"
    garbage.write_bytes(b"\xff\xfe\x00\x01\n\tx\\N\n" + bytes(range(256)) + b"\n" + b"9" * 100_000)
    report = import_registry_file(garbage, snapshot_date=dt.date(2026, 10, 1), engine=engine)
    assert report.numbers_accepted == 0
    assert report.lines_rejected == report.lines_read - report.blank_lines > 0
    assert _listed(engine, dt.date(2026, 10, 1)) == set()


def test_cli_prints_counts_and_never_a_number(empty_database, tmp_path, monkeypatch):
    from steward.phones.cli import phones_app

    monkeypatch.setenv(
        "STEWARD_DATABASE_URL",
        registry_engine(empty_database).url.render_as_string(hide_password=False),
    )
    full = tmp_path / "dnc.txt"
    full.write_text("\n".join([*NUMBERS[:20], "202555ABCD"]) + "\n")
    result = CliRunner().invoke(
        phones_app, ["import-dnc", str(full), "--snapshot-date", "2026-10-01", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["numbers_added"] == 20
    assert report["rejected_by_reason"] == {"letters": 1}
    assert not any(number in result.output for number in NUMBERS)
    result = CliRunner().invoke(phones_app, ["import-dnc", str(full), "--snapshot-date", "01/10"])
    assert result.exit_code == 2
