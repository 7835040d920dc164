"""The staging row-count report: each staging view's rows next to its source table's.

Counts only, never data; the nightly DAG's ``summarise_staging`` task returns it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from steward import warehouse
from steward.airflow.nightly import STAGING_SELECTOR


@dataclass(frozen=True)
class StagingModel:
    name: str
    schema: str
    relation: str  # the view's name in the warehouse
    source_schema: str
    source_table: str


def staging_models(selector: str = STAGING_SELECTOR) -> list[StagingModel]:
    """The staging models and the source table each reads, as dbt's graph says
    (``selector``: a selector of dbt_project/selectors.yml), from the manifest the
    dbt task groups are rendered from."""
    from steward.airflow import cosmos_config

    nodes, manifest = cosmos_config.selected_nodes(selector)
    sources = manifest["sources"]
    models = []
    for node in nodes:
        if node["resource_type"] != "model":
            continue
        upstream = [sources[uid] for uid in node["depends_on"]["nodes"] if uid in sources]
        if len(upstream) != 1:
            continue  # not a one-source staging view
        models.append(
            StagingModel(
                name=node["name"],
                schema=node["schema"],
                relation=node["alias"],
                source_schema=upstream[0]["schema"],
                source_table=upstream[0]["identifier"],
            )
        )
    return sorted(models, key=lambda model: model.name)


def staging_summary(url: str | None = None) -> dict:
    """Row counts of every staging view next to its source table (counts only, no data)."""
    engine = warehouse.engine(url)
    rows = {}
    with engine.connect() as conn:
        for model in staging_models():
            rows[model.name] = {
                "relation": f"{model.schema}.{model.relation}",
                "rows": _count(conn, model.schema, model.relation),
                "source": f"{model.source_schema}.{model.source_table}",
                "source_rows": _count(conn, model.source_schema, model.source_table),
            }
    mismatched = sorted(name for name, row in rows.items() if row["rows"] != row["source_rows"])
    return {
        "staging_models": len(rows),
        "staging_rows": sum(row["rows"] for row in rows.values()),
        "mismatched_models": mismatched,
        "models": rows,
    }


def _count(conn, schema: str, table: str) -> int:
    query = sa.select(sa.func.count()).select_from(sa.table(table, schema=schema))
    return int(conn.execute(query).scalar_one())
