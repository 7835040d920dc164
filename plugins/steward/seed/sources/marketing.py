"""marketing: campaign contacts and opt-outs."""

from __future__ import annotations

import numpy as np

from steward.seed import loader
from steward.seed.common import (
    YEAR,
    between,
    choice,
)


class MarketingTables:
    """marketing.campaign_contacts, marketing.opt_outs."""

    # -- marketing --------------------------------------------------------------

    def make_marketing(self) -> None:
        rng = self.rng("marketing")
        count = round(self.customer_count * 1.2)
        is_customer = rng.random(count) < 0.8
        customer = rng.integers(0, self.customer_count, count)
        channel = choice(rng, ["phone", "email", "sms"], [0.5, 0.35, 0.15], count)
        no_email = is_customer & (channel == "email") & ~self.has_email[customer]
        channel = np.where(no_email, "phone", channel)
        first_campaign = self.campaign_start.min()
        low = np.maximum(self.created[customer], first_campaign)
        contacted = np.where(
            is_customer,
            between(rng, low, np.maximum(low, self.lifetime_end[customer]), skew=0.7),
            between(rng, np.full(count, first_campaign), np.full(count, self.now), skew=0.7),
        )
        campaign = np.zeros(count, dtype=np.int64)
        for name in ("phone", "email", "sms"):
            at = channel == name
            campaign[at] = self.campaign_at(name, contacted[at])
        campaign = np.where(
            campaign == 0, self.campaign_at("phone", np.full(count, self.now)), campaign
        )
        row = self.primary_row[customer]
        outsider = rng.integers(0, self.outsider_e164.size, count)
        customer_phone = self.phone_spelled(rng, row)
        outsider_phone = np.where(
            rng.random(count) < 0.5, self.outsider_e164[outsider], self.outsider_nsn[outsider]
        )
        phone = np.where(is_customer, customer_phone, outsider_phone)
        phone = np.where(channel == "email", None, phone)
        email = self.email[customer].copy()
        email[~is_customer] = self.outsider_emails(rng, int((~is_customer).sum()))
        upper = rng.random(count) < 0.05
        email = np.array(
            [e.upper() if (u and e) else e for e, u in zip(email, upper, strict=True)], dtype=object
        )
        email = np.where(channel == "email", email, None)
        outcome = np.select(
            [channel == "phone", channel == "email"],
            [
                choice(
                    rng,
                    ["answered", "no_answer", "voicemail", "converted", "opted_out"],
                    [0.4, 0.3, 0.2, 0.07, 0.03],
                    count,
                ),
                choice(
                    rng,
                    ["delivered", "opened", "clicked", "bounced", "unsubscribed"],
                    [0.45, 0.3, 0.1, 0.1, 0.05],
                    count,
                ),
            ],
            choice(
                rng, ["delivered", "replied", "failed", "opted_out"], [0.8, 0.08, 0.08, 0.04], count
            ),
        )
        contact_id = self.ids("marketing.campaign_contacts", count)
        self.load(
            "marketing.campaign_contacts",
            {
                "contact_id": contact_id,
                "campaign_id": campaign,
                "customer_id": loader.integers(self.customer_id[customer], ~is_customer),
                "phone": phone,
                "email": email,
                "contacted_at": loader.timestamps(contacted),
                "outcome": outcome,
            },
        )
        self.note_overdue("marketing.campaign_contacts", contact_id, "contacted_at", contacted)

        customers = round(self.customer_count * 0.04)
        count = customers + round(customers * 0.3) + 1
        is_customer = np.arange(count) < customers
        customer = rng.integers(0, self.customer_count, count)
        channel = choice(rng, ["phone", "email", "sms", "all"], [0.45, 0.3, 0.15, 0.1], count)
        channel = np.where(
            is_customer & (channel == "email") & ~self.has_email[customer], "phone", channel
        )
        phone = np.where(
            is_customer,
            self.phone_spelled(rng, self.primary_row[customer]),
            self.outsider_e164[rng.integers(0, self.outsider_e164.size, count)],
        )
        email = self.email[customer].copy()
        email[~is_customer] = self.outsider_emails(rng, int((~is_customer).sum()))
        opted = np.where(
            is_customer,
            between(rng, self.created[customer], self.lifetime_end[customer]),
            between(rng, np.full(count, self.now - 10 * YEAR), np.full(count, self.now)),
        )
        self.load(
            "marketing.opt_outs",
            {
                "opt_out_id": self.ids("marketing.opt_outs", count),
                "customer_id": loader.integers(self.customer_id[customer], ~is_customer),
                "phone": np.where(channel == "email", None, phone),
                "email": np.where(np.isin(channel, ["email", "all"]), email, None),
                "channel": channel,
                "opted_out_at": loader.timestamps(opted),
                "source": choice(rng, ["call", "web", "email_link"], [0.5, 0.3, 0.2], count),
            },
        )
