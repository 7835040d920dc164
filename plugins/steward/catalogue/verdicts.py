"""What a value validator answers, and what it may know besides the value.

See :mod:`steward.catalogue.validators` for the meaning of each verdict.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import IntEnum


class Verdict(IntEnum):
    NO = 0
    SHAPE = 1
    VALID = 2


@dataclass(frozen=True)
class ValueContext:
    """What a validator may know besides the value: the column's type and the defaults."""

    numeric: bool = False  # the column is an integer/numeric type
    # Regions a local-format phone number is judged in: the warehouse's configured
    # regions plus those inferred for this column (its values' international
    # prefixes, a country column of the same table). Never one assumed country.
    phone_regions: tuple[str, ...] = ()
    today: dt.date = field(default_factory=dt.date.today)


DEFAULT_CONTEXT = ValueContext()
Result = tuple[Verdict, tuple[str, ...]]
NO_MATCH: Result = (Verdict.NO, ())


def verdict_result(verdict: Verdict, *tags: str) -> Result:
    return verdict, tags


def word_list(text: str) -> list[str]:
    """A vocabulary written as whitespace-separated words."""
    return text.split()


def only_digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())
