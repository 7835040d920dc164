"""Callables for the nightly DAG: refresh the phone lookup, then summarise the phone marts.

Order in the DAG: :func:`run_refresh` (before dbt), then dbt
``path:models/intermediate/phones path:models/marts/phones`` and the test
``phones_dnc_registry_not_stale``, then :func:`summarise`. Both return
JSON-serialisable dicts of counts: never a phone number.
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging

import sqlalchemy as sa

from steward import schema
from steward.phones.lookup import refresh_phone_lookup

log = logging.getLogger(__name__)

MART_SCHEMA = "steward"
# The marts summarise() reads (dbt_project/models/marts/phones).
PHONE_MARTS = (
    "customer_phone_numbers",
    "dim_phone_numbers",
    "phone_duplicate_groups",
    "inactive_phone_numbers",
    "contactable_numbers",
    "dnc_violations",
    "dnc_registry_status",
    "recording_consent_violations",
)

_SUMMARY_QUERIES: dict[str, str] = {
    "phone_records": """
        select count(*) as records,
               count(*) filter (where is_valid) as valid_records,
               count(distinct e164) as distinct_valid_numbers
        from steward.customer_phone_numbers""",
    "parse_status": """
        select parse_status as key, count(*) as value
        from steward.customer_phone_numbers group by 1 order by 1""",
    "duplicate_groups": """
        select duplicate_kind as key, count(distinct duplicate_group_id) as value
        from steward.phone_duplicate_groups group by 1 order by 1""",
    "duplicate_records": """
        select duplicate_kind as key, count(*) as value
        from steward.phone_duplicate_groups group by 1 order by 1""",
    "inactive": """
        select inactive_reason as key, count(*) as value
        from steward.inactive_phone_numbers group by 1 order by 1""",
    "not_contactable": """
        select not_contactable_reason as key, count(*) as value
        from steward.contactable_numbers where not is_contactable group by 1 order by 1""",
    "contactable": """
        select count(*) filter (where is_contactable) as contactable,
               count(*) as checked
        from steward.contactable_numbers""",
    "dnc_violations": """
        select violation_reason as key, count(*) as value
        from steward.dnc_violations group by 1 order by 1""",
    "recording_consent_violations": """
        select count(*) as violations from steward.recording_consent_violations""",
    "dnc_registry": """
        select reference_date, latest_snapshot_on, snapshot_source, snapshot_age_days,
               max_age_days, is_stale, listed_numbers, import_count
        from steward.dnc_registry_status""",
}


def _engine(url: str | None) -> sa.Engine:
    from steward.phones.dnc import registry_engine

    return registry_engine(url)


def run_refresh(url: str | None = None) -> dict:
    """Bring ``steward.phone_lookup`` up to date and make sure the DNC tables exist.

    Runs before dbt builds the phone models. Returns the refresh's counts.
    """
    engine = _engine(url)
    # dbt's DNC models read the registry's tables: they exist, even empty, before any import.
    schema.upgrade(engine)
    report = refresh_phone_lookup(engine)
    return {
        "scan": report.scan,
        "sources": report.sources,
        "distinct_seen": report.distinct_seen,
        "new_parsed": report.new_parsed,
        "reused": report.reused,
        "pruned": report.pruned,
        "stale_dropped": report.stale_dropped,
        "library_version": report.library_version,
        "status_counts": report.status_counts,
        "elapsed_seconds": round(report.elapsed_seconds, 3),
    }


def _plain(value):
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def summarise(url: str | None = None) -> dict:
    """Counts from the phone marts for the nightly summary and the dashboard.

    ``available`` is False (and nothing else is reported) until dbt built the marts.
    """
    engine = _engine(url)
    inspector = sa.inspect(engine)
    present = set(inspector.get_table_names(schema=MART_SCHEMA))
    missing = [name for name in PHONE_MARTS if name not in present]
    if missing:
        return {"available": False, "missing_marts": missing}
    results: dict[str, object] = {}
    with engine.connect() as conn:
        for name, query in _SUMMARY_QUERIES.items():
            rows = conn.execute(sa.text(query)).mappings().all()
            if rows and set(rows[0]) == {"key", "value"}:
                results[name] = {row["key"]: _plain(row["value"]) for row in rows}
            else:
                results[name] = {k: _plain(v) for k, v in rows[0].items()} if rows else {}
    records = results["phone_records"]
    valid_rate = records["valid_records"] / records["records"] if records["records"] else None
    registry = results["dnc_registry"]
    summary = {
        "available": True,
        "phone_records": records["records"],
        "valid_records": records["valid_records"],
        "valid_rate": round(valid_rate, 4) if valid_rate is not None else None,
        "distinct_valid_numbers": records["distinct_valid_numbers"],
        "parse_status": results["parse_status"],
        "duplicate_groups": results["duplicate_groups"],
        "duplicate_records": results["duplicate_records"],
        "inactive": results["inactive"],
        "inactive_total": sum(results["inactive"].values()),
        "contactable": results["contactable"].get("contactable", 0),
        "contact_checked": results["contactable"].get("checked", 0),
        "not_contactable": results["not_contactable"],
        "dnc_violations": results["dnc_violations"],
        "dnc_violations_total": sum(results["dnc_violations"].values()),
        "recording_consent_violations": results["recording_consent_violations"]["violations"],
        "dnc_registry": registry,
    }
    log.info(
        "phones: %d records, valid rate %s, %d DNC violations, registry age %s days",
        summary["phone_records"],
        summary["valid_rate"],
        summary["dnc_violations_total"],
        registry.get("snapshot_age_days"),
    )
    return summary
