"""How a subject is matched: the one definition, and the identifiers it is matched by.

Every path that looks for a subject (:mod:`steward.dsar.finder`, the subject
index's dbt macro, the erasure's verification, the suppression re-scan) takes
the tables, columns and patterns it matches on from here.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import phonenumbers

from steward import datamap

SUBJECT_KINDS = ("customer", "prospect")
FREE_TEXT = "user.content.free_text"
PHONE = "user.contact.phone_number"
EMAIL = "user.contact.email"
NAME_CATEGORIES = ("user.name.first", "user.name.last", "user.name")
CUSTOMER_KEY = "customer_id"
_SEPARATORS = "[ .()/-]{0,3}"


@dataclass
class SubjectIdentity:
    """The identifiers of one subject (personal data: never log it)."""

    customer_ids: list[int] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)  # E.164
    names: list[str] = field(default_factory=list)  # name tokens, for redaction in free text

    def as_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str | dict) -> SubjectIdentity:
        values = json.loads(text) if isinstance(text, str) else text
        return cls(**values)

    def counts(self) -> dict[str, int]:
        return {
            "customer_ids": len(self.customer_ids),
            "emails": len(self.emails),
            "phones": len(self.phones),
        }


# --- how a subject is matched: ONE definition -------------------------------------
#
# Every path that looks for a subject derives its conditions from the functions
# below: the live search of one request or of a batch (one request is a batch of
# one), the search narrowed by the nightly subject index, the verification
# re-scan of an erasure, the suppression re-scan (identifiers known only as keyed
# hashes) and the dbt subject index itself (its macro reads the same data-map
# entries, ``meta.steward.identifiers``, and nothing else):
#
# * customer id: the table's owner column (``subject_key`` or its
#   ``identifiers.customer_id``), or through the table its key references;
# * e-mail: the table's ``identifiers.email`` columns, compared lower-cased;
# * phone: the table's ``identifiers.phone`` columns, compared through
#   ``steward.phone_lookup`` (any spelling -> E.164);
# * free text: ``user.content.free_text`` columns, mentions of the phone in any
#   spelling or of the e-mail in any case;
# * an e-mail or phone match counts only for rows nobody else owns (owner null,
#   or the subject): a household line does not make someone else's row theirs.
#
# The data map must declare every e-mail and phone column of a subject table as
# an identifier (checked by subject_tables), so the declaration is complete.

_IDENTIFIER_KINDS = {EMAIL: "email", PHONE: "phone"}


class MatchDefinitionError(ValueError):
    """The data map leaves a personal identifier column out of the subject matching."""


def undeclared_identifier_columns(data_map: datamap.DataMap) -> list[str]:
    """E-mail/phone columns of subject tables not listed under ``identifiers``."""
    problems = []
    for table in data_map.tables:
        if table.subject not in SUBJECT_KINDS:
            continue
        for column in table.columns:
            kind = _IDENTIFIER_KINDS.get(column.data_category)
            if kind and column.name not in table.identifier_columns(kind):
                problems.append(
                    f"{table.qualified_name}.{column.name} ({column.data_category}) is not listed"
                    f" under meta.steward.identifiers.{kind}: subject requests would miss it"
                )
    return problems


def subject_tables(data_map: datamap.DataMap) -> list[datamap.TableMap]:
    """The data map's tables about customers or prospects (the matching checked complete)."""
    problems = undeclared_identifier_columns(data_map)
    if problems:
        raise MatchDefinitionError("; ".join(problems))
    return [table for table in data_map.tables if table.subject in SUBJECT_KINDS]


def owner_column(table: datamap.TableMap) -> str | None:
    """The column holding the customer id of the row's subject, if the table has one."""
    if table.subject_key and table.subject_key in table.identifier_columns(CUSTOMER_KEY):
        return table.subject_key
    columns = table.identifier_columns(CUSTOMER_KEY)
    return columns[0] if columns else None


def columns_of(table: datamap.TableMap, category: str) -> list[str]:
    """Columns of ``table`` a subject is matched by, for a data category.

    E-mail and phone: the table's declared identifiers (the list the subject
    index's dbt macro reads too); any other category: its columns.
    """
    kind = _IDENTIFIER_KINDS.get(category)
    if kind:
        return list(table.identifier_columns(kind))
    return [column.name for column in table.columns if column.data_category == category]


def is_account_or_contact_table(table: datamap.TableMap) -> bool:
    """The customer's own record, or contact details going with it (not events)."""
    owner = owner_column(table)
    if table.subject != "customer" or owner is None:
        return False
    return table.primary_key == (owner,) or table.retention_clock_table is not None


def resolves_by_phone(table: datamap.TableMap) -> bool:
    """A phone in this table names its owner: account and contact tables, and prospect
    lists keyed by customer (opt-outs, campaign contacts); not events such as calls."""
    if is_account_or_contact_table(table):
        return True
    return table.subject == "prospect" and owner_column(table) is not None


def resolves_by_email(table: datamap.TableMap) -> bool:
    """An e-mail in this table names its owner: every subject table with an owner column."""
    return owner_column(table) is not None


# --- phones in free text -------------------------------------------------------


def phone_mention_pattern(e164: str) -> str:
    """A PostgreSQL regular expression for ``e164`` written in any usual way in text.

    Digits may be separated by spaces, dots, dashes, slashes or brackets; the
    number may carry its country code (with ``+``, ``00`` or ``011``) or a
    trunk ``0``; it must not sit inside a longer run of digits.
    """
    number = phonenumbers.parse(e164)
    national = phonenumbers.national_significant_number(number)
    country = str(number.country_code)
    spaced = _SEPARATORS.join(national)
    prefix = (
        f"(?:(?:\\+|00|011){_SEPARATORS})?(?:{_SEPARATORS.join(country)}{_SEPARATORS})?"
        f"(?:0{_SEPARATORS})?"
    )
    return f"(?<![0-9]){prefix}\\(?{spaced}(?![0-9])"


def literal_pattern(text: str) -> str:
    """A regular expression matching ``text`` literally (non-alphanumerics escaped)."""
    return "".join(char if char.isalnum() else "\\" + char for char in text)
