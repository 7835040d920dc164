"""Breach impact: the affected subjects, by jurisdiction and data category, and the deadlines.

Set-based in the warehouse: one ``insert ... select`` per exposed table collects
(subject, data category, protected?) into a temporary table, subjects are placed
by their residence (the customer table's country and state), and each
notification rule counts the residents it covers in one query. Only counts leave
the warehouse; the affected subjects stay in ``steward.breach_affected_subjects``
for the encrypted notification list.

A value counts as protected when the exposure says it was encrypted, when the
attacker saw it masked or hashed (a governed view), or when it is redacted in
the table itself (a card, account or national-id number with fewer than 9
digits: a masked card number is not a card number).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from psycopg2 import sql

from steward import datamap, schema, warehouse
from steward.breach import register
from steward.breach import rules as breach_rules
from steward.breach.exposure import ExposedColumn, Exposure, resolve

# Categories whose value is a number; fewer digits than this is a redacted form.
NUMBER_CATEGORIES = (
    "user.financial.card_number",
    "user.financial.bank_account",
    "user.government_id",
)
MIN_UNREDACTED_DIGITS = 9
# Where a customer lives: columns of the data map's customer table (the table
# whose primary key is the customers' subject key).
RESIDENCE_COUNTRY_COLUMN = "country_code"
RESIDENCE_REGION_COLUMN = "state_code"
UNKNOWN = ""


def residence_table(data_map: datamap.DataMap) -> datamap.TableMap | None:
    for table in data_map.tables:
        if (
            table.subject == "customer"
            and table.subject_key
            and table.primary_key == (table.subject_key,)
            and not table.subject_key_references
        ):
            return table
    return None


def _is_number_category(category: str) -> bool:
    return any(category == p or category.startswith(p + ".") for p in NUMBER_CATEGORIES)


def _exposure_insert(
    table: datamap.TableMap, columns: list[ExposedColumn], data_map: datamap.DataMap, window_to
) -> sql.Composed | None:
    """One statement adding this table's (subject, category, protected) triples."""
    t = sql.Identifier("t")
    joins = sql.SQL("")
    if table.subject == "none":
        return None
    if table.subject_key and table.subject_key_references:
        parent = data_map.table(table.subject_key_references)
        joins = sql.SQL(" join {parent} as p on p.{parent_key} = t.{key}").format(
            parent=sql.Identifier(parent.schema, parent.name),
            parent_key=sql.Identifier(parent.primary_key[0]),
            key=sql.Identifier(table.subject_key),
        )
        subject_key = sql.SQL("p.{}").format(sql.Identifier(parent.subject_key))
    elif table.subject_key:
        subject_key = sql.SQL("t.{}").format(sql.Identifier(table.subject_key))
    else:
        subject_key = None
    if table.subject == "employee":
        kind = sql.Literal("employee")
        key = subject_key
    else:
        # A prospect row may carry no customer id: the person is then counted by
        # the identifier that found them (e-mail, phone), as a prospect.
        fallbacks = [
            sql.SQL("lower(t.{}::text)").format(sql.Identifier(column))
            for kind_name in ("email", "phone")
            for column in table.identifier_columns(kind_name)
        ]
        if subject_key is not None:
            kind = sql.SQL("case when {} is not null then 'customer' else {} end").format(
                subject_key, sql.Literal(table.subject)
            )
            key = sql.SQL("coalesce({})").format(
                sql.SQL(", ").join([sql.SQL("{}::text").format(subject_key), *fallbacks])
            )
        else:
            kind = sql.Literal(table.subject)
            key = sql.SQL("coalesce({})").format(sql.SQL(", ").join(fallbacks))
    if key is None:
        return None
    values = []
    for column in columns:
        name = sql.Identifier(column.column)
        if column.protection != "none":
            protected = sql.SQL("true")
        elif _is_number_category(column.data_category):
            protected = sql.SQL(
                "length(regexp_replace(t.{}::text, '[^0-9]', '', 'g')) < {}"
            ).format(name, sql.Literal(MIN_UNREDACTED_DIGITS))
        else:
            protected = sql.SQL("false")
        values.append(
            sql.SQL("({category}, {protected}, t.{name} is not null)").format(
                category=sql.Literal(column.data_category), protected=protected, name=name
            )
        )
    window = sql.SQL("")
    if window_to is not None and table.record_time:
        window = sql.SQL(" and t.{} <= {}").format(
            sql.Identifier(table.record_time), sql.Placeholder("window_to")
        )
    return sql.SQL(
        "insert into breach_exposure (subject_kind, subject_key, data_category, protected)"
        " select distinct {kind}, {key}, e.category, e.protected"
        " from {table} as {t}{joins}"
        " cross join lateral (values {values}) as e (category, protected, present)"
        " where e.present and {key} is not null{window}"
    ).format(
        kind=kind,
        key=key,
        table=sql.Identifier(table.schema, table.name),
        t=t,
        joins=joins,
        values=sql.SQL(", ").join(values),
        window=window,
    )


# Each subject an applicable rule covers: lives where the law applies, and the
# exposed categories (unprotected ones where the law exempts encrypted data)
# include one the law lists (and the name, where the law requires it).
RULE_MATCHES = """
with candidates as (
    select
        r.rule_key,
        s.subject_kind,
        s.subject_key,
        s.region_code,
        r.triggering_categories,
        r.requires_name,
        case when r.encryption_exempt then s.unprotected_categories else s.data_categories end
            as categories
    from steward.breach_affected_subjects as s
    inner join breach_rules as r
        on s.country_code = r.country_code
        and (r.region_code is null or r.region_code = s.region_code)
    where s.incident_id = %(incident_id)s
)
select rule_key, subject_kind, subject_key, region_code
from candidates
where
    (
        ('*' = any(triggering_categories) and cardinality(categories) > 0)
        or exists (
            select from unnest(categories) as c
            inner join unnest(triggering_categories) as p on c = p or c like p || '.%%'
        )
    )
    and (
        not requires_name
        or exists (
            select from unnest(categories) as c
            where c = 'user.name' or c like 'user.name.%%'
        )
    )
"""
_RULE_COUNTS = (
    "select rule_key, region_code, count(*) from (" + RULE_MATCHES + ") as matches"
    " group by rule_key, region_code"
)


def load_rules_table(cursor, rules, hipaa: bool) -> None:
    """The applicable rules as the temporary table ``breach_rules``, one row per
    country (an equality join with the subjects), dropped at commit."""
    cursor.execute(
        "create temporary table breach_rules (rule_key text, country_code text,"
        " region_code text, triggering_categories text[], requires_name boolean,"
        " encryption_exempt boolean) on commit drop"
    )
    cursor.executemany(
        "insert into breach_rules values (%s, %s, %s, %s, %s, %s)",
        [
            (
                rule.key,
                country,
                rule.region_code,
                list(rule.triggering_categories),
                rule.requires_name,
                rule.encryption_exempt,
            )
            for rule in rules
            if rule.applies_when == "always" or hipaa
            for country in rule.country_codes
        ],
    )
    cursor.execute("analyze breach_rules")


def assess(
    engine: sa.Engine,
    incident_id: int,
    *,
    data_map: datamap.DataMap | None = None,
    actor: str = register.ACTOR,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """(Re)assess an incident: affected subjects, impacts, notifications; status ``assessed``."""
    schema.upgrade(engine)
    data_map = data_map or datamap.load_data_map()
    rules = breach_rules.load_rules()
    with engine.begin() as conn:
        incident = register.get(engine, incident_id, connection=conn)
        register.check_transition(incident.status, "assessed")
        exposure = Exposure.from_dict(incident.exposure)
        exposed = resolve(conn, exposure, data_map)
        residence = residence_table(data_map)
        raw = conn.connection.dbapi_connection
        with raw.cursor() as cursor:
            # Hash aggregates over millions of rows stay in memory for this transaction.
            cursor.execute("set local work_mem = '256MB'")
            cursor.execute(
                "create temporary table breach_exposure (subject_kind text, subject_key text,"
                " data_category text, protected boolean) on commit drop"
            )
            by_table: dict[str, list[ExposedColumn]] = {}
            for column in exposed:
                by_table.setdefault(f"{column.schema}.{column.table}", []).append(column)
            for name, columns in by_table.items():
                statement = _exposure_insert(
                    data_map.table(name), columns, data_map, exposure.window_to
                )
                if statement is not None:
                    cursor.execute(statement, {"window_to": exposure.window_to})
            cursor.execute("analyze breach_exposure")
            for table_name in (
                "breach_affected_subjects",
                "breach_impacts",
            ):
                cursor.execute(
                    sql.SQL("delete from steward.{} where incident_id = %s").format(
                        sql.Identifier(table_name)
                    ),
                    (incident_id,),
                )
            if residence is not None:
                place = sql.SQL(
                    " left join {table} as r on e.subject_kind = 'customer'"
                    " and r.{key}::text = e.subject_key"
                ).format(
                    table=sql.Identifier(residence.schema, residence.name),
                    key=sql.Identifier(residence.subject_key),
                )
                country = sql.SQL("coalesce(r.{}::text, '')").format(
                    sql.Identifier(RESIDENCE_COUNTRY_COLUMN)
                )
                region = sql.SQL("coalesce(r.{}::text, '')").format(
                    sql.Identifier(RESIDENCE_REGION_COLUMN)
                )
            else:
                place, country, region = sql.SQL(""), sql.Literal(""), sql.Literal("")
            cursor.execute(
                sql.SQL(
                    "insert into steward.breach_affected_subjects"
                    " select %(incident_id)s, e.subject_kind, e.subject_key, {country}, {region},"
                    " array_agg(e.data_category order by e.data_category),"
                    " coalesce(array_agg(e.data_category order by e.data_category)"
                    " filter (where not e.protected), '{{}}')"
                    # One row per subject and category first (hashed), protected only
                    # when every exposure of it was.
                    " from (select subject_kind, subject_key, data_category,"
                    " bool_and(protected) as protected from breach_exposure"
                    " group by subject_kind, subject_key, data_category) as e{place}"
                    " group by e.subject_kind, e.subject_key, {country}, {region}"
                ).format(country=country, region=region, place=place),
                {"incident_id": incident_id},
            )
            cursor.execute(
                "insert into steward.breach_impacts"
                " select incident_id, country_code, region_code, category, count(*),"
                " count(*) filter (where category = any(unprotected_categories))"
                " from steward.breach_affected_subjects"
                " cross join unnest(data_categories) as category"
                " where incident_id = %(incident_id)s"
                " group by incident_id, country_code, region_code, category",
                {"incident_id": incident_id},
            )
            load_rules_table(cursor, rules, incident.hipaa)
            cursor.execute(_RULE_COUNTS, {"incident_id": incident_id})
            counts: dict[str, dict[str, int]] = {}
            for rule_key, region_code, affected in cursor.fetchall():
                counts.setdefault(rule_key, {})[region_code] = affected
        notifications = _notifications(rules, counts, incident.aware_at)
        previous = {
            row.rule_key: row.notified_at
            for row in conn.execute(
                sa.text(
                    "select rule_key, notified_at from steward.breach_notifications"
                    " where incident_id = :i and notified_at is not null"
                ),
                {"i": incident_id},
            )
        }
        conn.execute(
            sa.text("delete from steward.breach_notifications where incident_id = :i"),
            {"i": incident_id},
        )
        if notifications:
            conn.execute(
                sa.text(
                    "insert into steward.breach_notifications values (:incident_id, :rule_key,"
                    " :law_code, :law_name, :recipient, :citation, :condition, :affected,"
                    " :threshold_min, :is_required, :deadline_text, :due_at, :notified_at)"
                ),
                [
                    {
                        **row,
                        "incident_id": incident_id,
                        "notified_at": previous.get(row["rule_key"]),
                    }
                    for row in notifications
                ],
            )
        affected = conn.execute(
            sa.text("select count(*) from steward.breach_affected_subjects where incident_id = :i"),
            {"i": incident_id},
        ).scalar_one()
        conn.execute(
            sa.text(
                "update steward.breach_incidents set affected_subjects = :n, assessed_at = now()"
                " where incident_id = :i"
            ),
            {"n": affected, "i": incident_id},
        )
        register.transition(
            conn,
            engine,
            incident_id,
            "assessed",
            actor=actor,
            details={
                "affected_subjects": affected,
                "columns_exposed": len(exposed),
                "required_notices": sum(1 for row in notifications if row["is_required"]),
            },
        )
    return summary(engine, incident_id, now=now)


def _notifications(
    rules: tuple[breach_rules.NotificationRule, ...],
    counts: dict[str, dict[str, int]],
    aware_at: dt.datetime,
) -> list[dict[str, Any]]:
    rows = []
    individuals_due: dict[str, dt.datetime | None] = {}
    for rule in rules:
        if rule.recipient == "individuals":
            individuals_due[rule.law_code] = rule.due_at(aware_at, None)
    for rule in rules:
        by_region = counts.get(rule.key)
        if not by_region:
            continue
        affected = sum(by_region.values())
        measured = max(by_region.values()) if rule.threshold_scope == "per_region" else affected
        required = measured >= rule.threshold_min and (
            rule.threshold_max is None or measured <= rule.threshold_max
        )
        rows.append(
            {
                "rule_key": rule.key,
                "law_code": rule.law_code,
                "law_name": rule.law_name,
                "recipient": rule.recipient,
                "citation": rule.citation,
                "condition": rule.condition,
                "affected": affected,
                "threshold_min": rule.threshold_min,
                "is_required": required,
                "deadline_text": rule.deadline_text(),
                "due_at": rule.due_at(aware_at, individuals_due.get(rule.law_code)),
            }
        )
    return rows


def summary(engine: sa.Engine, incident_id: int, *, now: dt.datetime | None = None) -> dict:
    """An incident's assessment as counts, places, categories and deadlines: no identifiers."""
    now = now or dt.datetime.now(dt.UTC)
    incident = register.get(engine, incident_id)
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "select affected_subjects, assessed_at from steward.breach_incidents"
                " where incident_id = :i"
            ),
            {"i": incident_id},
        ).one()
        by_kind = dict(
            conn.execute(
                sa.text(
                    "select subject_kind, count(*) from steward.breach_affected_subjects"
                    " where incident_id = :i group by 1 order by 1"
                ),
                {"i": incident_id},
            ).all()
        )
        places = (
            conn.execute(
                sa.text(
                    "select country_code, region_code, count(*) as subjects"
                    " from steward.breach_affected_subjects where incident_id = :i"
                    " group by 1, 2 order by 3 desc, 1, 2"
                ),
                {"i": incident_id},
            )
            .mappings()
            .all()
        )
        categories = (
            conn.execute(
                sa.text(
                    "select data_category, sum(subjects) as subjects,"
                    " sum(unprotected_subjects) as unprotected_subjects"
                    " from steward.breach_impacts where incident_id = :i group by 1 order by 1"
                ),
                {"i": incident_id},
            )
            .mappings()
            .all()
        )
        notices = (
            conn.execute(
                sa.text(
                    "select law_code, recipient, affected, threshold_min, is_required,"
                    " deadline_text, due_at, notified_at, citation"
                    " from steward.breach_notifications where incident_id = :i"
                    " order by is_required desc, due_at nulls last, law_code, recipient"
                ),
                {"i": incident_id},
            )
            .mappings()
            .all()
        )
    return {
        "incident_id": incident.incident_id,
        "reference": incident.reference,
        "status": incident.status,
        "aware_at": incident.aware_at.isoformat(),
        "assessed_at": row.assessed_at.isoformat() if row.assessed_at else None,
        "affected_subjects": row.affected_subjects,
        "subjects_by_kind": by_kind,
        "by_jurisdiction": [
            {
                "jurisdiction": (p["country_code"] or "unknown")
                + (f"-{p['region_code']}" if p["region_code"] else ""),
                "subjects": p["subjects"],
            }
            for p in places
        ],
        "by_category": [dict(c) for c in categories],
        "notifications": [
            {
                **dict(n),
                "due_at": n["due_at"].isoformat() if n["due_at"] else None,
                "notified_at": n["notified_at"].isoformat() if n["notified_at"] else None,
                "hours_left": (
                    round((n["due_at"] - now).total_seconds() / 3600, 1)
                    if n["due_at"] and not n["notified_at"]
                    else None
                ),
            }
            for n in notices
        ],
    }


def assess_new(
    *,
    reference: str,
    summary_text: str,
    aware_at: dt.datetime,
    exposure: Exposure,
    hipaa: bool = False,
    url: str | None = None,
) -> dict[str, Any]:
    """Register an incident and assess it at once (the CLI's and DAG's common path)."""
    engine = warehouse.engine(url)
    exposure.check()
    # Resolve before registering: an exposure naming unknown tables registers nothing.
    with engine.connect() as conn:
        resolve(conn, exposure, datamap.load_data_map())
    incident_id = register.create(
        engine,
        reference=reference,
        summary=summary_text,
        aware_at=aware_at,
        exposure=exposure.to_dict(),
        hipaa=hipaa,
    )
    return assess(engine, incident_id)


def assess_from_params(params: dict[str, Any], url: str | None = None) -> dict[str, Any]:
    """The breach DAG's run: re-assess ``incident_id``, or register and assess an exposure.

    ``params`` hold names only (tables, columns, a role, times); the result is
    counts, places and deadlines.
    """
    from steward.breach.exposure import Exposure

    engine = warehouse.engine(url)
    if params.get("incident_id"):
        return assess(engine, int(params["incident_id"]))
    exposure = Exposure.from_dict(
        {
            "columns": params.get("columns") or [],
            "role": params.get("role") or None,
            "window_from": params.get("window_from") or None,
            "window_to": params.get("window_to") or None,
            "protection": "encrypted" if params.get("encrypted") else "none",
        }
    )
    aware_at = params.get("aware_at")
    if aware_at:
        parsed = dt.datetime.fromisoformat(str(aware_at))
        if parsed.tzinfo is None:
            raise register.IncidentError("aware_at: give a time zone (e.g. +00:00)")
    else:
        parsed = dt.datetime.now(dt.UTC)
    if not params.get("reference") or not params.get("summary"):
        raise register.IncidentError("give reference and summary, or an incident_id")
    return assess_new(
        reference=str(params["reference"]),
        summary_text=str(params["summary"]),
        aware_at=parsed,
        exposure=exposure,
        hipaa=bool(params.get("hipaa")),
        url=url,
    )
