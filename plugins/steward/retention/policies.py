"""Retention policies as code, in one validated place.

A policy is one table of the data map with the retention rule the map gives it
(``config.meta.steward.retention``: rule, clock, optional ``clock_table``), the
rule's period, action, jurisdiction and legal basis from
``dbt_project/seeds/retention_rules.csv``, and the settings of
``policies.yml`` beside this module: masking strategies by data category for
``anonymise``, the file column of ``delete_file``, statutory minimums, and
per-table overrides. A statutory minimum is a floor: it wins over any shorter
rule or override.

:func:`load_policies` validates all of it and raises :class:`PolicyError`
naming every offending entry before anything runs;
:func:`check_against_warehouse` then checks columns and types in the catalogue.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from dateutil.relativedelta import relativedelta

from steward import datamap, yamlfile
from steward.retention import strategies
from steward.settings import Settings

POLICY_FILE = Path(__file__).with_name("policies.yml")
FILE_KEYS = frozenset(
    {"batch_size", "max_share", "hmac_secret", "masking", "rules", "statutory_minimums", "tables"}
)
RULE_KEYS = frozenset({"file_column"})
TABLE_KEYS = frozenset({"period", "columns", "enabled"})
SECRET_KEYS = frozenset({"env", "airflow_connection"})
APPROXIMATE_DAYS = {"day": 1.0, "month": 30.436875, "year": 365.2425}
PERIOD_PATTERN = re.compile(r"^\s*(-?\d+)\s+(day|month|year)s?\s*$")


class PolicyError(ValueError):
    """The policies are invalid; ``problems`` names each offending entry."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        heading = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
        super().__init__(
            f"retention policies: {heading}:\n" + "\n".join(f"  - {p}" for p in problems)
        )


@dataclass(frozen=True, order=True)
class Period:
    """A calendar-aware period: ``count`` days, months or years."""

    count: int
    unit: str

    def __post_init__(self) -> None:
        if self.unit not in datamap.PERIOD_UNITS:
            raise ValueError(f"unknown period unit {self.unit!r}")
        if self.count < 0:
            raise ValueError(f"negative period {self.count} {self.unit}")

    @property
    def interval(self) -> str:
        """PostgreSQL interval text, e.g. ``7 years``."""
        return f"{self.count} {self.unit}{'' if self.count == 1 else 's'}"

    @property
    def approximate_days(self) -> float:
        return self.count * APPROXIMATE_DAYS[self.unit]

    def cutoff(self, as_of: dt.datetime) -> dt.datetime:
        """Rows whose clock is before this instant are past the period at ``as_of``."""
        return as_of - relativedelta(**{f"{self.unit}s": self.count})

    def __str__(self) -> str:
        return self.interval


@dataclass(frozen=True)
class ColumnMasking:
    column: str
    data_category: str | None
    strategy: str
    params: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Policy:
    """What happens to one table's rows once they are past their period."""

    name: str  # the table, schema.table
    schema: str
    table: str
    primary_key: tuple[str, ...]
    clock: str
    clock_table: str | None
    subject_key: str | None
    rule_name: str
    action: str  # delete | anonymise | delete_file
    period: Period  # the effective period
    rule_period: Period  # what the rule (or an override) asked for
    period_reason: str
    jurisdiction: str | None
    legal_basis: str
    statutory_minimum: str | None  # the statutory rule setting the floor, if any
    masking: tuple[ColumnMasking, ...] = ()
    file_column: str | None = None
    enabled: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.name,
            "rule": self.rule_name,
            "action": self.action,
            "period": self.period.interval,
            "rule_period": self.rule_period.interval,
            "period_reason": self.period_reason,
            "clock": f"{self.clock_table}.{self.clock}" if self.clock_table else self.clock,
            "jurisdiction": self.jurisdiction,
            "legal_basis": self.legal_basis,
            "statutory_minimum": self.statutory_minimum,
            "masking": {m.column: m.strategy for m in self.masking},
            "file_column": self.file_column,
            "enabled": self.enabled,
        }


@dataclass(frozen=True)
class PolicySet:
    policies: tuple[Policy, ...]
    batch_size: int
    max_share: float
    secret_env: str | None
    secret_airflow_connection: str | None
    # The one registry data category (prefix) -> (strategy, params), read by
    # retention's policies and by DSAR anonymisation (steward.engine.masking).
    category_masking: tuple[tuple[str, tuple[str, dict]], ...] = ()

    def strategy_for(self, category: str) -> tuple[str, dict] | None:
        """The masking strategy of a data category: the longest matching prefix."""
        return _category_strategy(category, dict(self.category_masking))

    def get(self, name: str) -> Policy:
        for policy in self.policies:
            if policy.name == name:
                return policy
        raise KeyError(name)

    def select(self, names: list[str] | tuple[str, ...] | None) -> list[Policy]:
        """Policies by table (``billing.invoices``) or rule name (``billing_records``)."""
        if not names:
            return list(self.policies)
        unknown = [
            name
            for name in names
            if not any(name in (policy.name, policy.rule_name) for policy in self.policies)
        ]
        if unknown:
            raise PolicyError(
                [f"--policy {name}: not a policy table or retention rule" for name in unknown]
            )
        return [p for p in self.policies if p.name in names or p.rule_name in names]

    def period_overrides(self) -> dict[str, str]:
        """Policies whose effective period is not their data-map rule's (for dbt)."""
        return {
            policy.name: policy.period.interval
            for policy in self.policies
            if policy.period != policy.rule_period or policy.period_reason != "rule"
        }

    def hmac_key(self) -> strategies.HmacKey | None:
        secret = Settings().optional_secret(self.secret_env, self.secret_airflow_connection)
        return strategies.HmacKey.from_secret(secret) if secret else None


def parse_period(value: Any) -> Period:
    """``"18 month"``, ``"7 years"`` or ``{count: 7, unit: year}`` -> :class:`Period`."""
    if isinstance(value, dict) and set(value) == {"count", "unit"}:
        count, unit = value["count"], value["unit"]
    elif isinstance(value, str) and (match := PERIOD_PATTERN.match(value)):
        count, unit = int(match.group(1)), match.group(2)
    else:
        raise ValueError(f"{value!r} is not a period like '18 month' or '7 year'")
    if not isinstance(count, int) or isinstance(count, bool):
        raise ValueError(f"{value!r}: the count must be a whole number")
    if count < 0:
        raise ValueError(f"{value!r} is a negative period")
    if unit not in datamap.PERIOD_UNITS:
        raise ValueError(f"{value!r}: unit must be one of {', '.join(datamap.PERIOD_UNITS)}")
    return Period(count, unit)


def load_policies(
    config: dict | Path | None = None,
    project_dir: Path | None = None,
    data_map: datamap.DataMap | None = None,
) -> PolicySet:
    """Load and validate the retention policies.

    ``config`` is the policy file (default ``policies.yml`` beside this module)
    or its parsed content. Raises :class:`PolicyError` listing every problem,
    each naming the offending entry (file key, table, column or rule).
    """
    where = "policies.yml"
    if config is None or isinstance(config, Path):
        path = config or POLICY_FILE
        where = path.name
        try:
            config = yamlfile.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise PolicyError([f"{where}: cannot read: {exc}"]) from exc
    if data_map is None:
        try:
            data_map = datamap.load_data_map(project_dir)
        except datamap.DataMapError as exc:
            raise PolicyError(exc.problems) from exc
    problems: list[str] = []
    if not isinstance(config, dict):
        raise PolicyError([f"{where}: expected a mapping at the top level"])
    for key in sorted(set(config) - FILE_KEYS):
        problems.append(f"{where}: {key}: unknown key (known: {', '.join(sorted(FILE_KEYS))})")

    batch_size = config.get("batch_size", 10_000)
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        problems.append(f"{where}: batch_size: {batch_size!r} is not a positive whole number")
    max_share = config.get("max_share", 0.2)
    if not isinstance(max_share, int | float) or isinstance(max_share, bool):
        problems.append(f"{where}: max_share: {max_share!r} is not a number")
    elif not 0 < max_share <= 1:
        problems.append(f"{where}: max_share: {max_share!r} must be in (0, 1]")

    secret = config.get("hmac_secret") or {}
    if not isinstance(secret, dict):
        problems.append(f"{where}: hmac_secret: expected a mapping with env/airflow_connection")
        secret = {}
    for key in sorted(set(secret) - SECRET_KEYS):
        problems.append(
            f"{where}: hmac_secret.{key}: unknown key (known: {', '.join(sorted(SECRET_KEYS))}); "
            "the secret itself never goes in this file"
        )

    masking = _masking_by_category(config.get("masking") or {}, where, problems)
    rule_settings = _rule_settings(config.get("rules") or {}, data_map, where, problems)
    floors = _statutory_floors(config.get("statutory_minimums") or {}, data_map, where, problems)
    overrides = config.get("tables") or {}
    if not isinstance(overrides, dict):
        problems.append(f"{where}: tables: expected a mapping of schema.table -> settings")
        overrides = {}
    for name in sorted(overrides):
        if not data_map.has_table(str(name)):
            problems.append(f"{where}: tables.{name}: unknown table (not in the data map)")
        elif data_map.table(str(name)).retention_rule is None:
            problems.append(f"{where}: tables.{name}: the table has no retention rule")

    policies = []
    for table in data_map.tables:
        if not table.retention_rule or table.retention_rule not in data_map.retention_rules:
            continue
        policy = _policy(
            table,
            data_map,
            masking,
            rule_settings.get(table.retention_rule, {}),
            floors.get(table.qualified_name, []),
            overrides.get(table.qualified_name) or {},
            where,
            problems,
        )
        if policy is not None:
            policies.append(policy)
    if problems:
        raise PolicyError(problems)
    return PolicySet(
        policies=tuple(policies),
        batch_size=int(batch_size),
        max_share=float(max_share),
        secret_env=secret.get("env"),
        secret_airflow_connection=secret.get("airflow_connection"),
        category_masking=tuple(masking.items()),
    )


def _strategy_entry(value: Any, key: str, problems: list[str]) -> tuple[str, dict] | None:
    if isinstance(value, str):
        value = {"strategy": value}
    if not isinstance(value, dict) or not isinstance(value.get("strategy"), str):
        problems.append(f"{key}: expected {{strategy: name, ...parameters}}, got {value!r}")
        return None
    params = {k: v for k, v in value.items() if k != "strategy"}
    name = value["strategy"]
    if name not in strategies.STRATEGIES:
        problems.append(
            f"{key}: unknown strategy {name!r} (known: {', '.join(sorted(strategies.STRATEGIES))})"
        )
        return None
    issues = strategies.STRATEGIES[name].check(params)
    problems.extend(f"{key}: {issue}" for issue in issues)
    return (name, params) if not issues else None


def _masking_by_category(value: Any, where: str, problems: list[str]) -> dict[str, tuple]:
    if not isinstance(value, dict):
        problems.append(f"{where}: masking: expected a mapping of data category -> strategy")
        return {}
    masking = {}
    for category, entry in value.items():
        key = f"{where}: masking.{category}"
        if not any(
            known == category or known.startswith(f"{category}.") for known in datamap.TAXONOMY
        ):
            problems.append(f"{key}: unknown data category (not in steward.datamap.TAXONOMY)")
            continue
        parsed = _strategy_entry(entry, key, problems)
        if parsed:
            masking[str(category)] = parsed
    return masking


def _rule_settings(value: Any, data_map: datamap.DataMap, where: str, problems: list[str]):
    if not isinstance(value, dict):
        problems.append(f"{where}: rules: expected a mapping of rule name -> settings")
        return {}
    for rule, settings in value.items():
        key = f"{where}: rules.{rule}"
        if rule not in data_map.retention_rules:
            problems.append(
                f"{key}: unknown retention rule (not a rule_name of {datamap.RETENTION_RULES_FILE})"
            )
        if not isinstance(settings, dict):
            problems.append(f"{key}: expected a mapping")
            continue
        for unknown in sorted(set(settings) - RULE_KEYS):
            problems.append(f"{key}.{unknown}: unknown key (known: {', '.join(sorted(RULE_KEYS))})")
    return {rule: settings for rule, settings in value.items() if isinstance(settings, dict)}


def _statutory_floors(value: Any, data_map: datamap.DataMap, where: str, problems: list[str]):
    if not isinstance(value, dict):
        problems.append(f"{where}: statutory_minimums: expected a mapping of rule -> tables")
        return {}
    floors: dict[str, list[datamap.RetentionRule]] = {}
    for rule_name, tables in value.items():
        key = f"{where}: statutory_minimums.{rule_name}"
        rule = data_map.retention_rules.get(rule_name)
        if rule is None:
            problems.append(f"{key}: unknown retention rule")
            continue
        if not rule.is_statutory_minimum:
            problems.append(f"{key}: the rule is not marked is_statutory_minimum")
            continue
        if not isinstance(tables, list):
            problems.append(f"{key}: expected a list of schema.table")
            continue
        for table in tables:
            if not data_map.has_table(str(table)):
                problems.append(f"{key}: {table}: unknown table (not in the data map)")
            else:
                floors.setdefault(str(table), []).append(rule)
    # A table whose own rule is statutory has that floor too.
    for table in data_map.tables:
        rule = data_map.retention_rules.get(table.retention_rule or "")
        if rule and rule.is_statutory_minimum:
            floors.setdefault(table.qualified_name, []).append(rule)
    return floors


def _category_strategy(category: str, masking: dict[str, tuple]) -> tuple | None:
    best = None
    for prefix, strategy in masking.items():
        if (category == prefix or category.startswith(prefix + ".")) and (
            best is None or len(prefix) > len(best[0])
        ):
            best = (prefix, strategy)
    return best[1] if best else None


def _policy(
    table: datamap.TableMap,
    data_map: datamap.DataMap,
    masking: dict[str, tuple],
    rule_settings: dict,
    floors: list[datamap.RetentionRule],
    override: Any,
    where: str,
    problems: list[str],
) -> Policy | None:
    name = table.qualified_name
    key = f"{where}: tables.{name}"
    rule = data_map.retention_rules[table.retention_rule or ""]
    before = len(problems)
    if not isinstance(override, dict):
        problems.append(f"{key}: expected a mapping")
        override = {}
    for unknown in sorted(set(override) - TABLE_KEYS):
        problems.append(f"{key}.{unknown}: unknown key (known: {', '.join(sorted(TABLE_KEYS))})")

    rule_period = Period(rule.period_count, rule.period_unit)
    reason = "rule"
    if "period" in override:
        try:
            rule_period = parse_period(override["period"])
            reason = "override"
        except ValueError as exc:
            problems.append(f"{key}.period: {exc}")
    period, floor_name = rule_period, None
    for floor in floors:
        floor_period = Period(floor.period_count, floor.period_unit)
        if floor_period.approximate_days > period.approximate_days:
            period, floor_name, reason = floor_period, floor.name, f"statutory minimum {floor.name}"
        elif floor.name == rule.name:
            floor_name = floor.name
    enabled = override.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.append(f"{key}.enabled: expected true or false")

    column_masking: list[ColumnMasking] = []
    file_column = None
    protected = set(table.primary_key) | {table.subject_key or ""}
    if not table.retention_clock_table:
        protected.add(table.retention_clock or "")
    if rule.action == "anonymise":
        explicit = override.get("columns") or {}
        if not isinstance(explicit, dict):
            problems.append(f"{key}.columns: expected a mapping of column -> strategy")
            explicit = {}
        for column, entry in explicit.items():
            if column not in table.documented_columns:
                problems.append(
                    f"{key}.columns.{column}: unknown column "
                    f"(not listed for {name} in the data map)"
                )
                continue
            parsed = _strategy_entry(entry, f"{key}.columns.{column}", problems)
            if parsed:
                mapped = table.column(column)
                column_masking.append(
                    ColumnMasking(column, mapped.data_category if mapped else None, *parsed)
                )
        for column in table.columns:
            if column.name in explicit:
                continue
            parsed = _category_strategy(column.data_category, masking)
            if parsed is None:
                problems.append(
                    f"{where}: masking: no strategy for data category {column.data_category!r} "
                    f"of {name}.{column.name}"
                )
                continue
            column_masking.append(ColumnMasking(column.name, column.data_category, *parsed))
        for masked in column_masking:
            if masked.column in protected:
                problems.append(
                    f"{key}.columns.{masked.column}: a key or clock column cannot be anonymised"
                )
        if not column_masking:
            problems.append(f"{key}: action anonymise, but no column to anonymise")
    elif "columns" in override:
        problems.append(f"{key}.columns: only for anonymise policies (this one is {rule.action})")
    if rule.action == "delete_file":
        file_column = rule_settings.get("file_column")
        if not file_column:
            problems.append(
                f"{where}: rules.{rule.name}.file_column: missing (action delete_file of {name})"
            )
        elif file_column not in table.documented_columns:
            problems.append(
                f"{where}: rules.{rule.name}.file_column: unknown column {file_column!r} of {name}"
            )
    if len(problems) > before:
        return None
    return Policy(
        name=name,
        schema=table.schema,
        table=table.name,
        primary_key=table.primary_key,
        clock=table.retention_clock or "",
        clock_table=table.retention_clock_table,
        subject_key=table.subject_key,
        rule_name=rule.name,
        action=rule.action,
        period=period,
        rule_period=rule_period,
        period_reason=reason,
        jurisdiction=rule.jurisdiction,
        legal_basis=rule.legal_basis,
        statutory_minimum=floor_name,
        masking=tuple(column_masking),
        file_column=file_column,
        enabled=bool(enabled),
    )


def check_against_warehouse(policy_set: PolicySet, engine: sa.Engine) -> dict[str, dict]:
    """Check every policy's columns in the catalogue; return ``{table: {column: type}}``.

    Raises :class:`PolicyError` naming ``schema.table.column`` for a missing
    column, a strategy that does not fit the column's type, or a not-null column
    set to null.
    """
    schemas = sorted({policy.schema for policy in policy_set.policies})
    query = sa.text(
        "select table_schema, table_name, column_name, data_type, is_nullable"
        " from information_schema.columns where table_schema in :schemas"
    ).bindparams(sa.bindparam("schemas", expanding=True))
    catalogue: dict[str, dict[str, tuple[str, bool]]] = {}
    with engine.connect() as conn:
        for schema, table, column, data_type, nullable in conn.execute(query, {"schemas": schemas}):
            catalogue.setdefault(f"{schema}.{table}", {})[column] = (data_type, nullable == "YES")
    problems = []
    for policy in policy_set.policies:
        columns = catalogue.get(policy.name)
        if columns is None:
            problems.append(f"{policy.name}: table not found in the warehouse")
            continue
        needed = [*policy.primary_key]
        if policy.file_column:
            needed.append(policy.file_column)
        if not policy.clock_table:
            needed.append(policy.clock)
        for column in needed:
            if column not in columns:
                problems.append(f"{policy.name}.{column}: column not found in the warehouse")
        for masked in policy.masking:
            if masked.column not in columns:
                problems.append(f"{policy.name}.{masked.column}: column not found in the warehouse")
                continue
            data_type, nullable = columns[masked.column]
            strategy = strategies.STRATEGIES[masked.strategy]
            if strategy.column_types is not None and data_type not in strategy.column_types:
                problems.append(
                    f"{policy.name}.{masked.column}: strategy {masked.strategy} does not fit "
                    f"type {data_type}"
                )
            if masked.strategy == "nullify" and not nullable:
                problems.append(
                    f"{policy.name}.{masked.column}: strategy nullify on a not-null column"
                )
    if problems:
        raise PolicyError(problems)
    return {
        name: {column: data_type for column, (data_type, _) in columns.items()}
        for name, columns in catalogue.items()
    }
