"""billing: invoices with postal addresses, card payments."""

from __future__ import annotations

import numpy as np

from steward.seed import identifiers, loader, pools
from steward.seed.common import (
    DAY,
    YEAR,
    between,
    choice,
)


class BillingTables:
    """billing.invoices, billing.payments."""

    # -- billing ----------------------------------------------------------------

    def make_billing(self) -> None:
        rng = self.rng("billing")
        per_customer = rng.poisson(3.0, self.customer_count)
        owner = np.repeat(np.arange(self.customer_count), per_customer)
        self.invoices_and_payments(rng, owner, None)

    def invoices_and_payments(self, rng, owner, forced_card_style) -> None:
        count = owner.size
        low = np.maximum(self.created[owner], self.now - 12 * YEAR)
        issued_day = between(rng, low, self.lifetime_end[owner]) // DAY
        currencies = np.array([pools.COUNTRIES[code][2] for code in self.regions], dtype=object)
        amount = np.round(rng.lognormal(4.0, 0.6, count), 2)
        recent = issued_day > self.now // DAY - 30
        status = np.where(
            recent & (rng.random(count) < 0.7),
            "open",
            choice(rng, ["paid", "void", "open"], [0.88, 0.06, 0.06], count),
        )
        if forced_card_style is not None:
            status = np.full(count, "paid", dtype=object)
        invoice_id = self.ids("billing.invoices", count)
        self.load(
            "billing.invoices",
            {
                "invoice_id": invoice_id,
                "customer_id": self.customer_id[owner],
                "issued_at": loader.dates(issued_day),
                "amount": amount,
                "currency": currencies[self.country[owner]],
                "billing_address": self.postal_address[owner],
                "status": status,
            },
        )
        self.note_overdue("billing.invoices", invoice_id, "issued_at", issued_day * DAY)

        paid = np.flatnonzero(status == "paid")
        payments = paid.size
        paid_at = np.minimum(
            issued_day[paid] * DAY + rng.integers(0, 30 * DAY, payments), self.now - 1
        )
        form = choice(rng, ["full", "masked", "none"], [0.03, 0.85, 0.12], payments)
        if forced_card_style is not None:
            form = np.full(payments, forced_card_style, dtype=object)
        card = np.full(payments, None, dtype=object)
        # Legacy rows kept the whole card number, typed plain, spaced or dashed.
        full = np.flatnonzero(form == "full")
        numbers, _ = identifiers.card_numbers(rng, full.size)
        layout = rng.random(full.size)
        card[full] = [
            number
            if how < 0.6
            else identifiers.spaced_card(number).replace(" ", "-" if how > 0.85 else " ")
            for number, how in zip(numbers.tolist(), layout.tolist(), strict=True)
        ]
        masked = np.flatnonzero(form == "masked")
        amex = rng.random(masked.size) < 0.12  # 15 digits: 11 stars
        card[masked] = np.where(amex, "*" * 11, "*" * 12) + identifiers.zero_pad(
            rng.integers(0, 10_000, masked.size), 4
        )
        expiry = (
            identifiers.zero_pad(rng.integers(1, 13, payments), 2)
            + "/"
            + identifiers.zero_pad(
                (
                    paid_at.astype("datetime64[s]").astype("datetime64[Y]").astype(np.int64)
                    + 1970
                    + rng.integers(1, 5, payments)
                )
                % 100,
                2,
            )
        )
        payment_id = self.ids("billing.payments", payments)
        self.load(
            "billing.payments",
            {
                "payment_id": payment_id,
                "invoice_id": invoice_id[paid],
                "customer_id": self.customer_id[owner[paid]],
                "amount": amount[paid],
                "currency": currencies[self.country[owner[paid]]],
                "card_number": card,
                "card_expiry": np.where(form == "none", None, expiry),
                "paid_at": loader.timestamps(paid_at),
            },
        )
        self.note_overdue("billing.payments", payment_id, "paid_at", paid_at)
