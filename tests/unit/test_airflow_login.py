"""Airflow's sign-in and worker settings for this project (no Airflow process needed)."""

from __future__ import annotations

import json
import stat

from steward.airflow import bootstrap


def test_sign_in_is_required_with_the_project_users(tmp_path):
    settings = bootstrap.airflow_settings(tmp_path)
    assert settings["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] == "False"
    assert settings["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == "admin:admin,privacy:user"
    assert settings["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] == str(
        bootstrap.passwords_path(tmp_path)
    )


def test_passwords_are_generated_once_into_an_owner_only_file(tmp_path):
    created = bootstrap.ensure_login_passwords(tmp_path)
    assert set(created) == set(bootstrap.LOGIN_USERS)
    assert all(len(password) == bootstrap.PASSWORD_LENGTH for password in created.values())
    file = bootstrap.passwords_path(tmp_path)
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert json.loads(file.read_text()) == created
    # Shown once: a second start creates nothing and keeps the passwords.
    assert bootstrap.ensure_login_passwords(tmp_path) == {}
    assert json.loads(file.read_text()) == created


def test_a_missing_user_gets_a_password_and_a_loose_file_is_tightened(tmp_path):
    file = bootstrap.passwords_path(tmp_path)
    file.write_text(json.dumps({"admin": "kept"}))
    file.chmod(0o644)
    created = bootstrap.ensure_login_passwords(tmp_path)
    assert set(created) == {"privacy"}
    assert json.loads(file.read_text())["admin"] == "kept"
    assert stat.S_IMODE(file.stat().st_mode) == 0o600


def test_task_slots_follow_the_cores_within_bounds():
    assert bootstrap.local_parallelism(1) == 2
    assert bootstrap.local_parallelism(2) == 4
    assert bootstrap.local_parallelism(64) == bootstrap.MAX_LOCAL_WORKERS
