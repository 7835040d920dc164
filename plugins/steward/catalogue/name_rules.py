"""Name evidence: what a column's name says, from the patterns in ``name_patterns.yml``."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from steward import yamlfile
from steward.catalogue import categories, reference
from steward.catalogue.validators import VALIDATORS

PATTERNS_FILE = Path(__file__).with_name("name_patterns.yml")
# A name pattern at least this strong beats negatives marked beats_strong_names: false.
STRONG_NAME = 0.8
# A pattern followed by a word that changes its meaning is a modifier
# ("phone_type", "email_sent", "name_length"): it counts for 60% of its strength.
# Followed only by qualifiers (a language or country code, a number, "home",
# "primary", a generator's name...), the name keeps 90% of it.
MODIFIER_DISCOUNT = 0.6
QUALIFIER_DISCOUNT = 0.9
MODIFIER_WORDS = frozenset(
    """
    type types kind format status state flag flags verified valid validated confirmed sent
    opened clicked bounced opt optin optout consent consents count counts length len hash
    hashed md5 sha masked domain provider providers carrier country countries code codes
    prefix suffix extension ext area region source sources app model version brand label
    labels template templates pattern patterns rule rules policy policies setting settings
    preference preferences field fields key keys list lists group groups category categories
    id ids idx index score rank date dates time year month day created updated changed at
    on by from to of in is has was first last start end min max avg sum total
    """.split()  # noqa: SIM905 - a word list reads better as text
)


# A word found inside a longer lower-case token ("workphone", "addresspt") is weak
# evidence: it counts for this share of its strength, so that the values must agree
# before the column is reported.
COMPOUND_DISCOUNT = 0.7
MIN_COMPOUND_PIECE = 5  # shorter words ("age", "tel", "city") hide inside too many others
MIN_COMPOUND_TOKEN = 7


class NamePatternError(ValueError):
    """The name patterns file is malformed; the message says where and why."""


@dataclass(frozen=True)
class ContentOnlyRule:
    min_share: float
    min_distinct: int = 0
    yields_to_names: bool = False
    requires_tag: str | None = None


@dataclass(frozen=True)
class NamePattern:
    category: str
    source: str  # the regex as written in the file
    regex: re.Pattern[str]
    strength: float
    validator: str | None
    # The pattern as one word, for words written inside a longer token.
    word: re.Pattern[str] | None = None


@dataclass(frozen=True)
class CategoryRule:
    category: str
    validator: str | None
    content_only: ContentOnlyRule | None
    patterns: tuple[NamePattern, ...]


@dataclass(frozen=True)
class NegativeRule:
    source: str
    regex: re.Pattern[str]
    categories: frozenset[str]
    beats_strong_names: bool
    reason: str


@dataclass(frozen=True)
class TableContext:
    source: str
    tables: re.Pattern[str] | None
    category: str
    from_category: str
    strength: float
    # Categories (and their sub-categories) whose strong name evidence on another
    # column of the table says the table is about people.
    siblings: tuple[str, ...] = ()


@dataclass(frozen=True)
class NameEvidence:
    category: str
    strength: float
    pattern: str
    validator: str | None


@dataclass(frozen=True)
class NameVerdict:
    normalized: str
    evidence: dict[str, NameEvidence]  # category -> strongest matching pattern
    vetoed: dict[str, str]  # category -> reason (name and content evidence discarded)


@dataclass(frozen=True)
class NameRules:
    categories: dict[str, CategoryRule]
    negatives: tuple[NegativeRule, ...]
    table_contexts: tuple[TableContext, ...] = ()

    def evaluate(self, column_name: str, table_name: str | None = None) -> NameVerdict:
        verdict = self._evaluate(normalize(column_name), table_name)
        if verdict.evidence or verdict.vetoed:
            return verdict
        split = self._split_compounds(verdict.normalized)
        if split == verdict.normalized:
            return verdict
        inner = self._evaluate(split, table_name)
        evidence = {
            category: NameEvidence(
                category,
                round(found.strength * COMPOUND_DISCOUNT, 3),
                f"{found.pattern} (inside a word of {verdict.normalized})",
                found.validator,
            )
            for category, found in inner.evidence.items()
        }
        return NameVerdict(verdict.normalized, evidence, inner.vetoed)

    def _split_compounds(self, normalized: str) -> str:
        """'ppptelefon' -> 'ppp_telefon', 'addresspt' -> 'address_pt': a known word of at
        least MIN_COMPOUND_PIECE letters at the start or end of a longer token."""
        words = [
            pattern.word
            for rule in self.categories.values()
            for pattern in rule.patterns
            if pattern.word is not None
        ]
        tokens = []
        for token in normalized.split("_"):
            if len(token) >= MIN_COMPOUND_TOKEN and token.isalpha():
                for size in range(len(token) - 2, MIN_COMPOUND_PIECE - 1, -1):
                    head, tail = token[:size], token[-size:]
                    if any(word.fullmatch(head) for word in words):
                        token = f"{head}_{token[size:]}"
                        break
                    if any(word.fullmatch(tail) for word in words):
                        token = f"{token[:-size]}_{tail}"
                        break
            tokens.append(token)
        return "_".join(tokens)

    def _evaluate(self, normalized: str, table_name: str | None) -> NameVerdict:
        evidence: dict[str, NameEvidence] = {}
        for rule in self.categories.values():
            for pattern in rule.patterns:
                strength = _pattern_strength(pattern, normalized)
                best = evidence.get(rule.category)
                if strength and (best is None or strength > best.strength):
                    evidence[rule.category] = NameEvidence(
                        rule.category, round(strength, 3), pattern.source, pattern.validator
                    )
        vetoed: dict[str, str] = {}
        for negative in self.negatives:
            if not negative.regex.search(normalized):
                continue
            for category in negative.categories:
                found = evidence.get(category)
                if found and found.strength >= STRONG_NAME and not negative.beats_strong_names:
                    continue
                vetoed.setdefault(category, negative.reason)
                evidence.pop(category, None)
        if table_name is not None:
            self._apply_table_context(normalize(table_name), evidence)
        return NameVerdict(normalized, evidence, vetoed)

    def evaluate_table(self, table_name: str, column_names: list[str]) -> dict[str, NameVerdict]:
        """Every column's verdict, with the context its siblings' names give (see
        ``table_context.siblings``: a "name" beside an "ssn" column is a person's)."""
        verdicts = {name: self.evaluate(name, table_name) for name in column_names}
        for context in self.table_contexts:
            if not context.siblings:
                continue
            strong = {
                name: {
                    category
                    for category, found in verdict.evidence.items()
                    if found.strength >= STRONG_NAME
                    and any(
                        category == wanted or category.startswith(wanted + ".")
                        for wanted in context.siblings
                    )
                }
                for name, verdict in verdicts.items()
            }
            for name, verdict in verdicts.items():
                found = verdict.evidence.get(context.from_category)
                if found is None or found.strength >= context.strength:
                    continue
                witness = next((other for other in strong if other != name and strong[other]), None)
                if witness is None:
                    continue
                evidence = dict(verdict.evidence)
                evidence.pop(context.from_category)
                evidence[context.category] = NameEvidence(
                    context.category,
                    context.strength,
                    f"{found.pattern} (beside a column named for {min(strong[witness])})",
                    self.categories[context.category].validator,
                )
                verdicts[name] = NameVerdict(verdict.normalized, evidence, verdict.vetoed)
        return verdicts

    def _apply_table_context(self, table: str, evidence: dict[str, NameEvidence]) -> None:
        for context in self.table_contexts:
            found = evidence.get(context.from_category)
            if found is None or found.strength >= context.strength:
                continue
            if context.tables is None or not context.tables.search(table):
                continue
            evidence.pop(context.from_category)
            evidence[context.category] = NameEvidence(
                context.category,
                context.strength,
                f"{found.pattern} (in table matching {context.source})",
                self.categories[context.category].validator,
            )


# An initialism written with a lower-case "of" ("DoB", "PoB", "DoD": date of birth, place
# of birth, date of death) is one word, not camelCase: "Functional DoB" -> "functional_dob".
_OF_INITIALISM = re.compile(r"(?<![A-Z])[A-Z]o[A-Z](?![a-z])")


def normalize(column_name: str) -> str:
    """'Primary Contact-First Name' -> 'primary_contact_first_name', 'IBANNo' -> 'iban_no'."""
    column_name = _OF_INITIALISM.sub(lambda match: f"_{match.group().lower()}_", column_name)
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", column_name)
    folded = reference.fold(spaced)
    return re.sub(r"[^a-z0-9]+", "_", folded).strip("_")


def _pattern_strength(pattern: NamePattern, normalized: str) -> float:
    best = 0.0
    for match in pattern.regex.finditer(normalized):
        tail = [token for token in normalized[match.end() :].split("_") if token]
        if not tail:
            factor = 1.0
        elif any(token in MODIFIER_WORDS for token in tail):
            factor = MODIFIER_DISCOUNT
        else:
            factor = QUALIFIER_DISCOUNT
        best = max(best, pattern.strength * factor)
    return best


def _token_regex(source: str) -> re.Pattern[str]:
    # Lookarounds so overlapping matches ("ip_address" inside "src_ip_address") are all seen;
    # a plural ("given_names", "emails", "addresses") names the same kind of value.
    return re.compile(rf"(?<![a-z0-9])(?:{source})(?:e?s)?(?:_?\d+)?(?=_|$)")


def _fail(where: str, why: str) -> NamePatternError:
    return NamePatternError(f"{PATTERNS_FILE.name}: {where}: {why}")


def _regex(source: Any, where: str, token: bool) -> re.Pattern[str]:
    if not isinstance(source, str) or not source:
        raise _fail(where, "'match' must be a non-empty string")
    try:
        return _token_regex(source) if token else re.compile(source)
    except re.error as exc:
        raise _fail(where, f"invalid regular expression {source!r}: {exc}") from exc


def _validator_name(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if value not in VALIDATORS:
        raise _fail(where, f"unknown validator {value!r}; known: {', '.join(sorted(VALIDATORS))}")
    return value


def _share(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise _fail(where, f"must be a number in (0, 1], got {value!r}")
    return float(value)


def _check_keys(mapping: Any, allowed: set[str], required: set[str], where: str) -> dict:
    if not isinstance(mapping, dict):
        raise _fail(where, f"expected a mapping, got {type(mapping).__name__}")
    unknown = set(mapping) - allowed
    if unknown:
        raise _fail(where, f"unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
    missing = required - set(mapping)
    if missing:
        raise _fail(where, f"missing key(s) {sorted(missing)}")
    return mapping


def parse(document: Any) -> NameRules:
    """Validate a parsed patterns document and compile it."""
    document = _check_keys(
        document, {"version", "categories", "negatives", "table_context"}, {"categories"}, "top"
    )
    if document.get("version", 1) != 1:
        raise _fail("version", f"unsupported version {document['version']!r}")
    rules: dict[str, CategoryRule] = {}
    for category, spec in _check_keys(
        document["categories"], set(categories.ALL), set(), "categories"
    ).items():
        where = f"categories.{category}"
        spec = _check_keys(spec, {"validator", "content_only", "patterns"}, {"patterns"}, where)
        validator = _validator_name(spec.get("validator"), f"{where}.validator")
        content_only = None
        if spec.get("content_only") is not None:
            raw = _check_keys(
                spec["content_only"],
                {"min_share", "min_distinct", "yields_to_names", "requires_tag"},
                {"min_share"},
                f"{where}.content_only",
            )
            if validator is None:
                raise _fail(f"{where}.content_only", "content_only needs a validator")
            content_only = ContentOnlyRule(
                min_share=_share(raw["min_share"], f"{where}.content_only.min_share"),
                min_distinct=int(raw.get("min_distinct", 0)),
                yields_to_names=bool(raw.get("yields_to_names", False)),
                requires_tag=raw.get("requires_tag"),
            )
        if not isinstance(spec["patterns"], list) or not spec["patterns"]:
            raise _fail(f"{where}.patterns", "must be a non-empty list")
        patterns = []
        for index, item in enumerate(spec["patterns"]):
            item_where = f"{where}.patterns[{index}]"
            item = _check_keys(
                item, {"match", "strength", "validator"}, {"match", "strength"}, item_where
            )
            patterns.append(
                NamePattern(
                    category=category,
                    source=item["match"],
                    regex=_regex(item["match"], item_where, token=True),
                    strength=_share(item["strength"], f"{item_where}.strength"),
                    word=re.compile(rf"(?:{item['match']})(?:e?s)?"),
                    validator=(
                        _validator_name(item["validator"], f"{item_where}.validator")
                        if "validator" in item
                        else validator
                    ),
                )
            )
        rules[category] = CategoryRule(category, validator, content_only, tuple(patterns))
    negatives = []
    for index, item in enumerate(document.get("negatives") or []):
        where = f"negatives[{index}]"
        item = _check_keys(
            item,
            {"match", "categories", "beats_strong_names", "reason"},
            {"match", "categories", "reason"},
            where,
        )
        scope = item["categories"]
        if scope == "all":
            scope = list(categories.ALL)
        if not isinstance(scope, list) or not set(scope) <= set(categories.ALL):
            raise _fail(
                f"{where}.categories", f"must be 'all' or a list of categories, got {scope!r}"
            )
        negatives.append(
            NegativeRule(
                source=item["match"],
                regex=_regex(item["match"], where, token=False),
                categories=frozenset(scope),
                beats_strong_names=bool(item.get("beats_strong_names", True)),
                reason=str(item["reason"]),
            )
        )
    contexts = []
    for index, item in enumerate(document.get("table_context") or []):
        where = f"table_context[{index}]"
        item = _check_keys(
            item,
            {"tables", "siblings", "category", "from_category", "strength"},
            {"category", "strength"},
            where,
        )
        if ("tables" in item) == ("siblings" in item):
            raise _fail(where, "needs exactly one of tables and siblings")
        for key in ("category", "from_category"):
            if item.get(key, item["category"]) not in rules:
                raise _fail(f"{where}.{key}", f"not a category with patterns: {item[key]!r}")
        siblings = item.get("siblings") or []
        known = isinstance(siblings, list) and siblings and set(siblings) <= set(categories.ALL)
        if "siblings" in item and not known:
            raise _fail(f"{where}.siblings", f"must be a list of categories, got {siblings!r}")
        contexts.append(
            TableContext(
                source=item.get("tables") or ",".join(siblings),
                tables=_regex(item["tables"], where, token=False) if "tables" in item else None,
                category=item["category"],
                from_category=item.get("from_category", item["category"]),
                strength=_share(item["strength"], f"{where}.strength"),
                siblings=tuple(siblings),
            )
        )
    return NameRules(rules, tuple(negatives), tuple(contexts))


def load(path: Path | None = None) -> NameRules:
    path = path or PATTERNS_FILE
    try:
        document = yamlfile.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise NamePatternError(f"{path.name}: not valid YAML: {exc}") from exc
    return parse(document)


@functools.cache
def default_rules() -> NameRules:
    return load()
