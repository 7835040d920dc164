"""support: tickets whose notes hold PII in free text."""

from __future__ import annotations

import numpy as np

from steward.seed import identifiers, loader, phones, texts
from steward.seed.common import (
    DAY,
    between,
    choice,
)


class SupportTables:
    """support.tickets."""

    # -- support ----------------------------------------------------------------

    def make_support(self) -> None:
        rng = self.rng("support")
        count = round(self.customer_count * 0.35)
        customer = rng.integers(0, self.customer_count, count)
        self.tickets(rng, customer, rng.random(count) < 0.03, None)

    def tickets(self, rng, customer, anonymous, forced_started) -> None:
        count = customer.size
        opened = between(rng, self.created[customer], self.lifetime_end[customer])
        if forced_started is not None:
            opened = forced_started
        recent = opened > self.now - 30 * DAY
        status = np.where(
            recent,
            choice(rng, ["open", "pending", "closed"], [0.5, 0.2, 0.3], count),
            np.where(rng.random(count) < 0.98, "closed", "pending"),
        )
        closed = status == "closed"
        closed_at = np.minimum(opened + rng.integers(600, 20 * DAY, count), self.now - 1)
        rows = self.primary_row[customer]
        style = rng.integers(0, 3, count)
        with_email = rng.random(count) < 0.5
        with_card = rng.random(count) < 0.02
        with_ssn = rng.random(count) < 0.01
        plain = rng.random(count) < 0.25
        cards, _ = identifiers.card_numbers(rng, count)
        picks = rng.integers(0, 1000, (count, 4)).tolist()
        notes = np.empty(count, dtype=object)
        for j in range(count):
            who = customer[j]
            row = rows[j]
            if anonymous[j]:
                mention = texts.Mention(
                    "a caller",
                    "",
                    "",
                    self.outsider_e164[j % self.outsider_e164.size],
                    None,
                    None,
                    None,
                    None,
                )
            else:
                parts = phones.PhoneNumberParts(
                    self.regions[self.phone_region[row]],
                    int(self.phone_prefix[row]),
                    int(self.phone_suffix[row]),
                )
                spelled = (
                    ("national", "dashes", "e164")[style[j]]
                    if forced_started is None
                    else "national"
                )
                mention = texts.Mention(
                    first_name=self.first[who],
                    last_name=self.last[who],
                    agent_first_name="",
                    phone=phones.format_number(self.book, parts, spelled),
                    email=self.email[who]
                    if (with_email[j] or forced_started is not None)
                    else None,
                    card=cards[j] if with_card[j] else None,
                    card_expiry=None,
                    ssn=self.ssn[who] if with_ssn[j] else None,
                )
            note_style = 0 if (plain[j] and forced_started is None) else 1
            notes[j] = texts.ticket_note(mention, (*picks[j], note_style))
        ticket_id = self.ids("support.tickets", count)
        self.load(
            "support.tickets",
            {
                "ticket_id": ticket_id,
                "customer_id": loader.integers(self.customer_id[customer], anonymous),
                "opened_at": loader.timestamps(opened),
                "closed_at": loader.timestamps(closed_at, ~closed),
                "category": choice(
                    rng,
                    ["billing", "technical", "account", "complaint", "cancellation"],
                    [0.35, 0.3, 0.15, 0.1, 0.1],
                    count,
                ),
                "priority": choice(
                    rng, ["low", "normal", "high", "urgent"], [0.3, 0.5, 0.15, 0.05], count
                ),
                "status": status,
                "notes": notes,
            },
        )
        self.note_overdue("support.tickets", ticket_id, "closed_at", closed_at, mask=closed)
