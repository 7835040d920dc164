"""The phone_quality checkpoint on the seeded warehouse: SQL in PostgreSQL, no number in docs."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from steward import dbt_runner, warehouse
from steward.quality import checkpoint, data_docs, nightly

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SUITE_NAME_SHOWN = "phone_quality"
CHECKS = {"e164_format", "valid_rate", "unique_number_per_customer", "no_dialled_dnc_numbers"}


def run_dbt(url: str, arguments: list[str], scratch: Path):
    return dbt_runner.run(arguments, url, scratch=scratch)


@pytest.fixture(scope="module")
def context_dir(tmp_path_factory) -> Path:
    """A copy of the committed GX project: tests never write into the repository."""
    target = tmp_path_factory.mktemp("gx") / "expectations"
    source = checkpoint.expectations_dir()
    target.mkdir()
    for name in ("great_expectations.yml", ".gitignore"):
        shutil.copy(source / name, target / name)
    return target


@pytest.fixture(scope="module")
def checked(seeded_warehouse, warehouse_url, context_dir, tmp_path_factory):
    from steward.phones.lookup import refresh_phone_lookup

    scratch = tmp_path_factory.mktemp("dbt_quality")
    refresh_phone_lookup(warehouse.engine(warehouse_url))
    marts = run_dbt(warehouse_url, ["run", "-s", "+path:models/marts/phones"], scratch)
    assert marts.success, marts.exception
    first = checkpoint.run_checkpoint(warehouse_url, context_dir=context_dir)
    second = checkpoint.run_checkpoint(warehouse_url, context_dir=context_dir)
    return first, second


def test_checkpoint_runs_every_check(checked):
    first, second = checked
    json.dumps(first)
    assert set(first["checks"]) == CHECKS
    assert first["expectations"] == len(CHECKS)
    assert first["checks"] == second["checks"]  # same data, same verdicts
    assert first["checks"]["e164_format"] is True
    assert first["checks"]["valid_rate"] is True


def test_planted_defects_are_caught(checked, warehouse_url):
    first, _ = checked
    with warehouse.engine(warehouse_url).connect() as conn:
        same_customer_twice = conn.execute(
            sa.text("select count(*) from steward_ground_truth.duplicate_phones")
        ).scalar()
        violations = conn.execute(sa.text("select count(*) from steward.dnc_violations")).scalar()
    # The seed gives some customers the same number twice: uniqueness per customer fails.
    assert same_customer_twice > 0
    assert first["checks"]["unique_number_per_customer"] is False
    assert first["checks"]["no_dialled_dnc_numbers"] is (violations == 0)


def test_results_are_stored_per_run_for_the_trend(checked, warehouse_url):
    first, second = checked
    with warehouse.engine(warehouse_url).connect() as conn:
        rows = conn.execute(
            sa.text(
                "select run_id, check_name, success, observed_value, unexpected_percent"
                " from steward.quality_results where suite_name = 'phone_quality'"
            )
        ).all()
    runs = {row.run_id for row in rows}
    assert {first["run_id"], second["run_id"]} <= runs
    for run_id in (first["run_id"], second["run_id"]):
        stored = {row.check_name: row for row in rows if row.run_id == run_id}
        assert set(stored) == CHECKS
        assert {name: row.success for name, row in stored.items()} == first["checks"]
    for row in rows:
        assert row.observed_value is None or isinstance(row.observed_value, float)
    # The valid-rate check stores the share of records without a valid number.
    valid_rate = next(row for row in rows if row.check_name == "valid_rate")
    assert 0 <= valid_rate.unexpected_percent < 10


def test_quality_marts_summarise_the_latest_run(checked, warehouse_url, tmp_path):
    """The dashboard's views over steward.quality_results, built by real dbt."""
    _, second = checked
    built = run_dbt(warehouse_url, ["build", "-s", "path:models/marts/quality"], tmp_path)
    assert built.success, dbt_runner.failure_summary(built)
    with warehouse.engine(warehouse_url).connect() as conn:
        suite = conn.execute(
            sa.text(
                "select run_id, expectation_count, passed_count, failed_checks"
                " from steward.quality_suite_latest where suite_name = 'phone_quality'"
            )
        ).one()
        nights = conn.execute(
            sa.text("select sum(expectation_count) from steward.quality_results_by_night")
        ).scalar_one()
    failing = sorted(name for name, passed in second["checks"].items() if not passed)
    assert suite.run_id == second["run_id"]
    assert suite.expectation_count == len(CHECKS)
    assert suite.passed_count == len(CHECKS) - len(failing)
    assert suite.failed_checks == ", ".join(failing)
    assert nights >= 2 * len(CHECKS)  # both runs, whatever night they fell on


def test_connection_string_is_never_written(checked, context_dir, warehouse_url):
    config = (context_dir / "great_expectations.yml").read_text()
    assert "${STEWARD_GX_DATABASE_URL}" in config
    database = make_url(warehouse_url).database
    for path in context_dir.rglob("*"):
        if path.is_file() and path.suffix in {".yml", ".json", ".html"}:
            text = path.read_text(errors="ignore")
            assert database not in text, path
            assert "postgresql://" not in text and "postgresql+psycopg2://" not in text, path


def test_no_planted_phone_number_in_docs_or_results(checked, context_dir, warehouse_url):
    docs = checkpoint.data_docs_dir(context_dir)
    pages = list(docs.rglob("*.html"))
    assert any("validations" in str(page) for page in pages), pages
    validation_files = list((context_dir / "uncommitted" / "validations").rglob("*.json"))
    assert validation_files
    published = "\n".join(path.read_text(errors="ignore") for path in [*pages, *validation_files])
    engine = warehouse.engine(warehouse_url)
    with engine.connect() as conn:
        stored = json.dumps(
            [
                list(map(str, row))
                for row in conn.execute(sa.text("select * from steward.quality_results"))
            ]
        )
        planted = conn.execute(
            sa.text(
                "select phone_raw from steward_ground_truth.phone_cases"
                " union select expected_e164 from steward_ground_truth.phone_cases"
                " union select e164 from steward_ground_truth.duplicate_phones"
                " union select e164 from steward_ground_truth.spread_subjects"
            )
        ).scalars()
        # Values short of a phone number's digits (junk like 'x123') would match anywhere.
        numbers = {v for v in planted if v and len(re.sub(r"\D", "", v)) >= 7}
    assert len(numbers) > 1000
    text = published + stored
    leaked = [number for number in numbers if number in text]
    assert not leaked, f"{len(leaked)} planted numbers appear in Data Docs or stored results"
    # And no E.164-shaped string at all.
    assert not re.search(r"\+[1-9]\d{7,14}", text)


def test_nightly_callable_and_cli(checked, warehouse_url, context_dir, monkeypatch):
    from typer.testing import CliRunner

    from steward.quality.cli import quality_app

    monkeypatch.setattr(checkpoint, "expectations_dir", lambda: context_dir)
    summary = nightly.run(warehouse_url)
    assert set(summary["checks"]) == CHECKS
    with warehouse.engine(warehouse_url).connect() as conn:  # the dashboard's views are there
        for view in ("quality_suite_latest", "quality_results_by_night"):
            assert conn.execute(sa.text(f"select count(*) from steward.{view}")).scalar_one()
    result = CliRunner().invoke(quality_app, ["run"])
    assert result.exit_code == 0, result.output
    assert "phone_quality: 4 expectations" in result.output
    assert not re.search(r"\+[1-9]\d{7,14}", result.output)


OFFLINE_PAGE_STATE = """
const body = getComputedStyle(document.body);
const cells = [...document.querySelectorAll('td, th')].filter(c => c.offsetHeight > 0);
return {
  bootstrapFont: body.fontFamily,
  bootstrapMargin: body.margin,
  jquery: typeof window.jQuery === 'function',
  bootstrapTable: !!(window.jQuery && jQuery.fn.bootstrapTable),
  iconFont: document.fonts.check('900 16px "Font Awesome 6 Free"'),
  visibleCells: cells.length,
  logo: [...document.images].some(i => i.complete && i.naturalWidth > 0),
  text: document.body.innerText,
};
"""


def test_data_docs_render_offline_in_chromium(checked, context_dir, tmp_path_factory):
    """The built site needs no CDN: Bootstrap, jQuery and the icons come from the site itself."""
    from tests.e2e.browser import (
        OFFLINE_ARGUMENTS,
        WebDriver,
        assert_looks_right,
        browser_binaries,
        keep_screenshots,
    )

    docs = checkpoint.data_docs_dir(context_dir)
    assert data_docs.external_links(docs) == set()
    assert (docs / data_docs.VENDOR_SUBDIR / "bootstrap-4.3.1" / "LICENSE").exists()
    # Control: GX's own page, with its CDN links, under the same blocked network.
    untouched = docs / "with-cdn-links.html"
    untouched.write_text(
        '<html><head><link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/'
        '4.3.1/css/bootstrap.min.css"/></head><body><p>cdn</p></body></html>'
    )
    shots = tmp_path_factory.mktemp("data_docs_screenshots")
    chromium, driver = browser_binaries()
    browser = WebDriver(
        chromium, driver, tmp_path_factory.mktemp("chromium_offline"), OFFLINE_ARGUMENTS
    )
    try:
        browser.open(untouched.as_uri())
        blocked = browser.script(OFFLINE_PAGE_STATE)
        blocked_health = browser.health()
        browser.open((docs / "index.html").as_uri())
        time.sleep(1)  # bootstrap-table builds the index table after load
        index = browser.script(OFFLINE_PAGE_STATE)
        index_health = browser.health()
        index_shot = browser.screenshot(shots / "data-docs-index.png")
        validation = next((docs / "validations").rglob("*.html"))
        browser.open(validation.as_uri())
        page = browser.script(OFFLINE_PAGE_STATE)
        page_health = browser.health()
        page_shot = browser.screenshot(shots / "data-docs-validation.png")
    finally:
        browser.quit()
        untouched.unlink()
    assert "Segoe UI" not in blocked["bootstrapFont"]  # the CDN really is unreachable
    # The control's CDN load fails and says so; the built pages load nothing from outside.
    assert blocked_health["external"] and blocked_health["console_errors"]
    for health in (index_health, page_health):
        assert_looks_right(health)
        assert not re.search(r"\+[1-9]\d{7,14}", health["text"])  # no phone number shown
    for state in (index, page):
        assert "Segoe UI" in state["bootstrapFont"], state["bootstrapFont"]  # Bootstrap's body
        assert state["bootstrapMargin"] == "0px"
        assert state["jquery"] and state["bootstrapTable"]
        assert state["iconFont"]
        assert state["visibleCells"] > 0
        assert state["logo"]  # GX's logo from the site, not from its S3 bucket
    assert SUITE_NAME_SHOWN in index["text"]
    assert "must match this regular expression" in page["text"]
    assert "raised an exception" not in page["text"]  # every expectation ran
    assert index_shot.stat().st_size > 10_000 and page_shot.stat().st_size > 10_000
    keep_screenshots(index_shot, page_shot)
