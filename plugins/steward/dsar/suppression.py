"""Suppression re-scan: data of erased subjects that came back is found and removed.

Every erasure leaves suppression entries in ``steward.dsar_suppressions``: an
HMAC-SHA256 of ``kind:value`` (customer id, lower-case e-mail, E.164 phone)
keyed with the suppression salt (:func:`steward.dsar.erasure.suppression_hash`).
The nightly re-scan computes the same HMAC in the warehouse over the identifier
columns of every table of the data map about customers or prospects, with the
rules of the finder:

* a customer id is suppressed when its hash is an entry, or when its account
  holds a suppressed e-mail (the finder resolves an e-mail to every account
  holding it);
* the identifier values whose hash is suppressed become the finder's subject
  sets, and the finder's own matching finds the rows (one definition for every
  search): rows keyed by a suppressed customer (directly or through the table
  their key references), rows whose e-mail or phone is suppressed when they
  belong to nobody or to a suppressed customer (a shared household line does
  not make someone else's row the subject's);
* rows an erasure deliberately kept (``retain``) or anonymised are not matches.

Free-text mentions cannot be found from a hash and are not re-scanned.

The HMAC runs in SQL with PostgreSQL's ``sha256``: the key's inner and outer
pads are bound parameters, so the salt never appears in SQL text or logs.
``apply=True`` writes the matches as an erasure plan of their own (a negative
plan id) and runs it with the erasure's executor: the table's retention action
(delete / anonymise / delete the recording file), exemptions (legal holds,
statutory minimum) kept, batched, resumable, circuit breaker, audited with
counts only.
"""

from __future__ import annotations

import hashlib
import logging
import time

import sqlalchemy as sa
from psycopg2 import sql

from steward import audit, datamap, warehouse
from steward.dsar import erasure, finder
from steward.dsar.finder import EMAIL, SubjectIdentity, dbapi

log = logging.getLogger(__name__)

ACTOR = "steward.dsar.suppression"
RESCAN_PHASE = "rescan"
_BLOCK = 64  # SHA-256 block size, bytes


def hmac_pads(salt: bytes) -> tuple[bytes, bytes]:
    """The inner and outer HMAC-SHA256 pads of ``salt`` (RFC 2104)."""
    key = hashlib.sha256(salt).digest() if len(salt) > _BLOCK else salt
    key = key.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def hmac_sql(kind: str, value: sql.Composable) -> sql.Composable:
    """SQL of :func:`erasure.suppression_hash` over ``value``; pads as %(ipad)s, %(opad)s."""
    message = sql.SQL("convert_to({} || {}, 'UTF8')").format(sql.Literal(f"{kind}:"), value)
    return sql.SQL(
        "encode(sha256(%(opad)s::bytea || sha256(%(ipad)s::bytea || {})), 'hex')"
    ).format(message)


def _suppressed(kind: str, value: sql.Composable) -> sql.Composable:
    return sql.SQL(
        "exists (select from rescan_hashes as h where h.identifier_kind = {}"
        " and h.identifier_hash = {})"
    ).format(sql.Literal(kind), hmac_sql(kind, value))


def _col(column: str) -> sql.Composable:
    return sql.SQL("t.{}").format(sql.Identifier(column))


def _collect_matches(cursor, data_map: datamap.DataMap, params: dict, plan_id: int) -> list[int]:
    """Record the rows of suppressed subjects (phase ``rescan`` of ``plan_id``); their ids.

    The hashes select identifier values present in the warehouse; those values
    become the finder's subject sets (one pseudo-request, ``plan_id``) and the
    finder's own matching (:func:`steward.dsar.finder.match_subject_sets`) finds
    the rows: the same rules as every request, free text aside.
    """
    tables = finder.subject_tables(data_map)
    cursor.execute(
        "create temp table rescan_hashes on commit drop as"
        " select identifier_kind, identifier_hash from steward.dsar_suppressions"
    )
    cursor.execute("create index on rescan_hashes (identifier_kind, identifier_hash)")
    cursor.execute("analyze rescan_hashes")
    cursor.execute("create temp table rescan_emails (email text primary key) on commit drop")
    for table in tables:
        for column in finder.columns_of(table, EMAIL):
            cursor.execute(
                sql.SQL(
                    "insert into rescan_emails select distinct lower({c}) from {t} as t"
                    " where {c} is not null and {suppressed} on conflict do nothing"
                ).format(
                    c=_col(column),
                    t=sql.Identifier(table.schema, table.name),
                    suppressed=_suppressed("email", sql.SQL("lower({})").format(_col(column))),
                ),
                params,
            )
    # A customer is suppressed by its id, or (as the finder resolves an e-mail to
    # every account holding it) by a suppressed e-mail on one of its rows.
    cursor.execute("create temp table rescan_customers (customer_id bigint) on commit drop")
    for table in tables:
        owner = finder.owner_column(table)
        if owner is None or not finder.resolves_by_email(table):
            continue
        matches = [_suppressed("customer_id", sql.SQL("{}::text").format(_col(owner)))]
        matches += [
            sql.SQL("lower({}) in (select email from rescan_emails)").format(_col(c))
            for c in finder.columns_of(table, EMAIL)
        ]
        cursor.execute(
            sql.SQL(
                "insert into rescan_customers select distinct {owner} from {t} as t"
                " where {owner} is not null and ({matches})"
            ).format(
                owner=_col(owner),
                t=sql.Identifier(table.schema, table.name),
                matches=sql.SQL(" or ").join(matches),
            ),
            params,
        )
    cursor.execute("select distinct customer_id from rescan_customers order by 1")
    ids = [int(row[0]) for row in cursor.fetchall()]
    finder.drop_subject_sets(cursor)
    finder._temp_table(
        cursor,
        "dsar_find_ids",
        "request_id bigint, customer_id bigint, primary key (request_id, customer_id)",
        [(plan_id, customer) for customer in ids],
    )
    cursor.execute(
        "create temp table dsar_find_emails as select %s::bigint as request_id, email"
        " from rescan_emails",
        (plan_id,),
    )
    cursor.execute(
        sql.SQL(
            "create temp table dsar_find_phone_keys as"
            " select distinct %(plan_id)s::bigint as request_id, l.raw_value"
            " from steward.phone_lookup as l where l.e164 is not null and {}"
        ).format(_suppressed("phone", sql.SQL("l.e164"))),
        {**params, "plan_id": plan_id},
    )
    for name in ("dsar_find_emails", "dsar_find_phone_keys"):
        cursor.execute(sql.SQL("analyze {}").format(sql.Identifier(name)))
    finder.match_subject_sets(cursor, data_map, RESCAN_PHASE, mentions=False)
    finder.drop_subject_sets(cursor)
    # Rows an erasure kept on purpose, or already anonymised, are not re-ingested data.
    cursor.execute(
        "delete from steward.dsar_subject_rows as s where s.request_id = %s and s.phase = %s"
        " and exists (select from steward.dsar_erasure_plan as p"
        "  where p.table_name = s.table_name and p.row_key = s.row_key"
        "  and (p.action = 'retain' or (p.action = 'anonymise' and p.done)))",
        (plan_id, RESCAN_PHASE),
    )
    return ids


def _resume_unfinished(connection, data_map: datamap.DataMap, batch_size: int) -> int:
    """Finish rescan plans a crash interrupted (negative plan ids with rows not done)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "select distinct request_id from steward.dsar_erasure_plan"
            " where request_id < 0 and not done and action <> 'retain' order by 1"
        )
        plans = [row[0] for row in cursor.fetchall()]
    connection.commit()
    changed = 0
    for plan_id in plans:
        for table in finder.subject_tables(data_map):
            rows, _ = erasure._execute_table(
                connection, plan_id, table, SubjectIdentity(), batch_size
            )
            changed += rows
    return changed


def rescan(
    url: str | None = None,
    apply: bool = False,
    *,
    batch_size: int = erasure.DEFAULT_BATCH_SIZE,
    max_rows: int = erasure.DEFAULT_MAX_ROWS,
    refresh_lookup: bool = True,
    actor: str = ACTOR,
) -> dict:
    """Find (and with ``apply``, erase) rows of suppressed subjects; counts per table."""
    engine: sa.Engine = warehouse.engine(url)
    data_map = datamap.load_data_map()
    erasure.ensure_tables(engine)
    summary: dict = {"apply": apply, "matched": {}, "matched_total": 0}
    with engine.connect() as conn:
        entries = conn.execute(sa.text("select count(*) from steward.dsar_suppressions")).scalar()
    if not entries:
        # Nobody erased yet: nothing to re-scan, and no key needed to hash nothing.
        summary["suppression_entries"] = 0
        audit.record(engine, actor, "dsar.suppression.rescanned", summary)
        return summary
    # The key is configured or the re-scan stops here, before anything is read or changed.
    ipad, opad = hmac_pads(erasure.suppression_salt(engine))
    params = {"ipad": ipad, "opad": opad}
    if refresh_lookup:
        finder.refresh_lookup(engine)
    with dbapi(engine) as connection:
        with connection.cursor() as cursor:
            cursor.execute("select pg_advisory_xact_lock(hashtext('steward.dsar.suppression'))")
            cursor.execute("select count(*) from steward.dsar_suppressions")
            summary["suppression_entries"] = cursor.fetchone()[0]
        if apply:
            summary["resumed_rows"] = _resume_unfinished(connection, data_map, batch_size)
            with connection.cursor() as cursor:
                cursor.execute("select pg_advisory_xact_lock(hashtext('steward.dsar.suppression'))")
        plan_id = -int(time.time() * 1000)
        with connection.cursor() as cursor:
            ids = _collect_matches(cursor, data_map, params, plan_id)
            cursor.execute(
                "select table_name, count(distinct row_key) from steward.dsar_subject_rows"
                " where request_id = %s and phase = %s group by 1 order by 1",
                (plan_id, RESCAN_PHASE),
            )
            summary["matched"] = dict(cursor.fetchall())
            summary["matched_total"] = sum(summary["matched"].values())
            summary["suppressed_customers"] = len(ids)
            if not apply or not summary["matched_total"]:
                connection.rollback()
                audit.record(engine, actor, "dsar.suppression.rescanned", summary)
                log.info("suppression rescan: %d rows matched", summary["matched_total"])
                return summary
            cursor.execute(
                "update steward.dsar_subject_rows set phase = 'find'"
                " where request_id = %s and phase = %s",
                (plan_id, RESCAN_PHASE),
            )
            erasure.build_plan(cursor, plan_id, SubjectIdentity(customer_ids=ids), data_map)
            planned, kept = erasure.plan_summary(cursor, plan_id)
        to_change = sum(
            n for actions in planned.values() for action, n in actions.items() if action != "retain"
        )
        if to_change > max_rows:
            connection.rollback()
            raise erasure.CircuitBreakerError(
                f"suppression rescan: {to_change} rows to change exceeds the limit of "
                f"{max_rows}; nothing changed (raise max_rows after checking the matches)"
            )
        connection.commit()
        summary.update(plan_id=plan_id, planned=planned, kept=kept)
        audit.record(engine, actor, "dsar.suppression.planned", summary)
        changed = 0
        for table in finder.subject_tables(data_map):
            if table.qualified_name in planned:
                rows, _ = erasure._execute_table(
                    connection, plan_id, table, SubjectIdentity(), batch_size
                )
                changed += rows
    summary["rows_changed"] = changed
    audit.record(
        engine,
        actor,
        "dsar.suppression.applied",
        {"plan_id": plan_id, "rows_changed": changed, "matched": summary["matched"]},
    )
    log.info("suppression rescan applied: %d rows changed", changed)
    return summary
