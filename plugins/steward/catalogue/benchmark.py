"""Accuracy of the PII scan on external, labelled corpora of tables, and its calibration.

A corpus is a directory with ``labels.json`` (``{table: {column: label}}``,
unlisted columns = not PII) and its CSVs: ``datasets/*.csv`` (one table per
file), or the ``tables`` of an optional ``corpus.json`` that also maps the
corpus's own label vocabulary onto the info types below (``types``), merges
types it does not distinguish (``coarsen``), names the project categories
the corpus never annotates (``out_of_scope``: reported apart, not scored) and
the labels whose columns are neither PII nor not PII for this taxonomy
(``unscored``: a middle name, an address's second line; left out of every count).
A label may list several kinds ("phone_number,email"): any of them is right.

Each corpus is loaded into a scratch schema, scanned like any other schema,
and scored at column level per info type. Every prediction of an info type on
a column labelled otherwise (or not labelled) is a false positive of that type,
whether or not the corpus uses the type anywhere. The scratch schema is dropped.
"""

from __future__ import annotations

import io
import itertools
import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from psycopg2 import sql

from steward import paths, warehouse
from steward.catalogue import calibration, categories, scanner

DEFAULT_SHARED_DIR = paths.project_root().parent / "shared" / "benchmarks" / "pii_columns"
SEMANTIC_TYPES_DIR = paths.project_root() / "benchmarks" / "corpora" / "semantic_types"
SECOND_CORPUS_DIR = paths.project_root() / "benchmarks" / "corpora" / "dessi_mf"
DEFAULT_CORPORA = (DEFAULT_SHARED_DIR, SEMANTIC_TYPES_DIR, SECOND_CORPUS_DIR)
SCRATCH_SCHEMA = "bench_pii"

# Project category -> info type (DataHub's names, plus the kinds it lacks).
INFO_TYPES = {
    categories.AGE: "Age",
    categories.GENDER: "Gender",
    categories.FULL_NAME: "Full_Name",
    categories.EMPLOYEE_NAME: "Full_Name",
    categories.FIRST_NAME: "First_Name",
    categories.LAST_NAME: "Last_Name",
    categories.CITY: "City",
    categories.POSTAL_CODE: "Postal_Code",
    categories.DATE_OF_BIRTH: "Date_Of_Birth",
    categories.STREET: "Street_Address",
    categories.VIN: "Vehicle_Identification_Number",
    categories.CARD_NUMBER: "Credit_Debit_Card_Number",
    categories.NATIONAL_ID: "National_ID",
    categories.US_SSN: "US_Social_Security_Number",
    **{
        category: "National_ID"
        for category in categories.NATIONAL_IDS
        if category != categories.US_SSN
    },
    categories.EMAIL: "Email_Address",
    categories.BANK_ACCOUNT: "IBAN",
    categories.PHONE: "Phone_Number",
    categories.FREE_TEXT: "Free_Text",
    categories.CALL_RECORDING: "Call_Recording",
}
IP_INFO_TYPES = {"v4": "IP_Address_v4", "v6": "IP_Address_v6"}
# "Person_Name": a corpus that does not tell first, last and full names apart (coarsen to it).
PERSON_NAME_TYPES = frozenset({"Full_Name", "First_Name", "Last_Name", "Person_Name"})
# DataHub's corpus labels none of these kinds: findings of them are listed, not scored.
DATAHUB_OUT_OF_SCOPE = (
    categories.FIRST_NAME,
    categories.LAST_NAME,
    categories.CITY,
    categories.POSTAL_CODE,
    categories.DATE_OF_BIRTH,
    categories.FREE_TEXT,
    categories.CALL_RECORDING,
)
TARGETS = {"precision": 0.95, "recall": 0.90, "non_pii_fp_rate": 0.01}
# Issue 13's goal on a corpus Steward was not built against, per info type.
PER_TYPE_GOAL = {"precision": 0.90, "recall": 0.85, "min_labelled": 5, "non_pii_fp_rate": 0.02}
CALIBRATION_BINS = (0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0001)


@dataclass(frozen=True)
class Corpus:
    directory: Path
    name: str
    tables: dict[str, Path]  # table name -> CSV
    labels: dict[str, dict[str, frozenset[str]]]  # table -> column -> info types
    out_of_scope: frozenset[str]
    coarsen: dict[str, str]
    unscored: frozenset[tuple[str, str]] = frozenset()  # (table, column) left out of scoring


def load_corpus_spec(directory: Path | str) -> Corpus:
    """Read a corpus directory (see the module docstring)."""
    directory = Path(directory)
    spec: dict[str, Any] = {}
    if (directory / "corpus.json").exists():
        spec = json.loads((directory / "corpus.json").read_text())
    if "tables" in spec:
        tables = {name: directory / path for name, path in spec["tables"].items()}
    else:
        tables = {path.stem: path for path in sorted((directory / "datasets").glob("*.csv"))}
    type_map: dict[str, str] | None = spec.get("types")
    raw = json.loads((directory / "labels.json").read_text())
    unscored_labels = set(spec.get("unscored", []))
    labels: dict[str, dict[str, frozenset[str]]] = {}
    unscored: set[tuple[str, str]] = set()
    for table, columns in raw.items():
        for column, label in columns.items():
            kinds = [part.strip() for part in label.split(",")] if type_map else [label]
            if unscored_labels.intersection(kinds):
                unscored.add((table, column))
                continue
            mapped = {type_map.get(kind) if type_map else kind for kind in kinds} - {None}
            if mapped:
                labels.setdefault(table, {})[column] = frozenset(mapped)
    return Corpus(
        directory=directory,
        name=spec.get("name", directory.name),
        tables=tables,
        labels=labels,
        out_of_scope=frozenset(spec.get("out_of_scope", DATAHUB_OUT_OF_SCOPE)),
        coarsen=dict(spec.get("coarsen", {})),
        unscored=frozenset(unscored),
    )


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
    person_name: dict[str, Any] = field(default_factory=dict)
    calibration: list[dict[str, Any]] = field(default_factory=list)
    corpus: str = ""
    observations: list[tuple[float, bool]] = field(default_factory=list)
    # (raw confidence, evidence kind, right?, table) per column, to fit calibration maps on
    raw_observations: list[tuple[float, str, bool, str]] = field(default_factory=list)

    @property
    def non_pii_fp_rate(self) -> float:
        return self.non_pii_false_positives / self.non_pii_columns if self.non_pii_columns else 0.0

    def per_type_shortfalls(self) -> list[str]:
        """Info types (with enough labelled columns) below the per-type goal."""
        goal = PER_TYPE_GOAL
        return [
            kind
            for kind, m in self.per_type.items()
            if m["labelled"] >= goal["min_labelled"]
            and (m["precision"] < goal["precision"] or m["recall"] < goal["recall"])
        ]

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


def load_corpus(corpus: Corpus, url: str | None = None, schema: str = SCRATCH_SCHEMA) -> int:
    """Load every table's CSV into ``schema`` (recreated) with COPY; return the column count."""
    connection = warehouse.psycopg2_connect(url)
    column_count = 0
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema))
            )
            cursor.execute(sql.SQL("create schema {}").format(sql.Identifier(schema)))
            for table_name, csv_path in corpus.tables.items():
                frame = pd.read_csv(csv_path, low_memory=False)
                table = sql.Identifier(schema, table_name)
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


def predicted_info_type(
    finding: scanner.ColumnFinding, coarsen: dict[str, str] | None = None
) -> str | None:
    if finding.category == categories.IP_ADDRESS:
        tags = finding.evidence.get("tags", {})
        kind = IP_INFO_TYPES["v6" if tags.get("v6", 0) > tags.get("v4", 0) else "v4"]
    else:
        kind = INFO_TYPES.get(finding.category)
    return (coarsen or {}).get(kind, kind) if kind else None


def _best_findings(report: scanner.ScanReport, schema: str) -> dict[tuple[str, str], Any]:
    """Each column's most confident finding, PII or not (for the reliability table)."""
    best: dict[tuple[str, str], scanner.ColumnFinding] = {}
    for finding in report.findings:
        key = (finding.table, finding.column)
        if finding.schema == schema and (
            key not in best or finding.confidence > best[key].confidence
        ):
            best[key] = finding
    return best


def score(report: scanner.ScanReport, corpus: Corpus, schema: str) -> BenchmarkResult:
    all_columns = {
        (status.table, status.column) for status in report.columns if status.schema == schema
    }
    in_scope = [f for f in report.pii() if f.schema == schema]
    predictions = {
        (f.table, f.column): f for f in in_scope if f.category not in corpus.out_of_scope
    }
    outside_findings = {
        (f.table, f.column): f for f in in_scope if f.category in corpus.out_of_scope
    }
    truth = {
        (table, column): kinds
        for table, columns in corpus.labels.items()
        for column, kinds in columns.items()
    }
    counts: dict[str, Counter] = defaultdict(Counter)
    names = Counter()
    errors, outside = [], []
    non_pii = fp_non_pii = 0
    for key in sorted((all_columns | set(truth)) - corpus.unscored):
        label = truth.get(key)
        finding = predictions.get(key)
        predicted = predicted_info_type(finding, corpus.coarsen) if finding else None
        if key in outside_findings:
            item = outside_findings[key]
            outside.append(
                {
                    "table": key[0],
                    "column": key[1],
                    "category": item.category,
                    "labelled": ",".join(sorted(label)) if label else None,
                    "rule": item.evidence.get("rule"),
                }
            )
        _count_person_name(names, label, predicted)
        if label is None:
            non_pii += 1
            fp_non_pii += predicted is not None
        if label and predicted in label:
            counts[predicted]["tp"] += 1
            continue
        if label:
            counts[sorted(label)[0]]["fn"] += 1
        if predicted:
            counts[predicted]["fp"] += 1
        if label or predicted:
            errors.append(
                {
                    "table": key[0],
                    "column": key[1],
                    "labelled": ",".join(sorted(label)) if label else None,
                    "predicted": predicted,
                    "category": finding.category if finding else None,
                    "confidence": finding.confidence if finding else None,
                    "rule": finding.evidence.get("rule") if finding else None,
                }
            )
    per_type = {kind: _metrics(c["tp"], c["fp"], c["fn"]) for kind, c in sorted(counts.items())}
    total = sum(counts.values(), Counter())
    observations = _observations(report, corpus, schema, truth)
    raw_observations = _observations(report, corpus, schema, truth, raw=True)
    return BenchmarkResult(
        per_type=per_type,
        overall=_metrics(total["tp"], total["fp"], total["fn"]),
        non_pii_columns=non_pii,
        non_pii_false_positives=fp_non_pii,
        outside_taxonomy=outside,
        errors=errors,
        timings={},
        problems=[vars(p) for p in report.problems],
        person_name=_metrics(names["tp"], names["fp"], names["fn"]),
        calibration=reliability(observations),
        corpus=corpus.name,
        observations=observations,
        raw_observations=raw_observations,
    )


def _count_person_name(names: Counter, label: frozenset[str] | None, predicted: str | None) -> None:
    """First, last and full names all as one "person name" (the taxonomy's parent)."""
    labelled = bool(label and label & PERSON_NAME_TYPES)
    said = predicted in PERSON_NAME_TYPES
    if labelled and said:
        names["tp"] += 1
    elif labelled:
        names["fn"] += 1
    elif said:
        names["fp"] += 1


def _observations(
    report: scanner.ScanReport, corpus: Corpus, schema: str, truth: dict, *, raw: bool = False
) -> list[tuple]:
    """(confidence, right?) for each column's strongest in-scope finding, PII or not;
    with ``raw``, (raw confidence, evidence kind, right?, table) instead."""
    observed: list[tuple] = []
    for key, finding in _best_findings(report, schema).items():
        if finding.category in corpus.out_of_scope or key in corpus.unscored:
            continue
        predicted = predicted_info_type(finding, corpus.coarsen)
        if predicted is None:
            continue
        right = bool(truth.get(key) and predicted in truth[key])
        if raw:
            rule = finding.evidence.get("rule")
            raw_confidence = finding.evidence.get("raw_confidence", finding.confidence)
            observed.append((raw_confidence, calibration.evidence_kind(rule), right, key[0]))
        else:
            observed.append((finding.confidence, right))
    return observed


def reliability(observations: list[tuple[float, bool]]) -> list[dict[str, Any]]:
    """Share of findings that are right, per confidence bin (a reliability table)."""
    rows = []
    for low, high in itertools.pairwise(CALIBRATION_BINS):
        inside = [(c, ok) for c, ok in observations if low <= c < high]
        if not inside:
            continue
        rows.append(
            {
                "bin": f"{low:.1f}-{min(high, 1.0):.1f}",
                "findings": len(inside),
                "mean_confidence": sum(c for c, _ in inside) / len(inside),
                "share_right": sum(ok for _, ok in inside) / len(inside),
            }
        )
    return rows


def reliability_markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| confidence | findings | mean confidence | share right |",
        "| --- | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['bin']} | {row['findings']} | {row['mean_confidence']:.2f} "
            f"| {row['share_right']:.2f} |"
        )
    return "\n".join(lines)


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
        f"Corpus: {result.corpus}",
        "",
        "| Info type | Labelled | TP | FP | FN | Precision | Recall | F1 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows = sorted(result.per_type.items(), key=lambda item: -item[1]["labelled"])
    extra = (
        [("Person name (first, last or full)", result.person_name)] if result.person_name else []
    )
    for kind, m in [*rows, ("**Overall**", result.overall), *extra]:
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
        f"Per-type goal (precision >= {PER_TYPE_GOAL['precision']}, recall >= "
        f"{PER_TYPE_GOAL['recall']} where >= {PER_TYPE_GOAL['min_labelled']} labelled; non-PII "
        f"FP rate <= {PER_TYPE_GOAL['non_pii_fp_rate']:.0%}): "
        + (
            "met"
            if not result.per_type_shortfalls()
            and result.non_pii_fp_rate <= PER_TYPE_GOAL["non_pii_fp_rate"]
            else f"NOT met ({', '.join(result.per_type_shortfalls()) or 'FP rate'})"
        ),
    ]
    if result.calibration:
        lines += ["", "Reliability (each column's strongest finding):", ""]
        lines.append(reliability_markdown(result.calibration))
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
            "Reported as PII in categories this corpus never annotates (not counted above;",
            "the corpus calls these columns not PII, a debatable label for most):",
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
    corpus = load_corpus_spec(shared_dir)
    started = time.perf_counter()
    column_count = load_corpus(corpus, url, schema)
    load_seconds = time.perf_counter() - started
    try:
        report = scanner.scan_schemas(
            warehouse.engine(url), [schema], sample_rows=sample_rows, seed=seed, full_scan=full_scan
        )
    finally:
        if not keep_schema:
            drop_corpus(url, schema)
    result = score(report, corpus, schema)
    result.timings = {
        "columns": column_count,
        "load_seconds": round(load_seconds, 2),
        "scan_seconds": round(report.timings["total_seconds"], 2),
        "sample_rows": sample_rows,
        "mode": report.parameters["mode"],
    }
    return result
