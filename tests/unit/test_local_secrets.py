"""The keys a single-machine install generates for itself: once, owner-only, env wins."""

from __future__ import annotations

import os
import stat

import pytest

from steward import settings


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("STEWARD_DATA_DIR", str(tmp_path))
    monkeypatch.delenv(settings.SECRETS_FILE_ENV, raising=False)
    before = {name: os.environ.get(name) for name in settings.LOCAL_SECRET_NAMES}
    for name in settings.LOCAL_SECRET_NAMES:
        monkeypatch.delenv(name, raising=False)
    yield tmp_path
    # ensure_local_secrets() exports the keys it generated into os.environ itself:
    # leave none behind for the rest of the session (a retention HMAC key would
    # change how later tests' erasures mask).
    for name, value in before.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def test_generates_each_missing_key_once_into_an_owner_only_file(data_dir, monkeypatch):
    monkeypatch.setenv("STEWARD_DSAR_SUBJECT_KEY", "configured-subject-key-012345")
    created = settings.ensure_local_secrets()
    assert "STEWARD_DSAR_SUBJECT_KEY" not in created
    assert set(created) == set(settings.LOCAL_SECRET_NAMES) - {"STEWARD_DSAR_SUBJECT_KEY"}
    file = data_dir / "secrets.env"
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    stored = dict(line.split("=", 1) for line in file.read_text().splitlines())
    assert "STEWARD_DSAR_SUBJECT_KEY" not in stored
    assert all(len(value) >= 16 for value in stored.values())
    assert os.environ["STEWARD_DSAR_SUPPRESSION_SALT"] == stored["STEWARD_DSAR_SUPPRESSION_SALT"]
    assert os.environ["STEWARD_DSAR_SUBJECT_KEY"] == "configured-subject-key-012345"

    monkeypatch.delenv("STEWARD_DSAR_SUPPRESSION_SALT")
    assert settings.ensure_local_secrets() == []  # the same keys on the next start
    assert os.environ["STEWARD_DSAR_SUPPRESSION_SALT"] == stored["STEWARD_DSAR_SUPPRESSION_SALT"]
