"""Access: the subject's export package, an AES-256 encrypted zip.

Per table holding the subject's rows: ``<schema>.<table>.json`` and ``.csv``;
a ``manifest.json`` (tables, row counts, data categories, source, retention
rule and legal basis, from the data map) and a ``README.txt`` summary. Rows of
other people that only mention the subject in free text are exported as the
mention itself (the table, key and column), not as the other person's row.

The archive is AES-256 (WinZip AE-2, opened by 7-Zip, WinZip, macOS Archive
Utility with 7z, ``pyzipper``) with a password from ``STEWARD_DSAR_EXPORT_KEY``
or the Airflow connection ``steward_dsar_export`` (its password): never written
next to the package. The audit trail gets the package's sha256, never content.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from psycopg2 import sql

from steward import audit, datamap, paths, settings
from steward.dsar import finder, held
from steward.dsar.finder import dbapi

EXPORT_KEY_ENV = settings.EXPORT_KEY.env
EXPORT_DIR_ENV = "STEWARD_DSAR_EXPORT_DIR"
# No export key is configured (or it is too short).
ExportKeyError = settings.MissingSecretError


@dataclass(frozen=True)
class ExportResult:
    path: Path
    sha256: str
    tables: int
    rows: int

    def as_dict(self) -> dict:
        # The path names the request only: no identifier in it.
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "tables": self.tables,
            "rows": self.rows,
        }


def export_key() -> str:
    """The archive password (:data:`steward.settings.EXPORT_KEY`)."""
    return settings.secret(settings.EXPORT_KEY).decode()


def package_name(request_id: int) -> str:
    """The file name of a request's package: it names the request only, no identifier."""
    return f"dsar_{request_id}_access.zip"


def export_dir() -> Path:
    configured = os.environ.get(EXPORT_DIR_ENV)
    return Path(configured).resolve() if configured else paths.data_dir() / "dsar_exports"


def _json_value(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _table_rows(cursor, request_id: int, table: datamap.TableMap) -> tuple[list[str], list[list]]:
    """The subject's full rows of a table (owned or identified by their identifiers)."""
    equal = sql.SQL(" and ").join(
        sql.SQL("t.{0} = r.{0}").format(sql.Identifier(column)) for column in table.primary_key
    )
    cursor.execute(
        sql.SQL(
            "select t.* from (select distinct row_key from steward.dsar_subject_rows"
            " where request_id = %(request_id)s and phase = 'find' and table_name = %(table)s"
            " and matched_by <> 'mention'"
            " union select row_key from steward.dsar_subject_rows"
            " where request_id = %(request_id)s and phase = 'find' and table_name = %(table)s"
            " and owned) as k"
            " cross join lateral jsonb_populate_record(null::{target}, k.row_key) as r"
            " join {target} as t on {equal} order by 1"
        ).format(target=sql.Identifier(table.schema, table.name), equal=equal),
        {"request_id": request_id, "table": table.qualified_name},
    )
    columns = [description.name for description in cursor.description]
    return columns, [[_json_value(value) for value in row] for row in cursor.fetchall()]


def _mentions(cursor, request_id: int, table: datamap.TableMap) -> list[dict]:
    cursor.execute(
        "select distinct row_key from steward.dsar_subject_rows as m"
        " where request_id = %s and phase = 'find' and table_name = %s"
        " and matched_by = 'mention' and not exists (select from steward.dsar_subject_rows as o"
        "  where o.request_id = m.request_id and o.phase = m.phase"
        "  and o.table_name = m.table_name and o.row_key = m.row_key"
        "  and (o.owned or o.matched_by <> 'mention'))",
        (request_id, table.qualified_name),
    )
    columns = finder.columns_of(table, finder.FREE_TEXT)
    return [{"row_key": row[0], "mentioned_in": columns} for row in cursor.fetchall()]


def build_package(
    engine: sa.Engine,
    request_id: int,
    data_map: datamap.DataMap,
    *,
    key: str | None = None,
    target_dir: Path | None = None,
    actor: str = "steward.dsar",
    kept: dict | None = None,
) -> ExportResult:
    """Write the encrypted export of a request's found rows; audit its digest.

    ``kept``: what earlier erasures of this subject kept and why
    (:func:`steward.dsar.held.kept_after_erasure`), listed in the package and its
    letter instead of a bare "no records".
    """
    import pyzipper

    key = key or export_key()
    target_dir = Path(target_dir or export_dir())
    target_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {}
    manifest_tables = []
    total_rows = 0
    with dbapi(engine) as connection, connection.cursor() as cursor:
        for table in finder.subject_tables(data_map):
            columns, rows = _table_rows(cursor, request_id, table)
            mentions = _mentions(cursor, request_id, table)
            if not rows and not mentions:
                continue
            name = table.qualified_name
            records = [dict(zip(columns, row, strict=True)) for row in rows]
            files[f"{name}.json"] = json.dumps(
                {"table": name, "rows": records, "mentions_in_other_records": mentions},
                indent=2,
                ensure_ascii=False,
            ).encode()
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(columns)
            writer.writerows(rows)
            files[f"{name}.csv"] = buffer.getvalue().encode()
            rule = data_map.retention_rules.get(table.retention_rule or "")
            manifest_tables.append(
                {
                    "table": name,
                    "source_system": table.source,
                    "rows": len(rows),
                    "mentions_in_other_records": len(mentions),
                    "data_categories": sorted({c.data_category for c in table.columns}),
                    "purpose_and_legal_basis": rule.legal_basis if rule else None,
                    "retention": (
                        f"{rule.period_count} {rule.period_unit}s from {table.retention_clock}"
                        if rule
                        else None
                    ),
                }
            )
            total_rows += len(rows)
    generated = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    manifest = {
        "request_id": request_id,
        "generated_at": generated,
        "tables": manifest_tables,
        "total_rows": total_rows,
        "kept_after_erasure": kept or {"erasures": [], "total": 0},
    }
    files["manifest.json"] = json.dumps(manifest, indent=2).encode()
    files["README.txt"] = _readme(manifest).encode()
    path = target_dir / package_name(request_id)
    partial = path.with_suffix(".zip.partial")
    with pyzipper.AESZipFile(
        partial, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES
    ) as archive:
        archive.setpassword(key.encode())
        archive.setencryption(pyzipper.WZ_AES, nbits=256)
        for name in sorted(files):
            archive.writestr(name, files[name])
    partial.replace(path)
    package_digest = hashlib.sha256(path.read_bytes()).hexdigest()
    result = ExportResult(path, package_digest, len(manifest_tables), total_rows)
    audit.record(
        engine,
        actor,
        "dsar.access.exported",
        {
            "request_id": request_id,
            "package_sha256": package_digest,
            "tables": len(manifest_tables),
            "rows": total_rows,
        },
    )
    return result


def _readme(manifest: dict) -> str:
    lines = [
        f"Your personal data: access request {manifest['request_id']}",
        f"Prepared {manifest['generated_at']}.",
        "",
        f"We hold {manifest['total_rows']} records about you in "
        f"{len(manifest['tables'])} tables of our systems" + (":" if manifest["tables"] else "."),
        "",
    ]
    kept_total = (manifest.get("kept_after_erasure") or {}).get("total", 0)
    if kept_total or (manifest.get("kept_after_erasure") or {}).get("erasures"):
        lines.insert(
            -1,
            f"We also keep {kept_total} {'record' if kept_total == 1 else 'records'} under "
            "legal exemptions after an earlier erasure, and a suppression record; they are "
            "listed below with the reason.",
        )
    if not manifest["tables"]:
        lines.pop()  # no table list follows
    for table in manifest["tables"]:
        lines.append(
            f"- {table['table']} ({table['source_system']}): {table['rows']} records"
            + (
                f", mentioned in {table['mentions_in_other_records']} other records"
                if table["mentions_in_other_records"]
                else ""
            )
        )
        lines.append(f"    categories: {', '.join(table['data_categories']) or 'identifiers'}")
        if table["purpose_and_legal_basis"]:
            lines.append(f"    why: {table['purpose_and_legal_basis']}")
        if table["retention"]:
            lines.append(f"    kept: {table['retention']}")
    kept_lines = held.describe(manifest.get("kept_after_erasure") or {})
    if kept_lines:
        lines += ["", *kept_lines]
    lines += [
        "",
        "Each table is included as JSON and CSV; manifest.json describes them.",
    ]
    return "\n".join(lines) + "\n"
