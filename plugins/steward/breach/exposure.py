"""What was exposed, as names only, resolved to personal columns and their protection.

An exposure says what an attacker could read, never whose data it was:

``columns``
    ``schema.table`` (every column of it) or ``schema.table.column``; tables of
    the data map only.
``role``
    A compromised database role: every personal column it can read directly
    (``has_column_privilege``) is exposed in the clear, and every column of a
    governed view it can read as that view shows it (masked, hashed; hidden
    columns are not exposed).
``window_from`` / ``window_to``
    When the attacker had access: only rows that existed by ``window_to`` (by the
    table's data-map ``record_time``) count.
``protection``
    ``none``, or ``encrypted`` when what was taken was encrypted and the key was
    not (laws exempting encrypted data then do not count it).

Columns get their data category from the data map, or from the PII catalogue
for a column the map does not declare (``steward.governed_source_columns``),
so undeclared personal data found by the catalogue counts too.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa

from steward import datamap

PROTECTIONS = ("none", "encrypted")
# How a column reached the attacker; all but `none` count as unreadable for the
# laws exempting encrypted, hashed or redacted data.
COLUMN_PROTECTIONS = ("none", "encrypted", "hashed", "masked")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


class ExposureError(ValueError):
    """The exposure is malformed or names something the warehouse does not hold."""


@dataclass(frozen=True)
class ExposedColumn:
    schema: str
    table: str
    column: str
    data_category: str
    protection: str  # one of COLUMN_PROTECTIONS


@dataclass
class Exposure:
    columns: list[str] = field(default_factory=list)
    role: str | None = None
    window_from: dt.datetime | None = None
    window_to: dt.datetime | None = None
    protection: str = "none"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("window_from", "window_to"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Exposure:
        unknown = set(data) - {"columns", "role", "window_from", "window_to", "protection"}
        if unknown:
            raise ExposureError(f"exposure: unknown keys {', '.join(sorted(unknown))}")
        exposure = cls(
            columns=list(data.get("columns") or []),
            role=data.get("role") or None,
            window_from=_time(data.get("window_from"), "window_from"),
            window_to=_time(data.get("window_to"), "window_to"),
            protection=data.get("protection") or "none",
        )
        exposure.check()
        return exposure

    def check(self) -> None:
        problems = []
        if not self.columns and not self.role:
            problems.append("say what was exposed: tables/columns, a database role, or both")
        for name in self.columns:
            parts = str(name).split(".")
            if len(parts) not in (2, 3) or not all(_NAME.match(part) for part in parts):
                problems.append(f"columns: {name!r} is not schema.table or schema.table.column")
        if self.role is not None and not _NAME.match(self.role):
            problems.append(f"role: {self.role!r} is not a PostgreSQL role name")
        if self.protection not in PROTECTIONS:
            problems.append(
                f"protection: {self.protection!r} is not one of {', '.join(PROTECTIONS)}"
            )
        if self.window_from and self.window_to and self.window_from > self.window_to:
            problems.append("window_from is after window_to")
        if problems:
            raise ExposureError("exposure: " + "; ".join(problems))


def _time(value: Any, name: str) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        try:
            parsed = dt.datetime.fromisoformat(str(value))
        except ValueError as exc:
            raise ExposureError(f"{name}: {value!r} is not an ISO 8601 time") from exc
    if parsed.tzinfo is None:
        raise ExposureError(f"{name}: give a time zone (e.g. +00:00)")
    return parsed


def _personal_columns(conn: sa.Connection, data_map: datamap.DataMap) -> dict[tuple, str]:
    """(schema, table, column) -> data category: the catalogue's view, else the map's."""
    if conn.execute(
        sa.text("select to_regclass('steward.governed_source_columns') is not null")
    ).scalar_one():
        rows = conn.execute(
            sa.text(
                "select schema_name, table_name, column_name, data_category"
                " from steward.governed_source_columns where data_category is not null"
            )
        ).all()
        found = {(r.schema_name, r.table_name, r.column_name): r.data_category for r in rows}
        if found:
            return found
    return {
        (table.schema, table.name, column.name): column.data_category
        for table, column in data_map.personal_columns()
    }


def resolve(
    conn: sa.Connection, exposure: Exposure, data_map: datamap.DataMap
) -> list[ExposedColumn]:
    """The personal columns exposed and how; raise :class:`ExposureError` on unknown names."""
    exposure.check()
    personal = _personal_columns(conn, data_map)
    base = "encrypted" if exposure.protection == "encrypted" else "none"
    exposed: dict[tuple, str] = {}
    problems = []
    for name in exposure.columns:
        parts = name.split(".")
        qualified = ".".join(parts[:2])
        if not data_map.has_table(qualified):
            problems.append(f"{qualified} is not a table of the data map")
            continue
        if len(parts) == 3:
            exists = conn.execute(
                sa.text(
                    "select exists (select from information_schema.columns where"
                    " table_schema = :s and table_name = :t and column_name = :c)"
                ),
                {"s": parts[0], "t": parts[1], "c": parts[2]},
            ).scalar_one()
            if not exists:
                problems.append(f"{name}: no such column")
                continue
            keys = [tuple(parts)] if tuple(parts) in personal else []
        else:
            keys = [key for key in personal if key[:2] == tuple(parts)]
        for key in keys:
            exposed[key] = _stronger(exposed.get(key), base)
    if exposure.role:
        role_exists = conn.execute(
            sa.text("select exists (select from pg_roles where rolname = :r)"), {"r": exposure.role}
        ).scalar_one()
        if not role_exists:
            problems.append(f"role {exposure.role!r} does not exist")
        else:
            for key, protection in _role_columns(conn, exposure.role, personal).items():
                exposed[key] = _stronger(
                    exposed.get(key),
                    "encrypted" if base == "encrypted" and protection == "none" else protection,
                )
    if problems:
        raise ExposureError("exposure: " + "; ".join(problems))
    return [
        ExposedColumn(key[0], key[1], key[2], personal[key], protection)
        for key, protection in sorted(exposed.items())
    ]


def _stronger(current: str | None, new: str) -> str:
    """The clearer of two ways a column was exposed: in the clear beats protected."""
    if current is None:
        return new
    return "none" if "none" in (current, new) else current


def _role_columns(conn: sa.Connection, role: str, personal: dict[tuple, str]) -> dict[tuple, str]:
    exposed: dict[tuple, str] = {}
    for schema, table, column in personal:
        readable = conn.execute(
            sa.text("select has_column_privilege(:r, format('%I.%I', :s, :t), :c, 'SELECT')"),
            {"r": role, "s": schema, "t": table, "c": column},
        ).scalar_one()
        if readable:
            exposed[(schema, table, column)] = "none"
    if conn.execute(
        sa.text("select to_regclass('steward.governed_columns') is not null")
    ).scalar_one():
        rows = conn.execute(
            sa.text(
                "select source_schema, source_table, column_name, treatment"
                " from steward.governed_columns"
                " where treatment <> 'hidden' and data_category is not null"
                " and to_regclass(format('governed.%I', view_name)) is not null"
                " and has_table_privilege(:r, format('governed.%I', view_name), 'SELECT')"
            ),
            {"r": role},
        ).all()
        for row in rows:
            key = (row.source_schema, row.source_table, row.column_name)
            if key in personal:
                protection = {"full": "none", "masked": "masked", "hashed": "hashed"}[row.treatment]
                exposed[key] = _stronger(exposed.get(key), protection)
    return exposed
