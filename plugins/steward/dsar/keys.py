"""The secret keys of data-subject requests, and the keyed digests made with them.

Two keys, each read through :mod:`steward.settings` (the environment variable,
the local keys file, else the password of an Airflow connection). Neither is ever
written to the warehouse, and nothing here generates one: with no key configured
the operation stops with :class:`MissingKeyError` before it changes anything.

* the **subject key** (``STEWARD_DSAR_SUBJECT_KEY`` / connection
  ``steward_dsar_subject_key``): the register's ``subject_digest``, an HMAC of
  the identifiers a request gave. It is all the register keeps of a subject
  once a request of theirs is finished;
* the **suppression key** (``STEWARD_DSAR_SUPPRESSION_SALT`` / connection
  ``steward_dsar_suppression``): the HMACs of erased subjects' identifiers in
  ``steward.dsar_suppressions`` that the nightly re-scan recomputes in SQL, and
  that an access request checks to say what was kept after an erasure.

Without the key the digests cannot be recomputed from the identifiers (an
unsalted sha256 of an e-mail address can).
"""

from __future__ import annotations

import hashlib
import hmac
import json

from steward import settings

SUBJECT_KEY_ENV = settings.SUBJECT_KEY.env
SUPPRESSION_KEY_ENV = settings.SUPPRESSION_KEY.env
# What callers catch: a key not configured (or too short), nothing changed.
MissingKeyError = settings.MissingSecretError


def subject_key() -> bytes:
    """The key of the register's subject digests."""
    return settings.secret(settings.SUBJECT_KEY)


def suppression_key() -> bytes:
    """The key of the suppression hashes of erased subjects."""
    return settings.secret(settings.SUPPRESSION_KEY)


def identifier_hash(key: bytes, kind: str, value: str) -> str:
    """HMAC-SHA256 of one normalised identifier, ``kind:value`` (the suppression hash)."""
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def subject_digest(
    customer_id: int | None, email: str | None, phone: str | None, key: bytes | None = None
) -> str:
    """The keyed digest of the identifiers a request gave (normalised: e-mail lower case)."""
    message = json.dumps(
        {
            "customer_id": customer_id,
            "email": email.lower() if email else None,
            "phone": phone,
        },
        sort_keys=True,
    )
    return hmac.new(key or subject_key(), message.encode(), hashlib.sha256).hexdigest()


def keyed_digest(value: object, key: bytes | None = None) -> str:
    """HMAC of any JSON-serialisable value (canonical JSON), for audit details that must
    refer to personal data (an identity, an old value) without letting anyone recompute it."""
    message = json.dumps(value, sort_keys=True, default=str)
    return hmac.new(key or subject_key(), message.encode(), hashlib.sha256).hexdigest()
