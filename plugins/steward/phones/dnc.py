"""The national Do-Not-Call registry, imported from its download files.

The registry's flat-file download holds one US number per line, either ten
digits (``2024561111``) or area code and number separated by a comma
(``202,4561111``). A *full* download is the whole list (for the subscribed area
codes) on its snapshot date; a *change list* holds the numbers added to or
deleted from the registry since the last download, one per record, with an
action field (``A``/``D``, ``add``/``delete``, ``+``/``-``) anywhere after the
number (other fields, such as dates, are ignored).

Steward keeps the registry as listing intervals in ``steward.dnc_registry``:
a number is listed from ``listed_on`` until ``delisted_on`` (open while null),
so compliance checks can ask "was this number listed when we dialled it?".
Each import is recorded in ``steward.dnc_registry_imports`` (counts and a file
digest, never a number). The seed's ``compliance.dnc_registry`` rows (earlier
downloads landed by the source system) still count for dates before the first
full import here: dbt's ``int_phones__dnc_listings`` joins both.

The import is set-based: lines are checked in one streaming pass (digits only,
NANP shape), the good numbers are COPYed into a temporary table, and one
insert plus one update apply the difference, in a single transaction under an
advisory lock. Bad lines are counted by reason and never imported; a full
import that would delist more than ``max_delist_share`` of the current listings
(a truncated download, say) stops before changing anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import sqlalchemy as sa
from psycopg2 import sql

from steward import schema

log = logging.getLogger(__name__)

REGISTRY_SCHEMA = "steward"
REGISTRY_TABLE = "dnc_registry"
IMPORTS_TABLE = "dnc_registry_imports"
# A full download that drops more than this share of the listed numbers is
# more likely truncated than real: refuse unless told otherwise.
DEFAULT_MAX_DELIST_SHARE = 0.2
_LOCK_KEY = "steward.dnc_registry"
_SAMPLE_LINES = 10  # line numbers kept per rejection reason, to find them in the file

# A North American number: area code and exchange start with 2-9.
_NANP = re.compile(r"[2-9][0-9]{2}[2-9][0-9]{6}")
_ASCII_DIGITS = re.compile(r"[0-9]+")
_ACTIONS = {"a": "A", "add": "A", "+": "A", "d": "D", "delete": "D", "del": "D", "-": "D"}


class RegistryImportError(RuntimeError):
    """An import refused before changing anything (out of order, circuit breaker...)."""


@dataclass
class LineCheck:
    """What the line checker made of a file: counts only, never a number."""

    lines_read: int = 0
    blank_lines: int = 0
    accepted_lines: int = 0
    rejected: Counter = field(default_factory=Counter)
    rejected_line_numbers: dict[str, list[int]] = field(default_factory=dict)

    def reject(self, reason: str, line_number: int) -> None:
        self.rejected[reason] += 1
        sample = self.rejected_line_numbers.setdefault(reason, [])
        if len(sample) < _SAMPLE_LINES:
            sample.append(line_number)

    @property
    def lines_rejected(self) -> int:
        return sum(self.rejected.values())


@dataclass
class RegistryImportReport:
    """One import: counts, the file's digest and name, never a number."""

    import_id: int | None
    import_kind: str  # 'full' | 'changes'
    snapshot_date: str
    source_file: str
    file_sha256: str
    dry_run: bool
    lines_read: int
    blank_lines: int
    numbers_accepted: int  # distinct well-formed numbers in the file
    lines_rejected: int
    rejected_by_reason: dict[str, int]
    rejected_line_numbers: dict[str, list[int]]  # the first few per reason
    numbers_added: int
    numbers_removed: int
    listed_after: int
    elapsed_seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


def check_line(text: str, changes: bool, default_action: str) -> tuple[str, str] | str:
    """``(ten digits, action)`` for a good line, else the reason it is rejected.

    The number is either one field of ten digits or two fields (area code,
    seven digits). On a change list, an action field may follow.
    """
    fields = [part.strip() for part in text.split(",")]
    action = default_action
    if changes:
        kept = []
        for part in fields:
            marker = _ACTIONS.get(part.lower())
            if marker is not None and kept:  # a field after the number
                action = marker
            else:
                kept.append(part)
        fields = kept
        # Change lists may carry more fields (a date...): the number comes first.
        if len(fields) >= 2 and len(fields[0]) == 3 and len(fields[1]) == 7:
            fields = fields[:2]
        elif fields and len(fields[0]) == 10:
            fields = fields[:1]
    if len(fields) == 2:
        area, number = fields
        if not (_ASCII_DIGITS.fullmatch(area) and _ASCII_DIGITS.fullmatch(number)):
            return _bad_characters(area + number)
        if len(area) != 3 or len(number) != 7:
            return "wrong_length"
        digits = area + number
    elif len(fields) == 1:
        digits = fields[0]
        if not _ASCII_DIGITS.fullmatch(digits):
            return _bad_characters(digits)
        if len(digits) != 10:
            return "wrong_length"
    else:
        return "too_many_fields"
    if not _NANP.fullmatch(digits):
        return "not_a_nanp_number"
    return digits, action


def _bad_characters(text: str) -> str:
    if any(ch.isalpha() for ch in text):
        return "letters"
    if any(ch.isdigit() for ch in text):  # digits, but not ASCII ones (or with punctuation)
        return "non_ascii_digits" if any(not ch.isascii() for ch in text) else "punctuation"
    return "no_digits"


def read_lines(path: Path) -> Iterator[str]:
    """The file's lines, decoded leniently: undecodable bytes become U+FFFD (rejected)."""
    with path.open("rb") as handle:
        for raw in handle:
            yield raw.decode("utf-8", errors="replace").lstrip("\ufeff").rstrip("\r\n")


def check_lines(
    lines: Iterable[str], changes: bool, default_action: str, sink
) -> tuple[LineCheck, str]:
    """Check every line; write ``number<TAB>action<TAB>line`` rows for COPY to ``sink``.

    Returns the counts and the SHA-256 of the lines read (for the audit row).
    """
    check = LineCheck()
    digest = hashlib.sha256()
    for line_number, text in enumerate(lines, start=1):
        check.lines_read += 1
        digest.update(text.encode("utf-8", errors="replace") + b"\n")
        if not text.strip():
            check.blank_lines += 1
            continue
        verdict = check_line(text, changes, default_action)
        if isinstance(verdict, str):
            check.reject(verdict, line_number)
            continue
        digits, action = verdict
        check.accepted_lines += 1
        sink.write(f"{digits}\t{action}\t{line_number}\n")
    return check, digest.hexdigest()


def registry_engine(url: str | None = None) -> sa.Engine:
    """The warehouse engine, on psycopg2 (the bulk code uses psycopg2's COPY and sql module).

    ``warehouse.engine`` takes an explicit URL as given, and SQLAlchemy reads a
    bare ``postgresql://`` as psycopg 3; the environment's URL is already set right.
    """
    from sqlalchemy.engine import make_url

    from steward import warehouse

    if url is not None:
        parsed = make_url(url)
        if parsed.drivername in ("postgres", "postgresql"):
            url = parsed.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
    return warehouse.engine(url)


def import_registry_file(
    path: str | Path,
    *,
    changes: bool = False,
    snapshot_date: dt.date | None = None,
    deletions: bool = False,
    dry_run: bool = False,
    max_delist_share: float = DEFAULT_MAX_DELIST_SHARE,
    url: str | None = None,
    engine: sa.Engine | None = None,
) -> RegistryImportReport:
    """Import one registry download into ``steward.dnc_registry``.

    ``changes``: a change list (adds and deletes) instead of a full list, which
    replaces the listings as of ``snapshot_date`` (default: today). On a change
    list, lines without an action field are additions, or deletions with
    ``deletions``. ``dry_run`` computes every count and rolls back.
    Raises :class:`RegistryImportError` when the import is refused; bad lines
    never raise, they are counted in the report.
    """
    started = time.perf_counter()
    path = Path(path)
    snapshot_date = snapshot_date or dt.date.today()
    kind = "changes" if changes else "full"
    if deletions and not changes:
        raise ValueError("deletions apply to change lists only")
    engine = engine or registry_engine(url)
    registry = sql.Identifier(REGISTRY_SCHEMA, REGISTRY_TABLE)
    imports = sql.Identifier(REGISTRY_SCHEMA, IMPORTS_TABLE)

    schema.upgrade(engine)
    pooled = engine.raw_connection()
    connection = pooled.driver_connection
    try:
        with connection.cursor() as cursor:
            cursor.execute("select pg_advisory_xact_lock(hashtext(%s))", (_LOCK_KEY,))
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL(
                    "select max(snapshot_date), count(*) filter (where import_kind = 'full')"
                    " from {}"
                ).format(imports)
            )
            latest, full_imports = cursor.fetchone()
        if latest is not None and snapshot_date < latest:
            raise RegistryImportError(
                f"snapshot {snapshot_date} is older than the last import ({latest}):"
                " registry files must be imported in date order"
            )
        if changes and not full_imports:
            raise RegistryImportError("a change list needs a full import first")

        with connection.cursor() as cursor:
            cursor.execute(
                "create temp table dnc_incoming (phone_number text not null,"
                " action char(1) not null, line_number bigint not null) on commit drop"
            )
            with tempfile.SpooledTemporaryFile(max_size=64 << 20, mode="w+") as spool:
                check, file_digest = check_lines(
                    read_lines(path), changes, "D" if deletions else "A", spool
                )
                spool.seek(0)
                cursor.copy_expert(
                    "copy dnc_incoming (phone_number, action, line_number) from stdin", spool
                )
            # The last record of a number wins (a change list may add, then delete it).
            cursor.execute(
                "create temp table dnc_numbers on commit drop as"
                " select distinct on (phone_number) phone_number, action from dnc_incoming"
                " order by phone_number, line_number desc"
            )
            accepted = cursor.rowcount
            cursor.execute("create unique index on dnc_numbers (phone_number)")
            cursor.execute("analyze dnc_numbers")
            cursor.execute(
                sql.SQL("select count(*) from {} where delisted_on is null").format(registry)
            )
            listed_before = cursor.fetchone()[0]

            cursor.execute(
                sql.SQL(
                    "insert into {} (import_kind, snapshot_date, source_file, file_sha256,"
                    " lines_read, numbers_accepted, lines_rejected, rejected_by_reason,"
                    " numbers_added, numbers_removed) values (%s, %s, %s, %s, %s, %s, %s,"
                    " %s::jsonb, 0, 0) returning import_id"
                ).format(imports),
                (
                    kind,
                    snapshot_date,
                    path.name,
                    file_digest,
                    check.lines_read,
                    accepted,
                    check.lines_rejected,
                    _json(dict(sorted(check.rejected.items()))),
                ),
            )
            import_id = cursor.fetchone()[0]

            removal = _removed_numbers_sql(changes)
            cursor.execute(
                sql.SQL("select count(*) from {} as r where {}").format(registry, removal)
            )
            to_remove = cursor.fetchone()[0]
            if not changes and listed_before and to_remove > max_delist_share * listed_before:
                raise RegistryImportError(
                    f"the file would delist {to_remove:,} of {listed_before:,} listed numbers"
                    f" (more than {max_delist_share:.0%}): truncated download? Nothing changed;"
                    " raise max_delist_share to accept it"
                )
            # Listed and delisted on the same day: the interval is empty, drop it.
            cursor.execute(
                sql.SQL("delete from {} as r where {} and r.listed_on = %s").format(
                    registry, removal
                ),
                (snapshot_date,),
            )
            removed = cursor.rowcount
            cursor.execute(
                sql.SQL("update {} as r set delisted_on = %s where {}").format(registry, removal),
                (snapshot_date,),
            )
            removed += cursor.rowcount
            cursor.execute(
                sql.SQL(
                    "insert into {registry} (phone_number, listed_on, source_file, import_id)"
                    " select n.phone_number, %s, %s, %s from dnc_numbers as n"
                    " where n.action = 'A' and not exists (select from {registry} as r"
                    " where r.phone_number = n.phone_number and r.delisted_on is null)"
                ).format(registry=registry),
                (snapshot_date, path.name, import_id),
            )
            added = cursor.rowcount
            cursor.execute(
                sql.SQL(
                    "update {} set numbers_added = %s, numbers_removed = %s where import_id = %s"
                ).format(imports),
                (added, removed, import_id),
            )
            cursor.execute(
                sql.SQL("select count(*) from {} where delisted_on is null").format(registry)
            )
            listed_after = cursor.fetchone()[0]
            if not dry_run:
                # Statistics where the registry is written: the phone marts join it on
                # millions of numbers, and autovacuum may be off.
                cursor.execute(sql.SQL("analyze {}").format(registry))
        if dry_run:
            connection.rollback()
        else:
            connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        pooled.close()

    report = RegistryImportReport(
        import_id=None if dry_run else import_id,
        import_kind=kind,
        snapshot_date=snapshot_date.isoformat(),
        source_file=path.name,
        file_sha256=file_digest,
        dry_run=dry_run,
        lines_read=check.lines_read,
        blank_lines=check.blank_lines,
        numbers_accepted=accepted,
        lines_rejected=check.lines_rejected,
        rejected_by_reason=dict(sorted(check.rejected.items())),
        rejected_line_numbers=dict(sorted(check.rejected_line_numbers.items())),
        numbers_added=added,
        numbers_removed=removed,
        listed_after=listed_after,
        elapsed_seconds=time.perf_counter() - started,
    )
    log.info(
        "dnc %s import%s: %d lines, %d numbers accepted, %d rejected, %d added, %d removed",
        kind,
        " (dry run)" if dry_run else "",
        report.lines_read,
        report.numbers_accepted,
        report.lines_rejected,
        report.numbers_added,
        report.numbers_removed,
    )
    return report


def _removed_numbers_sql(changes: bool) -> sql.Composable:
    """Listed rows of ``r`` the import ends: absent from a full list, or deleted by changes."""
    if changes:
        return sql.SQL(
            "r.delisted_on is null and exists (select from dnc_numbers as n"
            " where n.phone_number = r.phone_number and n.action = 'D')"
        )
    return sql.SQL(
        "r.delisted_on is null and not exists (select from dnc_numbers as n"
        " where n.phone_number = r.phone_number and n.action = 'A')"
    )


def _json(value: dict) -> str:
    import json

    return json.dumps(value, sort_keys=True)
