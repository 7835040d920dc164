"""The dbt manifest Cosmos renders the nightly from: one per version of the dbt project."""

from __future__ import annotations

import os
import shutil

import pytest

from steward import paths
from steward.airflow import cosmos_config


@pytest.fixture
def project(tmp_path):
    copy = tmp_path / "dbt_project"
    shutil.copytree(paths.dbt_project_dir(), copy, ignore=shutil.ignore_patterns("target", "logs"))
    return copy


def test_the_digest_is_stable_for_an_unchanged_project(project):
    assert cosmos_config._project_digest(project) == cosmos_config._project_digest(project)


def test_an_edited_model_gets_a_new_digest(project):
    before = cosmos_config._project_digest(project)
    model = next(project.glob("models/staging/**/*.sql"))
    model.write_text(model.read_text() + "\n")
    assert cosmos_config._project_digest(project) != before


def test_a_touched_file_gets_a_new_digest(project):
    before = cosmos_config._project_digest(project)
    schema = next(project.glob("models/**/*.yml"))
    stat = schema.stat()
    os.utime(schema, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert cosmos_config._project_digest(project) != before


def test_dbt_output_does_not_change_the_digest(project):
    before = cosmos_config._project_digest(project)
    (project / "target").mkdir()
    (project / "target" / "manifest.json").write_text("{}")
    (project / "logs").mkdir()
    (project / "logs" / "dbt.log").write_text("a line")
    assert cosmos_config._project_digest(project) == before
