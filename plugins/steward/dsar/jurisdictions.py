"""The legal deadlines of data-subject requests, per jurisdiction and request type.

The rules live in ``dbt_project/seeds/dsar_jurisdictions.csv`` (one row per
jurisdiction and request type it grants); dbt loads the same file as the seed
``steward.dsar_jurisdictions`` for the dashboard. A request type without a row
is not granted by that jurisdiction (PIPEDA and HIPAA give no right to erasure).

Periods count from the day the request was received. ``month`` periods are
calendar months: when the target month is shorter, the deadline is its last
day (received 31 January: due 28 or 29 February), as the ICO and the EDPB read
GDPR Art. 12(3).
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

from steward import paths

RULES_FILE = Path("seeds") / "dsar_jurisdictions.csv"
REQUEST_TYPES: tuple[str, ...] = ("access", "correction", "deletion")
PERIOD_UNITS: tuple[str, ...] = ("day", "month")
RULE_COLUMNS: tuple[str, ...] = (
    "jurisdiction",
    "jurisdiction_name",
    "request_type",
    "period_count",
    "period_unit",
    "extension_count",
    "extension_unit",
    "extension_notice_within_days",
    "confirm_within_business_days",
    "pause_allowed",
    "legal_basis",
)


class JurisdictionRulesError(ValueError):
    """The jurisdiction rules file is malformed."""


@dataclass(frozen=True)
class DeadlineRule:
    """How long one jurisdiction gives to answer one type of request."""

    jurisdiction: str
    jurisdiction_name: str
    request_type: str
    period_count: int
    period_unit: str
    extension_count: int | None  # None: no extension allowed
    extension_unit: str | None
    # The extension must be notified within this many days of receipt; None
    # for month periods, where notice is due within the first period itself.
    extension_notice_within_days: int | None
    confirm_within_business_days: int | None  # CCPA: acknowledge receipt within 10 business days
    pause_allowed: bool  # the clock may stop while identity is verified
    legal_basis: str

    def due_on(self, received_on: dt.date) -> dt.date:
        """The absolute deadline of a request received on ``received_on``."""
        return add_period(received_on, self.period_count, self.period_unit)

    def extended_due_on(self, received_on: dt.date) -> dt.date | None:
        """The deadline once extended, or None when the law allows no extension."""
        if self.extension_count is None or self.extension_unit is None:
            return None
        return add_period(self.due_on(received_on), self.extension_count, self.extension_unit)

    def extension_notice_by(self, received_on: dt.date) -> dt.date | None:
        """The last day the subject may be told of an extension (None: no extension)."""
        if self.extension_count is None:
            return None
        if self.extension_notice_within_days is None:
            return self.due_on(received_on)
        return received_on + dt.timedelta(days=self.extension_notice_within_days)

    def confirm_by(self, received_on: dt.date) -> dt.date | None:
        """The last day to acknowledge receipt, where the law asks for it."""
        if self.confirm_within_business_days is None:
            return None
        return add_business_days(received_on, self.confirm_within_business_days)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus calendar months, clamped to the last day of a shorter month."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last_day))


def add_period(day: dt.date, count: int, unit: str) -> dt.date:
    if unit == "day":
        return day + dt.timedelta(days=count)
    if unit == "month":
        return add_months(day, count)
    raise ValueError(f"unknown period unit {unit!r} (known: {', '.join(PERIOD_UNITS)})")


def add_business_days(day: dt.date, count: int) -> dt.date:
    """``day`` plus ``count`` working days (Monday to Friday; public holidays not counted)."""
    current = day
    remaining = count
    while remaining > 0:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


@functools.cache
def _rules_cached(path: Path) -> dict[tuple[str, str], DeadlineRule]:
    return parse_rules(path.read_text(), str(path))


def load_rules(project_dir: Path | None = None) -> dict[tuple[str, str], DeadlineRule]:
    """(jurisdiction, request type) -> rule, from the seed file of the dbt project."""
    path = (Path(project_dir) if project_dir else paths.dbt_project_dir()) / RULES_FILE
    return _rules_cached(path.resolve())


def parse_rules(text: str, where: str = str(RULES_FILE)) -> dict[tuple[str, str], DeadlineRule]:
    """Parse and check the CSV text of the rules; raise listing every problem."""
    reader = csv.DictReader(text.splitlines())
    if tuple(reader.fieldnames or ()) != RULE_COLUMNS:
        raise JurisdictionRulesError(f"{where}: header must be {','.join(RULE_COLUMNS)}")
    rules: dict[tuple[str, str], DeadlineRule] = {}
    problems: list[str] = []
    for row in reader:
        line = f"{where}: line {reader.line_num}"
        key = (row["jurisdiction"].strip(), row["request_type"].strip())
        if not key[0]:
            problems.append(f"{line}: jurisdiction: empty")
        if key[1] not in REQUEST_TYPES:
            problems.append(f"{line}: request_type {key[1]!r} is not one of {REQUEST_TYPES}")
        if key in rules:
            problems.append(f"{line}: {key[0]}/{key[1]} defined twice")
        try:
            rule = DeadlineRule(
                jurisdiction=key[0],
                jurisdiction_name=row["jurisdiction_name"].strip(),
                request_type=key[1],
                period_count=int(row["period_count"]),
                period_unit=_unit(row["period_unit"]),
                extension_count=_optional_int(row["extension_count"]),
                extension_unit=_unit(row["extension_unit"]) if row["extension_unit"] else None,
                extension_notice_within_days=_optional_int(row["extension_notice_within_days"]),
                confirm_within_business_days=_optional_int(row["confirm_within_business_days"]),
                pause_allowed=_boolean(row["pause_allowed"]),
                legal_basis=row["legal_basis"].strip(),
            )
        except ValueError as exc:
            problems.append(f"{line}: {exc}")
            continue
        if (rule.extension_count is None) != (rule.extension_unit is None):
            problems.append(f"{line}: extension_count and extension_unit go together")
        rules[key] = rule
    if problems:
        raise JurisdictionRulesError("\n".join(problems))
    return rules


def _unit(value: str) -> str:
    if value not in PERIOD_UNITS:
        raise ValueError(f"period unit {value!r} is not one of {', '.join(PERIOD_UNITS)}")
    return value


def _optional_int(value: str | None) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    number = int(value)
    if number <= 0:
        raise ValueError(f"{value!r} is not a positive whole number")
    return number


def _boolean(value: str) -> bool:
    if value not in ("true", "false"):
        raise ValueError(f"pause_allowed {value!r} is not true or false")
    return value == "true"


def jurisdictions(project_dir: Path | None = None) -> list[str]:
    """Every jurisdiction the rules know, sorted."""
    return sorted({jurisdiction for jurisdiction, _ in load_rules(project_dir)})


def granted_types(jurisdiction: str, project_dir: Path | None = None) -> list[str]:
    """The request types a jurisdiction grants."""
    rules = load_rules(project_dir)
    return [kind for kind in REQUEST_TYPES if (jurisdiction, kind) in rules]


def rule_for(jurisdiction: str, request_type: str, project_dir: Path | None = None) -> DeadlineRule:
    """The rule of a granted request; KeyError when the jurisdiction does not grant it."""
    return load_rules(project_dir)[(jurisdiction, request_type)]
