"""Rewrite card numbers, CVVs, SSNs and bank details inside one free text.

Card numbers (Luhn and a known issuer range), SSNs and IBANs (schwifty) are
the PII catalogue's spans (:func:`steward.catalogue.free_text.financial_spans`),
never a second copy of those rules. CVVs and bank account numbers have no
checksum: they are redacted only next to the words that name them. Everything
else in the text is kept as it was.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from steward.catalogue.free_text import financial_spans

CARD_MARK = "[card ending {last4}]"
CVV_MARK = "[CVV removed]"
SSN_MARK = "[SSN removed]"
BANK_MARK = "[bank account removed]"

# A CVV is only a CVV when named: "CVV 123", "security code is 0421", "cvc: 987".
_CVV = re.compile(
    r"\b(?:cvv2?|cvc2?|cid|security code|card verification (?:code|value))"
    r"(?:\s+(?:is|was|number|no\.?))?\s*[:#-]?\s*(\d{3,4})\b",
    re.IGNORECASE,
)
# A bank account number is only one when named: "bank account 12345678",
# "routing number 021000021", "sort code 12-34-56", "checking account no. 0012 3456".
_BANK_ACCOUNT = re.compile(
    r"\b(?:bank account|checking account|savings account|routing|aba|sort code)"
    r"(?:\s+(?:number|no\.?|#))?(?:\s+(?:is|was))?\s*[:#-]?\s*(\d(?:[ -]?\d){5,16})\b",
    re.IGNORECASE,
)

# What the warehouse prefilter must let through for these rules to see a text
# (PostgreSQL regular expressions, case-insensitive): a 13-19 digit run (with
# single space or dash separators), a named CVV with digits, an SSN shape, an
# IBAN shape, or a named bank account with digits. Redacted markers do not match.
PREFILTER_SQL = (
    r"[0-9]([ -]?[0-9]){12,18}"
    r"|(cvv|cvc|cid|security code|card verification)[^0-9]{0,30}[0-9]{3,4}"
    r"|[0-9]{3}-[0-9]{2}-[0-9]{4}"
    r"|[a-z]{2}[0-9]{2} ?[a-z0-9]{4} ?[a-z0-9]{4}"
    r"|(bank account|checking account|savings account|routing|aba|sort code)[^0-9]{0,30}[0-9]"
)


@dataclass
class Redaction:
    """The rewritten text and how many of each kind were removed (never the values)."""

    text: str
    counts: Counter = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return bool(self.counts)


def redact(text: str) -> Redaction:
    """``text`` with card numbers, CVVs, SSNs and bank details replaced by markers."""
    counts: Counter = Counter()
    pieces: list[str] = []
    position = 0
    for kind, match in financial_spans(text):
        if match.start() < position:  # overlapping spans: the first one wins
            continue
        pieces.append(text[position : match.start()])
        if kind == "payment_card":
            digits = re.sub(r"\D", "", match.group())
            pieces.append(CARD_MARK.format(last4=digits[-4:]))
        elif kind == "us_ssn":
            pieces.append(SSN_MARK)
        else:
            pieces.append(BANK_MARK)
        counts[kind] += 1
        position = match.end()
    pieces.append(text[position:])
    rewritten = "".join(pieces)
    rewritten, cvvs = _replace_group(_CVV, rewritten, CVV_MARK)
    rewritten, accounts = _replace_group(_BANK_ACCOUNT, rewritten, BANK_MARK)
    if cvvs:
        counts["cvv"] += cvvs
    if accounts:
        counts["bank_account"] += accounts
    return Redaction(rewritten, counts)


def _replace_group(pattern: re.Pattern, text: str, mark: str) -> tuple[str, int]:
    """Replace group 1 of every match (the number), keeping the words that named it."""
    count = 0

    def swap(match: re.Match) -> str:
        nonlocal count
        count += 1
        start, end = match.span(1)
        whole_start = match.start()
        return match.group()[: start - whole_start] + mark + match.group()[end - whole_start :]

    return pattern.sub(swap, text), count


# --- structured columns -------------------------------------------------------------


def truncate_card(value: str) -> str | None:
    """A full card number truncated to first six / last four (PCI DSS 3.4), else None."""
    for kind, match in financial_spans(value):
        if kind == "payment_card" and match.group().strip() == value.strip():
            digits = re.sub(r"\D", "", value)
            return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]
    return None
