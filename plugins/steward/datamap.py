"""The data map: who each source table is about and what personal data it holds.

The map is code, kept where dbt keeps its sources: each source table of
``dbt_project/models/**/_<source>__sources.yml`` carries a ``config.meta.steward``
block, and each personal column a ``config.meta.steward.data_category``::

    tables:
      - name: customer_phones
        config:
          meta:
            steward:
              subject: customer            # customer | employee | prospect | none
              subject_key: customer_id     # the column leading to the subject
              primary_key: [phone_id]
              identifiers: {customer_id: customer_id, phone: phone_raw}
              retention: {rule: closed_customer_details, clock: closed_at,
                          clock_table: crm.customers}
        columns:
          - name: phone_raw
            config: {meta: {steward: {data_category: user.contact.phone_number}}}

Table keys:

``subject`` (required)
    Whose data a row is: one of :data:`SUBJECTS`.
``subject_key``
    The column of this table that leads to the subject (``customer_id``).
``subject_key_references``
    ``schema.table`` when ``subject_key`` holds that table's (one-column) primary
    key and the subject is found through it (recordings -> calls -> customer).
``subject_found_via``
    Identifier kinds that find the subject when the table has no key (the DNC
    registry, found by phone only). A subject table needs ``subject_key`` or this.
``primary_key`` (required)
    The columns identifying a row.
``identifiers``
    Identifier kind (:data:`IDENTIFIER_KINDS`) -> column, or list of columns.
``retention``
    ``rule`` (a ``rule_name`` of ``seeds/retention_rules.csv``) and ``clock``
    (the column the period counts from; a null clock never expires). With
    ``clock_table``, the clock is that table's column, joined on the subject key.
    Required for customer and prospect tables.

Every column a map names must be listed under the table's ``columns``, and
:func:`validate_against_warehouse` checks every listed column exists.
Parsing is plain PyYAML: no dbt invocation, no database.
"""

from __future__ import annotations

import csv
import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from steward import paths

TAXONOMY: frozenset[str] = frozenset(
    {
        "user.name",
        "user.name.first",
        "user.name.last",
        "user.contact.email",
        "user.contact.phone_number",
        # A whole postal address in one text (invoices' billing_address).
        "user.contact.address",
        "user.contact.address.street",
        "user.contact.address.city",
        "user.contact.address.postal_code",
        "user.demographic.date_of_birth",
        "user.demographic.gender",
        "user.government_id.national_id",
        "user.financial.card_number",
        "user.financial.bank_account",
        "user.device.ip_address",
        "user.content.free_text",
        "user.content.call_recording",
        "employee.name",
    }
)
SUBJECTS: tuple[str, ...] = ("customer", "employee", "prospect", "none")
# Subjects whose data must age out under a named retention rule.
SUBJECTS_NEEDING_RETENTION: frozenset[str] = frozenset({"customer", "prospect"})
IDENTIFIER_KINDS: tuple[str, ...] = ("customer_id", "email", "phone")
PERIOD_UNITS: tuple[str, ...] = ("day", "month", "year")
RETENTION_ACTIONS: tuple[str, ...] = ("delete", "anonymise", "delete_file")

META_KEY = "steward"
RETENTION_RULES_FILE = Path("seeds") / "retention_rules.csv"
RETENTION_RULE_COLUMNS: tuple[str, ...] = (
    "rule_name",
    "period_count",
    "period_unit",
    "jurisdiction",
    "action",
    "legal_basis",
    "is_statutory_minimum",
)
TABLE_KEYS: frozenset[str] = frozenset(
    {
        "subject",
        "subject_key",
        "subject_key_references",
        "subject_found_via",
        "primary_key",
        "identifiers",
        "retention",
    }
)
RETENTION_KEYS: frozenset[str] = frozenset({"rule", "clock", "clock_table"})
COLUMN_KEYS: frozenset[str] = frozenset({"data_category"})


class DataMapError(ValueError):
    """The data map is malformed, or does not match the warehouse.

    ``problems`` lists every problem found; each names its file or
    ``schema.table.column`` and the offending key.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        heading = "1 problem" if count == 1 else f"{count} problems"
        super().__init__(f"data map: {heading}:\n" + "\n".join(f"  - {p}" for p in self.problems))


@dataclass(frozen=True)
class RetentionRule:
    name: str
    period_count: int
    period_unit: str
    jurisdiction: str | None
    action: str
    legal_basis: str
    is_statutory_minimum: bool


@dataclass(frozen=True)
class ColumnMap:
    """A column holding personal data."""

    name: str
    data_category: str


@dataclass(frozen=True)
class TableMap:
    source: str  # the dbt source name
    schema: str
    name: str
    subject: str
    primary_key: tuple[str, ...]
    subject_key: str | None = None
    subject_key_references: str | None = None
    subject_found_via: tuple[str, ...] = ()
    identifiers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    retention_rule: str | None = None
    retention_clock: str | None = None
    retention_clock_table: str | None = None  # None: the clock is in this table
    columns: tuple[ColumnMap, ...] = ()
    documented_columns: tuple[str, ...] = ()  # every column listed, personal or not
    path: Path | None = None  # the YAML file describing the table

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def has_subject(self) -> bool:
        return self.subject != "none"

    def column(self, name: str) -> ColumnMap | None:
        return next((column for column in self.columns if column.name == name), None)

    def identifier_columns(self, kind: str) -> tuple[str, ...]:
        return self.identifiers.get(kind, ())

    def referenced_columns(self) -> dict[str, str]:
        """Every column of this table the map relies on -> the role it plays."""
        roles: dict[str, str] = {name: "documented column" for name in self.documented_columns}
        for column in self.columns:
            roles[column.name] = f"personal column ({column.data_category})"
        for kind, columns in self.identifiers.items():
            for name in columns:
                roles[name] = f"identifier {kind}"
        if self.retention_clock and not self.retention_clock_table:
            roles[self.retention_clock] = "retention clock"
        if self.subject_key:
            roles[self.subject_key] = "subject key"
        for name in self.primary_key:
            roles[name] = "primary key"
        return roles

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "schema": self.schema,
            "name": self.name,
            "qualified_name": self.qualified_name,
            "subject": self.subject,
            "subject_key": self.subject_key,
            "subject_key_references": self.subject_key_references,
            "subject_found_via": list(self.subject_found_via),
            "primary_key": list(self.primary_key),
            "identifiers": {kind: list(columns) for kind, columns in self.identifiers.items()},
            "retention": (
                {
                    "rule": self.retention_rule,
                    "clock": self.retention_clock,
                    "clock_table": self.retention_clock_table,
                }
                if self.retention_rule
                else None
            ),
            "columns": [
                {"name": column.name, "data_category": column.data_category}
                for column in self.columns
            ],
            "documented_columns": list(self.documented_columns),
            "path": str(self.path) if self.path else None,
        }


@dataclass(frozen=True)
class DataMap:
    tables: list[TableMap]
    retention_rules: dict[str, RetentionRule]
    project_dir: Path

    def table(self, qualified_name: str) -> TableMap:
        for table in self.tables:
            if table.qualified_name == qualified_name:
                return table
        raise KeyError(f"{qualified_name} is not in the data map")

    def has_table(self, qualified_name: str) -> bool:
        return any(table.qualified_name == qualified_name for table in self.tables)

    @property
    def schemas(self) -> list[str]:
        return sorted({table.schema for table in self.tables})

    def personal_columns(self) -> Iterator[tuple[TableMap, ColumnMap]]:
        for table in self.tables:
            for column in table.columns:
                yield table, column

    def to_dict(self) -> dict[str, Any]:
        return {
            "project_dir": str(self.project_dir),
            "retention_rules": {
                name: {
                    "period_count": rule.period_count,
                    "period_unit": rule.period_unit,
                    "jurisdiction": rule.jurisdiction,
                    "action": rule.action,
                    "legal_basis": rule.legal_basis,
                    "is_statutory_minimum": rule.is_statutory_minimum,
                }
                for name, rule in self.retention_rules.items()
            },
            "tables": [table.to_dict() for table in self.tables],
        }


# --- loading ---------------------------------------------------------------


def load_data_map(project_dir: Path | None = None) -> DataMap:
    """Parse and structurally validate the data map of a dbt project.

    ``project_dir`` defaults to :func:`steward.paths.dbt_project_dir`. Raises
    :class:`DataMapError` listing every problem found.
    """
    project_dir = Path(project_dir or paths.dbt_project_dir()).resolve()
    problems: list[str] = []
    rules = _load_retention_rules(project_dir, problems)
    tables: list[TableMap] = []
    # Every table described, valid or not: a reference to a table already
    # reported as malformed is not reported again as "not in the map".
    described: set[str] = set()
    for path in _source_files(project_dir, problems):
        tables.extend(_tables_in_file(path, project_dir, problems, described))
    if not tables and not problems:
        problems.append(f"{project_dir}: no source tables found under the model paths")
    _check_across_tables(tables, described, rules, project_dir, problems)
    if problems:
        raise DataMapError(problems)
    return DataMap(
        tables=sorted(tables, key=lambda table: table.qualified_name),
        retention_rules=rules,
        project_dir=project_dir,
    )


def _relative(path: Path, project_dir: Path) -> str:
    try:
        return str(path.relative_to(project_dir))
    except ValueError:
        return str(path)


def _model_paths(project_dir: Path, problems: list[str]) -> list[str]:
    project_file = project_dir / "dbt_project.yml"
    try:
        project = yaml.safe_load(project_file.read_text()) or {}
    except FileNotFoundError:
        problems.append(f"{project_file}: not found (is this a dbt project?)")
        return []
    except yaml.YAMLError as exc:
        problems.append(f"dbt_project.yml: invalid YAML: {exc}")
        return []
    model_paths = project.get("model-paths", ["models"]) if isinstance(project, dict) else None
    if not isinstance(model_paths, list) or not all(isinstance(p, str) for p in model_paths):
        problems.append("dbt_project.yml: model-paths: expected a list of folder names")
        return []
    return model_paths


def _source_files(project_dir: Path, problems: list[str]) -> list[Path]:
    files: set[Path] = set()
    for folder in _model_paths(project_dir, problems):
        root = project_dir / folder
        files.update(root.rglob("*.yml"))
        files.update(root.rglob("*.yaml"))
    return sorted(files)


def _tables_in_file(
    path: Path, project_dir: Path, problems: list[str], described: set[str]
) -> list[TableMap]:
    where = _relative(path, project_dir)
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problems.append(f"{where}: invalid YAML{at}: {getattr(exc, 'problem', exc)}")
        return []
    if not isinstance(document, dict) or "sources" not in document:
        return []  # model properties, unit tests: not part of the map
    sources = document["sources"]
    if not isinstance(sources, list):
        problems.append(f"{where}: sources: expected a list")
        return []
    tables = []
    for source in sources:
        if not isinstance(source, dict) or not isinstance(source.get("name"), str):
            problems.append(f"{where}: sources: every source needs a name")
            continue
        schema = source.get("schema") or source["name"]
        for table in source.get("tables") or []:
            if not isinstance(table, dict) or not isinstance(table.get("name"), str):
                problems.append(f"{where}: source {source['name']}: every table needs a name")
                continue
            described.add(f"{schema}.{table.get('identifier') or table['name']}")
            parsed = _parse_table(source["name"], str(schema), table, path, where, problems)
            if parsed is not None:
                tables.append(parsed)
    return tables


class _TableProblems:
    """Collects problems about one table, each prefixed with file and table."""

    def __init__(self, where: str, qualified_name: str, problems: list[str]) -> None:
        self.prefix = f"{where}: table {qualified_name}"
        self.problems = problems
        self.count = 0

    def add(self, key: str, message: str) -> None:
        self.count += 1
        self.problems.append(f"{self.prefix}: {key}: {message}")


def _steward_meta(entry: dict, report, key_prefix: str) -> tuple[bool, Any]:
    """The ``config.meta.steward`` block of a table or column: (present, value)."""
    legacy_meta = entry.get("meta")
    if isinstance(legacy_meta, dict) and META_KEY in legacy_meta:
        report(
            f"{key_prefix}meta.{META_KEY}",
            f"the data map is read from config.meta.{META_KEY} only; move it under config",
        )
    config = entry.get("config") or {}
    meta = config.get("meta") if isinstance(config, dict) else None
    if not isinstance(meta, dict) or META_KEY not in meta:
        return False, None
    return True, meta[META_KEY]


def _parse_table(
    source: str, schema: str, table: dict, path: Path, where: str, problems: list[str]
) -> TableMap | None:
    name = str(table.get("identifier") or table["name"])
    issues = _TableProblems(where, f"{schema}.{name}", problems)
    documented = _documented_columns(table, issues)
    personal = _personal_columns(table, issues)

    present, meta = _steward_meta(table, issues.add, "")
    if not present:
        issues.add(f"config.meta.{META_KEY}", "missing: every source table must be mapped")
        return None
    if not isinstance(meta, dict):
        issues.add(f"config.meta.{META_KEY}", f"expected a mapping, got {_type_name(meta)}")
        return None
    for key in sorted(set(meta) - TABLE_KEYS):
        issues.add(key, f"unknown key (known: {', '.join(sorted(TABLE_KEYS))})")

    def listed(key: str, column: str) -> None:
        if column not in documented:
            issues.add(key, f"column {column!r} is not listed under the table's columns")

    subject = meta.get("subject")
    if subject not in SUBJECTS:
        issues.add("subject", f"{subject!r} is not one of {', '.join(SUBJECTS)}")

    primary_key = _string_list(meta.get("primary_key"), "primary_key", issues)
    if not primary_key and "primary_key" in meta and isinstance(meta["primary_key"], list):
        issues.add("primary_key", "must name at least one column")
    if "primary_key" not in meta:
        issues.add("primary_key", "missing")
    for column in primary_key:
        listed("primary_key", column)

    identifiers = _identifiers(meta.get("identifiers"), issues)
    for kind, columns in identifiers.items():
        for column in columns:
            listed(f"identifiers.{kind}", column)

    subject_key = _optional_string(meta.get("subject_key"), "subject_key", issues)
    references = _optional_string(
        meta.get("subject_key_references"), "subject_key_references", issues
    )
    found_via = tuple(_string_list(meta.get("subject_found_via"), "subject_found_via", issues))
    if subject_key:
        listed("subject_key", subject_key)
    if references and not subject_key:
        issues.add("subject_key_references", "needs a subject_key (the referencing column)")
    for kind in found_via:
        if kind not in identifiers:
            issues.add("subject_found_via", f"{kind!r} is not a kind declared under identifiers")
    if subject in SUBJECTS and subject != "none":
        if not subject_key and not found_via:
            issues.add(
                "subject_key",
                f"missing for a {subject} table (or say how the subject is found "
                "with subject_found_via)",
            )
        if subject_key and found_via:
            issues.add("subject_found_via", "give either subject_key or subject_found_via")
    elif subject == "none" and (subject_key or found_via):
        issues.add("subject_key", "a table with subject 'none' has no subject key")

    rule, clock, clock_table = _retention(meta, subject, issues)
    if clock and not clock_table:
        listed("retention.clock", clock)

    if issues.count:
        return None
    return TableMap(
        source=source,
        schema=schema,
        name=name,
        subject=str(subject),
        primary_key=tuple(primary_key),
        subject_key=subject_key,
        subject_key_references=references,
        subject_found_via=found_via,
        identifiers=identifiers,
        retention_rule=rule,
        retention_clock=clock,
        retention_clock_table=clock_table,
        columns=tuple(personal),
        documented_columns=tuple(documented),
        path=path,
    )


def _documented_columns(table: dict, issues: _TableProblems) -> list[str]:
    columns = table.get("columns") or []
    if not isinstance(columns, list):
        issues.add("columns", "expected a list")
        return []
    names: list[str] = []
    for entry in columns:
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str):
            issues.add("columns", f"every column needs a name, got {entry!r}")
        elif name in names:
            issues.add(f"columns.{name}", "listed twice")
        else:
            names.append(name)
    return names


def _personal_columns(table: dict, issues: _TableProblems) -> list[ColumnMap]:
    columns = table.get("columns") or []
    personal: list[ColumnMap] = []
    for entry in columns if isinstance(columns, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        name = entry["name"]
        key = f"column {name}: config.meta.{META_KEY}"
        present, meta = _steward_meta(entry, issues.add, f"column {name}: ")
        if not present:
            continue
        if not isinstance(meta, dict):
            issues.add(key, f"expected a mapping, got {_type_name(meta)}")
            continue
        for unknown in sorted(set(meta) - COLUMN_KEYS):
            issues.add(f"{key}.{unknown}", f"unknown key (known: {', '.join(sorted(COLUMN_KEYS))})")
        category = meta.get("data_category")
        if category not in TAXONOMY:
            close = difflib.get_close_matches(str(category), sorted(TAXONOMY), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            issues.add(
                f"{key}.data_category",
                f"{category!r} is not a category of steward.datamap.TAXONOMY{hint}",
            )
            continue
        personal.append(ColumnMap(name=name, data_category=category))
    return personal


def _identifiers(value: Any, issues: _TableProblems) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        issues.add("identifiers", f"expected a mapping of kind -> column, got {_type_name(value)}")
        return {}
    identifiers: dict[str, tuple[str, ...]] = {}
    for kind, columns in value.items():
        if kind not in IDENTIFIER_KINDS:
            issues.add(
                f"identifiers.{kind}",
                f"unknown identifier kind (known: {', '.join(IDENTIFIER_KINDS)})",
            )
            continue
        names = [columns] if isinstance(columns, str) else columns
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            issues.add(f"identifiers.{kind}", f"expected a column name or a list, got {columns!r}")
            continue
        identifiers[str(kind)] = tuple(names)
    return identifiers


def _retention(
    meta: dict, subject: Any, issues: _TableProblems
) -> tuple[str | None, str | None, str | None]:
    value = meta.get("retention")
    if value is None:
        if subject in SUBJECTS_NEEDING_RETENTION:
            issues.add("retention", f"missing: {subject} data needs a retention rule")
        return None, None, None
    if not isinstance(value, dict):
        issues.add("retention", f"expected a mapping with rule and clock, got {_type_name(value)}")
        return None, None, None
    for unknown in sorted(set(value) - RETENTION_KEYS):
        issues.add(
            f"retention.{unknown}", f"unknown key (known: {', '.join(sorted(RETENTION_KEYS))})"
        )
    rule = _optional_string(value.get("rule"), "retention.rule", issues)
    clock = _optional_string(value.get("clock"), "retention.clock", issues)
    clock_table = _optional_string(value.get("clock_table"), "retention.clock_table", issues)
    if not rule:
        issues.add("retention.rule", "missing")
    if not clock:
        issues.add("retention.clock", "missing")
    return rule, clock, clock_table


def _check_across_tables(
    tables: list[TableMap],
    described: set[str],
    rules: dict[str, RetentionRule],
    project_dir: Path,
    problems: list[str],
) -> None:
    by_name: dict[str, TableMap] = {}
    for table in tables:
        where = _relative(table.path, project_dir) if table.path else "?"
        prefix = f"{where}: table {table.qualified_name}"
        if table.qualified_name in by_name:
            other = by_name[table.qualified_name]
            other_where = _relative(other.path, project_dir) if other.path else "?"
            problems.append(f"{prefix}: described twice (also in {other_where})")
        by_name[table.qualified_name] = table
    for table in tables:
        prefix = f"{_relative(table.path, project_dir) if table.path else '?'}: table "
        prefix += table.qualified_name
        if table.retention_rule and rules and table.retention_rule not in rules:
            problems.append(
                f"{prefix}: retention.rule: {table.retention_rule!r} is not a rule_name "
                f"of {RETENTION_RULES_FILE} (known: {', '.join(sorted(rules))})"
            )
        if table.subject_key_references:
            parent = by_name.get(table.subject_key_references)
            if parent is None and table.subject_key_references in described:
                pass  # malformed, and reported as such
            elif parent is None:
                problems.append(
                    f"{prefix}: subject_key_references: {table.subject_key_references!r} "
                    "is not a table of the data map"
                )
            elif len(parent.primary_key) != 1 or not parent.subject_key:
                problems.append(
                    f"{prefix}: subject_key_references: {parent.qualified_name} needs a "
                    "one-column primary key and a subject_key of its own"
                )
        if table.retention_clock_table:
            clock_table = by_name.get(table.retention_clock_table)
            if clock_table is None and table.retention_clock_table in described:
                pass  # malformed, and reported as such
            elif clock_table is None:
                problems.append(
                    f"{prefix}: retention.clock_table: {table.retention_clock_table!r} "
                    "is not a table of the data map"
                )
            elif table.retention_clock not in clock_table.documented_columns:
                problems.append(
                    f"{prefix}: retention.clock: column {table.retention_clock!r} is not "
                    f"listed under the columns of {clock_table.qualified_name}"
                )
            elif not table.subject_key or clock_table.subject_key != table.subject_key:
                problems.append(
                    f"{prefix}: retention.clock_table: {clock_table.qualified_name} is joined "
                    "on the subject key, which both tables must share"
                )


def _load_retention_rules(project_dir: Path, problems: list[str]) -> dict[str, RetentionRule]:
    path = project_dir / RETENTION_RULES_FILE
    where = str(RETENTION_RULES_FILE)
    try:
        text = path.read_text()
    except FileNotFoundError:
        problems.append(f"{where}: not found: the retention rules the data map refers to")
        return {}
    reader = csv.DictReader(text.splitlines())
    if tuple(reader.fieldnames or ()) != RETENTION_RULE_COLUMNS:
        problems.append(
            f"{where}: header must be {','.join(RETENTION_RULE_COLUMNS)}, "
            f"got {','.join(reader.fieldnames or ())}"
        )
        return {}
    rules: dict[str, RetentionRule] = {}
    for row in reader:
        line = f"{where}: line {reader.line_num}"
        name = (row["rule_name"] or "").strip()
        row_problems = []
        if not name:
            row_problems.append("rule_name: empty")
        elif name in rules:
            row_problems.append(f"rule_name: {name!r} defined twice")
        count = (row["period_count"] or "").strip()
        if not count.isdigit() or int(count) == 0:
            row_problems.append(f"period_count: {count!r} is not a positive whole number")
        if row["period_unit"] not in PERIOD_UNITS:
            row_problems.append(
                f"period_unit: {row['period_unit']!r} is not one of {', '.join(PERIOD_UNITS)}"
            )
        if row["action"] not in RETENTION_ACTIONS:
            row_problems.append(
                f"action: {row['action']!r} is not one of {', '.join(RETENTION_ACTIONS)}"
            )
        if not (row["legal_basis"] or "").strip():
            row_problems.append("legal_basis: empty")
        if row["is_statutory_minimum"] not in ("true", "false"):
            row_problems.append(
                f"is_statutory_minimum: {row['is_statutory_minimum']!r} is not true or false"
            )
        if row_problems:
            problems.extend(f"{line} ({name or '?'}): {problem}" for problem in row_problems)
            continue
        rules[name] = RetentionRule(
            name=name,
            period_count=int(count),
            period_unit=row["period_unit"],
            jurisdiction=(row["jurisdiction"] or "").strip() or None,
            action=row["action"],
            legal_basis=row["legal_basis"].strip(),
            is_statutory_minimum=row["is_statutory_minimum"] == "true",
        )
    return rules


def _optional_string(value: Any, key: str, issues: _TableProblems) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        issues.add(key, f"expected a column name, got {_type_name(value)} {value!r}")
        return None
    return value


def _string_list(value: Any, key: str, issues: _TableProblems) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        issues.add(key, f"expected a list of column names, got {_type_name(value)} {value!r}")
        return []
    return list(value)


def _type_name(value: Any) -> str:
    return type(value).__name__


# --- the warehouse ---------------------------------------------------------


def validate_against_warehouse(data_map: DataMap, engine: sa.Engine) -> None:
    """Check that every mapped table, and every column the map names, exists.

    Reads the database catalogue (``information_schema``) only. Also reports
    tables of the mapped schemas that the map does not describe. Raises
    :class:`DataMapError` listing every problem, each naming ``schema.table.column``.
    """
    catalogue = _warehouse_columns(engine, data_map.schemas)
    problems: list[str] = []
    for table in data_map.tables:
        columns = catalogue.get((table.schema, table.name))
        if columns is None:
            problems.append(f"{table.qualified_name}: table not found in the warehouse")
            continue
        for name, role in table.referenced_columns().items():
            if name not in columns:
                problems.append(f"{table.qualified_name}.{name}: {role} not found in the warehouse")
        if table.retention_clock_table:
            clock_table = data_map.table(table.retention_clock_table)
            clock_columns = catalogue.get((clock_table.schema, clock_table.name))
            if clock_columns is not None and table.retention_clock not in clock_columns:
                problems.append(
                    f"{clock_table.qualified_name}.{table.retention_clock}: retention clock "
                    f"of {table.qualified_name} not found in the warehouse"
                )
    mapped = {(table.schema, table.name) for table in data_map.tables}
    for schema, name in sorted(set(_warehouse_base_tables(engine, data_map.schemas)) - mapped):
        problems.append(f"{schema}.{name}: table in the warehouse but not in the data map")
    if problems:
        raise DataMapError(problems)


def _warehouse_columns(engine: sa.Engine, schemas: list[str]) -> dict[tuple[str, str], set[str]]:
    query = sa.text(
        "select table_schema, table_name, column_name from information_schema.columns"
        " where table_schema in :schemas"
    ).bindparams(sa.bindparam("schemas", expanding=True))
    catalogue: dict[tuple[str, str], set[str]] = {}
    with engine.connect() as conn:
        for schema, table, column in conn.execute(query, {"schemas": schemas}):
            catalogue.setdefault((schema, table), set()).add(column)
    return catalogue


def _warehouse_base_tables(engine: sa.Engine, schemas: list[str]) -> list[tuple[str, str]]:
    query = sa.text(
        "select table_schema, table_name from information_schema.tables"
        " where table_schema in :schemas and table_type = 'BASE TABLE'"
    ).bindparams(sa.bindparam("schemas", expanding=True))
    with engine.connect() as conn:
        return [(schema, name) for schema, name in conn.execute(query, {"schemas": schemas})]
