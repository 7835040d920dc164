"""Steward's own copies of identifiers, purged of an erased subject in the same run.

The nightly marts copy identifiers out of the sources: the subject index, the
phone marts (``steward.customer_phone_numbers``, ``dim_phone_numbers``, ...), the
dedupe pairs and clusters. A deletion that erased the sources would leave them
until the next night. Which of Steward's tables hold copies, and in which
columns, is declared ONCE, on the dbt model in its YAML::

    config:
      meta:
        steward:
          derived_copy:
            customer_id: [customer_id]     # customer ids (bigint, or bigint[])
            phone: [e164]                  # E.164 numbers
            email: [email]                 # e-mail addresses (any case)
            rows_of: {table: crm.customer_phones, columns: [phone_id]}
            source_rows: {table_column: source_table, key_column: row_key}

:func:`copies` reads those declarations (no table list here); :func:`purge`
deletes the subject's rows from each declared table that exists as a table
(views follow their sources by themselves), :func:`count` counts what is left
(the verification requires zero). A row is the subject's when:

* it holds one of the subject's customer ids (in a column listing several
  customers, e.g. a duplicate cluster's members, the subject's id is taken out);
* it holds one of the subject's phone numbers or e-mails that no source row
  holds any more (a household line shared with another customer, or a number in
  a row kept under an exemption, stays: a rebuild would put it back);
* it is derived from a source row the erasure removed or anonymised
  (``rows_of``: by the source row's key columns; ``source_rows``: the subject
  index's table and row key).

Through the engine (:mod:`steward.engine.batches`): :func:`purge` plans the
subject's rows of each copy in ``steward.dsar_derived_plan`` (keyed by the md5
of the row's text: derived tables have no primary key, and a digest keeps the
identifiers out of the plan), then runs them table by table in batches; each
batch deletes its rows (or takes the subject out of a member list), marks its
plan rows done and appends a ``dsar.derived_copies.batch`` row to the
hash-chained audit log in one transaction: a crash resumes where it stopped.
Planning again is idempotent (a purged row matches no more). ``max_rows`` is the
circuit breaker; :func:`count` is the dry run. Counts only are audited and
returned.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from psycopg2 import sql

from steward import audit, datamap, paths, schema, yamlfile
from steward.dsar import finder
from steward.dsar.finder import SubjectIdentity, dbapi
from steward.engine import batches

log = logging.getLogger(__name__)

# Steward's own tables (Python-owned, and the marts: dbt_project.yml's `+schema`).
DERIVED_SCHEMA = "steward"
KINDS = ("customer_id", "phone", "email")
PLAN_TABLE = "steward.dsar_derived_plan"
DEFAULT_BATCH_SIZE = 1_000
DEFAULT_MAX_ROWS = 50_000
ROW_DIGEST = sql.SQL("jsonb_build_object('row_md5', md5(t::text))")


class DerivedCopyError(ValueError):
    """A derived_copy declaration is malformed or names a column the table lacks."""


@dataclass(frozen=True)
class DerivedCopy:
    """One of Steward's tables holding copies of identifiers, as its dbt YAML declares it."""

    model: str
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)  # kind -> columns
    rows_of_table: str | None = None
    rows_of_columns: tuple[str, ...] = ()
    source_table_column: str | None = None
    source_key_column: str | None = None
    declared_in: str = ""
    schema: str = DERIVED_SCHEMA

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.model}"


def _as_tuple(value, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise DerivedCopyError(f"{where}: expected a column name or a list of column names")


def _parse(model: str, declaration: dict, where: str, schema: str = DERIVED_SCHEMA) -> DerivedCopy:
    if not isinstance(declaration, dict):
        raise DerivedCopyError(f"{where}: derived_copy must be a mapping")
    unknown = set(declaration) - {*KINDS, "rows_of", "source_rows", "upstream", "table"}
    if unknown:
        raise DerivedCopyError(f"{where}: derived_copy: unknown keys {sorted(unknown)}")
    columns = {
        kind: _as_tuple(declaration[kind], f"{where}: derived_copy.{kind}")
        for kind in KINDS
        if kind in declaration
    }
    rows_of = declaration.get("rows_of") or {}
    source_rows = declaration.get("source_rows") or {}
    if rows_of and not (rows_of.get("table") and rows_of.get("columns")):
        raise DerivedCopyError(f"{where}: derived_copy.rows_of needs table and columns")
    if source_rows and not (source_rows.get("table_column") and source_rows.get("key_column")):
        raise DerivedCopyError(
            f"{where}: derived_copy.source_rows needs table_column and key_column"
        )
    return DerivedCopy(
        model=model,
        columns=columns,
        rows_of_table=rows_of.get("table"),
        rows_of_columns=_as_tuple(rows_of["columns"], where) if rows_of else (),
        source_table_column=source_rows.get("table_column"),
        source_key_column=source_rows.get("key_column"),
        declared_in=where,
        schema=schema,
    )


def _declared(model: str, declaration, where: str, schema: str) -> list[DerivedCopy]:
    """The model's own copy (in ``schema``), and the Python-owned tables it reads
    (``upstream``, in Steward's schema)."""
    found = [_parse(model, declaration, where, schema)]
    for upstream in (declaration or {}).get("upstream") or []:
        if not isinstance(upstream, dict) or not upstream.get("table"):
            raise DerivedCopyError(f"{where}: derived_copy.upstream entries need a table")
        found.append(_parse(upstream["table"], upstream, f"{where} (upstream {upstream['table']})"))
    return found


def copies(project_dir: Path | None = None) -> list[DerivedCopy]:
    """Every table a dbt model's YAML declares in ``meta.steward.derived_copy``: the model,
    and the Python-owned tables it reads (``upstream: [{table: ..., <kind>: [...]}]``)."""
    project_dir = Path(project_dir or paths.dbt_project_dir())
    schemas = folder_config(project_dir, "+schema")
    found: list[DerivedCopy] = []
    for path in sorted((project_dir / "models").rglob("*.yml")):
        folder = path.relative_to(project_dir / "models").parts[0]
        document = yamlfile.safe_load(path.read_text()) or {}
        for model in document.get("models") or []:
            config_meta = ((model.get("config") or {}).get("meta") or {}).get("steward") or {}
            meta = config_meta or (model.get("meta") or {}).get("steward") or {}
            if "derived_copy" in meta:
                where = f"{path.relative_to(project_dir)}: model {model['name']}"
                found.extend(
                    _declared(
                        model["name"],
                        meta["derived_copy"],
                        where,
                        schemas.get(folder, DERIVED_SCHEMA),
                    )
                )
    return found


def folder_config(project_dir: Path, setting: str) -> dict[str, str]:
    """Top-level model folder -> its ``setting`` (``+schema``, ``+materialized``) as
    ``dbt_project.yml`` sets it: the intermediate tables live in their own schema, the
    marts in Steward's."""
    project_file = project_dir / "dbt_project.yml"
    if not project_file.exists():
        return {}
    project = yamlfile.safe_load(project_file.read_text()) or {}
    folders = ((project.get("models") or {}).get(project.get("name")) or {}).items()
    return {
        folder: config[setting]
        for folder, config in folders
        if isinstance(config, dict) and isinstance(config.get(setting), str)
    }


# --- which rows are the subject's --------------------------------------------------


def _released_identifiers(
    cursor, identity: SubjectIdentity, data_map: datamap.DataMap
) -> tuple[list[str], list[str]]:
    """The subject's phones and e-mails that no source row holds any more.

    A number still in a row kept under an exemption, or on a household member's
    account, stays in the copies keyed by number: a rebuild would put it back.
    """
    held_phones: set[str] = set()
    held_emails: set[str] = set()
    for table in finder.subject_tables(data_map):
        target = sql.Identifier(table.schema, table.name)
        for column in finder.columns_of(table, finder.PHONE) if identity.phones else []:
            cursor.execute(
                sql.SQL(
                    "select distinct l.e164 from {t} as t join steward.phone_lookup as l"
                    " on l.raw_value = steward.phone_raw_key(t.{c}) where l.e164 = any(%(phones)s)"
                ).format(t=target, c=sql.Identifier(column)),
                {"phones": identity.phones},
            )
            held_phones.update(row[0] for row in cursor.fetchall())
        for column in finder.columns_of(table, finder.EMAIL) if identity.emails else []:
            cursor.execute(
                sql.SQL(
                    "select distinct lower(t.{c}) from {t} as t"
                    " where lower(t.{c}) = any(%(emails)s)"
                ).format(t=target, c=sql.Identifier(column)),
                {"emails": [e.lower() for e in identity.emails]},
            )
            held_emails.update(row[0] for row in cursor.fetchall())
    return (
        sorted(set(identity.phones) - held_phones),
        sorted({e.lower() for e in identity.emails} - held_emails),
    )


# Source rows the erasure took away: every row found as the subject's (not a mere
# mention in someone else's text) except those it kept under an exemption.
_ERASED_ROWS = (
    "select s.table_name, s.row_key from steward.dsar_subject_rows as s"
    " where s.request_id = %(request_id)s and s.phase = 'find' and s.matched_by <> 'mention'"
    " and not exists (select from steward.dsar_erasure_plan as p"
    "  where p.request_id = s.request_id and p.table_name = s.table_name"
    "  and p.row_key = s.row_key and p.action = 'retain')"
)


def _table_columns(cursor, copy: DerivedCopy) -> dict[str, str] | None:
    """Column -> data type of the copy's table; None when it is not a table (or absent)."""
    cursor.execute(
        "select c.relkind from pg_class as c join pg_namespace as n on n.oid = c.relnamespace"
        " where n.nspname = %s and c.relname = %s",
        (copy.schema, copy.model),
    )
    kind = cursor.fetchone()
    if kind is None or kind[0] not in ("r", "p"):
        return None
    cursor.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_schema = %s and table_name = %s",
        (copy.schema, copy.model),
    )
    return dict(cursor.fetchall())


def _condition(copy: DerivedCopy, types: dict[str, str]) -> sql.Composable | None:
    declared = [c for columns in copy.columns.values() for c in columns]
    declared += list(copy.rows_of_columns)
    declared += [c for c in (copy.source_table_column, copy.source_key_column) if c]
    missing = [c for c in declared if c not in types]
    if missing:
        raise DerivedCopyError(
            f"{copy.declared_in}: derived_copy names columns {copy.qualified_name} lacks: "
            f"{', '.join(missing)}"
        )
    parts: list[sql.Composable] = []
    for column in copy.columns.get("customer_id", ()):
        if types[column] != "ARRAY":
            parts.append(sql.SQL("t.{} = any(%(ids)s)").format(sql.Identifier(column)))
    for column in copy.columns.get("phone", ()):
        parts.append(sql.SQL("t.{}::text = any(%(phones)s)").format(sql.Identifier(column)))
    for column in copy.columns.get("email", ()):
        parts.append(sql.SQL("lower(t.{}::text) = any(%(emails)s)").format(sql.Identifier(column)))
    if copy.rows_of_table:
        key = sql.SQL("jsonb_build_object({})").format(
            sql.SQL(", ").join(
                sql.SQL("{}, t.{}").format(sql.Literal(c), sql.Identifier(c))
                for c in copy.rows_of_columns
            )
        )
        parts.append(
            sql.SQL(
                "({key}) in (select e.row_key from ({erased}) as e where e.table_name = {table})"
            ).format(key=key, erased=sql.SQL(_ERASED_ROWS), table=sql.Literal(copy.rows_of_table))
        )
    if copy.source_table_column:
        parts.append(
            sql.SQL("(t.{}, t.{}) in (select e.table_name, e.row_key from ({}) as e)").format(
                sql.Identifier(copy.source_table_column),
                sql.Identifier(copy.source_key_column),
                sql.SQL(_ERASED_ROWS),
            )
        )
    return sql.SQL(" or ").join(parts) if parts else None


def _array_columns(copy: DerivedCopy, types: dict[str, str]) -> list[str]:
    """Columns listing several customers (a cluster's members): the subject is taken out."""
    return [c for c in copy.columns.get("customer_id", ()) if types.get(c) == "ARRAY"]


def _prepare(cursor, request_id: int, identity: SubjectIdentity, data_map: datamap.DataMap):
    """(params, [(copy, target, condition, array columns)]) of the copies that are tables."""
    phones, emails = _released_identifiers(cursor, identity, data_map)
    cursor.execute("select to_regclass('steward.dsar_erasure_plan') is not null")
    has_plan = cursor.fetchone()[0]
    params = {
        "request_id": request_id,
        "ids": identity.customer_ids,
        "phones": phones,
        "emails": emails,
    }
    tables = []
    for copy in copies():
        types = _table_columns(cursor, copy)
        if types is None:
            continue
        condition = _condition(copy, types)
        if not has_plan:
            continue
        target = sql.Identifier(copy.schema, copy.model)
        tables.append((copy, target, condition, _array_columns(copy, types)))
    return params, tables


def _overlap(arrays: list[str]) -> sql.Composable:
    return sql.SQL(" or ").join(
        sql.SQL("t.{} && %(ids)s::bigint[]").format(sql.Identifier(c)) for c in arrays
    )


def _plan_copy(cursor, params: dict, copy: DerivedCopy, target, condition, arrays) -> None:
    """Plan the subject's rows of one copy; a done row seen again is planned again."""
    upsert = sql.SQL(
        "insert into steward.dsar_derived_plan (request_id, table_name, row_key, action)"
        " select distinct %(request_id)s, %(table)s, {digest}, %(action)s from {target} as t"
        " where {where} on conflict (request_id, table_name, row_key)"
        " do update set done = false, action = excluded.action"
    )
    table_params = {**params, "table": copy.qualified_name}
    if condition is not None:
        cursor.execute(
            upsert.format(digest=ROW_DIGEST, target=target, where=condition),
            {**table_params, "action": "delete"},
        )
    if arrays:
        where = _overlap(arrays)
        if condition is not None:
            where = sql.SQL("({}) and not coalesce(({}), false)").format(where, condition)
        cursor.execute(
            upsert.format(digest=ROW_DIGEST, target=target, where=where),
            {**table_params, "action": "remove_member"},
        )


def _run_copy(connection, params, copy, target, condition, arrays, batch_size, actor) -> int:
    staged = sql.Identifier(batches.STAGING_TABLE)

    def apply(cursor) -> dict[str, int]:
        changed = {"delete": 0, "remove_member": 0}
        # The condition again: only rows still the subject's (a rebuilt table keeps no others).
        if condition is not None:
            cursor.execute(
                sql.SQL(
                    "delete from {t} as t using {staged} as b where b.action = 'delete'"
                    " and {digest} = b.row_key and ({condition})"
                ).format(t=target, staged=staged, digest=ROW_DIGEST, condition=condition),
                params,
            )
            changed["delete"] = cursor.rowcount
        if arrays:
            cursor.execute(
                sql.SQL(
                    "update {t} as t set {assign} from {staged} as b"
                    " where b.action = 'remove_member' and {digest} = b.row_key and ({overlap})"
                ).format(
                    t=target,
                    assign=sql.SQL(", ").join(
                        sql.SQL(
                            "{c} = array(select m from unnest(t.{c}) as m"
                            " where not (m = any(%(ids)s)))"
                        ).format(c=sql.Identifier(c))
                        for c in arrays
                    ),
                    staged=staged,
                    digest=ROW_DIGEST,
                    overlap=_overlap(arrays),
                ),
                params,
            )
            changed["remove_member"] = cursor.rowcount
        return changed

    return batches.run_batches(
        connection,
        batches.Plan(
            PLAN_TABLE, {"request_id": params["request_id"], "table_name": copy.qualified_name}
        ),
        apply,
        batch_size=batch_size,
        actor=actor,
        audit_action="dsar.derived_copies.batch",
        details=lambda changed: {"request_id": params["request_id"], "table": copy.qualified_name},
    )


def _count(
    engine: sa.Engine, request_id: int, identity: SubjectIdentity, data_map: datamap.DataMap
) -> dict[str, int]:
    result: dict[str, int] = {}
    with dbapi(engine) as connection, connection.cursor() as cursor:
        params, tables = _prepare(cursor, request_id, identity, data_map)
        for copy, target, condition, arrays in tables:
            left = [condition] if condition is not None else []
            if arrays:
                left.append(_overlap(arrays))
            if not left:
                continue
            cursor.execute(
                sql.SQL("select count(*) from {} as t where {}").format(
                    target, sql.SQL(" or ").join(sql.SQL("({})").format(c) for c in left)
                ),
                params,
            )
            result[copy.qualified_name] = int(cursor.fetchone()[0])
    return result


def count(
    engine: sa.Engine,
    request_id: int,
    identity: SubjectIdentity,
    data_map: datamap.DataMap | None = None,
) -> dict[str, int]:
    """Rows of the subject left in each of Steward's derived tables (verification: all 0)."""
    return _count(engine, request_id, identity, data_map or datamap.load_data_map())


def purge(
    engine: sa.Engine,
    request_id: int,
    identity: SubjectIdentity,
    data_map: datamap.DataMap | None = None,
    *,
    actor: str = "steward.dsar",
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> dict[str, int]:
    """Delete the subject's rows from each derived table through the engine; rows changed
    per table by this call (a rerun after a crash counts what it did)."""
    data_map = data_map or datamap.load_data_map()
    schema.upgrade(engine)
    removed: dict[str, int] = {}
    with dbapi(engine) as connection:
        with connection.cursor() as cursor:
            cursor.execute(
                "select pg_advisory_xact_lock(hashtext('steward.dsar.derived'), %s::int)",
                (request_id,),
            )
            params, tables = _prepare(cursor, request_id, identity, data_map)
            for copy, target, condition, arrays in tables:
                _plan_copy(cursor, params, copy, target, condition, arrays)
            pending = batches.pending_counts(
                cursor, batches.Plan(PLAN_TABLE, {"request_id": request_id})
            )
        try:
            batches.check_limit(
                sum(pending.values()), max_rows, f"derived copies of request {request_id}"
            )
        except batches.CircuitBreakerError:
            connection.rollback()
            raise
        connection.commit()
        batches.crashpoint("plan_committed")
        for copy, target, condition, arrays in tables:
            removed[copy.qualified_name] = _run_copy(
                connection, params, copy, target, condition, arrays, batch_size, actor
            )
    audit.record(
        engine,
        actor,
        "dsar.derived_copies.purged",
        {"request_id": request_id, "rows_deleted": removed, "total": sum(removed.values())},
    )
    log.info("request %s: %d rows purged from derived copies", request_id, sum(removed.values()))
    return removed
