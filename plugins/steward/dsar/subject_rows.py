"""The matching as SQL: a batch's subject sets joined to every table of the data map.

The rules come from :mod:`steward.dsar.subject_match`; this module turns them
into set-based SQL over temporary tables of the batch's identifiers (the
"subject sets") and records the rows found in ``steward.dsar_subject_rows``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers
from psycopg2 import sql

from steward import datamap
from steward.dsar.subject_match import (
    EMAIL,
    FREE_TEXT,
    PHONE,
    SubjectIdentity,
    columns_of,
    owner_column,
    phone_mention_pattern,
    subject_tables,
)

SUBJECT_INDEX = ("steward", "dsar_subject_index")


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


def _index_candidates_sql(table: datamap.TableMap, phones_live: bool) -> sql.Composable:
    """Rows ``t`` of a table the index lists for the batch's identifiers, plus every row
    written since the build (transaction id at or after the watermark).

    One join per identifier kind, so each probes the index's btree on
    identifier_value (then kind and table on that value's few entries) instead
    of scanning it.
    """
    target = sql.Identifier(table.schema, table.name)
    index = sql.Identifier(*SUBJECT_INDEX)
    name = sql.Literal(table.qualified_name)
    equal = sql.SQL(" and ").join(
        sql.SQL("t.{0} = r.{0}").format(sql.Identifier(column)) for column in table.primary_key
    )
    kinds = [
        ("customer_id", sql.SQL("select customer_id::text as v from dsar_find_ids")),
        ("email", sql.SQL("select email as v from dsar_find_emails")),
    ]
    if not phones_live:
        kinds.append(("phone", sql.SQL("select e164 as v from dsar_find_phone_nsn")))
    arms = sql.SQL(" union ").join(
        sql.SQL(
            "select i.row_key from ({values}) as s join {index} as i"
            " on i.identifier_kind = {kind} and i.identifier_value = s.v"
            " and i.source_table = {name}"
        ).format(values=values, index=index, kind=sql.Literal(kind), name=name)
        for kind, values in kinds
    )
    return sql.SQL(
        "select t.* from {t} as t where age(t.xmin) <= age(%(index_xmin)s::xid)"
        " union all select t.* from ({arms}) as c"
        " cross join lateral jsonb_populate_record(null::{t}, c.row_key) as r"
        " join {t} as t on {equal} where not (age(t.xmin) <= age(%(index_xmin)s::xid))"
    ).format(t=target, arms=arms, equal=equal)


@dataclass(frozen=True)
class IndexedSearch:
    """Search the indexed ways of matching on the subject index's candidates."""

    watermark: int  # the index's transaction-id watermark
    phones_live: bool  # a subject's number was re-parsed since the build


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
    table: datamap.TableMap,
    by_name: dict[str, datamap.TableMap],
    relation: Callable[[str], sql.Composable] | None = None,
) -> list[tuple[str, sql.Composable]]:
    """(matched_by, ``from ... where ...`` yielding ``m.request_id`` and rows ``t``).

    The one place the matching rules become SQL. ``relation(matched_by)`` gives
    the rows ``t`` are taken from (default: the table itself; the index-assisted
    search passes its candidate rows for the indexed ways of matching).
    """
    sources: list[tuple[str, sql.Composable]] = []
    live = sql.Identifier(table.schema, table.name)

    def rows_for(matched_by: str) -> sql.Composable:
        return relation(matched_by) if relation is not None else live

    target = live
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
                ).format(t=rows_for("subject_key"), owner=sql.Identifier(owner)),
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
                ).format(t=rows_for("email"), c=sql.Identifier(column))
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
                ).format(t=rows_for("phone"), c=sql.Identifier(column))
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


SUBJECT_SET_TABLES = (
    "dsar_find_ids",
    "dsar_find_emails",
    "dsar_find_mention_emails",
    "dsar_find_phone_nsn",
    "dsar_find_phone_keys",
    "dsar_find_mentions",
    "dsar_find_candidates",
)


def load_subject_sets(cursor, identities: dict[int, SubjectIdentity]) -> None:
    """The batch's identifiers as temporary tables (request id, value), the matching's input."""
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


def drop_subject_sets(cursor) -> None:
    for name in SUBJECT_SET_TABLES:
        cursor.execute(sql.SQL("drop table if exists {}").format(sql.Identifier(name)))


def match_subject_sets(
    cursor,
    data_map: datamap.DataMap,
    phase: str,
    *,
    mentions: bool = True,
    index: IndexedSearch | None = None,
) -> None:
    """Record in ``steward.dsar_subject_rows`` every row the loaded subject sets match.

    The subject sets are :func:`load_subject_sets`' temporary tables (or the same
    tables filled another way: the suppression re-scan fills them from hashes).
    ``mentions``: also search free text. ``index``: take the indexed ways of
    matching from the subject index's candidate rows (:func:`find_with_index`).
    """
    by_name = {table.qualified_name: table for table in data_map.tables}
    parameters: dict = {"phase": phase}
    if index is not None:
        # Row xmins are 32-bit and wrap: compare ages, as the phone lookup does.
        parameters["index_xmin"] = str(index.watermark % 2**32)
    for table in subject_tables(data_map):
        name = sql.Literal(table.qualified_name)
        owned = _owned_exists(table, by_name, sql.SQL("m.request_id"))
        relation = None
        if index is not None:
            cursor.execute("drop table if exists dsar_find_candidates")
            cursor.execute(
                sql.SQL("create temp table dsar_find_candidates as {}").format(
                    _index_candidates_sql(table, index.phones_live)
                ),
                parameters,
            )
            # A handful of rows: no analyze (it costs more than it saves here).
            live = sql.Identifier(table.schema, table.name)
            candidates = sql.Identifier("dsar_find_candidates")

            def relation(matched_by, live=live, candidates=candidates):
                if matched_by == "phone" and index.phones_live:
                    return live
                return candidates

        for matched_by, source in _batch_row_sources(table, by_name, relation):
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
        if not mentions:
            continue
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
