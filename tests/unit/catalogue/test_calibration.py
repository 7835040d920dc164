"""Calibrated confidence: a monotone map per kind of evidence that never crosses the threshold."""

from __future__ import annotations

import json

import pytest

from steward.catalogue import benchmark, calibration, scanner, scoring
from steward.catalogue import categories as cat


def test_isotonic_fit_is_monotone_and_follows_the_share_right():
    observations = [(0.3, False)] * 20 + [(0.6, True), (0.6, False)] * 10 + [(0.95, True)] * 40
    knots = calibration.fit_isotonic(observations, prior=0.6)
    shares = [share for _, share in knots]
    assert shares == sorted(shares)
    assert shares[0] < 0.15 and 0.4 < shares[1] < 0.6 and shares[-1] > 0.9


def test_a_dip_in_the_share_right_is_pooled_into_one_block():
    observations = [(0.5, True)] * 10 + [(0.7, False)] * 10 + [(0.9, True)] * 10
    knots = calibration.fit_isotonic(observations, prior=0.66)
    assert len(knots) == 2  # 0.5 and 0.7 pooled: the fit never goes down


def test_equal_raw_confidences_share_one_knot():
    knots = calibration.fit_isotonic([(0.4, True), (0.4, False), (0.4, False)], prior=0.5)
    assert len({raw for raw, _ in knots}) == len(knots) == 1


def test_calibration_never_moves_a_finding_across_the_threshold():
    fitted = calibration.fit([(0.9, "content only", False)] * 30 + [(0.2, "name only", True)] * 30)
    above = calibration.apply_to_kind(fitted, 0.9, "content only")
    below = calibration.apply_to_kind(fitted, 0.2, "name only")
    assert above == scoring.PII_THRESHOLD  # mostly wrong, but still reported as PII
    assert below < scoring.PII_THRESHOLD
    assert calibration.apply(None, 0.73, "name only") == 0.73


def test_rare_kinds_use_the_map_of_all_kinds():
    fitted = calibration.fit([(0.9, "name and content", True)] * 40 + [(0.8, "name only", True)])
    assert "name only" not in fitted["maps"] and "name and content" in fitted["maps"]
    assert calibration.apply_to_kind(fitted, 0.8, "name only") > 0.5


@pytest.mark.parametrize(
    ("rule", "kind"),
    [
        ("name+content", "name and content"),
        ("content (name agrees)", "name and content"),
        ("content only", "content only"),
        ("name only", "name only"),
        ("name only, no values to check: a suggestion", "suggestion"),
        ("free text spans", "free text"),
        (None, calibration.ALL_KINDS),
    ],
)
def test_evidence_kinds(rule, kind):
    assert calibration.evidence_kind(rule) == kind


def test_the_packaged_map_is_valid_and_versioned():
    document = json.loads(calibration.CALIBRATION_FILE.read_text())
    assert document["format_version"] == calibration.FORMAT_VERSION
    assert calibration.version() == document["version"]
    for knots in document["maps"].values():
        shares = [share for _, share in knots]
        assert shares == sorted(shares) and all(0 <= s <= 1 for s in shares)


def test_fitting_on_nothing_is_a_clear_error():
    with pytest.raises(ValueError, match="no observations"):
        calibration.fit([])


def test_benchmark_leaves_unscored_labels_out_of_every_count(tmp_path):
    (tmp_path / "labels.json").write_text('{"t": {"a": "EMAIL", "b": "NAME.MIDDLE"}}')
    (tmp_path / "corpus.json").write_text(
        '{"types": {"EMAIL": "Email_Address"}, "unscored": ["NAME.MIDDLE"], "tables": {}}'
    )
    corpus = benchmark.load_corpus_spec(tmp_path)
    report = scanner.ScanReport(
        findings=[
            scanner.ColumnFinding("s", "t", "a", cat.EMAIL, 0.9, True, {"rule": "name+content"}),
            scanner.ColumnFinding("s", "t", "b", cat.FIRST_NAME, 0.9, True, {"rule": "x"}),
        ],
        columns=[scanner.ColumnStatus("s", "t", column, "text", "scanned") for column in "abc"],
    )
    result = benchmark.score(report, corpus, "s")
    assert result.overall["precision"] == 1.0 and result.non_pii_columns == 1
    assert [kind for _, kind, _, _ in result.raw_observations] == ["name and content"]
