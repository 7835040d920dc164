"""The planted subjects spread over every system, and the ground-truth schema (tests read it)."""

from __future__ import annotations

import numpy as np

from steward.seed import loader, phones
from steward.seed.common import (
    DAY,
    GROUND_TRUTH_SCHEMA,
    INACTIVE_AFTER,
    PII_COLUMNS,
    YEAR,
)


class GroundTruthTables:
    """Spread subjects, then every ground-truth table of ``steward_ground_truth``."""

    # -- spread subjects ----------------------------------------------------------

    def plant_spread_subjects(self) -> None:
        """Customers in every system, their number spelled at least four ways."""
        rng = self.rng("spread")
        subjects = self.spread
        k = subjects.size
        rows = self.primary_row[subjects]
        # Calls: inbound from the switch (E.164) and outbound dialled (1 + digits),
        # all connected, recorded and transcribed (international spelling, e-mail
        # in capitals).
        per = 3
        phone = np.repeat(rows, per)
        started = self.now - rng.integers(10 * DAY, 2 * YEAR, k * per)
        forced = {
            "phone": phone,
            "identified": np.ones(k * per, dtype=bool),
            "outbound": np.tile(np.array([False, False, True]), k),
            "started": started,
        }
        self.call_chunk(rng, k * per, forced)
        self.invoices_and_payments(rng, np.repeat(subjects, 2), "masked")
        self.tickets(
            rng, subjects, np.zeros(k, dtype=bool), self.now - rng.integers(5 * DAY, YEAR, k)
        )
        self.consents(rng, subjects, "trunk")

        contacted = self.now - rng.integers(30 * DAY, 3 * YEAR, k)
        dotted = np.array(
            [
                phones.format_number(
                    self.book,
                    phones.PhoneNumberParts(
                        self.regions[self.phone_region[r]],
                        int(self.phone_prefix[r]),
                        int(self.phone_suffix[r]),
                    ),
                    "dots",
                )
                for r in rows.tolist()
            ],
            dtype=object,
        )
        emails_upper = np.array([e.upper() for e in self.email[subjects]], dtype=object)
        self.load(
            "marketing.campaign_contacts",
            {
                "contact_id": self.ids("marketing.campaign_contacts", 2 * k),
                "campaign_id": np.concatenate(
                    [self.campaign_at("phone", contacted), self.campaign_at("email", contacted)]
                ),
                "customer_id": np.tile(self.customer_id[subjects], 2),
                "phone": np.concatenate([dotted, np.full(k, None, dtype=object)]),
                "email": np.concatenate([np.full(k, None, dtype=object), emails_upper]),
                "contacted_at": loader.timestamps(np.tile(contacted, 2)),
                "outcome": np.array(["answered"] * k + ["opened"] * k, dtype=object),
            },
        )
        self.load(
            "marketing.opt_outs",
            {
                "opt_out_id": self.ids("marketing.opt_outs", k),
                "customer_id": self.customer_id[subjects],
                "phone": self.phone_nsn[rows],
                "email": self.email[subjects],
                "channel": np.full(k, "all", dtype=object),
                "opted_out_at": loader.timestamps(self.now - rng.integers(DAY, 30 * DAY, k)),
                "source": np.full(k, "call", dtype=object),
            },
        )

    # -- ground truth ----------------------------------------------------------

    def load_ground_truth(self) -> None:
        truth = GROUND_TRUTH_SCHEMA
        info = {
            "scale": self.scale.name,
            "seed": str(self.seed),
            "reference_date": self.reference_date.isoformat(),
            "recordings_root": str(self.recordings_root),
            "ancient_cutoff": str(np.datetime64(self.cutoff, "s")),
        }
        self.load(
            f"{truth}.seed_info",
            {
                "setting_name": np.array(list(info), dtype=object),
                "setting_value": np.array(list(info.values()), dtype=object),
            },
        )
        columns = list(zip(*PII_COLUMNS, strict=True))
        self.load(
            f"{truth}.pii_columns",
            {
                name: np.array(values, dtype=object)
                for name, values in zip(
                    ("schema_name", "table_name", "column_name", "category"), columns, strict=True
                )
            },
        )
        self.load(
            f"{truth}.duplicate_customers",
            {
                "cluster_id": self.duplicate_clusters,
                "customer_id": self.customer_id[self.duplicate_members],
                "is_original": self.duplicate_is_original,
            },
        )

        # Same customer, same number, more than one row.
        valid = np.flatnonzero(~self.phone_invalid)
        key = self.phone_e164[valid]
        pairs = {}
        for row, owner, number in zip(
            valid.tolist(), self.phone_owner[valid].tolist(), key.tolist(), strict=True
        ):
            pairs.setdefault((owner, number), []).append(row)
        doubled = np.array(
            sorted(row for group in pairs.values() if len(group) > 1 for row in group),
            dtype=np.int64,
        )
        self.load(
            f"{truth}.duplicate_phones",
            {
                "customer_id": self.customer_id[self.phone_owner[doubled]],
                "phone_id": self.phone_id[doubled],
                "e164": self.phone_e164[doubled],
            },
        )

        status = np.where(
            self.phone_invalid,
            "invalid",
            np.where(self.phone_disconnected, "disconnected", "valid"),
        )
        inactive = self.phone_last_connected < self.now - INACTIVE_AFTER
        self.load(
            f"{truth}.phone_cases",
            {
                "phone_id": self.phone_id,
                "customer_id": self.customer_id[self.phone_owner],
                "phone_raw": self.phone_raw,
                "region": self.country_code[self.phone_owner],
                "spelling": self.phone_spelling,
                "expected_e164": np.where(self.phone_invalid, None, self.phone_e164),
                "expected_status": status,
                "last_connected_call_at": loader.timestamps(
                    self.phone_last_connected, self.phone_last_connected < 0
                ),
                "is_inactive": inactive,
            },
        )
        self.load(
            f"{truth}.spread_subjects",
            {
                "customer_id": self.customer_id[self.spread],
                "e164": self.phone_e164[self.primary_row[self.spread]],
                "email": self.email[self.spread],
            },
        )
        if self.overdue:
            self.load(
                f"{truth}.retention_overdue",
                {
                    "schema_name": np.concatenate(
                        [
                            np.full(len(keys), schema, dtype=object)
                            for schema, _, keys, _, _ in self.overdue
                        ]
                    ),
                    "table_name": np.concatenate(
                        [
                            np.full(len(keys), table, dtype=object)
                            for _, table, keys, _, _ in self.overdue
                        ]
                    ),
                    "record_key": np.concatenate(
                        [keys.astype(str).astype(object) for _, _, keys, _, _ in self.overdue]
                    ),
                    "clock_column": np.concatenate(
                        [
                            np.full(len(keys), column, dtype=object)
                            for _, _, keys, column, _ in self.overdue
                        ]
                    ),
                    "clock": loader.timestamps(
                        np.concatenate([clocks for *_, clocks in self.overdue])
                    ),
                },
            )
