"""What Steward still holds about a subject after an earlier erasure, and why.

An erasure keeps some rows on purpose (``retain`` in ``steward.dsar_erasure_plan``,
with the exemption: a legal hold, a statutory minimum retention such as billing
records, the opt-out that stops marketing) and leaves the subject's identifiers
in the suppression list as keyed hashes. Those rows are found by the customer
id the subject no longer gives; a later request by phone or e-mail alone would
otherwise be told "we hold nothing about you".

:func:`kept_after_erasure` hashes the identifiers of the request with the
suppression key (:mod:`steward.dsar.keys`) and looks them up in
``steward.dsar_suppressions``: each earlier deletion they match contributes
what its plan retained (table, reason, row count) and the suppression record
itself. Counts and reasons only: the retained rows' content is exported when
the request identifies their account (then the finder finds them).
"""

from __future__ import annotations

import sqlalchemy as sa

from steward.dsar import keys
from steward.dsar.finder import SubjectIdentity

SUPPRESSION_REASON = (
    "the identifiers of an erased subject, kept only as keyed hashes so that data "
    "about them that reappears (a re-import, a late feed) is found and erased again"
)
KIND_NAMES = {"customer_id": "customer number", "email": "e-mail address", "phone": "phone number"}


def _identifier_pairs(identity: SubjectIdentity) -> list[tuple[str, str]]:
    return (
        [("customer_id", str(value)) for value in identity.customer_ids]
        + [("email", value.lower()) for value in identity.emails]
        + [("phone", value) for value in identity.phones]
    )


def earlier_erasures(
    engine: sa.Engine, identity: SubjectIdentity, exclude_request_id: int | None = None
) -> dict[int, list[str]]:
    """Earlier deletion requests whose suppression entries the identity matches -> kinds."""
    pairs = _identifier_pairs(identity)
    if not pairs:
        return {}
    with engine.connect() as conn:
        present = (
            conn.execute(
                sa.text("select to_regclass('steward.dsar_suppressions') is not null")
            ).scalar()
            and conn.execute(
                sa.text("select exists (select from steward.dsar_suppressions)")
            ).scalar()
        )
        if not present:
            return {}
        key = keys.suppression_key()
        hashes = [(kind, keys.identifier_hash(key, kind, value)) for kind, value in pairs]
        rows = conn.execute(
            sa.text(
                "select s.request_id, array_agg(distinct s.identifier_kind order by"
                " s.identifier_kind) from steward.dsar_suppressions as s"
                " join unnest(cast(:kinds as text[]), cast(:hashes as text[])) as h(kind, hash)"
                " on h.kind = s.identifier_kind and h.hash = s.identifier_hash"
                " where s.request_id is distinct from :exclude and s.request_id > 0"
                " group by s.request_id order by s.request_id"
            ),
            {
                "kinds": [kind for kind, _ in hashes],
                "hashes": [digest for _, digest in hashes],
                "exclude": exclude_request_id,
            },
        ).all()
    return {int(request_id): list(kinds) for request_id, kinds in rows}


def kept_after_erasure(
    engine: sa.Engine, identity: SubjectIdentity, exclude_request_id: int | None = None
) -> dict:
    """Per earlier erasure of this subject: what was kept, why, and the suppression record.

    ``{"erasures": [{"request_id", "completed_on", "matched_by", "kept": [{"table",
    "reason", "rows"}], "suppression": {...}}], "total": rows kept}``; no identifiers.
    """
    matches = earlier_erasures(engine, identity, exclude_request_id)
    erasures = []
    total = 0
    if matches:
        with engine.connect() as conn:
            plan = conn.execute(
                sa.text(
                    "select p.request_id, p.table_name, p.reason, count(*)"
                    " from steward.dsar_erasure_plan as p"
                    " where p.request_id = any(:ids) and p.action = 'retain'"
                    " group by 1, 2, 3 order by 1, 2, 3"
                ),
                {"ids": sorted(matches)},
            ).all()
            completed = dict(
                conn.execute(
                    sa.text(
                        "select request_id, completed_at::date from steward.dsar_requests"
                        " where request_id = any(:ids)"
                    ),
                    {"ids": sorted(matches)},
                ).all()
            )
            entries = dict(
                conn.execute(
                    sa.text(
                        "select request_id, count(*) from steward.dsar_suppressions"
                        " where request_id = any(:ids) group by 1"
                    ),
                    {"ids": sorted(matches)},
                ).all()
            )
        for request_id, kinds in matches.items():
            kept = [
                {"table": table, "reason": reason, "rows": int(rows)}
                for rid, table, reason, rows in plan
                if rid == request_id
            ]
            total += sum(entry["rows"] for entry in kept)
            on = completed.get(request_id)
            erasures.append(
                {
                    "request_id": request_id,
                    "completed_on": on.isoformat() if on else None,
                    "matched_by": [KIND_NAMES.get(kind, kind) for kind in kinds],
                    "kept": kept,
                    "suppression": {
                        "table": "steward.dsar_suppressions",
                        "entries": int(entries.get(request_id, 0)),
                        "reason": SUPPRESSION_REASON,
                    },
                }
            )
    return {"erasures": erasures, "total": total}


def describe(kept: dict) -> list[str]:
    """Lines for the subject's letter: what is kept after their erasure and why."""
    lines: list[str] = []
    for erasure in kept.get("erasures", []):
        when = f" on {erasure['completed_on']}" if erasure["completed_on"] else ""
        lines.append(
            f"Your earlier erasure request (number {erasure['request_id']}) was carried out{when}."
            " We keep only what the law requires or allows us to keep:"
        )
        for entry in erasure["kept"]:
            records = "record" if entry["rows"] == 1 else "records"
            lines.append(
                f"- {entry['table']}: {entry['rows']} {records}, kept because: {entry['reason']}"
            )
        suppression = erasure["suppression"]
        lines.append(
            f"- the suppression list: {suppression['entries']} keyed hashes (not readable) of "
            f"the identifiers of that request (your {' and '.join(erasure['matched_by'])} "
            f"among them), kept because: {suppression['reason']}"
        )
    return lines
