"""Loading the data map from the dbt sources YAML, with every problem named.

Plain PyYAML and the retention rules seed: no dbt invocation, no database.
"""

from __future__ import annotations

import csv
import difflib
from pathlib import Path
from typing import Any

import yaml

from steward import paths, yamlfile
from steward.datamap import model


def load_data_map(project_dir: Path | None = None) -> model.DataMap:
    """Parse and structurally validate the data map of a dbt project.

    ``project_dir`` defaults to :func:`steward.paths.dbt_project_dir`. Raises
    :class:`DataMapError` listing every problem found.
    """
    project_dir = Path(project_dir or paths.dbt_project_dir()).resolve()
    problems: list[str] = []
    rules = _load_retention_rules(project_dir, problems)
    tables: list[model.TableMap] = []
    # Every table described, valid or not: a reference to a table already
    # reported as malformed is not reported again as "not in the map".
    described: set[str] = set()
    for path in _source_files(project_dir, problems):
        tables.extend(_tables_in_file(path, project_dir, problems, described))
    if not tables and not problems:
        problems.append(f"{project_dir}: no source tables found under the model paths")
    _check_across_tables(tables, described, rules, project_dir, problems)
    if problems:
        raise model.DataMapError(problems)
    return model.DataMap(
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
        project = yamlfile.safe_load(project_file.read_text()) or {}
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
) -> list[model.TableMap]:
    where = _relative(path, project_dir)
    try:
        document = yamlfile.safe_load(path.read_text())
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
        if _internal(source):
            continue  # Steward's own tables (steward.schema.dbt_sources): not personal data
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


def _internal(source: dict) -> bool:
    config = source.get("config")
    meta = config.get("meta") if isinstance(config, dict) else None
    return isinstance(meta, dict) and meta.get(model.INTERNAL_META_KEY) is True


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
    if isinstance(legacy_meta, dict) and model.META_KEY in legacy_meta:
        report(
            f"{key_prefix}meta.{model.META_KEY}",
            f"the data map is read from config.meta.{model.META_KEY} only; move it under config",
        )
    config = entry.get("config") or {}
    meta = config.get("meta") if isinstance(config, dict) else None
    if not isinstance(meta, dict) or model.META_KEY not in meta:
        return False, None
    return True, meta[model.META_KEY]


def _parse_table(
    source: str, schema: str, table: dict, path: Path, where: str, problems: list[str]
) -> model.TableMap | None:
    name = str(table.get("identifier") or table["name"])
    issues = _TableProblems(where, f"{schema}.{name}", problems)
    documented = _documented_columns(table, issues)
    personal = _personal_columns(table, issues)

    present, meta = _steward_meta(table, issues.add, "")
    if not present:
        issues.add(f"config.meta.{model.META_KEY}", "missing: every source table must be mapped")
        return None
    if not isinstance(meta, dict):
        issues.add(f"config.meta.{model.META_KEY}", f"expected a mapping, got {_type_name(meta)}")
        return None
    for key in sorted(set(meta) - model.TABLE_KEYS):
        issues.add(key, f"unknown key (known: {', '.join(sorted(model.TABLE_KEYS))})")

    def listed(key: str, column: str) -> None:
        if column not in documented:
            issues.add(key, f"column {column!r} is not listed under the table's columns")

    subject = meta.get("subject")
    if subject not in model.SUBJECTS:
        issues.add("subject", f"{subject!r} is not one of {', '.join(model.SUBJECTS)}")

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
    if subject in model.SUBJECTS and subject != "none":
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

    record_time = _optional_string(meta.get("record_time"), "record_time", issues)
    if record_time:
        listed("record_time", record_time)

    rule, clock, clock_table = _retention(meta, subject, issues)
    if clock and not clock_table:
        listed("retention.clock", clock)

    if issues.count:
        return None
    return model.TableMap(
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
        record_time=record_time,
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


def _personal_columns(table: dict, issues: _TableProblems) -> list[model.ColumnMap]:
    columns = table.get("columns") or []
    personal: list[model.ColumnMap] = []
    for entry in columns if isinstance(columns, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        name = entry["name"]
        key = f"column {name}: config.meta.{model.META_KEY}"
        present, meta = _steward_meta(entry, issues.add, f"column {name}: ")
        if not present:
            continue
        if not isinstance(meta, dict):
            issues.add(key, f"expected a mapping, got {_type_name(meta)}")
            continue
        for unknown in sorted(set(meta) - model.COLUMN_KEYS):
            known = ", ".join(sorted(model.COLUMN_KEYS))
            issues.add(f"{key}.{unknown}", f"unknown key (known: {known})")
        category = meta.get("data_category")
        if category not in model.TAXONOMY:
            close = difflib.get_close_matches(str(category), sorted(model.TAXONOMY), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            issues.add(
                f"{key}.data_category",
                f"{category!r} is not a category of steward.datamap.TAXONOMY{hint}",
            )
            continue
        personal.append(model.ColumnMap(name=name, data_category=category))
    return personal


def _identifiers(value: Any, issues: _TableProblems) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        issues.add("identifiers", f"expected a mapping of kind -> column, got {_type_name(value)}")
        return {}
    identifiers: dict[str, tuple[str, ...]] = {}
    for kind, columns in value.items():
        if kind not in model.IDENTIFIER_KINDS:
            issues.add(
                f"identifiers.{kind}",
                f"unknown identifier kind (known: {', '.join(model.IDENTIFIER_KINDS)})",
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
        if subject in model.SUBJECTS_NEEDING_RETENTION:
            issues.add("retention", f"missing: {subject} data needs a retention rule")
        return None, None, None
    if not isinstance(value, dict):
        issues.add("retention", f"expected a mapping with rule and clock, got {_type_name(value)}")
        return None, None, None
    for unknown in sorted(set(value) - model.RETENTION_KEYS):
        known = ", ".join(sorted(model.RETENTION_KEYS))
        issues.add(f"retention.{unknown}", f"unknown key (known: {known})")
    rule = _optional_string(value.get("rule"), "retention.rule", issues)
    clock = _optional_string(value.get("clock"), "retention.clock", issues)
    clock_table = _optional_string(value.get("clock_table"), "retention.clock_table", issues)
    if not rule:
        issues.add("retention.rule", "missing")
    if not clock:
        issues.add("retention.clock", "missing")
    return rule, clock, clock_table


def _check_across_tables(
    tables: list[model.TableMap],
    described: set[str],
    rules: dict[str, model.RetentionRule],
    project_dir: Path,
    problems: list[str],
) -> None:
    by_name: dict[str, model.TableMap] = {}
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
                f"of {model.RETENTION_RULES_FILE} (known: {', '.join(sorted(rules))})"
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


def _load_retention_rules(project_dir: Path, problems: list[str]) -> dict[str, model.RetentionRule]:
    path = project_dir / model.RETENTION_RULES_FILE
    where = str(model.RETENTION_RULES_FILE)
    try:
        text = path.read_text()
    except FileNotFoundError:
        problems.append(f"{where}: not found: the retention rules the data map refers to")
        return {}
    reader = csv.DictReader(text.splitlines())
    if tuple(reader.fieldnames or ()) != model.RETENTION_RULE_COLUMNS:
        problems.append(
            f"{where}: header must be {','.join(model.RETENTION_RULE_COLUMNS)}, "
            f"got {','.join(reader.fieldnames or ())}"
        )
        return {}
    rules: dict[str, model.RetentionRule] = {}
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
        if row["period_unit"] not in model.PERIOD_UNITS:
            row_problems.append(
                f"period_unit: {row['period_unit']!r} is not one of {', '.join(model.PERIOD_UNITS)}"
            )
        if row["action"] not in model.RETENTION_ACTIONS:
            row_problems.append(
                f"action: {row['action']!r} is not one of {', '.join(model.RETENTION_ACTIONS)}"
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
        rules[name] = model.RetentionRule(
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
