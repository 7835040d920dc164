"""crm: customers (locale names, DOB, national ids), their phones and addresses."""

from __future__ import annotations

import numpy as np

from steward.seed import identifiers, loader, phones, pools
from steward.seed.common import (
    DAY,
    HISTORY_YEARS,
    STYLE_NAMES,
    STYLE_WEIGHTS,
    YEAR,
    between,
    choice,
    email_address,
    typo,
)


class CrmTables:
    """crm.customers, customer_phones, customer_addresses; how other systems spell a number."""

    # -- customers --------------------------------------------------------------

    def make_customers(self) -> None:
        rng = self.rng("customers")
        n = self.scale.customers
        shares = np.array([pools.COUNTRIES[code][0] for code in self.regions])
        country = rng.choice(len(self.regions), n, p=shares / shares.sum())
        gender = choice(rng, ["F", "M", "X", None], [0.48, 0.48, 0.02, 0.02], n)
        first = np.empty(n, dtype=object)
        last = np.empty(n, dtype=object)
        state = np.full(n, None, dtype=object)
        for index, code in enumerate(self.regions):
            rows = np.flatnonzero(country == index)
            pool = self.pools[code]
            femaleish = (gender[rows] == "F") | (
                (gender[rows] != "M") & (rng.random(rows.size) < 0.5)
            )
            first[rows] = np.where(
                femaleish,
                pool.female_first.draw(rng, rows.size),
                pool.male_first.draw(rng, rows.size),
            )
            last[rows] = pool.last.draw(rng, rows.size)
            if code in pools.STATE_WEIGHTS:
                state[rows] = pools.weighted_choice(rng, pools.STATE_WEIGHTS[code], rows.size)

        has_email = rng.random(n) < 0.9
        pattern = rng.integers(0, 5, n)
        number = rng.integers(1, 100, n)
        domain_pick = rng.random(n)
        case = rng.choice(3, n, p=[0.92, 0.04, 0.04])
        email = np.full(n, None, dtype=object)
        for i in np.flatnonzero(has_email).tolist():
            domains = self.pools[self.regions[country[i]]].domains
            address = email_address(
                first[i],
                last[i],
                pattern[i],
                number[i],
                domains[int(domain_pick[i] * len(domains))],
            )
            email[i] = (address, address.upper(), address.title())[case[i]]

        age_days = (np.clip(rng.normal(46, 16, n), 18, 92) * 365.25).astype(np.int64)
        birth_day = self.now // DAY - age_days - rng.integers(0, 365, n)
        created = self.now - (HISTORY_YEARS * YEAR * rng.random(n) ** 1.3).astype(np.int64)
        closed = rng.random(n) < 0.18
        closed_at = np.minimum(
            between(rng, created + 30 * DAY, np.full(n, self.now)), self.now - DAY
        )
        closed_at = np.maximum(closed_at, created)
        is_us = np.asarray(self.regions)[country] == "US"
        ssn = np.where(is_us & (rng.random(n) < 0.6), identifiers.ssns(rng, n), None)

        # Spread subjects: active US customers with an e-mail, present everywhere.
        candidates = np.flatnonzero(is_us & ~closed & has_email)
        self.spread = np.sort(rng.choice(candidates, self.scale.spread_subjects, replace=False))

        # Duplicates: copies of some customers, keyed with slips and re-spellings.
        eligible = np.setdiff1d(np.arange(n), self.spread)
        clusters = max(3, round(n * 0.015))
        originals = np.sort(rng.choice(eligible, clusters, replace=False))
        copies_per = 1 + (rng.random(clusters) < 0.25)
        source = np.repeat(originals, copies_per)
        copies = source.size
        self.duplicate_clusters = (
            np.concatenate([np.arange(clusters), np.repeat(np.arange(clusters), copies_per)]) + 1
        )
        self.duplicate_members = np.concatenate([originals, n + np.arange(copies)])
        self.duplicate_is_original = np.concatenate(
            [np.ones(clusters, dtype=bool), np.zeros(copies, dtype=bool)]
        )
        picks = rng.integers(0, 1_000, copies).tolist()
        copy_first = np.array(
            [typo(name, pick) for name, pick in zip(first[source], picks, strict=True)],
            dtype=object,
        )
        last_typo = rng.random(copies) < 0.25
        copy_last = np.array(
            [
                typo(name, pick) if slip else name
                for name, pick, slip in zip(last[source], picks, last_typo, strict=True)
            ],
            dtype=object,
        )
        email_style = rng.choice(3, copies, p=[0.5, 0.3, 0.2])
        copy_email = np.array(
            [
                None
                if address is None or style == 2
                else (address.upper() if style == 0 else address.title())
                for address, style in zip(email[source], email_style, strict=True)
            ],
            dtype=object,
        )
        copy_created = np.minimum(
            created[source] + rng.integers(30 * DAY, 4 * YEAR, copies), self.now - DAY
        )
        keep_ssn = rng.random(copies) < 0.4

        self.copy_source = source
        self.base_customers = n
        self.first = np.concatenate([first, copy_first])
        self.last = np.concatenate([last, copy_last])
        self.email = np.concatenate([email, copy_email])
        self.gender = np.concatenate([gender, gender[source]])
        self.country = np.concatenate([country, country[source]])
        self.state = np.concatenate([state, state[source]])
        self.birth_day = np.concatenate([birth_day, birth_day[source]])
        self.created = np.concatenate([created, copy_created])
        self.closed = np.concatenate([closed, np.zeros(copies, dtype=bool)])
        self.closed_at = np.concatenate([closed_at, np.zeros(copies, dtype=np.int64)])
        self.ssn = np.concatenate([ssn, np.where(keep_ssn, ssn[source], None)])
        self.customer_count = n + copies
        self.customer_id = np.arange(1, self.customer_count + 1, dtype=np.int64)
        self.lifetime_end = np.where(self.closed, self.closed_at, self.now)
        self.last_contact = np.full(self.customer_count, -1, dtype=np.int64)
        self.country_code = np.asarray(self.regions, dtype=object)[self.country]
        self.has_email = np.array([address is not None for address in self.email], dtype=bool)

    # -- phones -----------------------------------------------------------------

    def make_phones(self) -> None:
        rng = self.rng("phones")
        n = self.customer_count
        extra = rng.random(n)
        per_customer = 1 + (extra < 0.30) + (extra < 0.06)
        owner = np.repeat(np.arange(n), per_customer)
        is_primary = np.r_[True, owner[1:] != owner[:-1]]
        fresh_count = owner.size

        # Rows holding the customer's primary number again, in another spelling.
        base = self.base_customers
        doubled = np.setdiff1d(
            rng.choice(base, max(2, round(base * 0.012)), replace=False), self.spread
        )
        doubled = np.union1d(doubled, self.spread)
        owner = np.concatenate([owner, doubled])
        is_primary = np.concatenate([is_primary, np.zeros(doubled.size, dtype=bool)])
        rows = owner.size

        # Draw numbers for fresh rows plus outsiders (non-customers), all distinct.
        outsiders = max(300, base * 3 // 10)
        region = np.concatenate(
            [self.country[owner[:fresh_count]], np.zeros(outsiders, dtype=np.int64)]
        )
        prefix_counts = np.array([len(self.book[code].prefixes) for code in self.regions])
        prefix = (rng.random(region.size) * prefix_counts[region]).astype(np.int64)
        suffix = rng.integers(0, 100_000, region.size)
        for _ in range(50):
            key = (region * 10_000 + prefix) * 100_000 + suffix
            _, first_seen = np.unique(key, return_index=True)
            repeat = np.ones(key.size, dtype=bool)
            repeat[first_seen] = False
            if not repeat.any():
                break
            suffix[repeat] = rng.integers(0, 100_000, int(repeat.sum()))

        primary_row = np.full(n, -1, dtype=np.int64)
        primary_row[owner[:fresh_count][is_primary[:fresh_count]]] = np.flatnonzero(
            is_primary[:fresh_count]
        )
        # Duplicate customers carry their original's primary number.
        copy_customers = np.arange(base, n)
        copy_rows = primary_row[copy_customers]
        original_rows = primary_row[self.copy_source]
        prefix[copy_rows] = prefix[original_rows]
        suffix[copy_rows] = suffix[original_rows]
        doubled_source = primary_row[doubled]
        self.phone_region = np.concatenate([region[:fresh_count], region[doubled_source]])
        self.phone_prefix = np.concatenate([prefix[:fresh_count], prefix[doubled_source]])
        self.phone_suffix = np.concatenate([suffix[:fresh_count], suffix[doubled_source]])
        self.outsider_prefix = prefix[fresh_count:]
        self.outsider_suffix = suffix[fresh_count:]

        style = rng.choice(len(STYLE_NAMES), rows, p=STYLE_WEIGHTS)
        # Re-spellings must differ from the spelling they repeat.
        same_as = np.full(rows, -1, dtype=np.int64)
        same_as[copy_rows] = original_rows
        same_as[fresh_count:] = doubled_source
        repeats = same_as >= 0
        clash = repeats & (style == np.where(repeats, style[same_as], -1))
        style[clash] = (style[clash] + 1) % len(STYLE_NAMES)

        protected = repeats.copy()
        protected[original_rows] = True
        protected[primary_row[self.spread]] = True
        protected[doubled_source] = True
        invalid = ~protected & (rng.random(rows) < 0.03)
        invalid_kind = rng.integers(0, len(phones.INVALID_KINDS), rows)
        disconnected = ~protected & ~invalid & (rng.random(rows) < 0.04)
        self.phone_dormant = ~protected & ~invalid & (rng.random(rows) < 0.10)

        extension = rng.integers(100, 1000, rows)
        picks = rng.integers(0, 1000, rows)
        raw = np.empty(rows, dtype=object)
        spelling = np.empty(rows, dtype=object)
        for i, (reg, pre, suf, sty, bad, kind, ext, pick) in enumerate(
            zip(
                self.phone_region.tolist(),
                self.phone_prefix.tolist(),
                self.phone_suffix.tolist(),
                style.tolist(),
                invalid.tolist(),
                invalid_kind.tolist(),
                extension.tolist(),
                picks.tolist(),
                strict=True,
            )
        ):
            parts = phones.PhoneNumberParts(self.regions[reg], pre, suf)
            if bad:
                raw[i] = phones.invalid_spelling(self.book, parts, phones.INVALID_KINDS[kind], pick)
                spelling[i] = "invalid:" + phones.INVALID_KINDS[kind]
            else:
                raw[i] = phones.format_number(self.book, parts, STYLE_NAMES[sty], str(ext))
                spelling[i] = STYLE_NAMES[sty]

        self.phone_nsn, self.phone_e164 = self._numbers(
            self.phone_region, self.phone_prefix, self.phone_suffix
        )
        self.outsider_nsn, self.outsider_e164 = self._numbers(
            np.zeros(outsiders, dtype=np.int64), self.outsider_prefix, self.outsider_suffix
        )
        nanp = np.isin(np.asarray(self.regions)[self.phone_region], list(phones.NANP_REGIONS))
        country_code = np.array(
            [str(self.book[code].country_code) for code in self.regions], dtype=object
        )[self.phone_region]
        # How the switch logs a caller, and what the dialler sends out.
        self.phone_dialled = np.where(
            nanp, "1" + self.phone_nsn, "011" + country_code + self.phone_nsn
        )
        self.phone_ani = np.where(nanp, self.phone_nsn, self.phone_e164)

        prefix_kind = np.empty(rows, dtype=object)
        for index, code in enumerate(self.regions):
            at = np.flatnonzero(self.phone_region == index)
            prefix_kind[at] = np.asarray(self.book[code].kinds, dtype=object)[self.phone_prefix[at]]
        kind = np.where(
            prefix_kind == "mobile",
            "mobile",
            choice(rng, ["mobile", "home", "work"], [0.55, 0.35, 0.10], rows),
        )
        kind = np.where((prefix_kind == "fixed") & (kind == "mobile"), "home", kind)

        self.phone_owner = owner
        self.phone_id = self.ids("crm.customer_phones", rows)
        self.phone_raw = raw
        self.phone_spelling = spelling
        self.phone_invalid = invalid
        self.phone_disconnected = disconnected
        self.phone_is_primary = is_primary
        self.phone_kind = kind
        self.phone_created = np.where(
            is_primary,
            self.created[owner],
            between(rng, self.created[owner], self.lifetime_end[owner]),
        )
        self.phone_last_connected = np.full(rows, -1, dtype=np.int64)
        self.primary_row = np.where(primary_row >= 0, primary_row, 0)

    def _numbers(self, region, prefix, suffix):
        prefixes = np.concatenate(
            [np.asarray(self.book[code].prefixes, dtype=object) for code in self.regions]
        )
        offsets = np.cumsum([0] + [len(self.book[code].prefixes) for code in self.regions])[:-1]
        codes = np.array(
            [f"+{self.book[code].country_code}" for code in self.regions], dtype=object
        )
        nsn = prefixes[offsets[region] + prefix] + identifiers.zero_pad(
            suffix, phones.SUFFIX_DIGITS
        )
        return nsn, codes[region] + nsn

    # -- crm --------------------------------------------------------------------

    def load_crm(self) -> None:
        rng = self.rng("crm")
        n = self.customer_count
        updated = between(rng, self.created, self.lifetime_end)
        self.load(
            "crm.customers",
            {
                "customer_id": self.customer_id,
                "first_name": self.first,
                "last_name": self.last,
                "email": self.email,
                "date_of_birth": loader.dates(self.birth_day),
                "gender": self.gender,
                "country_code": self.country_code,
                "state_code": self.state,
                "status": np.where(self.closed, "closed", "active"),
                "created_at": loader.timestamps(self.created),
                "updated_at": loader.timestamps(np.maximum(updated, self.last_contact)),
                "last_contact_at": loader.timestamps(self.last_contact, self.last_contact < 0),
                "closed_at": loader.timestamps(self.closed_at, ~self.closed),
                "attr_3": self.ssn,
            },
        )
        closed_clock = np.where(self.closed, self.closed_at, self.now)
        self.note_overdue("crm.customers", self.customer_id, "closed_at", closed_clock)
        self.load(
            "crm.customer_phones",
            {
                "phone_id": self.phone_id,
                "customer_id": self.customer_id[self.phone_owner],
                "phone_raw": self.phone_raw,
                "phone_kind": self.phone_kind,
                "is_primary": self.phone_is_primary,
                "is_disconnected": self.phone_disconnected,
                "created_at": loader.timestamps(self.phone_created),
            },
        )
        self.note_overdue(
            "crm.customer_phones",
            self.phone_id,
            "customers.closed_at",
            closed_clock[self.phone_owner],
        )

        # One current address per customer, an older one for some.
        older = np.flatnonzero(rng.random(n) < 0.12)
        owner = np.concatenate([np.arange(n), older])
        current = np.arange(owner.size) < n
        street = np.empty(owner.size, dtype=object)
        city = np.empty(owner.size, dtype=object)
        postcode = np.empty(owner.size, dtype=object)
        for index, code in enumerate(self.regions):
            at = np.flatnonzero(self.country[owner] == index)
            pool = self.pools[code]
            street[at] = pool.streets[rng.integers(0, pool.streets.size, at.size)]
            city[at] = pool.cities[rng.integers(0, pool.cities.size, at.size)]
            postcode[at] = pool.postcodes[rng.integers(0, pool.postcodes.size, at.size)]
        # Duplicate records share their original's address, as typed again.
        copies = np.arange(self.base_customers, n)
        street[copies] = street[self.copy_source]
        city[copies] = city[self.copy_source]
        postcode[copies] = postcode[self.copy_source]
        created = np.where(
            current,
            self.created[owner],
            self.created[owner] - rng.integers(DAY, 5 * YEAR, owner.size),
        )
        address_id = self.ids("crm.customer_addresses", owner.size)
        self.load(
            "crm.customer_addresses",
            {
                "address_id": address_id,
                "customer_id": self.customer_id[owner],
                "street": street,
                "city": city,
                "postal_code": postcode,
                "state_code": self.state[owner],
                "country_code": self.country_code[owner],
                "created_at": loader.timestamps(created),
            },
        )
        self.note_overdue(
            "crm.customer_addresses", address_id, "customers.closed_at", closed_clock[owner]
        )
        self.postal_address = street[:n] + ", " + city[:n] + " " + postcode[:n]

    def phone_spelled(self, rng, rows: np.ndarray) -> np.ndarray:
        """A customer's number as other systems hold it: CRM text, E.164 or digits."""
        pick = rng.random(rows.size)
        return np.where(
            pick < 0.4,
            self.phone_raw[rows],
            np.where(pick < 0.8, self.phone_e164[rows], self.phone_nsn[rows]),
        )

    def outsider_emails(self, rng, count: int) -> np.ndarray:
        pool = self.pools["US"]
        first = pool.female_first.draw(rng, count)
        last = pool.last.draw(rng, count)
        numbers = rng.integers(1, 100, count)
        domains = pool.domains[rng.integers(0, pool.domains.size, count)]
        return np.array(
            [
                email_address(f, s, 1, k, d)
                for f, s, k, d in zip(first, last, numbers.tolist(), domains, strict=True)
            ],
            dtype=object,
        )
