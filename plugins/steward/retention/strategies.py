"""Masking strategies for ``anonymise`` retention actions (pluggable, fides-style).

A strategy turns one column of the rows being anonymised into a safe value. It
runs in the warehouse as a SQL expression (set-based, one ``UPDATE`` per batch);
:meth:`MaskingStrategy.reference` is the same transformation in Python, the
specification the SQL is tested against. Register a new strategy with
:func:`register`.

The ``hmac_sha256`` strategy keys its hash with a secret that lives in the
environment (or an Airflow connection), never in code: read by :mod:`steward.settings`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from psycopg2 import sql

TEXT_TYPES: frozenset[str] = frozenset({"text", "character varying", "character"})
DATE_TYPES: frozenset[str] = frozenset(
    {"date", "timestamp with time zone", "timestamp without time zone"}
)
HMAC_BLOCK_SIZE = 64  # bytes, SHA-256's block


class MaskingError(ValueError):
    """A strategy was misconfigured or cannot run (no secret, wrong column type)."""


@dataclass(frozen=True)
class HmacKey:
    """The padded HMAC keys, so SQL can compute HMAC-SHA256 with ``sha256()`` alone."""

    inner: bytes
    outer: bytes

    @classmethod
    def from_secret(cls, secret: bytes) -> HmacKey:
        if not secret:
            raise MaskingError("the HMAC secret is empty")
        if len(secret) > HMAC_BLOCK_SIZE:
            secret = hashlib.sha256(secret).digest()
        padded = secret.ljust(HMAC_BLOCK_SIZE, b"\0")
        return cls(
            inner=bytes(byte ^ 0x36 for byte in padded),
            outer=bytes(byte ^ 0x5C for byte in padded),
        )

    @property
    def params(self) -> dict[str, bytes]:
        """The bound parameters of the ``hmac_sha256`` SQL expression."""
        return {"hmac_inner": self.inner, "hmac_outer": self.outer}

    def __repr__(self) -> str:  # never print key material
        return "HmacKey(<hidden>)"


@dataclass(frozen=True)
class MaskingStrategy:
    """One way of anonymising a column."""

    name: str
    description: str
    column_types: frozenset[str] | None  # None: any type
    needs_secret: bool
    parameters: frozenset[str]
    _sql: Callable[[sql.Composable, str, Mapping[str, Any], HmacKey | None], sql.Composable]
    _reference: Callable[[Any, Mapping[str, Any], bytes | None], Any]
    # SQL true when a column already holds this strategy's output (verification);
    # default: the strategy is idempotent, so applying it again changes nothing.
    _masked: Callable[[sql.Composable, str, Mapping[str, Any]], sql.Composable] | None = None

    def masked_sql(
        self, column: sql.Composable, data_type: str, params: Mapping[str, Any]
    ) -> sql.Composable:
        """SQL true when ``column`` holds a masked value (or null)."""
        if self._masked is not None:
            return self._masked(column, data_type, params)
        return sql.SQL("({column} is null or {column} is not distinct from {masked})").format(
            column=column, masked=self._sql(column, data_type, params, None)
        )

    def check(self, params: Mapping[str, Any]) -> list[str]:
        """Problems with ``params`` (unknown or invalid parameters)."""
        problems = [
            f"unknown parameter {key!r} of strategy {self.name}"
            + (f" (known: {', '.join(sorted(self.parameters))})" if self.parameters else "")
            for key in sorted(set(params) - self.parameters)
        ]
        if self.name == "truncate_postcode":
            keep = params.get("keep", 3)
            if not isinstance(keep, int) or isinstance(keep, bool) or keep < 1:
                problems.append(f"keep: {keep!r} is not a positive whole number")
        return problems

    def sql(
        self,
        column: sql.Composable,
        data_type: str,
        params: Mapping[str, Any],
        key: HmacKey | None = None,
    ) -> sql.Composable:
        """The SQL expression replacing ``column`` (a quoted identifier)."""
        if self.needs_secret and key is None:
            raise MaskingError(f"strategy {self.name} needs the HMAC secret")
        return self._sql(column, data_type, params, key)

    def reference(self, value: Any, params: Mapping[str, Any], secret: bytes | None = None) -> Any:
        """The same transformation in Python (the specification of the SQL)."""
        if self.needs_secret and not secret:
            raise MaskingError(f"strategy {self.name} needs the HMAC secret")
        return self._reference(value, params, secret)


# --- the strategies --------------------------------------------------------


def _nullify_sql(column, data_type, params, key):
    return sql.SQL("null")


def _hmac_sql(column, data_type, params, key):
    # HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)): PostgreSQL's built-in
    # sha256() suffices, no pgcrypto. The padded keys travel as bound parameters.
    # Bound as %(hmac_outer)s / %(hmac_inner)s (see HmacKey.params): key material
    # never appears in statement text, where server logs could catch it.
    return sql.SQL(
        "encode(sha256({outer}::bytea || sha256({inner}::bytea || convert_to({column}::text,"
        " 'UTF8'))), 'hex')"
    ).format(
        outer=sql.Placeholder("hmac_outer"),
        inner=sql.Placeholder("hmac_inner"),
        column=column,
    )


def _hmac_reference(value, params, secret):
    if value is None:
        return None
    return hmac.new(secret, str(value).encode(), hashlib.sha256).hexdigest()


def _year_sql(column, data_type, params, key):
    if data_type == "date":
        return sql.SQL("date_trunc('year', {column})::date").format(column=column)
    return sql.SQL("date_trunc('year', {column})").format(column=column)


def _year_reference(value, params, secret):
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    return value.replace(month=1, day=1)


def _postcode_sql(column, data_type, params, key):
    # Keep the outward code of spaced postcodes (UK "SW1A 1AA" -> "SW1A"), else
    # the first `keep` characters (a US ZIP's first three digits).
    return sql.SQL(
        "case when strpos(btrim({column}), ' ') > 0 then split_part(btrim({column}), ' ', 1)"
        " else left(btrim({column}), {keep}) end"
    ).format(column=column, keep=sql.Literal(int(params.get("keep", 3))))


def _postcode_reference(value, params, secret):
    if value is None:
        return None
    trimmed = str(value).strip(" ")
    if " " in trimmed:
        return trimmed.split(" ", 1)[0]
    return trimmed[: int(params.get("keep", 3))]


STRATEGIES: dict[str, MaskingStrategy] = {}


def register(strategy: MaskingStrategy) -> MaskingStrategy:
    """Make a strategy available to policies by its name."""
    STRATEGIES[strategy.name] = strategy
    return strategy


register(
    MaskingStrategy(
        "nullify",
        "Replace the value with null.",
        None,
        False,
        frozenset(),
        _nullify_sql,
        lambda value, params, secret: None,
        lambda column, data_type, params: sql.SQL("{column} is null").format(column=column),
    )
)
register(
    MaskingStrategy(
        "hmac_sha256",
        "Keyed SHA-256 (HMAC) of the value, hex: equal values stay linkable, not readable.",
        TEXT_TYPES,
        True,
        frozenset(),
        _hmac_sql,
        _hmac_reference,
        lambda column, data_type, params: sql.SQL(
            "({column} is null or {column}::text ~ '^[0-9a-f]{{64}}$')"
        ).format(column=column),
    )
)
register(
    MaskingStrategy(
        "generalise_to_year",
        "Keep only the year of a date (1 January of that year).",
        DATE_TYPES,
        False,
        frozenset(),
        _year_sql,
        _year_reference,
    )
)
register(
    MaskingStrategy(
        "truncate_postcode",
        "Keep the outward code of a postcode, or its first `keep` characters.",
        TEXT_TYPES,
        False,
        frozenset({"keep"}),
        _postcode_sql,
        _postcode_reference,
    )
)


def get(name: str) -> MaskingStrategy:
    try:
        return STRATEGIES[name]
    except KeyError:
        raise MaskingError(
            f"unknown masking strategy {name!r} (known: {', '.join(sorted(STRATEGIES))})"
        ) from None
