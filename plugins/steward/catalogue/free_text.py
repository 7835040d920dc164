"""PII spans inside free text (ticket notes, transcripts, e-mail bodies).

Span finders propose candidates; the same validators as for whole columns
decide. Only the kinds found are returned, never the spans themselves.
"""

from __future__ import annotations

import re

import phonenumbers

from steward.catalogue import reference, validators
from steward.catalogue.validators import DEFAULT_CONTEXT, ValueContext

_EMAIL_SPAN = re.compile(
    r"[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,63})\b"
)
_SSN_SPAN = re.compile(r"(?<![\d-])(\d{3})-(\d{2})-(\d{4})(?![\d-])")
_CARD_SPAN = re.compile(r"(?<![\d-])\d(?:[ -]?\d){11,18}(?![\d-])")
_IBAN_SPAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
_IPV4_SPAN = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")

# Below this many characters a value is a label or a code, not prose.
MIN_FREE_TEXT_LENGTH = 30
MIN_FREE_TEXT_WORDS = 4


def looks_like_prose(values: list[str]) -> bool:
    """Whether a column's values are, on average, sentences rather than single items."""
    if not values:
        return False
    mean_length = sum(len(v) for v in values) / len(values)
    mean_words = sum(len(v.split()) for v in values) / len(values)
    return mean_length >= MIN_FREE_TEXT_LENGTH and mean_words >= MIN_FREE_TEXT_WORDS


# Dotted version numbers ("Chrome/38.0.2125.104") and build ids are not phone numbers.
_VERSION = re.compile(r"[\w/]*\d+(?:\.\d+){2,}\w*")


def financial_spans(text: str) -> list[tuple[str, re.Match]]:
    """Validated SSN, payment-card and IBAN spans of ``text``: (kind, match), in text order.

    The one definition of these kinds in free text: the catalogue counts them,
    ``steward.redaction`` rewrites them.
    """
    spans: list[tuple[str, re.Match]] = []
    for match in _SSN_SPAN.finditer(text):
        if validators.ssn_is_valid("".join(match.groups())):
            spans.append(("us_ssn", match))
    for match in _CARD_SPAN.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if validators.luhn_ok(digits) and validators.card_issuer_known(digits):
            spans.append(("payment_card", match))
    for match in _IBAN_SPAN.finditer(text):
        if validators.iban(match.group())[0] is validators.Verdict.VALID:
            spans.append(("iban", match))
    return sorted(spans, key=lambda span: span[1].start())


def pii_kinds(text: str, ctx: ValueContext = DEFAULT_CONTEXT) -> set[str]:
    """The kinds of PII found in ``text`` (e.g. {"email", "phone_number"})."""
    kinds: set[str] = set()
    tlds = reference.top_level_domains()
    if any(m.group(1).lower() in tlds for m in _EMAIL_SPAN.finditer(text)):
        kinds.add("email")
    spans = financial_spans(text)
    kinds.update(kind for kind, _ in spans)
    card_spans = [match.group() for kind, match in spans if kind == "payment_card"]
    if any(validators.ip_address(m.group())[0] for m in _IPV4_SPAN.finditer(text)):
        kinds.add("ip_address")
    # Card numbers and SSNs would otherwise be read as phone numbers too.
    rest = _VERSION.sub(" ", _SSN_SPAN.sub(" ", text))
    for span in card_spans:
        rest = rest.replace(span, " ")
    if sum(ch.isdigit() for ch in rest) >= 7:
        matcher = phonenumbers.PhoneNumberMatcher(
            rest, (ctx.phone_regions or ("US",))[0], leniency=phonenumbers.Leniency.VALID
        )
        if matcher.has_next():
            kinds.add("phone_number")
    return kinds
