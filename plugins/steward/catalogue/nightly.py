"""The catalogue's nightly steps, as plain callables for the DAG and the CLI.

Order in the nightly run::

    run_scan()                      # scan (incremental), persist, copy the data map
    dbt build -s path:seeds/catalogue_overrides.csv path:models/marts/catalogue
    summarise()                     # the catalogue and its drift, as counts

Every return value is JSON-serialisable and holds counts and column names only,
never a sampled value.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from steward import datamap, warehouse
from steward.catalogue import scanner, store

log = logging.getLogger(__name__)

# dbt writes these schemas from the sources: scanning them would report every
# staging view and mart as undeclared personal data. The ground truth is the
# seed generator's answer key, which scanners must never read.
EXCLUDED_SCHEMAS: tuple[str, ...] = (
    *scanner.DEFAULT_EXCLUDED_SCHEMAS,
    # dbt's own layers are derived from the mapped sources and governed through them.
    "staging",
    "intermediate",
    "steward",
    "steward_ground_truth",
)
# The overrides seed, the catalogue marts and their tests (dbt_project/selectors.yml).
MARTS_SELECTOR = "catalogue"
GAP_KINDS: tuple[str, ...] = ("undeclared", "category_mismatch")


def categories_compatible(found: str, declared: str) -> bool:
    """Same category, or one is a refinement of the other (``user.name`` / ``user.name.first``).

    Mirrors the dbt macro ``catalogue_categories_compatible``.
    """
    return found == declared or found.startswith(declared + ".") or declared.startswith(found + ".")


def run_scan(
    url: str | None = None,
    full: bool = False,
    *,
    schemas: Sequence[str] | None = None,
    sample_rows: int = 1000,
    seed: int = scanner.DEFAULT_SEED,
) -> dict[str, Any]:
    """Scan the warehouse, persist the run in schema ``steward``, copy the data map there.

    Incremental by default: columns whose fingerprint is unchanged since the
    run that last validated them are carried forward, not rescanned; ``full``
    rescans everything. ``schemas`` defaults to every schema of the database
    but :data:`EXCLUDED_SCHEMAS`. Returns a summary of counts.
    """
    engine = warehouse.engine(url)
    data_map = datamap.load_data_map()
    started_at = dt.datetime.now(dt.UTC)
    run_id = store.new_run_id(started_at)
    with engine.begin() as conn:
        store.ensure_tables(conn)
        previous = None if full else store.previous_fingerprints(conn)
        chosen = list(schemas) if schemas else store.list_schemas(conn, EXCLUDED_SCHEMAS)
    report = scanner.scan_schemas(
        engine,
        chosen,
        sample_rows=sample_rows,
        seed=seed,
        previous_fingerprints=previous,
    )
    with engine.begin() as conn:
        counts = store.persist_report(
            conn,
            report,
            run_id=run_id,
            started_at=started_at,
            mode="full" if full else "incremental",
        )
        declared = store.write_data_map(conn, data_map)
        current = _current_pii(conn, run_id)
        overrides = store.read_overrides(conn)
    active = {
        key: category
        for key, category in current.items()
        if overrides.get((*key[:3], category)) != "rejected"
    }
    by_category = Counter(active.values())
    by_column = {key[:3] for key in active}
    summary = {
        "run_id": run_id,
        "mode": "full" if full else "incremental",
        "schemas": chosen,
        **counts,
        "pii_columns": len(by_column),
        "pii_columns_by_category": dict(sorted(by_category.items())),
        "declared_columns": declared,
        "drift": preliminary_drift(active, data_map),
        "scan_seconds": report.timings.get("total_seconds"),
        "problems_by_kind": dict(Counter(p.kind for p in report.problems)),
    }
    log.info(
        "catalogue scan %s: %s scanned, %s unchanged, %s PII columns",
        run_id,
        counts["columns_scanned"],
        counts["columns_unchanged"],
        len(by_column),
    )
    return summary


def _current_pii(conn: sa.Connection, run_id: str) -> dict[tuple[str, str, str, str], str]:
    results = store.scan_results
    rows = conn.execute(
        sa.select(
            results.c.schema_name, results.c.table_name, results.c.column_name, results.c.category
        ).where(results.c.run_id == run_id, results.c.is_pii)
    )
    return {(s, t, c, category): category for s, t, c, category in rows}


def preliminary_drift(
    active: dict[tuple[str, str, str, str], str], data_map: datamap.DataMap
) -> dict[str, int]:
    """Gap counts straight after the scan (the ``catalogue_drift`` mart is authoritative).

    ``active``: (schema, table, column, category) -> category of the run's PII
    findings not rejected by a steward.
    """
    found: dict[tuple[str, str, str], set[str]] = {}
    for (schema, table, column, _), category in active.items():
        found.setdefault((schema, table, column), set()).add(category)
    declared = {
        (table.schema, table.name, column.name): column.data_category
        for table, column in data_map.personal_columns()
    }
    undeclared = sum(1 for key in found if key not in declared)
    mismatched = sum(
        1
        for key, categories in found.items()
        if key in declared and not any(categories_compatible(c, declared[key]) for c in categories)
    )
    return {"undeclared": undeclared, "category_mismatch": mismatched}


def build_marts(
    url: str | None = None,
    *,
    variables: dict[str, Any] | None = None,
    selector: str = MARTS_SELECTOR,
) -> bool:
    """``dbt build`` of the overrides seed, the catalogue marts and their tests.

    dbt runs in-process with its artefacts in a private temporary folder.
    Returns dbt's success flag (a drift test at severity ``warn`` still succeeds).
    """
    from steward import dbt_runner

    result = dbt_runner.run(["build", "--selector", selector], url, dbt_vars=variables)
    return bool(result.success)


def summarise(url: str | None = None) -> dict[str, Any]:
    """The catalogue and its drift as the dbt marts have them (run after the marts).

    Drift rows name columns (``schema.table.column``) and categories; no values.
    """
    engine = warehouse.engine(url)
    with engine.connect() as conn:
        catalogue = conn.execute(
            sa.text(
                "select status, category, count(*) from steward.pii_catalogue"
                " where is_current or status = 'confirmed' group by status, category"
            )
        ).all()
        drift = conn.execute(
            sa.text(
                "select drift_kind, schema_name, table_name, column_name,"
                " declared_category, found_categories"
                " from steward.catalogue_drift order by 1, 2, 3, 4"
            )
        ).all()
        latest_run = conn.execute(
            sa.text(
                "select run_id, mode, columns_scanned, columns_unchanged, pii_columns"
                " from steward.catalogue_scan_runs order by finished_at desc limit 1"
            )
        ).first()
    by_status: Counter = Counter()
    by_category: Counter = Counter()
    for status, category, count in catalogue:
        by_status[status] += count
        if status != "rejected":
            by_category[category] += count
    drift_counts = Counter(kind for kind, *_ in drift)
    return {
        "latest_run": dict(latest_run._mapping) if latest_run else None,
        "catalogue_entries_by_status": dict(sorted(by_status.items())),
        "pii_entries_by_category": dict(sorted(by_category.items())),
        "drift_counts": {kind: drift_counts.get(kind, 0) for kind in (*GAP_KINDS, "no_evidence")},
        "gaps": sum(drift_counts[kind] for kind in GAP_KINDS),
        "drift": [
            {
                "kind": kind,
                "column": f"{schema}.{table}.{column}",
                "declared_category": declared,
                "found_categories": found,
            }
            for kind, schema, table, column, declared, found in drift
        ],
    }
