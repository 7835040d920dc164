"""The external corpora committed under benchmarks/corpora load as the PII benchmark reads them."""

from __future__ import annotations

import json
from collections import Counter

import pandas as pd

from steward import paths
from steward.catalogue import benchmark, scanner
from steward.catalogue import categories as cat

GITTABLES_PII = paths.project_root() / "benchmarks" / "corpora" / "gittables_pii"


def test_the_gittables_pii_corpus_loads_with_upstreams_labels_unchanged():
    corpus = benchmark.load_corpus_spec(GITTABLES_PII)
    assert len(corpus.tables) == 53 and all(path.exists() for path in corpus.tables.values())
    kinds = Counter(
        kind for columns in corpus.labels.values() for labels in columns.values() for kind in labels
    )
    assert kinds == {
        "Person_Name": 83,
        "Street_Address": 28,
        "Email_Address": 25,
        "Phone_Number": 23,
        "Date_Of_Birth": 21,
        "Postal_Code": 17,
        "Gender": 10,
        "IP_Address": 3,
        "Age": 2,
    }
    assert len(corpus.unscored) == 146  # GENERIC_ID: record keys and national ids alike
    for table, columns in corpus.labels.items():
        header = pd.read_csv(corpus.tables[table], nrows=0).columns
        assert set(columns) <= set(header), table
    # labels.json re-keys upstream's per-column labels; it changes none of them.
    upstream = json.loads((GITTABLES_PII / "source" / "gittables_annotated.json").read_text())
    ours = json.loads((GITTABLES_PII / "labels.json").read_text())
    pairs = Counter(
        (column, info["pii_gt"])
        for table in upstream.values()
        for column, info in table["columns"].items()
    )
    assert pairs == Counter((c, label) for table in ours.values() for c, label in table.items())


def test_a_corpus_that_coarsens_names_still_scores_the_person_name_summary(tmp_path):
    (tmp_path / "labels.json").write_text('{"t": {"a": "PERSON_NAME", "b": "None"}}')
    (tmp_path / "corpus.json").write_text(
        '{"types": {"PERSON_NAME": "Person_Name"}, "tables": {},'
        ' "coarsen": {"First_Name": "Person_Name", "Full_Name": "Person_Name"},'
        ' "out_of_scope": []}'
    )
    corpus = benchmark.load_corpus_spec(tmp_path)
    report = scanner.ScanReport(
        findings=[
            scanner.ColumnFinding("s", "t", "a", cat.FIRST_NAME, 0.9, True, {}),
            scanner.ColumnFinding("s", "t", "b", cat.FULL_NAME, 0.9, True, {}),
        ],
        columns=[scanner.ColumnStatus("s", "t", column, "text", "scanned") for column in "ab"],
    )
    result = benchmark.score(report, corpus, "s")
    assert result.per_type["Person_Name"] == result.person_name
    assert (result.person_name["tp"], result.person_name["fp"]) == (1, 1)
