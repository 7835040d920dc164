"""telephony: agents, campaigns, 16 years of calls, recordings (WAV files) and transcripts."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from steward.seed import identifiers, loader, phones, pools, texts
from steward.seed.common import (
    CALL_CENTRE_NUMBERS,
    CHUNK_ROWS,
    DAY,
    HISTORY_YEARS,
    RECORDED_SHARE,
    TRANSCRIBED_SHARE,
    WAV_BYTES,
    YEAR,
    between,
    choice,
)


class TelephonyTables:
    """telephony.agents, calls, call_recordings, transcripts.

    Also marketing.campaigns: the outbound calls are made for them, so they are
    drawn with the agents, before the calls.
    """

    # -- agents, campaigns ------------------------------------------------------

    def make_agents_and_campaigns(self) -> None:
        rng = self.rng("agents")
        count = max(10, self.customer_count // 50)
        us = self.pools["US"]
        female = rng.random(count) < 0.55
        self.agent_first = np.where(
            female, us.female_first.draw(rng, count), us.male_first.draw(rng, count)
        )
        agent_last = us.last.draw(rng, count)
        self.agent_count = count
        self.load(
            "telephony.agents",
            {
                "agent_id": np.arange(1, count + 1),
                "agent_name": self.agent_first + " " + agent_last,
                "extension": (np.arange(count) + 1000).astype(str),
                "team": choice(
                    rng,
                    ["Billing", "Tech Support", "Retention", "Sales", "Collections"],
                    [0.3, 0.3, 0.15, 0.15, 0.1],
                    count,
                ),
                "hired_at": loader.dates(self.now // DAY - rng.integers(30, 12 * 365, count)),
            },
        )

        rng = self.rng("campaigns")
        reference_month = np.datetime64(self.reference_date.isoformat()[:7], "M")
        themes = (
            "Spring Upgrade",
            "Loyalty Bonus",
            "Win-back",
            "Fiber Launch",
            "Holiday Offer",
            "Bill Reminder",
            "Survey",
        )
        rows = []
        for channel, months_between, years, length_days in (
            ("phone", 1, HISTORY_YEARS, 60),
            ("email", 3, 12, 30),
            ("sms", 6, 6, 14),
        ):
            months = reference_month - np.arange(1, years * 12 + 1, months_between)[::-1]
            starts = months.astype("datetime64[D]").astype(np.int64)
            for start in starts.tolist():
                rows.append((channel, start, start + length_days))
        count = len(rows)
        channel = np.array([row[0] for row in rows], dtype=object)
        start_day = np.array([row[1] for row in rows], dtype=np.int64)
        end_day = np.minimum(np.array([row[2] for row in rows], dtype=np.int64), self.now // DAY)
        theme = np.asarray(themes, dtype=object)[rng.integers(0, len(themes), count)]
        month_text = (
            start_day.astype("datetime64[D]").astype("datetime64[M]").astype(str).astype(object)
        )
        self.campaign_id = np.arange(1, count + 1)
        self.campaign_channel = channel
        self.campaign_start = start_day * DAY
        self.campaign_end = end_day * DAY
        self.load(
            "marketing.campaigns",
            {
                "campaign_id": self.campaign_id,
                "campaign_name": month_text + " " + theme + " (" + channel + ")",
                "channel": channel,
                "started_at": loader.dates(start_day),
                "ended_at": loader.dates(end_day),
            },
        )

    def campaign_at(self, channel: str, instants: np.ndarray) -> np.ndarray:
        """The latest campaign of a channel started before each instant (0: none)."""
        rows = np.flatnonzero(self.campaign_channel == channel)
        position = np.searchsorted(self.campaign_start[rows], instants, side="right") - 1
        return np.where(position >= 0, self.campaign_id[rows][np.maximum(position, 0)], 0)

    # -- calls ------------------------------------------------------------------

    def make_calls(self) -> None:
        callable_rows = np.flatnonzero(~self.phone_invalid)
        weights = np.where(self.phone_is_primary[callable_rows], 3.0, 1.0)
        self.call_phone_cdf = (callable_rows, np.cumsum(weights))
        if self.recordings_root.exists():
            shutil.rmtree(self.recordings_root)
        self.recordings_root.mkdir(parents=True, exist_ok=True)
        total = self.scale.calls
        for part, start in enumerate(range(0, total, CHUNK_ROWS)):
            self.call_chunk(self.rng("calls", part), min(CHUNK_ROWS, total - start))
            if part % 8 == 7:
                self.progress.say(f"telephony.calls {start + CHUNK_ROWS:,} of {total:,}")

    def call_chunk(self, rng: np.random.Generator, count: int, forced: dict | None = None) -> None:
        rows, cdf = self.call_phone_cdf
        phone = rows[np.searchsorted(cdf, rng.random(count) * cdf[-1], side="right")]
        identified = rng.random(count) >= 0.08
        outbound = rng.random(count) < 0.4
        campaign_call = outbound & (rng.random(count) < 0.7)
        if forced:
            phone, identified = forced["phone"], forced["identified"]
            outbound, campaign_call = forced["outbound"], np.zeros(count, dtype=bool)
        customer = self.phone_owner[phone]
        low = self.created[customer]
        end = self.lifetime_end[customer]
        # Dormant numbers get no call in the last 400 days (when they are old enough).
        dormant_end = np.minimum(end, self.now - 400 * DAY)
        high = np.where(self.phone_dormant[phone] & (dormant_end > low + DAY), dormant_end, end)
        low = np.minimum(low, high - 30 * DAY)
        started = np.where(
            identified,
            between(rng, low, high, skew=0.6),
            self.now - (8 * YEAR * rng.random(count) ** 1.5).astype(np.int64),
        )
        inbound_outcome = choice(
            rng, ["connected", "no_answer", "voicemail", "failed"], [0.80, 0.12, 0.05, 0.03], count
        )
        outbound_outcome = choice(
            rng,
            ["connected", "no_answer", "voicemail", "busy", "failed"],
            [0.45, 0.25, 0.15, 0.08, 0.07],
            count,
        )
        disposition = np.where(outbound, outbound_outcome, inbound_outcome)
        dead_line = identified & self.phone_disconnected[phone] & (started > self.now - 180 * DAY)
        disposition = np.where(dead_line, "failed", disposition)
        if forced:
            started = forced["started"]
            disposition = np.full(count, "connected", dtype=object)
        connected = disposition == "connected"
        duration = np.select(
            [connected, disposition == "voicemail", disposition == "no_answer"],
            [
                np.clip(rng.lognormal(5.4, 0.8, count), 5, 7200),
                rng.integers(15, 90, count),
                rng.integers(5, 45, count),
            ],
            0,
        ).astype(np.int64)
        campaign = np.where(campaign_call, self.campaign_at("phone", started), 0)
        has_agent = connected | outbound
        agent = rng.integers(1, self.agent_count + 1, count)

        outsider = rng.integers(0, self.outsider_e164.size, count)
        ani = np.where(rng.random(count) < 0.75, self.phone_e164[phone], self.phone_ani[phone])
        ani = np.where(
            identified,
            ani,
            np.where(rng.random(count) < 0.02, "anonymous", self.outsider_e164[outsider]),
        )
        dialled = np.where(identified, self.phone_dialled[phone], "1" + self.outsider_nsn[outsider])
        centre = CALL_CENTRE_NUMBERS[rng.integers(0, CALL_CENTRE_NUMBERS.size, count)]
        call_id = self.ids("telephony.calls", count)
        self.load(
            "telephony.calls",
            {
                "call_id": call_id,
                "customer_id": loader.integers(self.customer_id[customer], ~identified),
                "direction": np.where(outbound, "outbound", "inbound"),
                "caller_number": np.where(outbound, centre, ani),
                "callee_number": np.where(outbound, dialled, centre),
                "agent_id": loader.integers(agent, ~has_agent),
                "campaign_id": loader.integers(campaign, campaign == 0),
                "started_at": loader.timestamps(started),
                "ended_at": loader.timestamps(started + duration),
                "duration_seconds": duration,
                "disposition": disposition,
            },
        )
        self.note_overdue("telephony.calls", call_id, "started_at", started)
        known = np.flatnonzero(identified)
        np.maximum.at(self.last_contact, customer[known], started[known])
        reached = np.flatnonzero(identified & connected)
        np.maximum.at(self.phone_last_connected, phone[reached], started[reached])

        recorded = connected & (rng.random(count) < RECORDED_SHARE)
        if forced:
            recorded = connected
        at = np.flatnonzero(recorded)
        if at.size == 0:
            return
        recording_id = self.ids("telephony.call_recordings", at.size)
        month = started[at].astype("datetime64[s]").astype("datetime64[M]").astype(str)
        storage_path = np.array(
            [
                str(self.recordings_root / stamp[:4] / stamp[5:7] / f"rec_{rid:09d}.wav")
                for stamp, rid in zip(month.tolist(), recording_id.tolist(), strict=True)
            ],
            dtype=object,
        )
        self.write_recordings(storage_path)
        consent = rng.random(at.size) < 0.9
        self.load(
            "telephony.call_recordings",
            {
                "recording_id": recording_id,
                "call_id": call_id[at],
                "storage_path": storage_path,
                "recording_consent": consent,
                "customer_state": np.where(identified[at], self.state[customer[at]], None),
                "recorded_at": loader.timestamps(started[at]),
            },
        )
        self.note_overdue("telephony.call_recordings", recording_id, "recorded_at", started[at])

        transcribed = at[rng.random(at.size) < TRANSCRIBED_SHARE] if not forced else at
        self.transcribe(
            rng,
            transcribed,
            call_id,
            customer,
            phone,
            identified,
            agent,
            started + duration,
            forced,
        )

    def write_recordings(self, storage_paths: np.ndarray) -> None:
        folders = sorted({str(Path(path).parent) for path in storage_paths.tolist()})
        for folder in folders:
            Path(folder).mkdir(parents=True, exist_ok=True)
        for path in storage_paths.tolist():
            with open(path, "wb") as handle:
                handle.write(WAV_BYTES)
        self.recording_files += storage_paths.size

    def transcribe(
        self, rng, at, call_id, customer, phone, identified, agent, ended, forced
    ) -> None:
        if at.size == 0:
            return
        count = at.size
        transcript_id = self.ids("telephony.transcripts", count)
        languages = np.array([pools.COUNTRIES[code][3] for code in self.regions], dtype=object)
        language = np.where(identified[at], languages[self.country[customer[at]]], "en")
        spoken_style = rng.integers(0, 3, count)
        with_email = rng.random(count) < 0.6
        cards, _ = identifiers.card_numbers(rng, count)
        with_card = rng.random(count) < 0.06
        with_ssn = rng.random(count) < 0.05
        expiry_month = rng.integers(1, 13, count)
        expiry_year = rng.integers(27, 32, count)
        plain = rng.random(count) < 0.15
        picks = rng.integers(0, 1000, (count, 6))
        bodies = np.empty(count, dtype=object)
        for j, i in enumerate(at.tolist()):
            who = customer[i]
            if identified[i]:
                parts = phones.PhoneNumberParts(
                    self.regions[self.phone_region[phone[i]]],
                    int(self.phone_prefix[phone[i]]),
                    int(self.phone_suffix[phone[i]]),
                )
                spoken = phones.format_number(
                    self.book, parts, ("national", "international", "digits")[spoken_style[j]]
                )
                if forced:
                    spoken = phones.format_number(self.book, parts, "international")
                email = self.email[who] if (with_email[j] or forced) else None
                if forced and email:
                    email = email.upper()
                mention = texts.Mention(
                    first_name=self.first[who],
                    last_name=self.last[who],
                    agent_first_name=self.agent_first[agent[i] - 1],
                    phone=spoken,
                    email=email,
                    card=identifiers.spaced_card(cards[j]) if with_card[j] else None,
                    card_expiry=f"{expiry_month[j]:02d}/{expiry_year[j]}",
                    ssn=self.ssn[who] if with_ssn[j] else None,
                )
                style = 0 if (plain[j] and not forced) else 1
            else:
                mention = texts.Mention(
                    "", "", self.agent_first[agent[i] - 1], None, None, None, None, None
                )
                style = 0
            bodies[j] = texts.transcript(language[j], mention, (*picks[j].tolist(), style))
        created = ended[at] + rng.integers(60, 3600, count)
        self.load(
            "telephony.transcripts",
            {
                "transcript_id": transcript_id,
                "call_id": call_id[at],
                "language": language,
                "body": bodies,
                "created_at": loader.timestamps(created),
            },
        )
        self.note_overdue("telephony.transcripts", transcript_id, "created_at", created)
