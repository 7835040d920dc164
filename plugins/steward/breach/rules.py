"""Breach-notification rules: who must be told, by when, above which threshold.

One row per law and recipient of ``dbt_project/seeds/breach_notification_rules.csv``
(dbt loads the same file as the seed ``steward.breach_notification_rules``):

``country_codes`` / ``region_code``
    Where the affected people live (ISO 3166-1 alpha-2, ``|``-separated; a
    region is a US state).
``recipient``
    supervisory_authority, individuals, attorney_general, media, hhs_secretary, ...
``deadline_count`` / ``deadline_unit`` / ``deadline_after``
    hour, day or business_day after ``awareness`` of the breach, after the
    ``individual_notice`` deadline of the same law, or after the ``year_end``
    (HIPAA's small breaches). No count: without undue delay, no fixed period.
``threshold_min`` / ``threshold_max`` / ``threshold_scope``
    How many affected residents make the notice due: ``residents`` of the
    law's jurisdiction, or ``per_region`` (HIPAA's media notice: more than 500
    residents of one State).
``triggering_categories``
    ``*`` (any personal data) or data-category prefixes; with ``requires_name``
    the person's name must be exposed too (US state laws: a name in combination
    with an SSN, an id or an account number).
``encryption_exempt``
    Encrypted, hashed or redacted data does not count.
``applies_when``
    ``always``, or ``hipaa``: only for incidents flagged as involving PHI held
    as a HIPAA covered entity or business associate.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

from steward import paths
from steward.dsar.jurisdictions import add_business_days

RULES_FILE = Path("seeds") / "breach_notification_rules.csv"
RULE_COLUMNS: tuple[str, ...] = (
    "law_code",
    "law_name",
    "country_codes",
    "region_code",
    "recipient",
    "deadline_count",
    "deadline_unit",
    "deadline_after",
    "threshold_min",
    "threshold_max",
    "threshold_scope",
    "triggering_categories",
    "requires_name",
    "encryption_exempt",
    "applies_when",
    "condition",
    "citation",
)
DEADLINE_UNITS = ("hour", "day", "business_day")
DEADLINE_AFTER = ("awareness", "individual_notice", "year_end")
THRESHOLD_SCOPES = ("residents", "per_region")
APPLIES_WHEN = ("always", "hipaa")


class BreachRulesError(ValueError):
    """The rules file is malformed; the message names every problem."""


@dataclass(frozen=True)
class NotificationRule:
    law_code: str
    law_name: str
    country_codes: tuple[str, ...]
    region_code: str | None
    recipient: str
    deadline_count: int | None
    deadline_unit: str | None
    deadline_after: str
    threshold_min: int
    threshold_max: int | None
    threshold_scope: str
    triggering_categories: tuple[str, ...]  # ("*",) for any personal data
    requires_name: bool
    encryption_exempt: bool
    applies_when: str
    condition: str
    citation: str

    @property
    def key(self) -> str:
        return f"{self.law_code}:{self.recipient}:{self.threshold_min}"

    def due_at(
        self, aware_at: dt.datetime, individuals_due: dt.datetime | None
    ) -> dt.datetime | None:
        """The latest time the notice may be given; None: without undue delay."""
        if self.deadline_count is None:
            return None
        if self.deadline_after == "individual_notice":
            if individuals_due is None:
                return None
            start = individuals_due
        elif self.deadline_after == "year_end":
            year_end = dt.datetime(aware_at.year, 12, 31, 23, 59, 59, tzinfo=aware_at.tzinfo)
            start = year_end
        else:
            start = aware_at
        if self.deadline_unit == "hour":
            return start + dt.timedelta(hours=self.deadline_count)
        if self.deadline_unit == "business_day":
            day = add_business_days(start.date(), self.deadline_count)
            return dt.datetime.combine(day, start.timetz())
        return start + dt.timedelta(days=self.deadline_count)

    def deadline_text(self) -> str:
        if self.deadline_count is None:
            return "without undue delay (no fixed period)"
        unit = self.deadline_unit.replace("_", " ") + ("s" if self.deadline_count != 1 else "")
        after = {
            "awareness": "after awareness of the breach",
            "individual_notice": "after notifying the individuals",
            "year_end": "after the end of the calendar year",
        }[self.deadline_after]
        return f"{self.deadline_count} {unit} {after}"


@functools.cache
def _rules_cached(path: Path) -> tuple[NotificationRule, ...]:
    return tuple(parse_rules(path.read_text(), str(path.name)))


def load_rules(project_dir: Path | None = None) -> tuple[NotificationRule, ...]:
    path = (Path(project_dir) if project_dir else paths.dbt_project_dir()) / RULES_FILE
    return _rules_cached(path.resolve())


def parse_rules(text: str, where: str = str(RULES_FILE)) -> list[NotificationRule]:
    """Parse and check the CSV text of the rules; raise listing every problem."""
    reader = csv.DictReader(text.splitlines())
    if tuple(reader.fieldnames or ()) != RULE_COLUMNS:
        raise BreachRulesError(f"{where}: header must be {','.join(RULE_COLUMNS)}")
    rules: list[NotificationRule] = []
    keys: set[str] = set()
    problems: list[str] = []
    for row in reader:
        line = f"{where}: line {reader.line_num}"
        try:
            rule = _rule(row)
        except ValueError as exc:
            problems.append(f"{line}: {exc}")
            continue
        if rule.key in keys:
            problems.append(f"{line}: {rule.key} defined twice")
        keys.add(rule.key)
        rules.append(rule)
    if problems:
        raise BreachRulesError("\n".join(problems))
    return rules


def _rule(row: dict[str, str]) -> NotificationRule:
    def text(name: str, required: bool = True) -> str:
        value = (row.get(name) or "").strip()
        if required and not value:
            raise ValueError(f"{name}: empty")
        return value

    def choice(name: str, allowed: tuple[str, ...], required: bool = True) -> str | None:
        value = text(name, required)
        if not value and not required:
            return None
        if value not in allowed:
            raise ValueError(f"{name}: {value!r} is not one of {', '.join(allowed)}")
        return value

    def number(name: str, required: bool = False) -> int | None:
        value = text(name, required)
        if not value:
            return None
        if not value.isdigit() or int(value) <= 0:
            raise ValueError(f"{name}: {value!r} is not a positive whole number")
        return int(value)

    def boolean(name: str) -> bool:
        value = text(name)
        if value not in ("true", "false"):
            raise ValueError(f"{name}: {value!r} is not true or false")
        return value == "true"

    countries = tuple(code.strip() for code in text("country_codes").split("|"))
    if not all(len(code) == 2 and code.isalpha() and code.isupper() for code in countries):
        raise ValueError("country_codes: ISO 3166-1 alpha-2 codes separated by |")
    count = number("deadline_count")
    unit = choice("deadline_unit", DEADLINE_UNITS, required=False)
    if (count is None) != (unit is None):
        raise ValueError("deadline_count and deadline_unit go together")
    threshold_min = number("threshold_min", required=True)
    threshold_max = number("threshold_max")
    if threshold_max is not None and threshold_max < threshold_min:
        raise ValueError("threshold_max is below threshold_min")
    categories = tuple(part.strip() for part in text("triggering_categories").split("|"))
    return NotificationRule(
        law_code=text("law_code"),
        law_name=text("law_name"),
        country_codes=countries,
        region_code=text("region_code", required=False) or None,
        recipient=text("recipient"),
        deadline_count=count,
        deadline_unit=unit,
        deadline_after=choice("deadline_after", DEADLINE_AFTER),
        threshold_min=threshold_min,
        threshold_max=threshold_max,
        threshold_scope=choice("threshold_scope", THRESHOLD_SCOPES),
        triggering_categories=categories,
        requires_name=boolean("requires_name"),
        encryption_exempt=boolean("encryption_exempt"),
        applies_when=choice("applies_when", APPLIES_WHEN),
        condition=text("condition"),
        citation=text("citation"),
    )
