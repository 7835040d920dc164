"""Finding every row of a data subject, from the data map, set-based in the warehouse.

1. **Identity.** The subject's customer ids: the one given, the accounts
   holding the given e-mail (case-insensitive) in any customer table, and, for a
   request identified by phone only, the accounts holding that number. Then the
   e-mails and phone numbers (E.164) of the subject's own account and contact
   tables. A phone resolves an account only when the request gives no
   stronger identifier and the number belongs to exactly one customer:
   household lines are shared.
2. **Rows.** In every table of the data map about customers or prospects:
   rows keyed by the subject (``subject_key``, directly or through the table it
   references, e.g. transcripts -> calls), rows whose e-mail or phone
   identifier is the subject's and that belong to nobody else, and rows whose
   free text (``user.content.free_text``) mentions the subject's phone in any
   spelling or e-mail in any case.

Phones are matched on the normalised number: ``steward.phone_lookup`` maps every
raw spelling to E.164 (refreshed incrementally first, so rows newer than the
last nightly run are seen). Free text is matched with one regular expression
per number, tolerant of separators, country code, trunk and IDD prefixes.

Results go to ``steward.dsar_subject_rows`` (request, phase, table, row key as
jsonb, how it matched, whether the subject owns it). Nothing is logged but counts.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

import phonenumbers
import sqlalchemy as sa
from psycopg2 import sql

from steward import datamap
from steward.dsar.intake import DsarRequest
from steward.phones.lookup import DEFAULT_COUNTRY_HINT
from steward.phones.sources import country_hint_from_data_map

log = logging.getLogger(__name__)

SUBJECT_KINDS = ("customer", "prospect")
FREE_TEXT = "user.content.free_text"
PHONE = "user.contact.phone_number"
EMAIL = "user.contact.email"
NAME_CATEGORIES = ("user.name.first", "user.name.last", "user.name")
CUSTOMER_KEY = "customer_id"
_SEPARATORS = "[ .()/-]{0,3}"

_DDL = """
create schema if not exists steward;
create table if not exists steward.dsar_subject_rows (
    request_id bigint not null,
    phase text not null,            -- 'find' | 'verify'
    table_name text not null,       -- schema.table
    row_key jsonb not null,         -- the primary key columns of the row
    matched_by text not null,       -- subject_key | reference | email | phone | mention
    owned boolean not null,         -- the row is keyed by the subject
    primary key (request_id, phase, table_name, row_key, matched_by)
);
create index if not exists phone_lookup_e164_for_dsar on steward.phone_lookup (e164);
"""


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


@contextmanager
def dbapi(engine: sa.Engine) -> Iterator:
    """A psycopg2 connection from the engine's pool, committed on success."""
    pooled = engine.raw_connection()
    connection = pooled.driver_connection
    try:
        yield connection
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        pooled.close()


def ensure_tables(engine: sa.Engine) -> None:
    from steward.phones.lookup import ensure_lookup_table

    with dbapi(engine) as connection:
        ensure_lookup_table(connection)
        with connection.cursor() as cursor:
            cursor.execute("select pg_advisory_xact_lock(hashtext('steward.dsar.finder'))")
            cursor.execute(_DDL)


def subject_tables(data_map: datamap.DataMap) -> list[datamap.TableMap]:
    """The data map's tables about customers or prospects."""
    return [table for table in data_map.tables if table.subject in SUBJECT_KINDS]


def owner_column(table: datamap.TableMap) -> str | None:
    """The column holding the customer id of the row's subject, if the table has one."""
    if table.subject_key and table.subject_key in table.identifier_columns(CUSTOMER_KEY):
        return table.subject_key
    columns = table.identifier_columns(CUSTOMER_KEY)
    return columns[0] if columns else None


def columns_of(table: datamap.TableMap, category: str) -> list[str]:
    """Columns of ``table`` in a data category (identifier columns included for phone/e-mail)."""
    names = [column.name for column in table.columns if column.data_category == category]
    kind = {PHONE: "phone", EMAIL: "email"}.get(category)
    if kind:
        names += [name for name in table.identifier_columns(kind) if name not in names]
    return names


def is_account_or_contact_table(table: datamap.TableMap) -> bool:
    """The customer's own record, or contact details going with it (not events)."""
    owner = owner_column(table)
    if table.subject != "customer" or owner is None:
        return False
    return table.primary_key == (owner,) or table.retention_clock_table is not None


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


# --- identity ------------------------------------------------------------------


def _phone_raw_keys(cursor, phones: list[str]) -> list[str]:
    if not phones:
        return []
    cursor.execute(
        "select distinct raw_value from steward.phone_lookup where e164 = any(%s)", (phones,)
    )
    return [row[0] for row in cursor.fetchall()]


def resolve_identity(
    engine: sa.Engine, request: DsarRequest, data_map: datamap.DataMap
) -> SubjectIdentity:
    """The subject's customer ids, e-mails, phones and names (see the module doc)."""
    identity = SubjectIdentity(
        customer_ids=[request.customer_id] if request.customer_id else [],
        emails=[request.email] if request.email else [],
        phones=[request.phone] if request.phone else [],
        names=_name_tokens(request.full_name),
    )
    tables = subject_tables(data_map)
    hint = country_hint_from_data_map(data_map) or DEFAULT_COUNTRY_HINT
    with dbapi(engine) as connection, connection.cursor() as cursor:
        ids = set(identity.customer_ids)
        by_phone: set[int] = set()
        expand_by_phone = not identity.customer_ids and not identity.emails
        raw_keys = _phone_raw_keys(cursor, identity.phones)
        for table in tables:
            owner = owner_column(table)
            if owner is None or table.subject != "customer":
                continue
            target = sql.Identifier(table.schema, table.name)
            for column in columns_of(table, EMAIL) if identity.emails else []:
                cursor.execute(
                    sql.SQL(
                        "select distinct {owner} from {t} where lower({c}) = any(%s)"
                        " and {owner} is not null"
                    ).format(owner=sql.Identifier(owner), t=target, c=sql.Identifier(column)),
                    (identity.emails,),
                )
                ids.update(row[0] for row in cursor.fetchall())
            if expand_by_phone and raw_keys and is_account_or_contact_table(table):
                for column in columns_of(table, PHONE):
                    cursor.execute(
                        sql.SQL(
                            "select distinct {owner} from {t}"
                            " where steward.phone_raw_key({c}) = any(%s) and {owner} is not null"
                        ).format(owner=sql.Identifier(owner), t=target, c=sql.Identifier(column)),
                        (raw_keys,),
                    )
                    by_phone.update(row[0] for row in cursor.fetchall())
        # A shared (household) line names no one: only an unambiguous number resolves.
        if len(by_phone) == 1:
            ids.update(by_phone)
        identity.customer_ids = sorted(int(value) for value in ids)
        if not identity.customer_ids:
            return identity
        emails, phones, names = set(identity.emails), set(identity.phones), set(identity.names)
        for table in tables:
            if not is_account_or_contact_table(table):
                continue
            owner = sql.Identifier(owner_column(table))
            target = sql.Identifier(table.schema, table.name)
            for column in columns_of(table, EMAIL):
                cursor.execute(
                    sql.SQL(
                        "select distinct lower({c}) from {t} where {owner} = any(%s)"
                        " and {c} is not null"
                    ).format(c=sql.Identifier(column), t=target, owner=owner),
                    (identity.customer_ids,),
                )
                emails.update(row[0] for row in cursor.fetchall())
            for column in columns_of(table, PHONE):
                cursor.execute(
                    sql.SQL(
                        "select distinct l.e164 from {t} as src"
                        " left join {hint} as h on h.{hint_key} = src.{owner}"
                        " join steward.phone_lookup as l"
                        " on l.raw_value = steward.phone_raw_key(src.{c})"
                        " and l.region_hint = steward.phone_region_key(h.{country})"
                        " where src.{owner} = any(%s) and l.e164 is not null"
                    ).format(
                        c=sql.Identifier(column),
                        t=target,
                        owner=owner,
                        hint=sql.Identifier(hint.schema, hint.table),
                        hint_key=sql.Identifier(hint.key_column),
                        country=sql.Identifier(hint.country_column),
                    ),
                    (identity.customer_ids,),
                )
                phones.update(row[0] for row in cursor.fetchall())
            for category in NAME_CATEGORIES:
                for column in columns_of(table, category):
                    cursor.execute(
                        sql.SQL(
                            "select distinct {c} from {t} where {owner} = any(%s)"
                            " and {c} is not null"
                        ).format(c=sql.Identifier(column), t=target, owner=owner),
                        (identity.customer_ids,),
                    )
                    for (value,) in cursor.fetchall():
                        names.update(_name_tokens(value))
        identity.emails = sorted(email for email in emails if email)
        identity.phones = sorted(phones)
        identity.names = sorted(names)
    return identity


def _name_tokens(full_name: str | None) -> list[str]:
    # Short tokens ("Li", "Al") would redact ordinary words in free text.
    return sorted(
        {token for token in (full_name or "").replace(",", " ").split() if len(token) > 2}
    )


# --- rows ----------------------------------------------------------------------


def _row_key(table: datamap.TableMap, alias: str = "t") -> sql.Composable:
    parts = []
    for column in table.primary_key:
        parts += [
            sql.Literal(column),
            sql.SQL("{}.{}").format(sql.Identifier(alias), sql.Identifier(column)),
        ]
    return sql.SQL("jsonb_build_object({})").format(sql.SQL(", ").join(parts))


def _owned_condition(
    table: datamap.TableMap, by_name: dict[str, datamap.TableMap]
) -> tuple[sql.Composable, str] | None:
    """SQL true for rows keyed by the subject (parameter: the customer ids)."""
    owner = owner_column(table)
    if table.subject_key_references:
        parent = by_name.get(table.subject_key_references)
        parent_owner = owner_column(parent) if parent else None
        if parent is None or parent_owner is None:
            return None
        return (
            sql.SQL(
                "t.{key} in (select p.{pk} from {parent} as p where p.{owner} = any(%(ids)s))"
            ).format(
                key=sql.Identifier(table.subject_key),
                pk=sql.Identifier(parent.primary_key[0]),
                parent=sql.Identifier(parent.schema, parent.name),
                owner=sql.Identifier(parent_owner),
            ),
            "reference",
        )
    if owner is None:
        return None
    return sql.SQL("t.{} = any(%(ids)s)").format(sql.Identifier(owner)), "subject_key"


def row_conditions(
    table: datamap.TableMap, by_name: dict[str, datamap.TableMap], identity: SubjectIdentity
) -> list[tuple[str, sql.Composable]]:
    """(matched_by, SQL condition on alias ``t``) for one table; parameters by name."""
    conditions: list[tuple[str, sql.Composable]] = []
    owned = _owned_condition(table, by_name)
    if owned and identity.customer_ids:
        conditions.append((owned[1], owned[0]))
    owner = owner_column(table)
    # Identifier matches only for rows nobody else owns.
    unowned = (
        sql.SQL(" and (t.{0} is null or t.{0} = any(%(ids)s))").format(sql.Identifier(owner))
        if owner
        else sql.SQL("")
    )
    if identity.emails:
        for column in columns_of(table, EMAIL):
            conditions.append(
                (
                    "email",
                    sql.SQL("lower(t.{}) = any(%(emails)s)").format(sql.Identifier(column))
                    + unowned,
                )
            )
    if identity.phones:
        for column in columns_of(table, PHONE):
            conditions.append(
                (
                    "phone",
                    sql.SQL("steward.phone_raw_key(t.{}) = any(%(phone_keys)s)").format(
                        sql.Identifier(column)
                    )
                    + unowned,
                )
            )
    for column in columns_of(table, FREE_TEXT):
        mentions = [
            sql.SQL("t.{} ~ %(phone_pattern_{})s").format(sql.Identifier(column), sql.SQL(str(i)))
            for i in range(len(identity.phones))
        ] + [
            sql.SQL("strpos(lower(t.{}), %(email_{})s) > 0").format(
                sql.Identifier(column), sql.SQL(str(i))
            )
            for i in range(len(identity.emails))
        ]
        if mentions:
            conditions.append(
                ("mention", sql.SQL("(") + sql.SQL(" or ").join(mentions) + sql.SQL(")"))
            )
    return conditions


def identity_parameters(cursor, identity: SubjectIdentity) -> dict:
    parameters: dict = {
        "ids": identity.customer_ids,
        "emails": identity.emails,
        "phone_keys": _phone_raw_keys(cursor, identity.phones),
    }
    for index, phone in enumerate(identity.phones):
        parameters[f"phone_pattern_{index}"] = phone_mention_pattern(phone)
    for index, email in enumerate(identity.emails):
        parameters[f"email_{index}"] = email
    return parameters


def find_rows(
    engine: sa.Engine,
    request_id: int,
    identity: SubjectIdentity,
    data_map: datamap.DataMap,
    phase: str = "find",
) -> dict[str, dict[str, int]]:
    """Record every row of the subject in ``steward.dsar_subject_rows``; counts per table."""
    ensure_tables(engine)
    by_name = {table.qualified_name: table for table in data_map.tables}
    counts: dict[str, dict[str, int]] = {}
    with dbapi(engine) as connection, connection.cursor() as cursor:
        cursor.execute(
            "delete from steward.dsar_subject_rows where request_id = %s and phase = %s",
            (request_id, phase),
        )
        parameters = {
            **identity_parameters(cursor, identity),
            "request_id": request_id,
            "phase": phase,
        }
        for table in subject_tables(data_map):
            conditions = row_conditions(table, by_name, identity)
            owned = _owned_condition(table, by_name)
            owned_sql = owned[0] if owned and identity.customer_ids else sql.SQL("false")
            for matched_by, condition in conditions:
                cursor.execute(
                    sql.SQL(
                        "insert into steward.dsar_subject_rows"
                        " (request_id, phase, table_name, row_key, matched_by, owned)"
                        " select %(request_id)s, %(phase)s, {name}, {key}, {matched},"
                        " coalesce({owned}, false)"
                        " from {table} as t where {condition}"
                        " on conflict do nothing"
                    ).format(
                        name=sql.Literal(table.qualified_name),
                        key=_row_key(table),
                        matched=sql.Literal(matched_by),
                        owned=owned_sql,
                        table=sql.Identifier(table.schema, table.name),
                        condition=condition,
                    ),
                    parameters,
                )
        cursor.execute(
            "select table_name, count(distinct row_key),"
            " count(distinct row_key) filter (where owned),"
            " count(distinct row_key) filter (where matched_by = 'mention')"
            " from steward.dsar_subject_rows where request_id = %s and phase = %s"
            " group by table_name order by table_name",
            (request_id, phase),
        )
        for name, rows, owned_rows, mentions in cursor.fetchall():
            counts[name] = {"rows": rows, "owned": owned_rows, "mentions": mentions}
    log.info(
        "request %s %s: %d rows in %d tables",
        request_id,
        phase,
        sum(c["rows"] for c in counts.values()),
        len(counts),
    )
    return counts


def refresh_lookup(engine: sa.Engine) -> None:
    """Bring the phone lookup up to date, so rows written since the nightly run are matched."""
    from steward.phones.lookup import refresh_phone_lookup

    refresh_phone_lookup(engine)
