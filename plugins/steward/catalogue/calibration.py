"""Calibrated confidence: what a finding's confidence says about how often it is right.

The scorer (``scoring``) turns name and content evidence into a raw confidence; its
scale is a design choice, not a probability. A monotone map per kind of evidence
(name + content, content only, name only...), fitted on external labelled corpora by
``benchmarks/pii_calibration.py`` and stored in ``calibration.json`` (versioned, in
this package), turns it into the share of such findings that were right there.

The map never moves a finding across ``scoring.PII_THRESHOLD``: which columns are
reported as PII is decided by the evidence rules (and their tests); calibration only
changes what the number means. A finding at or above the threshold keeps at least the
threshold, one below stays below it.

The fit is isotonic (pool-adjacent-violators) on (raw confidence, right?) pairs,
with each pooled block's share right smoothed towards the corpus-wide share (a few
findings do not make a 0 or a 1). A kind with fewer than ``MIN_FINDINGS_PER_KIND``
findings uses the map fitted on all kinds together.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
FORMAT_VERSION = 1
ALL_KINDS = "all"
MIN_FINDINGS_PER_KIND = 25
PRIOR_WEIGHT = 2.0  # pseudo-findings at the corpus-wide share, per pooled block
THRESHOLD = 0.5  # scoring.PII_THRESHOLD (not imported: scoring imports this module)
BELOW_THRESHOLD_CEILING = 0.499

Knots = list[tuple[float, float]]


def evidence_kind(rule: str | None) -> str:
    """The kind of evidence behind a finding, from its ``evidence["rule"]``."""
    text = (rule or "").lower()
    if "suggestion" in text:
        return "suggestion"
    if text.startswith("content only"):
        return "content only"
    if text.startswith("content (name agrees)") or text == "name+content":
        return "name and content"
    if "span" in text:
        return "free text"
    if text.startswith("name only"):
        return "name only"
    return ALL_KINDS


def fit_isotonic(observations: Iterable[tuple[float, bool]], prior: float) -> Knots:
    """Knots (mean raw confidence, smoothed share right) of the monotone fit."""
    by_raw: dict[float, list[float]] = {}  # equal raw confidences start in one block
    for raw, right in observations:
        block = by_raw.setdefault(raw, [0.0, 0.0, 0.0])
        block[0] += raw
        block[1] += float(right)
        block[2] += 1.0
    blocks: list[list[float]] = []  # [sum_raw, right, count]
    for _, block in sorted(by_raw.items()):
        blocks.append(block)
        # Pool while a block's share right is not above its left neighbour's.
        while len(blocks) > 1 and _share(blocks[-2], prior) >= _share(blocks[-1], prior):
            last = blocks.pop()
            for i in range(3):
                blocks[-1][i] += last[i]
    return [(round(b[0] / b[2], 4), round(_share(b, prior), 4)) for b in blocks]


def _share(block: list[float], prior: float) -> float:
    return (block[1] + PRIOR_WEIGHT * prior) / (block[2] + PRIOR_WEIGHT)


def fit(observations: Sequence[tuple]) -> dict[str, Any]:
    """Maps per evidence kind (and for all kinds) from (raw, kind, right, ...) observations."""
    observations = [tuple(o[:3]) for o in observations]
    if not observations:
        raise ValueError("no observations to fit a calibration map on")
    prior = sum(right for _, _, right in observations) / len(observations)
    maps = {ALL_KINDS: fit_isotonic(((raw, ok) for raw, _, ok in observations), prior)}
    counts: dict[str, int] = {}
    for kind in sorted({kind for _, kind, _ in observations}):
        mine = [(raw, ok) for raw, k, ok in observations if k == kind]
        counts[kind] = len(mine)
        if len(mine) >= MIN_FINDINGS_PER_KIND:
            maps[kind] = fit_isotonic(mine, sum(ok for _, ok in mine) / len(mine))
    digest = hashlib.blake2b(json.dumps(maps, sort_keys=True).encode(), digest_size=6)
    return {
        "format_version": FORMAT_VERSION,
        "version": digest.hexdigest(),
        "method": "isotonic (PAV) per evidence kind, blocks smoothed to the overall share",
        "observations": len(observations),
        "observations_per_kind": counts,
        "share_right": round(prior, 4),
        "maps": maps,
    }


def apply(calibration: dict[str, Any] | None, raw: float, rule: str | None) -> float:
    """The calibrated confidence of a raw one (identity without a calibration)."""
    return apply_to_kind(calibration, raw, evidence_kind(rule))


def apply_to_kind(calibration: dict[str, Any] | None, raw: float, kind: str) -> float:
    if not calibration or raw <= 0:
        return raw
    maps = calibration["maps"]
    knots = maps.get(kind) or maps[ALL_KINDS]
    value = _interpolate(knots, raw)
    if raw >= THRESHOLD:
        return round(max(value, THRESHOLD), 3)
    return round(min(value, BELOW_THRESHOLD_CEILING), 3)


def _interpolate(knots: Knots, raw: float) -> float:
    xs = [x for x, _ in knots]
    i = bisect.bisect_left(xs, raw)
    if i == 0:
        return knots[0][1]
    if i == len(knots):
        return knots[-1][1]
    (x0, y0), (x1, y1) = knots[i - 1], knots[i]
    return y0 + (y1 - y0) * (raw - x0) / (x1 - x0) if x1 > x0 else y1


@functools.cache
def packaged() -> dict[str, Any] | None:
    """The calibration shipped with the package (None when absent: raw confidences)."""
    if not CALIBRATION_FILE.exists():
        return None
    document = json.loads(CALIBRATION_FILE.read_text())
    if document.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{CALIBRATION_FILE}: format_version {document.get('format_version')!r}, "
            f"expected {FORMAT_VERSION}; refit with benchmarks/pii_calibration.py"
        )
    return document


def calibrate(raw: float, rule: str | None) -> float:
    """The packaged calibration applied to one finding's raw confidence."""
    return apply(packaged(), raw, rule)


def version() -> str:
    """What identifies the packaged map (part of the scan's fingerprints)."""
    document = packaged()
    return str(document.get("version", "fitted")) if document else "none"
