"""Government ids and payment cards, generated vectorised and valid by format.

SSNs follow the SSA's rules (no area 000, 666 or 9xx; no group 00; no serial
0000). Card numbers carry real issuer prefixes and lengths and a Luhn check
digit, so a scanner that checks Luhn finds them and one that matches any
16 digits gets false positives elsewhere.
"""

from __future__ import annotations

import numpy as np

# (issuer, prefixes, length, share)
CARD_ISSUERS: tuple[tuple[str, tuple[str, ...], int, float], ...] = (
    ("visa", ("4",), 16, 0.50),
    ("mastercard", ("51", "52", "53", "54", "55", "2221", "2720"), 16, 0.30),
    ("amex", ("34", "37"), 15, 0.12),
    ("discover", ("6011", "65"), 16, 0.08),
)


def zero_pad(values: np.ndarray, width: int) -> np.ndarray:
    """Integers as zero-padded decimal strings (object array)."""
    return np.strings.zfill(values.astype(np.int64).astype(np.str_), width).astype(object)


def ssn_parts(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Area, group and serial numbers of valid-format SSNs."""
    area = rng.integers(1, 900, count)
    area[area == 666] = 665
    group = rng.integers(1, 100, count)
    serial = rng.integers(1, 10_000, count)
    return area, group, serial


def ssns(rng: np.random.Generator, count: int, dashed_share: float = 0.85) -> np.ndarray:
    """SSNs as text, mostly ``123-45-6789``, some as nine bare digits."""
    area, group, serial = ssn_parts(rng, count)
    area_text, group_text, serial_text = (
        zero_pad(area, 3),
        zero_pad(group, 2),
        zero_pad(serial, 4),
    )
    dashed = rng.random(count) < dashed_share
    return np.where(
        dashed,
        area_text + "-" + group_text + "-" + serial_text,
        area_text + group_text + serial_text,
    )


def is_valid_ssn(text: str) -> bool:
    digits = text.replace("-", "")
    if len(digits) != 9 or not digits.isdigit():
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def luhn_check_digits(payload: np.ndarray) -> np.ndarray:
    """Check digits for rows of digits (2-D int array, most significant first)."""
    doubled = payload[:, ::-1].copy()
    # The payload's rightmost digit sits next to the check digit, so it is doubled.
    doubled[:, 0::2] *= 2
    doubled[doubled > 9] -= 9
    return (10 - doubled.sum(axis=1) % 10) % 10


def luhn_valid(number: str) -> bool:
    digits = [int(ch) for ch in number if ch.isdigit()]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def card_numbers(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Luhn-valid card numbers (digits only) and their issuer names."""
    numbers = np.empty(count, dtype=object)
    issuers = np.empty(count, dtype=object)
    shares = np.array([issuer[3] for issuer in CARD_ISSUERS])
    choice = rng.choice(len(CARD_ISSUERS), size=count, p=shares / shares.sum())
    for index, (name, prefixes, length, _share) in enumerate(CARD_ISSUERS):
        rows = np.flatnonzero(choice == index)
        if rows.size == 0:
            continue
        prefix_pick = rng.integers(0, len(prefixes), rows.size)
        for prefix_index, prefix in enumerate(prefixes):
            subset = rows[prefix_pick == prefix_index]
            if subset.size == 0:
                continue
            body = rng.integers(0, 10, (subset.size, length - 1 - len(prefix)))
            head = np.tile(np.array([int(ch) for ch in prefix]), (subset.size, 1))
            payload = np.hstack([head, body])
            digits = np.hstack([payload, luhn_check_digits(payload)[:, None]])
            numbers[subset] = ["".join(map(str, row)) for row in digits.tolist()]
            issuers[subset] = name
    return numbers, issuers


def spaced_card(number: str) -> str:
    """How a card number is read out or printed: 4-4-4-4, or 4-6-5 for Amex."""
    if len(number) == 15:
        return f"{number[:4]} {number[4:10]} {number[10:]}"
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def masked_card(number: str) -> str:
    return "*" * (len(number) - 4) + number[-4:]
