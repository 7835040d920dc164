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

- Name evidence with no values to check (an empty or tiny column, fewer than
  ``MIN_VALUES_FOR_CONTENT`` values): ``0.35 * N``, below the threshold: the
  finding is kept as a suggestion, not reported as PII.
- A flag column (at least 90% of values are yes/no/true/false/0/1, at most
  three distinct values) holds no personal data, whatever its name says.
- Name and content that agree (``V`` at least ``AGREEMENT_FLOOR``) combine as
  independent evidence: ``1 - (1 - N) * (1 - V)``, so a weak name ("name",
  "judge") with full names for values is reported, and a strong name with
  agreeing values is surer than either alone.
- National identifiers: the share of values passing the scheme most values
  pass (python-stdnum), and the finding names that scheme
  (``user.government_id.national_id.fr_nir``). Schemes with a one-digit
  checksum (about one random number in ten passes) need ``WEAK_SCHEME_SHARE``.
- Phone numbers: values valid for the column's regions (or in international
  form) count in full; a local number valid only in another major region
  counts for content-only detection when the column is written like phone
  numbers (see validators.phone_number). Content alone on a column of bare
  digits (at least half its values) needs ``BARE_PHONE_SHARE`` valid: ids and
  parcel numbers of ten digits pass as valid numbers often enough.

A finding is reported as PII when its confidence reaches ``PII_THRESHOLD``.
Near-constant columns (fewer than two distinct sampled values) give no
content evidence.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field

from steward.catalogue import categories, free_text, validators
from steward.catalogue.name_rules import STRONG_NAME, NameRules, NameVerdict
from steward.catalogue.validators import (
    POSSIBLE_TAG,
    REGION_TAG_PREFIX,
    VALIDATORS,
    ValueContext,
    Verdict,
)

PII_THRESHOLD = 0.5
AGREEMENT_SHARE = 0.8
CONTRADICTED_FLOOR = 0.4
NAME_ONLY_FACTOR = 0.7
SHAPE_WEIGHT = 0.5
MIN_VALUES_FOR_CONTENT = 3
FREE_TEXT_FULL_SHARE = 0.2
MIN_FREE_TEXT_HITS = 2
NO_CONTENT_FACTOR = 0.35  # name evidence on an empty or tiny column: a suggestion
AGREEMENT_FLOOR = 0.5
FLAG_SHARE = 0.9
FLAG_MAX_DISTINCT = 3
FLAG_VALUES = frozenset(
    "y n yes no true false t f 0 1 on off oui non si ja nein x -1".split()  # noqa: SIM905
)
WEAK_SCHEMES = validators.WEAK_SCHEMES
# Dictionary checks for which an unknown value is no evidence against the name.
SUPPORT_ONLY_VALIDATORS = frozenset({"city"})
WEAK_SCHEME_SHARE = 0.95
PHONE_MIN_LOCATED = 0.5  # share of values valid for a region, for content-only phones
# Content-only phones written as bare digits (parcel numbers, case ids pass as valid
# numbers often enough): nearly all of them must be valid.
BARE_PHONE_SHARE = 0.95
UNLOCATED_DISCOUNT = 0.25
MAX_VALUE_LENGTH = 256  # longer values are only searched for spans
DISTINCT_TRACKING_CAP = 100_000
VERDICT_CACHE = 5_000
# Company legal forms: a column where they recur names organisations, and its
# bare surnames ("Imbert", "Pichon") are firms named after their founders.
_LEGAL_FORM = re.compile(
    r"(?:^|[\s,&])(?:inc|llc|ltd|plc|corp|co|gmbh|ag|kg|ohg|kgaa|ug|sarl|sa|sas|spa|srl|bv|nv|"
    r"ab|as|oy|sp\. z o\.o|pty|s\.a\.|s\.p\.a\.|e\.v\.|group|holding|partners)\.?(?:$|[\s,])",
    re.IGNORECASE,
)
ORGANISATION_SHARE = 0.1
PERSON_NAME_CATEGORIES = frozenset(
    {categories.FIRST_NAME, categories.LAST_NAME, categories.FULL_NAME, categories.EMPLOYEE_NAME}
)


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
    flag_like: int = 0
    organisation_like: int = 0
    letterless: int = 0
    # Repeated values (codes, common names) are validated once per column.
    _verdicts: dict = field(default_factory=dict, repr=False)
    _verdicts_context: ValueContext | None = field(default=None, repr=False)

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
        if value.strip().casefold() in FLAG_VALUES:
            self.flag_like += 1
        if _LEGAL_FORM.search(value):
            self.organisation_like += 1
        if not any(ch.isalpha() for ch in value):
            self.letterless += 1
        if len(self.distinct_hashes) < DISTINCT_TRACKING_CAP:
            self.distinct_hashes.add(hashlib.blake2b(value.encode(), digest_size=8).digest())
        if self.whole_values and len(value) <= MAX_VALUE_LENGTH and value.strip():
            results = self._verdicts.get(value) if ctx is self._verdicts_context else None
            if results is None:
                results = [(name, *VALIDATORS[name].check(value, ctx)) for name in self.validators]
                if ctx is not self._verdicts_context:
                    self._verdicts, self._verdicts_context = {}, ctx
                if len(self._verdicts) < VERDICT_CACHE:
                    self._verdicts[value] = results
            for name, verdict, tags in results:
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
    def is_flag(self) -> bool:
        """Mostly yes/no values and at most three of them: a flag about the data."""
        return (
            self.non_null > 0
            and self.flag_like / self.non_null >= FLAG_SHARE
            and self.distinct <= FLAG_MAX_DISTINCT
        )

    def varied_enough(self, min_distinct: int) -> bool:
        """Enough distinct values not to be a code list; few rows are judged by their ratio."""
        if self.distinct >= min_distinct:
            return True
        return self.distinct >= MIN_VALUES_FOR_CONTENT and self.distinct >= 0.8 * self.non_null

    @property
    def mostly_without_letters(self) -> bool:
        """At least 80% of values have no letter at all (codes, numbers)."""
        return self.non_null > 0 and self.letterless >= AGREEMENT_SHARE * self.non_null

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


def _mostly_addresses(tally: ColumnTally) -> bool:
    """Multi-line postal addresses are long and wordy, but they are not free text."""
    counts = tally.by_validator.get("street_address")
    return bool(counts) and counts.valid >= AGREEMENT_FLOOR * tally.non_null


def _contradicted(tally: ColumnTally, validator: str | None) -> bool:
    """Whether the values speak against the name's validator (none accepted, even as shape;
    for a dictionary check, where an unknown word is no evidence: codes without letters)."""
    if validator is None:
        return False
    if validator in SUPPORT_ONLY_VALIDATORS:
        return tally.mostly_without_letters
    counts = tally.by_validator.get(validator)
    return not (counts and counts.valid + counts.shape)


def _national_id_scheme(counts: ValidatorTally) -> tuple[str | None, int]:
    """The scheme most values pass, and how many pass it (ties: the stricter scheme first)."""
    best, best_count = None, 0
    for scheme in validators.NATIONAL_ID_CHECKS:
        count = counts.tags.get(scheme, 0)
        if count > best_count:
            best, best_count = scheme, count
    return best, best_count


def _content_share(rule_validator: str, counts: ValidatorTally, non_null: int) -> float:
    """Share of values that are content evidence on their own (no name needed)."""
    if rule_validator == "phone_number":
        regional = sum(n for tag, n in counts.tags.items() if tag.startswith(REGION_TAG_PREFIX))
        if counts.valid + regional < PHONE_MIN_LOCATED * non_null:
            return 0.0  # formatted like phones, but too few valid for any region
        possible = counts.tags.get(POSSIBLE_TAG, 0)
        return (counts.valid + regional + possible) / non_null
    return counts.valid / non_null


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
    no_values = not unreadable and (tally is None or tally.non_null < MIN_VALUES_FOR_CONTENT)
    near_constant = not unreadable and tally is not None and tally.non_null and tally.distinct < 2
    prose = content_usable and tally.is_prose and not _mostly_addresses(tally)
    flag = tally is not None and not unreadable and tally.is_flag
    base = {
        "sample_rows": tally.rows if tally else 0,
        "non_null": tally.non_null if tally else 0,
        "distinct": tally.distinct if tally else 0,
    }
    if tally is not None and tally.non_null and tally.distinct < 2:
        base["gate"] = "near-constant column: content not used"
    if flag:
        base["gate"] = "flag column (yes/no values): not personal data"
    organisations = (
        tally is not None
        and tally.non_null > 0
        and tally.organisation_like >= ORGANISATION_SHARE * tally.non_null
    )

    for category, name in verdict.evidence.items():
        if category == categories.FREE_TEXT and prose:
            continue  # judged by its spans below
        if flag and category != categories.GENDER:
            continue
        evidence = {**base, "name_pattern": name.pattern, "name_strength": name.strength}
        # A validator missing from the tally was excluded by the column's type
        # (an "email" column of integers): that counts as content disagreeing.
        # Prose under a checkable name (an "address" column of project descriptions) is
        # still content: it agrees with the name only as far as its values pass.
        if name.validator and content_usable:
            counts = tally.by_validator.get(name.validator)
            if category.startswith(categories.NATIONAL_ID) and name.validator != "national_id":
                # An "ssn" column of French or Chinese ids: the national schemes decide.
                other = tally.by_validator.get("national_id")
                if other and other.valid > (counts.valid if counts else 0):
                    counts, name = other, dataclasses.replace(name, validator="national_id")
            valid, shape = (counts.valid, counts.shape) if counts else (0, 0)
            share = (valid + SHAPE_WEIGHT * shape) / tally.non_null
            confidence = name.strength * (
                CONTRADICTED_FLOOR + (1 - CONTRADICTED_FLOOR) * min(1.0, share / AGREEMENT_SHARE)
            )
            valid_share = valid / tally.non_null
            if name.validator in SUPPORT_ONLY_VALIDATORS and not tally.mostly_without_letters:
                # An unknown town is no evidence against the name; a numeric code is.
                confidence = max(confidence, NAME_ONLY_FACTOR * name.strength)
            if valid_share >= AGREEMENT_FLOOR:
                confidence = max(confidence, 1 - (1 - name.strength) * (1 - valid_share))
            evidence |= {"validator": name.validator, "matches": valid, "shape_only": shape}
            if counts and counts.tags:
                evidence["tags"] = dict(counts.tags)
            evidence["rule"] = "name+content"
            if name.validator == "national_id" and counts:
                scheme, passing = _national_id_scheme(counts)
                if scheme and passing >= AGREEMENT_FLOOR * max(valid, 1):
                    category = f"{categories.NATIONAL_ID}.{scheme}"
        elif no_values or (near_constant and _contradicted(tally, name.validator)):
            # One value repeated that is not of the kind ("Both genders" in a statistics
            # table) says no more than an empty column: a suggestion to check.
            confidence = NO_CONTENT_FACTOR * name.strength
            evidence["rule"] = "name only, no values to check: a suggestion"
        else:
            confidence = NAME_ONLY_FACTOR * name.strength
            evidence["rule"] = "name only"
        previous = findings.get(category)
        if previous is None or confidence > previous.confidence:
            findings[category] = Finding(category, round(confidence, 3), evidence)

    if content_usable and not prose and not flag:
        strong_names = {c for c, e in verdict.evidence.items() if e.strength >= STRONG_NAME}
        named_validators = {e.validator for e in verdict.evidence.values() if e.validator}
        for rule in rules.categories.values():
            only = rule.content_only
            if only is None or rule.category in verdict.vetoed:
                continue
            counts = tally.by_validator.get(rule.validator)
            if counts is None or counts.valid + counts.shape == 0:
                continue
            category, min_share = rule.category, only.min_share
            if rule.validator == "national_id":
                scheme, passing = _national_id_scheme(counts)
                if scheme is None:
                    continue
                category = f"{categories.NATIONAL_ID}.{scheme}"
                share = passing / tally.non_null
                if scheme in WEAK_SCHEMES:
                    min_share = max(min_share, WEAK_SCHEME_SHARE)
                else:  # a column mixing strong schemes (SSNs and NIRs) is still ids
                    strong = counts.tags.get(validators.STRONG_SCHEME_TAG, 0)
                    share = max(share, strong / tally.non_null)
            elif only.requires_tag:
                share = min(counts.valid, counts.tags.get(only.requires_tag, 0)) / tally.non_null
            else:
                share = _content_share(rule.validator, counts, tally.non_null)
                bare = counts.tags.get(validators.BARE_TAG, 0)
                if rule.validator == "phone_number" and bare >= AGREEMENT_FLOOR * tally.non_null:
                    min_share = max(min_share, BARE_PHONE_SHARE)
            if share < min_share or not tally.varied_enough(only.min_distinct):
                continue
            has_own_name = rule.category in verdict.evidence or category in verdict.evidence
            if not has_own_name:
                if only.yields_to_names and strong_names - {rule.category}:
                    continue
                if rule.validator in named_validators:
                    continue  # a sibling category named by the column takes this evidence
            named = verdict.evidence.get(category) or verdict.evidence.get(rule.category)
            if rule.validator == "phone_number":
                # Numbers valid only in a region nobody named, or merely possible, are
                # phone-like but less sure than valid ones.
                share -= UNLOCATED_DISCOUNT * (share - counts.valid / tally.non_null)
            confidence = share if named is None else 1 - (1 - named.strength) * (1 - share)
            previous = findings.get(category)
            if previous is None or confidence > previous.confidence:
                evidence = {
                    **base,
                    "validator": rule.validator,
                    "matches": counts.valid,
                    "shape_only": counts.shape,
                    "rule": "content only" if not has_own_name else "content (name agrees)",
                }
                if named:
                    evidence |= {"name_pattern": named.pattern, "name_strength": named.strength}
                if counts.tags:
                    evidence["tags"] = dict(counts.tags)
                findings[category] = Finding(category, round(confidence, 3), evidence)
        if organisations:
            for category in PERSON_NAME_CATEGORIES & set(findings):
                # Company names, some of them founders' surnames; a weak name ("name",
                # "entity_of_record_name") does not make them people either.
                if findings[category].evidence.get("name_strength", 0) < STRONG_NAME:
                    del findings[category]
        if any(c.startswith(categories.NATIONAL_ID + ".") for c in findings):
            findings.pop(categories.NATIONAL_ID, None)  # the scheme names it better

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
