"""Run the ``phone_quality`` checkpoint on the warehouse and keep a summary per run.

The Great Expectations project is the file context in ``expectations/`` (at the
repository root): ``great_expectations.yml``, the suite, the validation
definition and the checkpoint are committed; ``uncommitted/`` (validation
results, Data Docs) is git-ignored.

Credentials never reach those files: the datasource's connection string is the
config variable ``${STEWARD_GX_DATABASE_URL}``, which GX substitutes from the
environment at run time; :func:`run_checkpoint` sets it in its own process from
``steward.warehouse.database_url()``.

No phone number leaves the warehouse: every expectation is computed as SQL
there, the checkpoint's ``result_format`` asks for no unexpected values, rows or
index lists (``partial_unexpected_count: 0``), the Do-Not-Call query selects ids
only, and ``steward.quality_results`` stores one summary row per expectation:
suite, expectation, success, observed value (a count or a share), run time.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from steward import paths, schema
from steward.quality import data_docs
from steward.quality.suite import SUITE_NAME, PhoneQualityTables, build_suite

log = logging.getLogger(__name__)

CONNECTION_ENV = "STEWARD_GX_DATABASE_URL"
DATASOURCE_NAME = "steward_warehouse"
ASSET_NAME = "phone_records"
BATCH_DEFINITION_NAME = "all_phone_records"
VALIDATION_NAME = "phone_quality_on_phone_records"
CHECKPOINT_NAME = "phone_quality_nightly"
DATA_DOCS_SITE = "local_site"
RESULTS_SCHEMA = "steward"
RESULTS_TABLE = "quality_results"
# Values, unexpected rows and index lists are never returned, stored or rendered.
RESULT_FORMAT = {
    "result_format": "SUMMARY",
    "partial_unexpected_count": 0,
    "include_unexpected_rows": False,
    "return_unexpected_index_query": False,
    "exclude_unexpected_values": True,
}
# The result keys that may hold record values: removed before anything is stored.
_VALUE_KEYS = (
    "partial_unexpected_list",
    "partial_unexpected_counts",
    "partial_unexpected_index_list",
    "unexpected_list",
    "unexpected_index_list",
    "unexpected_index_query",
    "unexpected_rows",
    "details",
)


def expectations_dir() -> Path:
    """The GX file context: ``<repository>/expectations``."""
    return paths.project_root() / "expectations"


def data_docs_dir(context_dir: Path | None = None) -> Path:
    """Where Data Docs are built (git-ignored)."""
    return (context_dir or expectations_dir()) / "uncommitted" / "data_docs" / DATA_DOCS_SITE


@dataclass(frozen=True)
class CheckResult:
    check_name: str
    expectation_type: str
    column_name: str | None
    success: bool
    observed_value: float | None
    unexpected_count: int | None
    unexpected_percent: float | None
    element_count: int | None


def get_context(url: str | None = None, context_dir: Path | None = None):
    """The file context, with the warehouse URL in its config variable (this process only)."""
    import great_expectations as gx

    from steward import warehouse

    os.environ[CONNECTION_ENV] = url or warehouse.database_url()
    # No usage statistics leave the machine.
    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    return gx.get_context(mode="file", context_root_dir=str(context_dir or expectations_dir()))


def configure(context, tables: PhoneQualityTables | None = None):
    """Get or create the datasource, asset, suite, validation and checkpoint; return it.

    Existing objects are kept when they already say what the code says, so that
    the committed files in ``expectations/`` do not change (new ids) every night.
    """
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction

    tables = tables or PhoneQualityTables()
    connection_template = "${" + CONNECTION_ENV + "}"
    datasource = _get(context.data_sources, DATASOURCE_NAME)
    if datasource is None or str(datasource.connection_string) != connection_template:
        # The template, not its value, is what GX writes to great_expectations.yml.
        datasource = context.data_sources.add_or_update_postgres(
            name=DATASOURCE_NAME, connection_string=connection_template
        )
    asset = next((a for a in datasource.assets if a.name == ASSET_NAME), None)
    if asset is not None and (
        asset.table_name != tables.phone_records or asset.schema_name != tables.schema
    ):
        datasource.delete_asset(ASSET_NAME)
        asset = None
    if asset is None:
        asset = datasource.add_table_asset(
            name=ASSET_NAME, table_name=tables.phone_records, schema_name=tables.schema
        )
    batch_definition = next(
        (b for b in asset.batch_definitions if b.name == BATCH_DEFINITION_NAME), None
    ) or asset.add_batch_definition_whole_table(BATCH_DEFINITION_NAME)

    wanted = build_suite(tables)
    suite = _get(context.suites, SUITE_NAME)
    if suite is None or _suite_signature(suite) != _suite_signature(wanted):
        suite = context.suites.add_or_update(wanted)

    validation = _get(context.validation_definitions, VALIDATION_NAME)
    if (
        validation is None
        or validation.suite.name != SUITE_NAME
        or validation.batch_definition.id != batch_definition.id
    ):
        validation = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=VALIDATION_NAME, data=batch_definition, suite=suite)
        )

    checkpoint = _get(context.checkpoints, CHECKPOINT_NAME)
    if (
        checkpoint is None
        or checkpoint.result_format != RESULT_FORMAT
        or [v.name for v in checkpoint.validation_definitions] != [VALIDATION_NAME]
    ):
        checkpoint = context.checkpoints.add_or_update(
            gx.Checkpoint(
                name=CHECKPOINT_NAME,
                validation_definitions=[validation],
                actions=[
                    UpdateDataDocsAction(name="update_data_docs", site_names=[DATA_DOCS_SITE])
                ],
                result_format=RESULT_FORMAT,
            )
        )
    checkpoint = context.checkpoints.get(CHECKPOINT_NAME)
    # GX 1.24 can deserialise a validation definition whose datasource lacks its
    # context (then MissingDataContextError at run time, seen on a fresh copy of
    # the project): point it back at this context.
    for definition in checkpoint.validation_definitions:
        datasource = definition.batch_definition.data_asset.datasource
        if datasource.data_context is None:
            datasource._data_context = context
    return checkpoint


def _get(store, name: str):
    """A named object of a GX store, or None."""
    try:
        return store.get(name)
    except Exception:  # GX raises store-specific "not found" errors
        return None


def _suite_signature(suite) -> str:
    """What a suite checks, without GX's generated ids."""
    expectations = []
    for expectation in suite.expectations:
        configuration = expectation.configuration.to_json_dict()
        configuration.pop("id", None)
        expectations.append(configuration)
    return json.dumps({"expectations": expectations, "meta": suite.meta}, sort_keys=True)


def run_checkpoint(
    url: str | None = None,
    *,
    context_dir: Path | None = None,
    tables: PhoneQualityTables | None = None,
) -> dict:
    """Validate the phone marts, build Data Docs, store one summary row per expectation.

    Returns counts and outcomes only (JSON-serialisable). Failed expectations do
    not raise: they are data findings for stewards and the dashboard's trend.
    """
    from steward import warehouse

    url = url or warehouse.database_url()
    context = get_context(url, context_dir)
    checkpoint = configure(context, tables)
    run_at = dt.datetime.now(dt.UTC)
    result = checkpoint.run()
    # GX's pages load their CSS/JS from CDNs: point them at vendored copies.
    data_docs.make_offline(data_docs_dir(context_dir))
    checks = [
        check for validation in result.run_results.values() for check in _summarise(validation)
    ]
    run_id = result.run_id.run_name or run_at.strftime("%Y%m%dT%H%M%S.%fZ")
    store_results(warehouse.engine(url), run_id, run_at, SUITE_NAME, checks)
    summary = {
        "suite": SUITE_NAME,
        "run_id": run_id,
        "success": bool(result.success),
        "expectations": len(checks),
        "failed": sum(not check.success for check in checks),
        "checks": {check.check_name: check.success for check in checks},
        "data_docs": str(data_docs_dir(context_dir)),
    }
    log.info(
        "phone_quality: %d expectations, %d failed", summary["expectations"], summary["failed"]
    )
    return summary


def _summarise(validation) -> list[CheckResult]:
    checks = []
    for outcome in validation.results:
        configuration = outcome.expectation_config
        result = {
            key: value for key, value in (outcome.result or {}).items() if key not in _VALUE_KEYS
        }
        kwargs = configuration.kwargs
        checks.append(
            CheckResult(
                check_name=str(
                    (configuration.meta or {}).get("steward_check") or configuration.type
                ),
                expectation_type=configuration.type,
                column_name=kwargs.get("column")
                or (",".join(kwargs["column_list"]) if kwargs.get("column_list") else None),
                success=bool(outcome.success),
                observed_value=_observed(result),
                unexpected_count=_int_or_none(result.get("unexpected_count")),
                unexpected_percent=_float_or_none(result.get("unexpected_percent")),
                element_count=_int_or_none(result.get("element_count")),
            )
        )
    return checks


def _observed(result: dict) -> float | None:
    """A number describing the outcome: GX's observed value, else the unexpected share."""
    observed = result.get("observed_value")
    if isinstance(observed, int | float) and not isinstance(observed, bool):
        return float(observed)
    if result.get("unexpected_percent") is not None:
        return float(result["unexpected_percent"])
    return None


def _int_or_none(value) -> int | None:
    return None if value is None else int(value)


def _float_or_none(value) -> float | None:
    return None if value is None else float(value)


def store_results(
    engine: sa.Engine, run_id: str, run_at: dt.datetime, suite: str, checks: list[CheckResult]
) -> None:
    """Append this run's summary rows to ``steward.quality_results`` (idempotent per run)."""
    schema.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                f"insert into {RESULTS_SCHEMA}.{RESULTS_TABLE} (run_id, run_at, suite_name,"
                " expectation_type, check_name, column_name, success, observed_value,"
                " unexpected_count, unexpected_percent, element_count)"
                " values (:run_id, :run_at, :suite, :expectation_type, :check_name,"
                " :column_name, :success, :observed_value, :unexpected_count,"
                " :unexpected_percent, :element_count)"
                " on conflict (run_id, check_name) do nothing"
            ),
            [
                {"run_id": run_id, "run_at": run_at, "suite": suite, **check.__dict__}
                for check in checks
            ],
        )


def results_json(checks: list[CheckResult]) -> str:
    """The stored summary as JSON (for the CLI)."""
    return json.dumps([check.__dict__ for check in checks], indent=2)
