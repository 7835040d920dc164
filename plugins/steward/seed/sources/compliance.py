"""compliance: the Do-Not-Call registry, consents and legal holds."""

from __future__ import annotations

import numpy as np

from steward.seed import loader, phones
from steward.seed.common import (
    DAY,
    YEAR,
    between,
    choice,
    pa_dates,
)


class ComplianceTables:
    """compliance.dnc_registry, compliance.consents, compliance.legal_holds."""

    # -- compliance -------------------------------------------------------------

    def make_compliance(self) -> None:
        rng = self.rng("compliance")
        us_valid = np.flatnonzero((self.phone_region == 0) & ~self.phone_invalid)
        on_list = us_valid[rng.random(us_valid.size) < 0.08]
        outsiders = np.flatnonzero(rng.random(self.outsider_nsn.size) < 0.5)
        numbers = np.concatenate([self.phone_nsn[on_list], self.outsider_nsn[outsiders]])
        # Duplicate customers share numbers; the registry lists each number once.
        _, first_seen = np.unique(numbers.astype(str), return_index=True)
        numbers = numbers[np.sort(first_seen)]
        count = numbers.size
        reference_month = np.datetime64(self.reference_date.isoformat()[:7], "M")
        months_back = (rng.random(count) ** 2 * 13 * 12).astype(np.int64)
        snapshot = (reference_month - months_back).astype("datetime64[D]")
        self.load(
            "compliance.dnc_registry",
            {
                "phone_number": numbers,
                "snapshot_date": pa_dates(snapshot),
                "source_file": "dnc_us_"
                + np.strings.replace(snapshot.astype("datetime64[M]").astype(str), "-", "").astype(
                    object
                )
                + ".txt",
            },
        )
        snapshot_seconds = snapshot.astype(np.int64) * DAY
        self.note_overdue(
            "compliance.dnc_registry",
            numbers + "|" + snapshot.astype(str).astype(object),
            "snapshot_date",
            snapshot_seconds,
        )

        per_customer = (rng.random(self.customer_count) < 0.5).astype(np.int64) + (
            rng.random(self.customer_count) < 0.15
        )
        owner = np.repeat(np.arange(self.customer_count), per_customer)
        self.consents(rng, owner, None)

        # Legal holds: by subject, by record, by table and date range; some ended.
        now = self.now
        closed_ancient = np.flatnonzero(self.closed & (self.closed_at < self.cutoff))
        ancient_subject = int(self.customer_id[closed_ancient[0]]) if closed_ancient.size else 1
        holds = [
            (
                "subject",
                int(self.customer_id[self.spread[0]]),
                None,
                None,
                None,
                None,
                now - 200 * DAY,
                None,
                None,
            ),
            ("subject", ancient_subject, None, None, None, None, now - 2 * YEAR, None, None),
            (
                "subject",
                int(self.customer_id[self.duplicate_members[0]]),
                None,
                None,
                None,
                None,
                now - 3 * YEAR,
                None,
                now - YEAR,
            ),
            ("record", None, "telephony.calls", "1", None, None, now - 400 * DAY, None, None),
            (
                "record",
                None,
                "support.tickets",
                "2",
                None,
                None,
                now - 5 * YEAR,
                now - 2 * YEAR,
                None,
            ),
            (
                "table",
                None,
                "billing.invoices",
                None,
                now - 9 * YEAR,
                now - 8 * YEAR,
                now - YEAR,
                None,
                None,
            ),
            (
                "table",
                None,
                "telephony.call_recordings",
                None,
                now - 3 * YEAR,
                now - 2 * YEAR,
                now - 90 * DAY,
                now + YEAR,
                None,
            ),
            (
                "table",
                None,
                "marketing.campaign_contacts",
                None,
                now - 6 * YEAR,
                now - 5 * YEAR,
                now - 4 * YEAR,
                None,
                now - 2 * YEAR,
            ),
        ]

        def instants(values):
            array = np.array([v if v is not None else 0 for v in values], dtype=np.int64)
            return loader.timestamps(array, np.array([v is None for v in values]))

        def days(values):
            array = np.array([v // DAY if v is not None else 0 for v in values], dtype=np.int64)
            return loader.dates(array, np.array([v is None for v in values]))

        columns = list(zip(*holds, strict=True))
        self.load(
            "compliance.legal_holds",
            {
                "hold_id": np.arange(1, len(holds) + 1),
                "case_reference": np.array(
                    [f"CASE-{2019 + i}-{(i * 7919) % 10_000:04d}" for i in range(len(holds))],
                    dtype=object,
                ),
                "scope": np.array(columns[0], dtype=object),
                "customer_id": loader.integers(
                    np.array([v or 0 for v in columns[1]]),
                    np.array([v is None for v in columns[1]]),
                ),
                "source_table": np.array(columns[2], dtype=object),
                "record_key": np.array(columns[3], dtype=object),
                "date_from": days(columns[4]),
                "date_to": days(columns[5]),
                "placed_at": instants(columns[6]),
                "expires_at": instants(columns[7]),
                "released_at": instants(columns[8]),
            },
        )

    def consents(self, rng, owner, forced_phone_style) -> None:
        count = owner.size
        kind = choice(
            rng,
            ["express_written", "ebr_purchase", "ebr_inquiry", "call_recording"],
            [0.35, 0.3, 0.15, 0.2],
            count,
        )
        rows = self.primary_row[owner]
        phone = np.where(
            np.isin(kind, ["express_written", "call_recording"]),
            self.phone_spelled(rng, rows),
            None,
        )
        if forced_phone_style is not None:
            kind = np.full(count, "express_written", dtype=object)
            phone = np.array(
                [
                    phones.format_number(
                        self.book,
                        phones.PhoneNumberParts(
                            self.regions[self.phone_region[r]],
                            int(self.phone_prefix[r]),
                            int(self.phone_suffix[r]),
                        ),
                        forced_phone_style,
                    )
                    for r in rows.tolist()
                ],
                dtype=object,
            )
        granted = between(rng, self.created[owner], self.lifetime_end[owner])
        revoked = (rng.random(count) < 0.12) & (forced_phone_style is None)
        revoked_at = between(rng, granted, self.lifetime_end[owner])
        consent_id = self.ids("compliance.consents", count)
        self.load(
            "compliance.consents",
            {
                "consent_id": consent_id,
                "customer_id": self.customer_id[owner],
                "phone": phone,
                "consent_type": kind,
                "granted_at": loader.timestamps(granted),
                "revoked_at": loader.timestamps(revoked_at, ~revoked),
            },
        )
        self.note_overdue("compliance.consents", consent_id, "revoked_at", revoked_at, mask=revoked)
