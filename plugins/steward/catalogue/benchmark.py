"""Accuracy of the PII scan on an external, hand-labelled corpus of real tables.

The corpus (``/work/shared/benchmarks/pii_columns``: CSVs plus ``labels.json``
``{table: {column: info_type}}``, unlisted columns = not PII) is loaded into a
scratch schema of the warehouse, scanned like any other schema, and scored at
column level per info type. The scratch schema is dropped afterwards.
"""

from __future__ import annotations

import io
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from psycopg2 import sql

from steward import paths, warehouse
from steward.catalogue import categories, scanner

DEFAULT_SHARED_DIR = paths.project_root().parent / "shared" / "benchmarks" / "pii_columns"
SCRATCH_SCHEMA = "bench_pii"

# Project category -> the benchmark's info type. Categories missing here
# (first or last name alone, city, postal code, date of birth, free text,
# recordings) have no counterpart in the benchmark's taxonomy.
INFO_TYPES = {
    categories.AGE: "Age",
    categories.GENDER: "Gender",
    categories.FULL_NAME: "Full_Name",
    categories.EMPLOYEE_NAME: "Full_Name",
    categories.STREET: "Street_Address",
    categories.VIN: "Vehicle_Identification_Number",
    categories.CARD_NUMBER: "Credit_Debit_Card_Number",
    categories.NATIONAL_ID: "US_Social_Security_Number",
    categories.EMAIL: "Email_Address",
    categories.BANK_ACCOUNT: "IBAN",
    categories.PHONE: "Phone_Number",
}
IP_INFO_TYPES = {"v4": "IP_Address_v4", "v6": "IP_Address_v6"}
TARGETS = {"precision": 0.95, "recall": 0.90, "non_pii_fp_rate": 0.01}


@dataclass
class BenchmarkResult:
    per_type: dict[str, dict[str, Any]]
    overall: dict[str, Any]
    non_pii_columns: int
    non_pii_false_positives: int
    outside_taxonomy: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    timings: dict[str, Any]
    problems: list[dict[str, Any]] = field(default_factory=list)

    @property
    def non_pii_fp_rate(self) -> float:
        return self.non_pii_false_positives / self.non_pii_columns if self.non_pii_columns else 0.0

    @property
    def meets_targets(self) -> bool:
        return (
            self.overall["precision"] >= TARGETS["precision"]
            and self.overall["recall"] >= TARGETS["recall"]
            and self.non_pii_fp_rate <= TARGETS["non_pii_fp_rate"]
        )


def _sql_type(series: pd.Series) -> tuple[str, pd.Series]:
    """A PostgreSQL type for a pandas column, and the column converted to match."""
    if pd.api.types.is_bool_dtype(series):
        return "boolean", series
    if pd.api.types.is_integer_dtype(series):
        return "bigint", series
    if pd.api.types.is_float_dtype(series):
        present = series.dropna()
        if len(present) and (present == present.round()).all() and present.abs().max() < 2**62:
            return "bigint", series.astype("Int64")  # integers that pandas widened for NaN
        return "double precision", series
    return "text", series


def load_corpus(shared_dir: Path, url: str | None = None, schema: str = SCRATCH_SCHEMA) -> int:
    """Load every CSV into ``schema`` (recreated) with COPY; return the number of columns."""
    connection = warehouse.psycopg2_connect(url)
    column_count = 0
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema))
            )
            cursor.execute(sql.SQL("create schema {}").format(sql.Identifier(schema)))
            for csv_path in sorted((shared_dir / "datasets").glob("*.csv")):
                frame = pd.read_csv(csv_path, low_memory=False)
                table = sql.Identifier(schema, csv_path.stem)
                definitions, converted = [], {}
                for column in frame.columns:
                    sql_type, converted[column] = _sql_type(frame[column])
                    definitions.append(
                        sql.SQL("{} {}").format(sql.Identifier(column), sql.SQL(sql_type))
                    )
                column_count += len(definitions)
                cursor.execute(
                    sql.SQL("create table {} ({})").format(table, sql.SQL(", ").join(definitions))
                )
                buffer = io.StringIO()
                pd.DataFrame(converted).to_csv(buffer, index=False, header=False)
                buffer.seek(0)
                cursor.copy_expert(
                    sql.SQL("copy {} ({}) from stdin with (format csv)").format(
                        table, sql.SQL(", ").join(sql.Identifier(c) for c in frame.columns)
                    ),
                    buffer,
                )
                cursor.execute(sql.SQL("analyze {}").format(table))
    finally:
        connection.close()
    return column_count


def drop_corpus(url: str | None = None, schema: str = SCRATCH_SCHEMA) -> None:
    connection = warehouse.psycopg2_connect(url)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema))
            )
    finally:
        connection.close()


def predicted_info_type(finding: scanner.ColumnFinding) -> str | None:
    if finding.category == categories.IP_ADDRESS:
        tags = finding.evidence.get("tags", {})
        return IP_INFO_TYPES["v6" if tags.get("v6", 0) > tags.get("v4", 0) else "v4"]
    return INFO_TYPES.get(finding.category)


def score(
    report: scanner.ScanReport, labels: dict[str, dict[str, str]], schema: str
) -> BenchmarkResult:
    all_columns = {
        (status.table, status.column) for status in report.columns if status.schema == schema
    }
    predictions = {(f.table, f.column): f for f in report.pii() if f.schema == schema}
    truth = {
        (table, column): kind for table, cols in labels.items() for column, kind in cols.items()
    }
    types = sorted(set(truth.values()))
    counts = {kind: Counter() for kind in types}
    errors, outside = [], []
    non_pii = fp_non_pii = 0
    for key in sorted(all_columns | set(truth)):
        label = truth.get(key)
        finding = predictions.get(key)
        predicted = predicted_info_type(finding) if finding else None
        if label is None:
            non_pii += 1
            fp_non_pii += predicted is not None
        if finding and predicted is None:
            outside.append(
                {
                    "table": key[0],
                    "column": key[1],
                    "category": finding.category,
                    "labelled": label,
                    "rule": finding.evidence.get("rule"),
                }
            )
        if label and predicted == label:
            counts[label]["tp"] += 1
            continue
        if label:
            counts[label]["fn"] += 1
        if predicted in counts:
            counts[predicted]["fp"] += 1
        if label or predicted:
            errors.append(
                {
                    "table": key[0],
                    "column": key[1],
                    "labelled": label,
                    "predicted": predicted,
                    "category": finding.category if finding else None,
                    "confidence": finding.confidence if finding else None,
                    "rule": finding.evidence.get("rule") if finding else None,
                }
            )
    per_type = {kind: _metrics(c["tp"], c["fp"], c["fn"]) for kind, c in counts.items()}
    total = sum(counts.values(), Counter())
    return BenchmarkResult(
        per_type=per_type,
        overall=_metrics(total["tp"], total["fp"], total["fn"]),
        non_pii_columns=non_pii,
        non_pii_false_positives=fp_non_pii,
        outside_taxonomy=outside,
        errors=errors,
        timings={},
        problems=[vars(p) for p in report.problems],
    )


def _metrics(tp: int, fp: int, fn: int) -> dict[str, Any]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "labelled": tp + fn,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def to_markdown(result: BenchmarkResult) -> str:
    lines = [
        "| Info type | Labelled | TP | FP | FN | Precision | Recall | F1 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows = sorted(result.per_type.items(), key=lambda item: -item[1]["labelled"])
    for kind, m in [*rows, ("**Overall**", result.overall)]:
        lines.append(
            f"| {kind} | {m['labelled']} | {m['tp']} | {m['fp']} | {m['fn']} "
            f"| {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} |"
        )
    lines += [
        "",
        f"Non-PII columns flagged with a benchmark info type: {result.non_pii_false_positives}"
        f" / {result.non_pii_columns} = {result.non_pii_fp_rate:.2%}",
        f"Targets (precision >= {TARGETS['precision']}, recall >= {TARGETS['recall']}, "
        f"non-PII FP rate <= {TARGETS['non_pii_fp_rate']:.0%}): "
        + ("met" if result.meets_targets else "NOT met"),
    ]
    if result.errors:
        lines += ["", "Misses and confusions:", ""]
        for e in result.errors:
            lines.append(
                f"- `{e['table']}`.`{e['column']}`: labelled {e['labelled'] or 'not PII'}, "
                f"predicted {e['predicted'] or 'not PII'}"
                + (f" ({e['category']}, {e['confidence']}, {e['rule']})" if e["category"] else "")
            )
    if result.outside_taxonomy:
        lines += [
            "",
            "Reported as PII in categories the benchmark has no type for (not counted above;",
            "the benchmark calls these columns not PII, a debatable label for most):",
            "",
        ]
        by_category: dict[str, list[str]] = {}
        for item in result.outside_taxonomy:
            by_category.setdefault(item["category"], []).append(
                f"`{item['table']}`.`{item['column']}`"
            )
        for category, columns in sorted(by_category.items()):
            lines.append(f"- {category} ({len(columns)}): {', '.join(columns)}")
        strict = result.non_pii_false_positives + sum(
            1 for item in result.outside_taxonomy if item["labelled"] is None
        )
        lines.append(
            f"\nStrict reading (any PII category on a column the benchmark calls not PII): "
            f"{strict} / {result.non_pii_columns} = {strict / max(result.non_pii_columns, 1):.2%}"
        )
    if result.problems:
        lines += ["", f"Scan problems: {len(result.problems)}"]
    t = result.timings
    lines += [
        "",
        f"Loaded {t.get('columns')} columns in {t.get('load_seconds')} s; "
        f"scan {t.get('scan_seconds')} s "
        f"(sample_rows={t.get('sample_rows')}, mode={t.get('mode')}).",
    ]
    return "\n".join(lines)


def run_benchmark(
    shared_dir: Path | str = DEFAULT_SHARED_DIR,
    *,
    url: str | None = None,
    schema: str = SCRATCH_SCHEMA,
    sample_rows: int = 1000,
    seed: int = scanner.DEFAULT_SEED,
    full_scan: bool = False,
    keep_schema: bool = False,
) -> BenchmarkResult:
    """Load the corpus, scan it, score it, drop the scratch schema; see the module docstring."""
    shared_dir = Path(shared_dir)
    labels = json.loads((shared_dir / "labels.json").read_text())
    started = time.perf_counter()
    column_count = load_corpus(shared_dir, url, schema)
    load_seconds = time.perf_counter() - started
    try:
        report = scanner.scan_schemas(
            warehouse.engine(url), [schema], sample_rows=sample_rows, seed=seed, full_scan=full_scan
        )
    finally:
        if not keep_schema:
            drop_corpus(url, schema)
    result = score(report, labels, schema)
    result.timings = {
        "columns": column_count,
        "load_seconds": round(load_seconds, 2),
        "scan_seconds": round(report.timings["total_seconds"], 2),
        "sample_rows": sample_rows,
        "mode": report.parameters["mode"],
    }
    return result
