"""The notification list of an incident: who must be told, as an AES-256 encrypted zip.

The only way affected people's contact details leave the warehouse. One row per
affected subject whose individual notice is required by at least one law:
subject kind and key, country and region, the exposed data categories, the laws
requiring the notice, and contact details from the data map (the customer
table's name, e-mail and phone columns; the latest postal address from the table
holding ``user.contact.address.*`` columns). Same key handling as the DSAR access
packages (``STEWARD_DSAR_EXPORT_KEY`` or the Airflow connection
``steward_dsar_export``; see :mod:`steward.dsar.export`); the audit trail gets the
archive's sha256 and the row count, never content.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
from pathlib import Path

import sqlalchemy as sa
from psycopg2 import sql

from steward import audit, datamap, paths
from steward.breach import assess, register
from steward.breach import rules as breach_rules
from steward.dsar.export import export_key

EXPORT_DIR_ENV = "STEWARD_BREACH_EXPORT_DIR"
CONTACT_PREFIXES = ("user.name", "user.contact.email", "user.contact.phone_number")
ADDRESS_PREFIX = "user.contact.address"


def export_dir() -> Path:
    configured = os.environ.get(EXPORT_DIR_ENV)
    return Path(configured).resolve() if configured else paths.data_dir() / "breach_exports"


def _matches(category: str, prefix: str) -> bool:
    return category == prefix or category.startswith(prefix + ".")


def _address_table(data_map: datamap.DataMap, residence: datamap.TableMap):
    # The residence table's own system first (the CRM's addresses before an invoice's).
    tables = sorted(data_map.tables, key=lambda t: (t.schema != residence.schema, t.qualified_name))
    for table in tables:
        columns = [c.name for c in table.columns if _matches(c.data_category, ADDRESS_PREFIX)]
        if columns and table.subject_key == residence.subject_key and table != residence:
            return table, columns
    return None, []


def build_notification_list(
    engine: sa.Engine,
    incident_id: int,
    *,
    key: str | None = None,
    target_dir: Path | None = None,
    actor: str = register.ACTOR,
) -> dict:
    """Write the encrypted notification list of an assessed incident; audit its digest."""
    import pyzipper

    key = key or export_key()
    incident = register.get(engine, incident_id)
    if incident.status not in ("assessed", "notifying", "notified"):
        raise register.IncidentError(
            f"incident {incident_id} is {incident.status}: assess it first"
        )
    data_map = datamap.load_data_map()
    residence = assess.residence_table(data_map)
    contact = [
        c.name
        for c in residence.columns
        if any(_matches(c.data_category, p) for p in CONTACT_PREFIXES)
    ]
    address_table, address_columns = _address_table(data_map, residence)
    subject_key = sql.Identifier(residence.subject_key)
    address_join = sql.SQL("")
    address_select = sql.SQL("")
    if address_table is not None:
        order = sql.Identifier(address_table.record_time or address_table.primary_key[0])
        address_join = sql.SQL(
            " left join lateral (select {columns} from {table} as a"
            " where a.{key}::text = s.subject_key order by a.{order} desc limit 1) as a on true"
        ).format(
            columns=sql.SQL(", ").join(sql.Identifier(c) for c in address_columns),
            table=sql.Identifier(address_table.schema, address_table.name),
            key=subject_key,
            order=order,
        )
        address_select = sql.SQL("").join(
            sql.SQL(", a.{}").format(sql.Identifier(c)) for c in address_columns
        )
    query = sql.SQL(
        "select s.subject_kind, s.subject_key, s.country_code, s.region_code,"
        " array_to_string(s.data_categories, '|'),"
        " string_agg(distinct n.law_code, '|' order by n.law_code){contact}{address}"
        " from ({matches}) as m"
        " join steward.breach_notifications as n on n.incident_id = %(incident_id)s"
        " and n.rule_key = m.rule_key and n.recipient = 'individuals' and n.is_required"
        " join steward.breach_affected_subjects as s on s.incident_id = %(incident_id)s"
        " and s.subject_kind = m.subject_kind and s.subject_key = m.subject_key"
        " left join {residence} as c on s.subject_kind = 'customer'"
        " and c.{key}::text = s.subject_key{address_join}"
        " group by s.subject_kind, s.subject_key, s.country_code, s.region_code,"
        " s.data_categories{contact}{address}"
        " order by s.country_code, s.region_code, s.subject_kind, s.subject_key"
    ).format(
        contact=sql.SQL("").join(sql.SQL(", c.{}").format(sql.Identifier(c)) for c in contact),
        address=address_select,
        matches=sql.SQL(assess.RULE_MATCHES),
        residence=sql.Identifier(residence.schema, residence.name),
        key=subject_key,
        address_join=address_join,
    )
    header = [
        "subject_kind",
        "subject_key",
        "country_code",
        "region_code",
        "data_categories",
        "notify_under",
        *contact,
        *address_columns,
    ]
    with engine.begin() as conn:
        raw = conn.connection.dbapi_connection
        with raw.cursor() as cursor:
            assess.load_rules_table(cursor, breach_rules.load_rules(), incident.hipaa)
            cursor.execute(query, {"incident_id": incident_id})
            rows = cursor.fetchall()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    generated = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    readme = (
        f"Notification list of breach incident {incident_id} ({incident.reference}).\n"
        f"Prepared {generated}: {len(rows)} people whose individual notice is required.\n"
        "notify_under names the laws requiring it (see `steward breach status "
        f"{incident_id}` for their deadlines).\n"
    )
    target_dir = Path(target_dir or export_dir())
    target_dir.mkdir(parents=True, exist_ok=True)
    path = target_dir / f"breach_{incident_id}_notification_list.zip"
    partial = path.with_suffix(".zip.partial")
    with pyzipper.AESZipFile(
        partial, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES
    ) as archive:
        archive.setpassword(key.encode())
        archive.setencryption(pyzipper.WZ_AES, nbits=256)
        archive.writestr("notification_list.csv", buffer.getvalue().encode())
        archive.writestr("README.txt", readme.encode())
    partial.replace(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    audit.record(
        engine,
        actor,
        "breach.notification_list.exported",
        {"incident_id": incident_id, "rows": len(rows), "package_sha256": digest},
    )
    return {"path": str(path), "sha256": digest, "rows": len(rows)}
