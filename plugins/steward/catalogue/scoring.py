"""From a column's name evidence and content tally to one confidence per category.

The rule, per (column, category):

- ``N``: strength of the best name pattern for the category (0 if none, or if a
  negative pattern vetoed it).
- ``V``, ``S``: shares of the sampled non-null values the category's validator
  calls VALID and SHAPE-only. ``C = V + S / 2``: a well-formed value that fails
  its checksum is half evidence.
- With name evidence and a content check: ``N * (0.4 + 0.6 * min(1, C / 0.8))``.
  Content that agrees keeps the name's confidence; content that disagrees
  (an "email" column of yes/no values) brings it down to 40% of it.
- With name evidence but nothing to check (no validator for this meaning, an
  empty table, a type we cannot read): ``0.7 * N``. A strong name is still
  reported; an ambiguous one ("name") is not.
- Content alone (no name evidence): ``V``, only when the category allows
  content-only detection and ``V`` reaches its ``min_share`` (and, for
  dictionary checks, the column has enough distinct values to not be a code
  list); shape never counts here.
- Confidence is the larger of the name and content-only results.
- Free text (a column whose values are on average sentences): the share ``F``
  of values containing at least one validated PII span; confidence
  ``0.5 + 0.5 * min(1, F / 0.2)`` when at least two values have spans, else 0.

A finding is reported as PII when its confidence reaches ``PII_THRESHOLD``.
Near-constant columns (fewer than two distinct sampled values) give no
content evidence.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field

from steward.catalogue import categories, free_text
from steward.catalogue.name_rules import STRONG_NAME, NameRules, NameVerdict
from steward.catalogue.validators import VALIDATORS, ValueContext, Verdict

PII_THRESHOLD = 0.5
AGREEMENT_SHARE = 0.8
CONTRADICTED_FLOOR = 0.4
NAME_ONLY_FACTOR = 0.7
SHAPE_WEIGHT = 0.5
MIN_VALUES_FOR_CONTENT = 3
FREE_TEXT_FULL_SHARE = 0.2
MIN_FREE_TEXT_HITS = 2
MAX_VALUE_LENGTH = 256  # longer values are only searched for spans
DISTINCT_TRACKING_CAP = 100_000


@dataclass
class ValidatorTally:
    valid: int = 0
    shape: int = 0
    tags: Counter = field(default_factory=Counter)


@dataclass
class ColumnTally:
    """Counts over one column's sampled values. Holds no value, only counts and hashes."""

    validators: tuple[str, ...]
    scan_spans: bool = True
    whole_values: bool = True
    rows: int = 0
    non_null: int = 0
    total_length: int = 0
    total_words: int = 0
    distinct_hashes: set[bytes] = field(default_factory=set)
    by_validator: dict[str, ValidatorTally] = field(default_factory=dict)
    values_with_spans: int = 0
    span_kinds: Counter = field(default_factory=Counter)

    def fresh(self) -> ColumnTally:
        """An empty tally with the same configuration (to start a column over)."""
        return ColumnTally(self.validators, self.scan_spans, self.whole_values)

    def add(self, value: str | None, ctx: ValueContext) -> None:
        self.rows += 1
        if value is None:
            return
        self.non_null += 1
        self.total_length += len(value)
        words = len(value.split())
        self.total_words += words
        if len(self.distinct_hashes) < DISTINCT_TRACKING_CAP:
            self.distinct_hashes.add(hashlib.blake2b(value.encode(), digest_size=8).digest())
        if self.whole_values and len(value) <= MAX_VALUE_LENGTH and value.strip():
            for name in self.validators:
                verdict, tags = VALIDATORS[name].check(value, ctx)
                if verdict is Verdict.NO:
                    continue
                tally = self.by_validator.setdefault(name, ValidatorTally())
                if verdict is Verdict.VALID:
                    tally.valid += 1
                else:
                    tally.shape += 1
                tally.tags.update(tags)
        if self.scan_spans and words >= free_text.MIN_FREE_TEXT_WORDS:
            kinds = free_text.pii_kinds(value, ctx)
            if kinds:
                self.values_with_spans += 1
                self.span_kinds.update(kinds)

    @property
    def distinct(self) -> int:
        return len(self.distinct_hashes)

    @property
    def is_prose(self) -> bool:
        if not self.non_null:
            return False
        return (
            self.total_length / self.non_null >= free_text.MIN_FREE_TEXT_LENGTH
            and self.total_words / self.non_null >= free_text.MIN_FREE_TEXT_WORDS
        )


@dataclass(frozen=True)
class Finding:
    category: str
    confidence: float
    evidence: dict  # counts and pattern names only, never values

    @property
    def is_pii(self) -> bool:
        return self.confidence >= PII_THRESHOLD


def validators_to_run(rules: NameRules, verdict: NameVerdict, numeric: bool) -> tuple[str, ...]:
    """Validators named by the column's name evidence plus those allowed to decide alone."""
    wanted: list[str] = []
    for evidence in verdict.evidence.values():
        if evidence.validator:
            wanted.append(evidence.validator)
    for rule in rules.categories.values():
        if rule.content_only and rule.category not in verdict.vetoed:
            wanted.append(rule.validator)
    unique = dict.fromkeys(name for name in wanted if name)
    return tuple(name for name in unique if not numeric or VALIDATORS[name].accepts_numbers)


def score_column(
    rules: NameRules, verdict: NameVerdict, tally: ColumnTally | None, *, unreadable: bool = False
) -> list[Finding]:
    """All findings with a non-zero confidence for one column, strongest first."""
    findings: dict[str, Finding] = {}
    content_usable = (
        tally is not None
        and not unreadable
        and tally.non_null >= MIN_VALUES_FOR_CONTENT
        and tally.distinct >= 2
    )
    prose = content_usable and tally.is_prose
    base = {
        "sample_rows": tally.rows if tally else 0,
        "non_null": tally.non_null if tally else 0,
        "distinct": tally.distinct if tally else 0,
    }
    if tally is not None and tally.non_null and tally.distinct < 2:
        base["gate"] = "near-constant column: content not used"

    for category, name in verdict.evidence.items():
        if category == categories.FREE_TEXT and prose:
            continue  # judged by its spans below
        evidence = {**base, "name_pattern": name.pattern, "name_strength": name.strength}
        # A validator missing from the tally was excluded by the column's type
        # (an "email" column of integers): that counts as content disagreeing.
        if name.validator and content_usable and not prose:
            counts = tally.by_validator.get(name.validator)
            valid, shape = (counts.valid, counts.shape) if counts else (0, 0)
            share = (valid + SHAPE_WEIGHT * shape) / tally.non_null
            confidence = name.strength * (
                CONTRADICTED_FLOOR + (1 - CONTRADICTED_FLOOR) * min(1.0, share / AGREEMENT_SHARE)
            )
            evidence |= {"validator": name.validator, "matches": valid, "shape_only": shape}
            if counts and counts.tags:
                evidence["tags"] = dict(counts.tags)
            evidence["rule"] = "name+content"
        else:
            confidence = NAME_ONLY_FACTOR * name.strength
            evidence["rule"] = "name only"
        findings[category] = Finding(category, round(confidence, 3), evidence)

    if content_usable and not prose:
        strong_names = {c for c, e in verdict.evidence.items() if e.strength >= STRONG_NAME}
        named_validators = {e.validator for e in verdict.evidence.values() if e.validator}
        for rule in rules.categories.values():
            only = rule.content_only
            if only is None or rule.category in verdict.vetoed:
                continue
            counts = tally.by_validator.get(rule.validator)
            if counts is None or counts.valid == 0:
                continue
            tagged = counts.tags.get(only.requires_tag, 0) if only.requires_tag else counts.valid
            share = min(counts.valid, tagged) / tally.non_null
            if share < only.min_share or tally.distinct < only.min_distinct:
                continue
            has_own_name = rule.category in verdict.evidence
            if not has_own_name:
                if only.yields_to_names and strong_names - {rule.category}:
                    continue
                if rule.validator in named_validators:
                    continue  # a sibling category named by the column takes this evidence
            previous = findings.get(rule.category)
            if previous is None or share > previous.confidence:
                evidence = {
                    **base,
                    "validator": rule.validator,
                    "matches": counts.valid,
                    "shape_only": counts.shape,
                    "rule": "content only" if not has_own_name else "content (name agrees)",
                }
                if has_own_name:
                    named = verdict.evidence[rule.category]
                    evidence |= {"name_pattern": named.pattern, "name_strength": named.strength}
                if counts.tags:
                    evidence["tags"] = dict(counts.tags)
                findings[rule.category] = Finding(rule.category, round(share, 3), evidence)

    if prose:
        share = tally.values_with_spans / tally.non_null
        confidence = 0.0
        if tally.values_with_spans >= MIN_FREE_TEXT_HITS:
            confidence = 0.5 + 0.5 * min(1.0, share / FREE_TEXT_FULL_SHARE)
        named = verdict.evidence.get(categories.FREE_TEXT)
        if confidence or named:
            evidence = {
                **base,
                "values_with_pii_spans": tally.values_with_spans,
                "span_kinds": dict(tally.span_kinds),
                "rule": "free text spans",
            }
            if named:
                evidence |= {"name_pattern": named.pattern, "name_strength": named.strength}
            findings[categories.FREE_TEXT] = Finding(
                categories.FREE_TEXT, round(confidence, 3), evidence
            )
    elif categories.FREE_TEXT in verdict.evidence and content_usable and tally.values_with_spans:
        # Named like notes but values are short: still say which spans were seen.
        share = tally.values_with_spans / max(tally.non_null, 1)
        named = verdict.evidence[categories.FREE_TEXT]
        confidence = named.strength * min(1.0, share / FREE_TEXT_FULL_SHARE)
        findings[categories.FREE_TEXT] = Finding(
            categories.FREE_TEXT,
            round(confidence, 3),
            {
                **base,
                "name_pattern": named.pattern,
                "name_strength": named.strength,
                "values_with_pii_spans": tally.values_with_spans,
                "span_kinds": dict(tally.span_kinds),
                "rule": "name + spans",
            },
        )

    return sorted(findings.values(), key=lambda f: f.confidence, reverse=True)
