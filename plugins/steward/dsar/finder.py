"""Finding every row of a data subject, from the data map, set-based in the warehouse.

One matcher. A single request is a batch of one; the search narrowed by the
subject index, an erasure's verification re-scan and the suppression re-scan
all run the same matching (:func:`match_subject_sets`) on their own inputs, and
the dbt subject index reads the same data-map entries (see "how a subject is
matched" below).

1. **Identity.** The subject's customer ids: the one given, the accounts
   holding the given e-mail (case-insensitive) in any mapped table with an
   owner column (prospect lists and opt-outs included), and, for a request
   identified by phone only, the accounts holding that number in account,
   contact and prospect tables. Then the e-mails and phone numbers (E.164) of
   the subject's own account and contact tables. A phone resolves an account
   only when the request gives no stronger identifier and the number belongs
   to exactly one customer: household lines are shared.
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
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from psycopg2 import sql

from steward import datamap, schema
from steward.dsar.intake import DsarRequest
from steward.dsar.subject_match import (
    CUSTOMER_KEY,
    EMAIL,
    FREE_TEXT,
    NAME_CATEGORIES,
    PHONE,
    SUBJECT_KINDS,
    MatchDefinitionError,
    SubjectIdentity,
    columns_of,
    is_account_or_contact_table,
    literal_pattern,
    owner_column,
    phone_mention_pattern,
    resolves_by_email,
    resolves_by_phone,
    subject_tables,
    undeclared_identifier_columns,
)
from steward.dsar.subject_rows import (
    SUBJECT_INDEX,
    SUBJECT_SET_TABLES,
    IndexedSearch,
    _temp_table,
    drop_subject_sets,
    load_subject_sets,
    match_subject_sets,
)
from steward.phones.lookup import DEFAULT_COUNTRY_HINT
from steward.phones.sources import country_hint_from_data_map

# The matching's names stay importable from here, where callers have always found them.
__all__ = [
    "CUSTOMER_KEY",
    "EMAIL",
    "FREE_TEXT",
    "NAME_CATEGORIES",
    "PHONE",
    "SUBJECT_INDEX",
    "SUBJECT_KINDS",
    "SUBJECT_SET_TABLES",
    "IndexedSearch",
    "MatchDefinitionError",
    "SubjectIdentity",
    "columns_of",
    "dbapi",
    "drop_subject_sets",
    "ensure_tables",
    "find_rows",
    "find_rows_batch",
    "find_with_index",
    "is_account_or_contact_table",
    "literal_pattern",
    "load_subject_sets",
    "match_subject_sets",
    "owner_column",
    "phone_mention_pattern",
    "refresh_lookup",
    "resolve_identities",
    "resolve_identity",
    "resolves_by_email",
    "resolves_by_phone",
    "subject_index_age_hours",
    "subject_index_state",
    "subject_tables",
    "undeclared_identifier_columns",
]

log = logging.getLogger(__name__)


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
    """The finder's tables and ``steward.phone_lookup``: Steward's schema is up to date."""
    schema.upgrade(engine)


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
    """The subject's customer ids, e-mails, phones and names: a batch of one."""
    return resolve_identities(engine, {0: request}, data_map)[0]


def _name_tokens(full_name: str | None) -> list[str]:
    # Short tokens ("Li", "Al") would redact ordinary words in free text.
    return sorted(
        {token for token in (full_name or "").replace(",", " ").split() if len(token) > 2}
    )


def find_rows(
    engine: sa.Engine,
    request_id: int,
    identity: SubjectIdentity,
    data_map: datamap.DataMap,
    phase: str = "find",
) -> dict[str, dict[str, int]]:
    """Record every row of the subject in ``steward.dsar_subject_rows``; counts per table.

    A batch of one (:func:`find_rows_batch`): one definition of matching for all.
    """
    return find_rows_batch(engine, {request_id: identity}, data_map, phase)[request_id]


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

INDEXED_MATCHES = ("subject_key", "email", "phone")
DEFAULT_INDEX_MAX_AGE_HOURS = 36.0


def subject_index_state(engine: sa.Engine) -> tuple[float, int, dt.datetime] | None:
    """(hours since the subject index was built, its transaction-id watermark, build time)."""
    with engine.connect() as conn:
        if conn.execute(sa.text("select to_regclass('steward.dsar_subject_index')")).scalar():
            # The build is incremental: its last run's time and watermark are the
            # table's comment (written in the build's transaction), not any row's.
            row = conn.execute(
                sa.text(
                    "select extract(epoch from now() - (b ->> 'indexed_at')::timestamptz) / 3600,"
                    " (b ->> 'indexed_xmin')::bigint, (b ->> 'indexed_at')::timestamptz"
                    " from (select obj_description('steward.dsar_subject_index'::regclass,"
                    " 'pg_class')::jsonb as b) as build"
                    " where exists (select from steward.dsar_subject_index)"
                )
            ).one_or_none()
            if row is not None and row[1] is not None:
                return float(row[0]), int(row[1]), row[2]
    return None


def subject_index_age_hours(engine: sa.Engine) -> float | None:
    """Hours since the subject index was built; None when it does not exist or is empty."""
    state = subject_index_state(engine)
    return None if state is None else state[0]


def find_with_index(
    engine: sa.Engine,
    request_id: int,
    identity: SubjectIdentity,
    data_map: datamap.DataMap,
    phase: str = "find",
    max_age_hours: float = DEFAULT_INDEX_MAX_AGE_HOURS,
) -> dict[str, dict[str, int]]:
    """:func:`find_rows` narrowed by the subject index; the live finder when there is none.

    The same matching (:func:`find_rows_batch`), run on a table's candidate rows
    (the index's, and every row written since the build) instead of the whole
    table for the indexed ways of matching; falls back to the live search when
    the index is missing, empty or older than ``max_age_hours``.
    """
    state = subject_index_state(engine)
    if state is None or state[0] > max_age_hours:
        log.info("subject index missing or stale: live search")
        return find_rows(engine, request_id, identity, data_map, phase)
    with dbapi(engine) as connection, connection.cursor() as cursor:
        # A number re-parsed since the build may map other spellings: search phones live.
        cursor.execute(
            "select exists (select from steward.phone_lookup where e164 = any(%s)"
            " and parsed_at >= %s)",
            (identity.phones, state[2]),
        )
        phones_live = bool(cursor.fetchone()[0])
    counts = find_rows_batch(
        engine,
        {request_id: identity},
        data_map,
        phase,
        index=IndexedSearch(watermark=state[1], phones_live=phones_live),
    )[request_id]
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
            if owner is None or not resolves_by_email(table):
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
            if resolves_by_phone(table):
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


def find_rows_batch(
    engine: sa.Engine,
    identities: dict[int, SubjectIdentity],
    data_map: datamap.DataMap,
    phase: str = "find",
    *,
    index: IndexedSearch | None = None,
) -> dict[int, dict[str, dict[str, int]]]:
    """Record every row of many subjects, one pass per table and way of matching.

    The single-request search is a batch of one (:func:`find_rows`); with
    ``index`` the indexed ways of matching run on the subject index's candidates.
    Counts per request and table.
    """
    if not identities:
        return {}
    ensure_tables(engine)
    request_ids = sorted(identities)
    with dbapi(engine) as connection, connection.cursor() as cursor:
        load_subject_sets(cursor, identities)
        cursor.execute(
            "delete from steward.dsar_subject_rows where request_id = any(%s) and phase = %s",
            (request_ids, phase),
        )
        match_subject_sets(cursor, data_map, phase, index=index)
        drop_subject_sets(cursor)
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
