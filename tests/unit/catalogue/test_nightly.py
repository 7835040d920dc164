"""Pure pieces of the persisted catalogue: category agreement, drift counts, digests, overrides."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from steward import datamap
from steward.catalogue import nightly
from steward.catalogue.cli import catalogue_app
from steward.catalogue.scanner import sample_digest


@pytest.mark.parametrize(
    ("found", "declared", "expected"),
    [
        ("user.contact.email", "user.contact.email", True),
        ("user.contact.address.street", "user.contact.address", True),  # a refinement
        ("user.name", "user.name.first", True),
        ("user.name.first", "user.name.last", False),  # siblings disagree
        ("user.name", "user.namesake", False),  # a prefix of the text is not a parent
        ("employee.name", "user.name", False),
    ],
)
def test_categories_compatible(found, declared, expected):
    assert nightly.categories_compatible(found, declared) is expected


def test_preliminary_drift_counts_undeclared_and_mismatched_columns():
    data_map = datamap.load_data_map()
    table, column = next(data_map.personal_columns())
    other = "user.device.ip_address" if column.data_category != "user.device.ip_address" else "x"
    active = {
        # Declared, same category: no drift.
        (table.schema, table.name, column.name, column.data_category): column.data_category,
        # Declared column found under another category too: still fine (one agrees).
        (table.schema, table.name, column.name, other): other,
        # Not in the map at all.
        ("crm", "customers", "attr_3", "user.government_id.national_id"): (
            "user.government_id.national_id"
        ),
    }
    assert nightly.preliminary_drift(active, data_map) == {
        "undeclared": 1,
        "category_mismatch": 0,
    }
    mismatched = {(table.schema, table.name, column.name, other): other}
    assert nightly.preliminary_drift(mismatched, data_map) == {
        "undeclared": 0,
        "category_mismatch": 1,
    }


def test_sample_digest_ignores_order_and_sees_any_change():
    values = ["a@example.com", None, "b@example.com"]
    assert sample_digest(values) == sample_digest(list(reversed(values)))
    assert sample_digest(values) != sample_digest(["a@example.com", None, "c@example.com"])
    assert sample_digest(values) != sample_digest([*values, None])
    assert "example" not in sample_digest(values)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_confirm_and_reject_write_one_row_per_column_and_category(tmp_path):
    overrides = tmp_path / "catalogue_overrides.csv"
    runner = CliRunner()
    for command in (
        ["confirm", "crm.customers.attr_3", "user.government_id.national_id"],
        ["reject", "crm.customers.attr_3", "user.government_id.national_id", "--note", "test"],
        ["confirm", "support.tickets.subject", "user.content.free_text"],
    ):
        result = runner.invoke(catalogue_app, [*command, "--overrides-file", str(overrides)])
        assert result.exit_code == 0, result.output
    rows = _read(overrides)
    assert [(r["column_name"], r["status"], r["note"]) for r in rows] == [
        ("attr_3", "rejected", "test"),  # the later decision replaced the earlier one
        ("subject", "confirmed", ""),
    ]
    bad = runner.invoke(
        catalogue_app, ["reject", "attr_3", "x", "--overrides-file", str(overrides)]
    )
    assert bad.exit_code != 0


def test_the_shipped_overrides_seed_has_the_expected_header():
    from steward import paths
    from steward.catalogue.cli import OVERRIDE_COLUMNS

    seed = paths.dbt_project_dir() / "seeds" / "catalogue_overrides.csv"
    header = seed.read_text().splitlines()[0].split(",")
    assert tuple(header) == OVERRIDE_COLUMNS
