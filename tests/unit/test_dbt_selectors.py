"""Every dbt selection Steward's Python names is a selector of dbt_project/selectors.yml."""

from __future__ import annotations

import yaml

from steward import paths
from steward.access import apply
from steward.airflow import nightly
from steward.catalogue import nightly as catalogue
from steward.engine import holds
from steward.quality import nightly as quality
from steward.retention import dbt_runner as retention_dbt


def _selectors() -> set[str]:
    document = yaml.safe_load((paths.dbt_project_dir() / "selectors.yml").read_text())
    names = [selector["name"] for selector in document["selectors"]]
    assert len(names) == len(set(names)), "a selector is defined twice"
    return set(names)


def test_every_selector_python_names_is_defined_once():
    named = {
        nightly.STAGING_SELECTOR,
        nightly.CATALOGUE_SELECTOR,
        nightly.PHONES_SELECTOR,
        nightly.DEDUPE_SELECTOR,
        nightly.DSAR_SELECTOR,
        nightly.RETENTION_SELECTOR,
        nightly.RETENTION_VERIFICATION_SELECTOR,
        nightly.ACCESS_SELECTOR,
        apply.ACCESS_SELECTOR,
        catalogue.MARTS_SELECTOR,
        holds.SELECTOR,
        holds.SELECTOR_WITH_STAGING,
        quality.QUALITY_MARTS,
        retention_dbt.BUILD_SELECTOR,
        retention_dbt.BUILD_SELECTOR_WITH_STAGING,
        retention_dbt.VERIFICATION_SELECTOR,
        "redaction_marts",
    }
    assert named <= _selectors()


def test_the_nightly_and_the_cli_build_retention_with_the_same_selector():
    assert nightly.RETENTION_SELECTOR == retention_dbt.BUILD_SELECTOR
    assert nightly.RETENTION_VERIFICATION_SELECTOR == retention_dbt.VERIFICATION_SELECTOR
