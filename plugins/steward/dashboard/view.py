"""The view model's building blocks: metrics, cells, tables, charts, sections and the page.

What a reader sees, as data: the sections (``model``, ``phones_view``,
``requests_view``, ``governance``) fill these in, ``render`` lays them out.
Formatting of counts, shares and days lives here so every section writes them alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # queries imports governance, which builds on this module
    from steward.dashboard.queries import SectionData

GOOD, WARN, BAD = "good", "warn", "bad"


@dataclass
class Metric:
    label: str
    value: str
    tone: str = ""
    note: str = ""


@dataclass
class Cell:
    text: str
    tone: str = ""
    numeric: bool = False


@dataclass
class Table:
    caption: str
    columns: list[str]
    rows: list[list[Cell]]
    empty: str = "None."
    note: str = ""


@dataclass
class Chart:
    title: str
    svg: str


@dataclass
class Link:
    text: str
    href: str


@dataclass
class Section:
    key: str
    title: str
    state: str = "ready"  # ready | not_built | empty | error
    hint: str = ""
    message: str = ""
    metrics: list[Metric] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)


@dataclass
class Dashboard:
    generated_at: dt.datetime
    sections: list[Section]
    static: bool = False  # a written report: no links back into the running app

    def section(self, key: str) -> Section:
        return next(section for section in self.sections if section.key == key)


# -- formatting ------------------------------------------------------------------------


def count(value: int | float | None) -> str:
    return "–" if value is None else f"{int(value):,}"


def share(part: float | None, whole: float | None) -> str:
    if part is None or not whole:
        return "–"
    return f"{part / whole:.1%}"


def day(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def days_left_cell(days_left: int | None) -> Cell:
    """Days to the due date: red once overdue, amber in the last week."""
    if days_left is None:
        return Cell("–", numeric=True)
    if days_left < 0:
        return Cell(f"overdue by {-days_left:,} d", BAD, numeric=True)
    tone = WARN if days_left <= 7 else ""
    return Cell(f"{days_left:,} d", tone, numeric=True)


def num(value: Any, tone: str = "") -> Cell:
    return Cell(count(value), tone, numeric=True)


# -- sections --------------------------------------------------------------------------


def unavailable(section: Section, data: SectionData, hint: str) -> bool:
    """Mark a section whose marts are missing, stale or failed to read; True if so."""
    if data.missing:
        section.state = "not_built"
        section.message = "Not built yet: " + ", ".join(f"steward.{t}" for t in data.missing)
    elif data.stale:
        section.state = "not_built"
        section.message = "Built before the tables they read existed, so still empty: " + (
            "; ".join(
                f"steward.{view} (since: " + ", ".join(f"steward.{t}" for t in tables) + ")"
                for view, tables in data.stale.items()
            )
        )
    elif data.error:
        section.state = "error"
        section.message = f"Could not read this section ({data.error})."
    else:
        return False
    section.hint = hint
    return True
