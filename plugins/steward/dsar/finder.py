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

import datetime as dt
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


_RECORD_ROWS = sql.SQL(
    "insert into steward.dsar_subject_rows"
    " (request_id, phase, table_name, row_key, matched_by, owned)"
    " select %(request_id)s, %(phase)s, {name}, {key}, {matched}, coalesce({owned}, false)"
    " {source} on conflict do nothing"
)


def _record_rows(
    cursor,
    table: datamap.TableMap,
    owned: sql.Composable,
    matched: sql.Composable,
    source: sql.Composable,
    parameters: dict,
) -> None:
    """Record the rows ``t`` of ``source`` (a ``from ... where ...``) as the subject's."""
    cursor.execute(
        _RECORD_ROWS.format(
            name=sql.Literal(table.qualified_name),
            key=_row_key(table),
            matched=matched,
            owned=owned,
            source=source,
        ),
        parameters,
    )


def _owned_sql(
    table: datamap.TableMap, by_name: dict[str, datamap.TableMap], identity: SubjectIdentity
) -> sql.Composable:
    owned = _owned_condition(table, by_name)
    return owned[0] if owned and identity.customer_ids else sql.SQL("false")


def _start_search(cursor, request_id: int, phase: str) -> None:
    cursor.execute(
        "delete from steward.dsar_subject_rows where request_id = %s and phase = %s",
        (request_id, phase),
    )


def _recorded_counts(cursor, request_id: int, phase: str) -> dict[str, dict[str, int]]:
    cursor.execute(
        "select table_name, count(distinct row_key),"
        " count(distinct row_key) filter (where owned),"
        " count(distinct row_key) filter (where matched_by = 'mention')"
        " from steward.dsar_subject_rows where request_id = %s and phase = %s"
        " group by table_name order by table_name",
        (request_id, phase),
    )
    return {
        name: {"rows": rows, "owned": owned_rows, "mentions": mentions}
        for name, rows, owned_rows, mentions in cursor.fetchall()
    }


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
    with dbapi(engine) as connection, connection.cursor() as cursor:
        _start_search(cursor, request_id, phase)
        parameters = {
            **identity_parameters(cursor, identity),
            "request_id": request_id,
            "phase": phase,
        }
        for table in subject_tables(data_map):
            owned = _owned_sql(table, by_name, identity)
            target = sql.Identifier(table.schema, table.name)
            for matched_by, condition in row_conditions(table, by_name, identity):
                source = sql.SQL("from {} as t where {}").format(target, condition)
                _record_rows(cursor, table, owned, sql.Literal(matched_by), source, parameters)
        counts = _recorded_counts(cursor, request_id, phase)
    log.info(
        "request %s %s: %d rows in %d tables",
        request_id,
        phase,
        sum(c["rows"] for c in counts.values()),
        len(counts),
    )
    return counts


# --- with the nightly subject index ---------------------------------------------
#
# ``steward.dsar_subject_index`` (dbt mart models/marts/dsar) maps every
# customer id, e-mail and E.164 phone in an identifier column to its table and
# row key. It narrows the search; the live tables confirm it: candidates are
# re-checked with the finder's own conditions (an index row gone stale, e.g.
# deleted or changed since, finds nothing), and rows whose current version was
# written after the build (transaction id at or after the index's watermark:
# inserts and updates) are checked live. Rows matched through a referenced table
# and free-text mentions are always searched live; phone matches too when the
# phone lookup re-parsed one of the subject's numbers after the build.

SUBJECT_INDEX = ("steward", "dsar_subject_index")
INDEXED_MATCHES = ("subject_key", "email", "phone")
DEFAULT_INDEX_MAX_AGE_HOURS = 36.0


def subject_index_state(engine: sa.Engine) -> tuple[float, int, dt.datetime] | None:
    """(hours since the subject index was built, its transaction-id watermark, build time)."""
    with engine.connect() as conn:
        if conn.execute(sa.text("select to_regclass('steward.dsar_subject_index')")).scalar():
            row = conn.execute(
                # One build, one statement: every row has the same time and watermark.
                sa.text(
                    "select extract(epoch from now() - indexed_at) / 3600, indexed_xmin,"
                    " indexed_at from steward.dsar_subject_index limit 1"
                )
            ).one_or_none()
            if row is not None:
                return float(row[0]), int(row[1]), row[2]
    return None


def subject_index_age_hours(engine: sa.Engine) -> float | None:
    """Hours since the subject index was built; None when it does not exist or is empty."""
    state = subject_index_state(engine)
    return None if state is None else state[0]


# matched_by -> (identifier kind in the index, parameter holding the subject's values)
_INDEX_KIND = {
    "subject_key": ("customer_id", "id_texts"),
    "email": ("email", "emails"),
    "phone": ("phone", "phones"),
}


def _index_candidates(table: datamap.TableMap, matched_by: str) -> sql.Composable:
    """``from ... where`` of the rows ``t`` the index lists for the subject (by primary key)."""
    kind, values = _INDEX_KIND[matched_by]
    target = sql.Identifier(table.schema, table.name)
    equal = sql.SQL(" and ").join(
        sql.SQL("t.{0} = r.{0}").format(sql.Identifier(column)) for column in table.primary_key
    )
    return sql.SQL(
        "from (select distinct i.row_key from {index} as i where i.identifier_kind = {kind}"
        " and i.identifier_value = any({values}) and i.source_table = {name}) as c"
        " cross join lateral jsonb_populate_record(null::{t}, c.row_key) as r"
        " join {t} as t on {equal} where "
    ).format(
        index=sql.Identifier(*SUBJECT_INDEX),
        kind=sql.Literal(kind),
        values=sql.Placeholder(values),
        name=sql.Literal(table.qualified_name),
        t=target,
        equal=equal,
    )


def find_with_index(
    engine: sa.Engine,
    request_id: int,
    identity: SubjectIdentity,
    data_map: datamap.DataMap,
    phase: str = "find",
    max_age_hours: float = DEFAULT_INDEX_MAX_AGE_HOURS,
) -> dict[str, dict[str, int]]:
    """:func:`find_rows` narrowed by the subject index; the live finder when there is none.

    Same result as :func:`find_rows` (see the comment above for the one gap); falls
    back to it when the index is missing, empty or older than ``max_age_hours``.
    """
    state = subject_index_state(engine)
    if state is None or state[0] > max_age_hours:
        log.info("subject index missing or stale: live search")
        return find_rows(engine, request_id, identity, data_map, phase)
    ensure_tables(engine)
    by_name = {table.qualified_name: table for table in data_map.tables}
    with dbapi(engine) as connection, connection.cursor() as cursor:
        _start_search(cursor, request_id, phase)
        # A number re-parsed since the build may map other spellings: search phones live.
        cursor.execute(
            "select exists (select from steward.phone_lookup where e164 = any(%s)"
            " and parsed_at >= %s)",
            (identity.phones, state[2]),
        )
        phones_live = bool(cursor.fetchone()[0])
        parameters = {
            **identity_parameters(cursor, identity),
            "request_id": request_id,
            "phase": phase,
            "id_texts": [str(value) for value in identity.customer_ids],
            "phones": identity.phones,
            # Row xmins are 32-bit and wrap: compare ages, as the phone lookup does.
            "index_xmin": str(state[1] % 2**32),
        }
        for table in subject_tables(data_map):
            owned = _owned_sql(table, by_name, identity)
            target = sql.Identifier(table.schema, table.name)
            indexed: list[tuple[str, sql.Composable]] = []
            for matched_by, condition in row_conditions(table, by_name, identity):
                if matched_by in INDEXED_MATCHES and not (matched_by == "phone" and phones_live):
                    # The index's candidates, confirmed against the live row.
                    source = _index_candidates(table, matched_by) + sql.SQL("({})").format(
                        condition
                    )
                    indexed.append((matched_by, condition))
                else:
                    source = sql.SQL("from {} as t where ({})").format(target, condition)
                _record_rows(cursor, table, owned, sql.Literal(matched_by), source, parameters)
            if indexed:
                # Rows written since the build, all indexed conditions in one pass
                # over the table: the cheap transaction-id test first, the
                # conditions only on the rows that pass it.
                checks = sql.SQL(", ").join(
                    sql.SQL("({}, {})").format(sql.Literal(matched_by), condition)
                    for matched_by, condition in indexed
                )
                source = sql.SQL(
                    "from {t} as t cross join lateral (values {checks}) as m (matched_by, hit)"
                    " where age(t.xmin) <= age(%(index_xmin)s::xid) and m.hit"
                ).format(t=target, checks=checks)
                _record_rows(cursor, table, owned, sql.SQL("m.matched_by"), source, parameters)
        counts = _recorded_counts(cursor, request_id, phase)
    log.info(
        "request %s %s (indexed, phones searched live: %s): %d rows in %d tables",
        request_id,
        phase,
        phones_live,
        sum(c["rows"] for c in counts.values()),
        len(counts),
    )
    return counts


def refresh_lookup(engine: sa.Engine) -> None:
    """Bring the phone lookup up to date, so rows written since the nightly run are matched."""
    from steward.phones.lookup import refresh_phone_lookup

    refresh_phone_lookup(engine)


# --- many requests at once -------------------------------------------------------
#
# The bulk intake resolves and finds a whole batch of subjects in one pass per
# table: the batch's identifiers go to temporary tables that are joined to each
# mapped table, instead of one query per subject. The rules are those of
# :func:`resolve_identity` and :func:`find_rows`; two differ in how free text
# is searched, to stay set-based:
#
# * phones: every run of digits in the text (separators allowed between
#   digits, as :func:`phone_mention_pattern` allows) is cut into windows of the
#   batch's national-number lengths and hash-joined to the batch's numbers;
#   only those candidate rows are checked with the subject's exact pattern, so
#   the result equals the single-request search.
# * e-mails: whole addresses in the text (lower case, optionally after
#   leading punctuation) are joined to the batch's addresses; an address that
#   merely contains the subject's inside a longer one is not a mention.

_DIGIT_RUN = r"[0-9](?:[ .()/-]{0,3}[0-9])*"
_EMAIL_ADDRESS_IN_TEXT = r"[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+"


def _temp_table(cursor, name: str, columns: str, rows: list[tuple]) -> None:
    from psycopg2.extras import execute_values

    cursor.execute(sql.SQL("drop table if exists {}").format(sql.Identifier(name)))
    cursor.execute(
        sql.SQL("create temp table {} ({})").format(sql.Identifier(name), sql.SQL(columns))
    )
    if rows:
        execute_values(
            cursor,
            sql.SQL("insert into {} values %s on conflict do nothing").format(sql.Identifier(name)),
            rows,
            page_size=1000,
        )
    cursor.execute(sql.SQL("analyze {}").format(sql.Identifier(name)))


def resolve_identities(
    engine: sa.Engine, requests: dict[int, DsarRequest], data_map: datamap.DataMap
) -> dict[int, SubjectIdentity]:
    """:func:`resolve_identity` for many requests, one query per table and column."""
    if not requests:
        return {}
    tables = subject_tables(data_map)
    hint = country_hint_from_data_map(data_map) or DEFAULT_COUNTRY_HINT
    ids: dict[int, set[int]] = {rid: set() for rid in requests}
    emails: dict[int, set[str]] = {rid: set() for rid in requests}
    phones: dict[int, set[str]] = {rid: set() for rid in requests}
    names: dict[int, set[str]] = {rid: set() for rid in requests}
    for rid, request in requests.items():
        if request.customer_id:
            ids[rid].add(int(request.customer_id))
        if request.email:
            emails[rid].add(request.email)
        if request.phone:
            phones[rid].add(request.phone)
        names[rid].update(_name_tokens(request.full_name))
    with dbapi(engine) as connection, connection.cursor() as cursor:
        _temp_table(
            cursor,
            "dsar_batch_requests",
            "request_id bigint primary key, customer_id bigint, email text, phone text,"
            " expand_by_phone boolean not null",
            [
                (
                    rid,
                    r.customer_id,
                    r.email,
                    r.phone,
                    not r.customer_id and not r.email and r.phone is not None,
                )
                for rid, r in requests.items()
            ],
        )
        cursor.execute(
            "create temp table dsar_batch_phone_keys on commit drop as"
            " select distinct b.request_id, l.raw_value from dsar_batch_requests as b"
            " join steward.phone_lookup as l on l.e164 = b.phone where b.expand_by_phone"
        )
        cursor.execute(
            "create temp table dsar_batch_by_phone (request_id bigint, customer_id bigint)"
        )
        for table in tables:
            owner = owner_column(table)
            if owner is None or table.subject != "customer":
                continue
            target = sql.Identifier(table.schema, table.name)
            for column in columns_of(table, EMAIL):
                cursor.execute(
                    sql.SQL(
                        "select distinct b.request_id, t.{owner} from dsar_batch_requests as b"
                        " join {t} as t on lower(t.{c}) = b.email where t.{owner} is not null"
                    ).format(owner=sql.Identifier(owner), t=target, c=sql.Identifier(column))
                )
                for rid, customer in cursor.fetchall():
                    ids[rid].add(int(customer))
            if is_account_or_contact_table(table):
                for column in columns_of(table, PHONE):
                    cursor.execute(
                        sql.SQL(
                            "insert into dsar_batch_by_phone select distinct k.request_id,"
                            " t.{owner} from dsar_batch_phone_keys as k join {t} as t"
                            " on steward.phone_raw_key(t.{c}) = k.raw_value"
                            " where t.{owner} is not null"
                        ).format(owner=sql.Identifier(owner), t=target, c=sql.Identifier(column))
                    )
        # A shared (household) line names no one: only an unambiguous number resolves.
        cursor.execute(
            "select request_id, min(customer_id) from dsar_batch_by_phone"
            " group by request_id having count(distinct customer_id) = 1"
        )
        for rid, customer in cursor.fetchall():
            ids[rid].add(int(customer))
        cursor.execute("drop table dsar_batch_by_phone")
        _temp_table(
            cursor,
            "dsar_batch_ids",
            "request_id bigint, customer_id bigint, primary key (request_id, customer_id)",
            [(rid, customer) for rid, values in ids.items() for customer in values],
        )
        for table in tables:
            if not is_account_or_contact_table(table):
                continue
            owner = sql.Identifier(owner_column(table))
            target = sql.Identifier(table.schema, table.name)
            for column in columns_of(table, EMAIL):
                cursor.execute(
                    sql.SQL(
                        "select distinct i.request_id, lower(t.{c}) from dsar_batch_ids as i"
                        " join {t} as t on t.{owner} = i.customer_id where t.{c} is not null"
                    ).format(c=sql.Identifier(column), t=target, owner=owner)
                )
                for rid, email in cursor.fetchall():
                    emails[rid].add(email)
            for column in columns_of(table, PHONE):
                cursor.execute(
                    sql.SQL(
                        "select distinct i.request_id, l.e164 from dsar_batch_ids as i"
                        " join {t} as src on src.{owner} = i.customer_id"
                        " left join {hint} as h on h.{hint_key} = src.{owner}"
                        " join steward.phone_lookup as l"
                        " on l.raw_value = steward.phone_raw_key(src.{c})"
                        " and l.region_hint = steward.phone_region_key(h.{country})"
                        " where l.e164 is not null"
                    ).format(
                        c=sql.Identifier(column),
                        t=target,
                        owner=owner,
                        hint=sql.Identifier(hint.schema, hint.table),
                        hint_key=sql.Identifier(hint.key_column),
                        country=sql.Identifier(hint.country_column),
                    )
                )
                for rid, phone in cursor.fetchall():
                    phones[rid].add(phone)
            for category in NAME_CATEGORIES:
                for column in columns_of(table, category):
                    cursor.execute(
                        sql.SQL(
                            "select distinct i.request_id, t.{c} from dsar_batch_ids as i"
                            " join {t} as t on t.{owner} = i.customer_id where t.{c} is not null"
                        ).format(c=sql.Identifier(column), t=target, owner=owner)
                    )
                    for rid, value in cursor.fetchall():
                        names[rid].update(_name_tokens(value))
        for name in ("dsar_batch_requests", "dsar_batch_ids"):
            cursor.execute(sql.SQL("drop table {}").format(sql.Identifier(name)))
    identities = {}
    for rid in requests:
        resolved = bool(ids[rid])
        identities[rid] = SubjectIdentity(
            customer_ids=sorted(ids[rid]),
            emails=sorted(e for e in emails[rid] if e) if resolved else list(emails[rid]),
            phones=sorted(phones[rid]) if resolved else list(phones[rid]),
            names=sorted(names[rid]),
        )
    return identities


def _owned_exists(
    table: datamap.TableMap, by_name: dict[str, datamap.TableMap], request: sql.Composable
) -> sql.Composable:
    """SQL true when row ``t`` is keyed by the subject of ``request`` (a column reference)."""
    if table.subject_key_references:
        parent = by_name.get(table.subject_key_references)
        parent_owner = owner_column(parent) if parent else None
        if parent is None or parent_owner is None:
            return sql.SQL("false")
        return sql.SQL(
            "exists (select from {parent} as p join dsar_find_ids as i"
            " on i.customer_id = p.{owner} where p.{pk} = t.{key} and i.request_id = {req})"
        ).format(
            parent=sql.Identifier(parent.schema, parent.name),
            owner=sql.Identifier(parent_owner),
            pk=sql.Identifier(parent.primary_key[0]),
            key=sql.Identifier(table.subject_key),
            req=request,
        )
    owner = owner_column(table)
    if owner is None:
        return sql.SQL("false")
    return sql.SQL(
        "exists (select from dsar_find_ids as i where i.request_id = {req}"
        " and i.customer_id = t.{owner})"
    ).format(req=request, owner=sql.Identifier(owner))


def _batch_row_sources(
    table: datamap.TableMap, by_name: dict[str, datamap.TableMap]
) -> list[tuple[str, sql.Composable]]:
    """(matched_by, ``from ... where ...`` yielding ``m.request_id`` and rows ``t``)."""
    sources: list[tuple[str, sql.Composable]] = []
    target = sql.Identifier(table.schema, table.name)
    owner = owner_column(table)
    if table.subject_key_references:
        parent = by_name.get(table.subject_key_references)
        parent_owner = owner_column(parent) if parent else None
        if parent is not None and parent_owner is not None:
            sources.append(
                (
                    "reference",
                    sql.SQL(
                        "from dsar_find_ids as m join {parent} as p on p.{powner} = m.customer_id"
                        " join {t} as t on t.{key} = p.{pk}"
                    ).format(
                        parent=sql.Identifier(parent.schema, parent.name),
                        powner=sql.Identifier(parent_owner),
                        t=target,
                        key=sql.Identifier(table.subject_key),
                        pk=sql.Identifier(parent.primary_key[0]),
                    ),
                )
            )
    elif owner is not None:
        sources.append(
            (
                "subject_key",
                sql.SQL(
                    "from dsar_find_ids as m join {t} as t on t.{owner} = m.customer_id"
                ).format(t=target, owner=sql.Identifier(owner)),
            )
        )
    # Identifier matches only for rows nobody else owns.
    unowned = (
        sql.SQL(
            " where t.{0} is null or exists (select from dsar_find_ids as i"
            " where i.request_id = m.request_id and i.customer_id = t.{0})"
        ).format(sql.Identifier(owner))
        if owner
        else sql.SQL("")
    )
    for column in columns_of(table, EMAIL):
        sources.append(
            (
                "email",
                sql.SQL(
                    "from dsar_find_emails as m join {t} as t on lower(t.{c}) = m.email"
                ).format(t=target, c=sql.Identifier(column))
                + unowned,
            )
        )
    for column in columns_of(table, PHONE):
        sources.append(
            (
                "phone",
                sql.SQL(
                    "from dsar_find_phone_keys as m join {t} as t"
                    " on steward.phone_raw_key(t.{c}) = m.raw_value"
                ).format(t=target, c=sql.Identifier(column))
                + unowned,
            )
        )
    return sources


def _mention_candidates(cursor, table: datamap.TableMap, column: str) -> None:
    """Fill ``dsar_find_mentions`` (request, primary key) for one free-text column."""
    target = sql.Identifier(table.schema, table.name)
    keys = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in table.primary_key)
    key_names = sql.SQL(", ").join(sql.Identifier(c) for c in table.primary_key)
    key_match = sql.SQL(" and ").join(
        sql.SQL("t.{0} = c.{0}").format(sql.Identifier(c)) for c in table.primary_key
    )
    text = sql.Identifier(column)
    cursor.execute("drop table if exists dsar_find_mentions")
    cursor.execute(
        sql.SQL(
            "create temp table dsar_find_mentions as select {keys}, 0::bigint as request_id"
            " from {t} as t where false"
        ).format(keys=keys, t=target)
    )
    # Phones: digit windows of the batch's number lengths, then the exact pattern.
    cursor.execute(
        sql.SQL(
            "insert into dsar_find_mentions ({key_names}, request_id)"
            " select distinct {ckeys}, n.request_id from ("
            "  select {keys}, regexp_replace(r.m[1], '[^0-9]', '', 'g') as digits"
            "  from {t} as t cross join lateral regexp_matches(t.{text}, %(run)s, 'g') as r(m)"
            "  where t.{text} ~ '[0-9]'"
            " ) as c"
            " join (select distinct length(nsn) as len from dsar_find_phone_nsn) as lens"
            "  on length(c.digits) >= lens.len"
            " cross join lateral generate_series(1, length(c.digits) - lens.len + 1) as s(pos)"
            " join dsar_find_phone_nsn as n on n.nsn = substr(c.digits, s.pos, lens.len)"
            " where exists (select from {t} as t where {key_match} and t.{text} ~ n.pattern)"
        ).format(
            key_names=key_names,
            ckeys=sql.SQL(", ").join(
                sql.SQL("c.{}").format(sql.Identifier(c)) for c in table.primary_key
            ),
            keys=keys,
            t=target,
            text=text,
            key_match=key_match,
        ),
        {"run": "(" + _DIGIT_RUN + ")"},
    )
    # E-mails: whole addresses, also after leading punctuation ("(x@y.org", "'x@y.org").
    cursor.execute(
        sql.SQL(
            "insert into dsar_find_mentions ({key_names}, request_id)"
            " select distinct {ckeys}, e.request_id from ("
            "  select {keys}, r.m[1] as token"
            "  from {t} as t cross join lateral regexp_matches(lower(t.{text}), %(token)s, 'g')"
            "   as r(m) where strpos(t.{text}, '@') > 0"
            " ) as c"
            " cross join lateral (select c.token as address union"
            "  select substr(c.token, p.pos + 1) from generate_series(1, strpos(c.token, '@') - 1)"
            "  as p(pos) where substr(c.token, p.pos, 1) !~ '[a-z0-9]') as a"
            " join dsar_find_mention_emails as e on e.email = a.address"
        ).format(
            key_names=key_names,
            ckeys=sql.SQL(", ").join(
                sql.SQL("c.{}").format(sql.Identifier(c)) for c in table.primary_key
            ),
            keys=keys,
            t=target,
            text=text,
        ),
        {"token": "(" + _EMAIL_ADDRESS_IN_TEXT + ")"},
    )


def find_rows_batch(
    engine: sa.Engine,
    identities: dict[int, SubjectIdentity],
    data_map: datamap.DataMap,
    phase: str = "find",
) -> dict[int, dict[str, dict[str, int]]]:
    """:func:`find_rows` for many requests: one pass per table and way of matching."""
    if not identities:
        return {}
    ensure_tables(engine)
    by_name = {table.qualified_name: table for table in data_map.tables}
    request_ids = sorted(identities)
    with dbapi(engine) as connection, connection.cursor() as cursor:
        _temp_table(
            cursor,
            "dsar_find_ids",
            "request_id bigint, customer_id bigint, primary key (request_id, customer_id)",
            [(rid, c) for rid, i in identities.items() for c in i.customer_ids],
        )
        _temp_table(
            cursor,
            "dsar_find_emails",
            "request_id bigint, email text, primary key (request_id, email)",
            [(rid, e) for rid, i in identities.items() for e in i.emails],
        )
        # Mentions in free text look for the e-mail as written, lower-cased.
        _temp_table(
            cursor,
            "dsar_find_mention_emails",
            "request_id bigint, email text, primary key (request_id, email)",
            [(rid, e.lower()) for rid, i in identities.items() for e in i.emails],
        )
        nsn_rows = []
        for rid, identity in identities.items():
            for phone in identity.phones:
                number = phonenumbers.parse(phone)
                nsn_rows.append(
                    (
                        rid,
                        phone,
                        phonenumbers.national_significant_number(number),
                        phone_mention_pattern(phone),
                    )
                )
        _temp_table(
            cursor,
            "dsar_find_phone_nsn",
            "request_id bigint, e164 text, nsn text, pattern text, primary key (request_id, e164)",
            nsn_rows,
        )
        cursor.execute("drop table if exists dsar_find_phone_keys")
        cursor.execute(
            "create temp table dsar_find_phone_keys as select distinct n.request_id, l.raw_value"
            " from dsar_find_phone_nsn as n join steward.phone_lookup as l on l.e164 = n.e164"
        )
        cursor.execute("analyze dsar_find_phone_keys")
        cursor.execute(
            "delete from steward.dsar_subject_rows where request_id = any(%s) and phase = %s",
            (request_ids, phase),
        )
        parameters = {"phase": phase}
        for table in subject_tables(data_map):
            name = sql.Literal(table.qualified_name)
            owned = _owned_exists(table, by_name, sql.SQL("m.request_id"))
            for matched_by, source in _batch_row_sources(table, by_name):
                cursor.execute(
                    sql.SQL(
                        "insert into steward.dsar_subject_rows"
                        " (request_id, phase, table_name, row_key, matched_by, owned)"
                        " select distinct m.request_id, %(phase)s, {name}, {key}, {matched},"
                        " {owned} {source} on conflict do nothing"
                    ).format(
                        name=name,
                        key=_row_key(table),
                        matched=sql.Literal(matched_by),
                        owned=owned,
                        source=source,
                    ),
                    parameters,
                )
            for column in columns_of(table, FREE_TEXT):
                _mention_candidates(cursor, table, column)
                key_match = sql.SQL(" and ").join(
                    sql.SQL("t.{0} = m.{0}").format(sql.Identifier(c)) for c in table.primary_key
                )
                cursor.execute(
                    sql.SQL(
                        "insert into steward.dsar_subject_rows"
                        " (request_id, phase, table_name, row_key, matched_by, owned)"
                        " select distinct m.request_id, %(phase)s, {name}, {key}, 'mention',"
                        " {owned} from dsar_find_mentions as m join {t} as t on {key_match}"
                        " on conflict do nothing"
                    ).format(
                        name=name,
                        key=_row_key(table),
                        owned=owned,
                        t=sql.Identifier(table.schema, table.name),
                        key_match=key_match,
                    ),
                    parameters,
                )
        for name in (
            "dsar_find_ids",
            "dsar_find_emails",
            "dsar_find_mention_emails",
            "dsar_find_phone_nsn",
            "dsar_find_phone_keys",
            "dsar_find_mentions",
        ):
            cursor.execute(sql.SQL("drop table if exists {}").format(sql.Identifier(name)))
        cursor.execute(
            "select request_id, table_name, count(distinct row_key),"
            " count(distinct row_key) filter (where owned),"
            " count(distinct row_key) filter (where matched_by = 'mention')"
            " from steward.dsar_subject_rows where request_id = any(%s) and phase = %s"
            " group by 1, 2 order by 1, 2",
            (request_ids, phase),
        )
        counts: dict[int, dict[str, dict[str, int]]] = {rid: {} for rid in request_ids}
        for rid, name, rows, owned_rows, mentions in cursor.fetchall():
            counts[rid][name] = {"rows": rows, "owned": owned_rows, "mentions": mentions}
    log.info(
        "batch of %d requests %s: %d rows",
        len(request_ids),
        phase,
        sum(c["rows"] for per in counts.values() for c in per.values()),
    )
    return counts
