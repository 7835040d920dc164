"""Steward's secrets, read one way everywhere.

Every key Steward uses is a :class:`SecretSpec` (an environment variable, an
Airflow connection whose password holds it, what it keys, a minimum length) and is
read through :class:`Settings`, in this order:

1. the environment variable (production, CI, a shell that exported it);
2. the local keys file ``.steward/secrets.env`` (``STEWARD_SECRETS_FILE`` moves it),
   which a single-machine install (``make demo``, ``steward airflow standalone``)
   generates once with :func:`ensure_local_secrets`;
3. the password of the Airflow connection, when Airflow can resolve it.

A key found nowhere, or too short, raises :class:`MissingSecretError` naming the
variable, the file and the connection; the caller has changed nothing yet. No key
is ever written to the warehouse, logged or put in an error message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from steward import paths

SECRETS_FILE_ENV = "STEWARD_SECRETS_FILE"


@dataclass(frozen=True)
class SecretSpec:
    env: str
    airflow_connection: str | None
    purpose: str
    min_length: int = 16


SUBJECT_KEY = SecretSpec(
    "STEWARD_DSAR_SUBJECT_KEY", "steward_dsar_subject_key", "the register's subject digests"
)
SUPPRESSION_KEY = SecretSpec(
    "STEWARD_DSAR_SUPPRESSION_SALT", "steward_dsar_suppression", "the suppression hashes"
)
EXPORT_KEY = SecretSpec(
    "STEWARD_DSAR_EXPORT_KEY", "steward_dsar_export", "the access packages' archive password"
)
# Its names are the defaults of retention/policies.yml's `hmac_secret`, which may rename them.
RETENTION_HMAC_KEY = SecretSpec(
    "STEWARD_RETENTION_HMAC_KEY", "steward_retention_hmac", "the hmac_sha256 masking"
)
# The keys a single-machine install needs before it can take requests; production sets
# each as an environment variable or an Airflow connection (README: "Secrets to configure").
LOCAL_SECRETS: tuple[SecretSpec, ...] = (
    SUBJECT_KEY,
    SUPPRESSION_KEY,
    EXPORT_KEY,
    RETENTION_HMAC_KEY,
)
LOCAL_SECRET_NAMES: tuple[str, ...] = tuple(spec.env for spec in LOCAL_SECRETS)


class MissingSecretError(RuntimeError):
    """A key is not configured (or too short): nothing was changed."""


class Settings:
    """The secrets as this process sees them (environment, local keys file, Airflow).

    Cheap to build, so callers build one when they need a key: a test that changes
    the environment is seen at once.
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    @property
    def secrets_file(self) -> Path:
        configured = self._environ.get(SECRETS_FILE_ENV)
        return Path(configured) if configured else paths.data_dir() / "secrets.env"

    def local_secrets(self) -> dict[str, str]:
        """The local keys file's ``NAME=value`` lines (empty when there is no file)."""
        file = self.secrets_file
        if not file.is_file():
            return {}
        stored: dict[str, str] = {}
        for line in file.read_text().splitlines():
            name, _, value = line.partition("=")
            if name.strip() and value.strip() and not name.lstrip().startswith("#"):
                stored[name.strip()] = value.strip()
        return stored

    def optional_secret(self, env: str | None, airflow_connection: str | None) -> bytes | None:
        """The key under ``env`` (environment, then local file) or the connection's password."""
        if env:
            value = self._environ.get(env) or self.local_secrets().get(env)
            if value:
                return value.encode()
        if airflow_connection:
            return _airflow_connection_password(airflow_connection)
        return None

    def secret(self, spec: SecretSpec) -> bytes:
        """The key ``spec`` names; :class:`MissingSecretError` when absent or too short."""
        value = self.optional_secret(spec.env, spec.airflow_connection)
        if value is None or len(value) < spec.min_length:
            where = f"the environment variable {spec.env}, a line {spec.env}=... in "
            where += str(self.secrets_file)
            if spec.airflow_connection:
                where += f", or the password of the Airflow connection {spec.airflow_connection!r}"
            problem = "is not set" if value is None else "is too short"
            raise MissingSecretError(
                f"{spec.env} {problem}: set {where} to a secret of at least "
                f"{spec.min_length} characters; it keys {spec.purpose}; nothing was changed"
            )
        return value


def secret(spec: SecretSpec) -> bytes:
    """:meth:`Settings.secret` on this process's environment."""
    return Settings().secret(spec)


def local_secrets_path() -> Path:
    return Settings().secrets_file


def ensure_local_secrets() -> list[str]:
    """Give this machine's demo and standalone the keys nobody configured; return the new names.

    A key already set in the environment is left alone. The others are generated
    once into ``.steward/secrets.env`` (owner-only, 0600, git-ignored, never in the
    warehouse) and exported into this process, so Airflow's components started from
    it inherit them; every other Steward process reads the file through :class:`Settings`.
    """
    import secrets

    settings = Settings()
    file = settings.secrets_file
    file.parent.mkdir(parents=True, exist_ok=True)
    stored = settings.local_secrets()
    created = [
        name for name in LOCAL_SECRET_NAMES if not os.environ.get(name) and not stored.get(name)
    ]
    for name in created:
        stored[name] = secrets.token_urlsafe(32)
    if created:
        descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write("".join(f"{name}={value}\n" for name, value in sorted(stored.items())))
    if file.exists():
        os.chmod(file, 0o600)
    for name, value in stored.items():
        os.environ.setdefault(name, value)
    return created


def _airflow_connection_password(conn_id: str) -> bytes | None:
    try:
        from airflow.sdk import BaseHook

        connection = BaseHook.get_connection(conn_id)
    except Exception:  # no Airflow context or no such connection: no secret
        return None
    return connection.password.encode() if connection.password else None
