"""One way to read a secret: environment, then the local keys file, then Airflow; clear errors."""

from __future__ import annotations

import pytest

from steward import settings
from steward.dsar import export, keys

SPEC = settings.SecretSpec("STEWARD_TEST_KEY", None, "the test digests")


@pytest.fixture
def keys_file(tmp_path, monkeypatch):
    file = tmp_path / "secrets.env"
    monkeypatch.setenv(settings.SECRETS_FILE_ENV, str(file))
    monkeypatch.delenv(SPEC.env, raising=False)
    return file


def test_the_environment_wins_over_the_local_keys_file(keys_file, monkeypatch):
    keys_file.write_text("# generated\nSTEWARD_TEST_KEY=from-the-file-0123456789\n")
    assert settings.secret(SPEC) == b"from-the-file-0123456789"
    monkeypatch.setenv(SPEC.env, "from-the-environment-0123")
    assert settings.secret(SPEC) == b"from-the-environment-0123"


def test_a_missing_key_names_every_place_it_may_come_from(keys_file):
    with pytest.raises(settings.MissingSecretError) as raised:
        settings.secret(settings.SecretSpec(SPEC.env, "steward_test_conn", SPEC.purpose))
    message = str(raised.value)
    assert "STEWARD_TEST_KEY is not set" in message
    assert str(keys_file) in message and "'steward_test_conn'" in message
    assert "the test digests" in message and "nothing was changed" in message


def test_a_short_key_is_refused_without_being_echoed(keys_file, monkeypatch):
    monkeypatch.setenv(SPEC.env, "short-secret")
    with pytest.raises(settings.MissingSecretError, match="is too short") as raised:
        settings.secret(SPEC)
    assert "short-secret" not in str(raised.value)


def test_optional_secret_is_none_when_nothing_holds_it(keys_file):
    assert settings.Settings().optional_secret(SPEC.env, None) is None
    assert settings.Settings({SPEC.env: "x"}).optional_secret(SPEC.env, None) == b"x"


def test_every_request_key_is_read_through_the_settings(keys_file, monkeypatch):
    for spec in (settings.SUBJECT_KEY, settings.SUPPRESSION_KEY, settings.EXPORT_KEY):
        monkeypatch.delenv(spec.env, raising=False)
    keys_file.write_text(
        "STEWARD_DSAR_SUBJECT_KEY=subject-key-from-file-0123\n"
        "STEWARD_DSAR_EXPORT_KEY=export-key-from-file-0123\n"
    )
    assert keys.subject_key() == b"subject-key-from-file-0123"
    assert export.export_key() == "export-key-from-file-0123"
    with pytest.raises(keys.MissingKeyError, match=keys.SUPPRESSION_KEY_ENV):
        keys.suppression_key()
