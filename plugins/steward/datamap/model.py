"""The data map's vocabulary and its parsed form: tables, columns, retention rules.

What each key means: see :mod:`steward.datamap`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TAXONOMY: frozenset[str] = frozenset(
    {
        "user.name",
        "user.name.first",
        "user.name.last",
        "user.contact.email",
        "user.contact.phone_number",
        # A whole postal address in one text (invoices' billing_address).
        "user.contact.address",
        "user.contact.address.street",
        "user.contact.address.city",
        "user.contact.address.postal_code",
        "user.demographic.date_of_birth",
        "user.demographic.gender",
        "user.government_id.national_id",
        "user.financial.card_number",
        "user.financial.bank_account",
        "user.device.ip_address",
        "user.content.free_text",
        "user.content.call_recording",
        "employee.name",
    }
)
SUBJECTS: tuple[str, ...] = ("customer", "employee", "prospect", "none")
# Subjects whose data must age out under a named retention rule.
SUBJECTS_NEEDING_RETENTION: frozenset[str] = frozenset({"customer", "prospect"})
IDENTIFIER_KINDS: tuple[str, ...] = ("customer_id", "email", "phone")
PERIOD_UNITS: tuple[str, ...] = ("day", "month", "year")
RETENTION_ACTIONS: tuple[str, ...] = ("delete", "anonymise", "delete_file")

META_KEY = "steward"
# A source whose config.meta has this key true holds Steward's own tables
# (steward.schema.dbt_sources), not the call centre's: not part of the map.
INTERNAL_META_KEY = "steward_internal"
RETENTION_RULES_FILE = Path("seeds") / "retention_rules.csv"
RETENTION_RULE_COLUMNS: tuple[str, ...] = (
    "rule_name",
    "period_count",
    "period_unit",
    "jurisdiction",
    "action",
    "legal_basis",
    "is_statutory_minimum",
)
TABLE_KEYS: frozenset[str] = frozenset(
    {
        "subject",
        "subject_key",
        "subject_key_references",
        "subject_found_via",
        "primary_key",
        "identifiers",
        "retention",
        "record_time",
    }
)
RETENTION_KEYS: frozenset[str] = frozenset({"rule", "clock", "clock_table"})
COLUMN_KEYS: frozenset[str] = frozenset({"data_category"})


class DataMapError(ValueError):
    """The data map is malformed, or does not match the warehouse.

    ``problems`` lists every problem found; each names its file or
    ``schema.table.column`` and the offending key.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        heading = "1 problem" if count == 1 else f"{count} problems"
        super().__init__(f"data map: {heading}:\n" + "\n".join(f"  - {p}" for p in self.problems))


@dataclass(frozen=True)
class RetentionRule:
    name: str
    period_count: int
    period_unit: str
    jurisdiction: str | None
    action: str
    legal_basis: str
    is_statutory_minimum: bool


@dataclass(frozen=True)
class ColumnMap:
    """A column holding personal data."""

    name: str
    data_category: str


@dataclass(frozen=True)
class TableMap:
    source: str  # the dbt source name
    schema: str
    name: str
    subject: str
    primary_key: tuple[str, ...]
    subject_key: str | None = None
    subject_key_references: str | None = None
    subject_found_via: tuple[str, ...] = ()
    identifiers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    retention_rule: str | None = None
    retention_clock: str | None = None
    retention_clock_table: str | None = None  # None: the clock is in this table
    record_time: str | None = None  # when the row was created / the event happened
    columns: tuple[ColumnMap, ...] = ()
    documented_columns: tuple[str, ...] = ()  # every column listed, personal or not
    path: Path | None = None  # the YAML file describing the table

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def has_subject(self) -> bool:
        return self.subject != "none"

    def column(self, name: str) -> ColumnMap | None:
        return next((column for column in self.columns if column.name == name), None)

    def identifier_columns(self, kind: str) -> tuple[str, ...]:
        return self.identifiers.get(kind, ())

    def referenced_columns(self) -> dict[str, str]:
        """Every column of this table the map relies on -> the role it plays."""
        roles: dict[str, str] = {name: "documented column" for name in self.documented_columns}
        for column in self.columns:
            roles[column.name] = f"personal column ({column.data_category})"
        for kind, columns in self.identifiers.items():
            for name in columns:
                roles[name] = f"identifier {kind}"
        if self.retention_clock and not self.retention_clock_table:
            roles[self.retention_clock] = "retention clock"
        if self.record_time:
            roles.setdefault(self.record_time, "record time")
        if self.subject_key:
            roles[self.subject_key] = "subject key"
        for name in self.primary_key:
            roles[name] = "primary key"
        return roles

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "schema": self.schema,
            "name": self.name,
            "qualified_name": self.qualified_name,
            "subject": self.subject,
            "subject_key": self.subject_key,
            "subject_key_references": self.subject_key_references,
            "subject_found_via": list(self.subject_found_via),
            "primary_key": list(self.primary_key),
            "identifiers": {kind: list(columns) for kind, columns in self.identifiers.items()},
            "retention": (
                {
                    "rule": self.retention_rule,
                    "clock": self.retention_clock,
                    "clock_table": self.retention_clock_table,
                }
                if self.retention_rule
                else None
            ),
            "columns": [
                {"name": column.name, "data_category": column.data_category}
                for column in self.columns
            ],
            "documented_columns": list(self.documented_columns),
            "record_time": self.record_time,
            "path": str(self.path) if self.path else None,
        }


@dataclass(frozen=True)
class DataMap:
    tables: list[TableMap]
    retention_rules: dict[str, RetentionRule]
    project_dir: Path

    def table(self, qualified_name: str) -> TableMap:
        for table in self.tables:
            if table.qualified_name == qualified_name:
                return table
        raise KeyError(f"{qualified_name} is not in the data map")

    def has_table(self, qualified_name: str) -> bool:
        return any(table.qualified_name == qualified_name for table in self.tables)

    @property
    def schemas(self) -> list[str]:
        return sorted({table.schema for table in self.tables})

    def personal_columns(self) -> Iterator[tuple[TableMap, ColumnMap]]:
        for table in self.tables:
            for column in table.columns:
                yield table, column

    def to_dict(self) -> dict[str, Any]:
        return {
            "project_dir": str(self.project_dir),
            "retention_rules": {
                name: {
                    "period_count": rule.period_count,
                    "period_unit": rule.period_unit,
                    "jurisdiction": rule.jurisdiction,
                    "action": rule.action,
                    "legal_basis": rule.legal_basis,
                    "is_statutory_minimum": rule.is_statutory_minimum,
                }
                for name, rule in self.retention_rules.items()
            },
            "tables": [table.to_dict() for table in self.tables],
        }
