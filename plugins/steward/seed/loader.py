"""Bulk loading: numpy columns -> CSV (via Arrow) -> ``COPY ... FREEZE``.

Generation (numpy, Python) and loading (PostgreSQL parsing COPY data) each keep
one core busy, so a background thread feeds COPY while the main thread builds
the next chunk. All tables are (re)created and filled in ONE transaction on
one connection: that is what lets ``COPY FREEZE`` skip later vacuum work, and a
failed seed leaves the previous warehouse untouched. Keys and indexes come after
the data, which is much faster than maintaining them row by row.
"""

from __future__ import annotations

import queue
import re
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
from psycopg2 import sql

from steward import warehouse

SEED_DIR = Path(__file__).resolve().parent
SCHEMA_SQL = SEED_DIR / "schema.sql"
GROUND_TRUTH_SQL = SEED_DIR / "ground_truth.sql"
KEYS_SQL = SEED_DIR / "keys.sql"

_COPY_READ_SIZE = 1 << 20
_QUEUE_DEPTH = 3


def source_schemas() -> tuple[str, ...]:
    """The source schemas, as ``schema.sql`` creates them (the DDL is the contract)."""
    return tuple(re.findall(r"create schema if not exists (\w+);", SCHEMA_SQL.read_text()))


def timestamps(epoch_seconds: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """UTC instants (the COPY session runs in UTC) from epoch seconds."""
    return pa.array(epoch_seconds.astype("datetime64[s]"), mask=missing)


def dates(epoch_days: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return pa.array(epoch_days.astype("datetime64[D]"), mask=missing)


def integers(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return pa.array(values.astype(np.int64), mask=missing)


def _arrow(values) -> pa.Array:
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values
    values = np.asarray(values)
    if values.dtype == object or values.dtype.kind in "UT":
        return pa.array(values, type=pa.string())
    return pa.array(values)


def csv_bytes(columns: Mapping[str, object], start: int = 0, stop: int | None = None) -> pa.Buffer:
    """Rows ``start:stop`` as headerless CSV: NULL is an empty field, '' is quoted."""
    table = pa.table({name: _arrow(values)[start:stop] for name, values in columns.items()})
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(table, sink, pa_csv.WriteOptions(include_header=False))
    return sink.getvalue()


class Progress:
    """Per-table lines on stderr (silent when disabled). Never prints data, only counts."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.started = time.monotonic()

    def say(self, message: str) -> None:
        if self.enabled:
            elapsed = time.monotonic() - self.started
            print(f"[{elapsed:7.1f}s] {message}", file=sys.stderr, flush=True)


class BulkLoader:
    """Recreates the schemas and streams CSV chunks into them with COPY FREEZE."""

    def __init__(self, url: str | None, progress: Progress, chunk_rows: int) -> None:
        self.connection = warehouse.psycopg2_connect(url)
        self.progress = progress
        self.chunk_rows = chunk_rows
        self.row_counts: dict[str, int] = {}
        self._queue: queue.Queue = queue.Queue(maxsize=_QUEUE_DEPTH)
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._copy_worker, name="steward-copy", daemon=True)

    # -- lifecycle --------------------------------------------------------------

    def recreate(self, ground_truth_schema: str) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute("set timezone = 'UTC'")
            for schema in (*source_schemas(), ground_truth_schema):
                cursor.execute(
                    sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema))
                )
            cursor.execute(SCHEMA_SQL.read_text())
            cursor.execute(GROUND_TRUTH_SQL.read_text())
        self._thread.start()

    def finish(self) -> None:
        """Wait for the last COPY, commit, then add keys and indexes and ANALYZE."""
        self._queue.put(None)
        self._thread.join()
        self._raise_if_failed()
        self.connection.commit()
        self.progress.say("data committed; adding keys and indexes")
        self.connection.autocommit = True
        with self.connection.cursor() as cursor:
            cursor.execute("set maintenance_work_mem = '512MB'")
            for statement in _statements(KEYS_SQL.read_text()):
                cursor.execute(statement)
            self.progress.say("keys and indexes added; analyzing")
            for name in sorted(self.row_counts):
                schema_name, table_name = name.split(".")
                cursor.execute(
                    sql.SQL("analyze {}.{}").format(
                        sql.Identifier(schema_name), sql.Identifier(table_name)
                    )
                )
        self.connection.close()

    def abort(self) -> None:
        if self._thread.is_alive():
            # Unblock the worker (it may wait on a full queue) and stop it.
            while True:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
            self._queue.put(None)
            self._thread.join(timeout=60)
        if not self.connection.closed:
            self.connection.rollback()
            self.connection.close()

    # -- loading ----------------------------------------------------------------

    def load(self, table: str, columns: Mapping[str, object]) -> int:
        """Queue all rows of ``columns`` (equal-length arrays) for ``schema.table``."""
        self._raise_if_failed()
        lengths = {len(values) for values in columns.values()}
        if len(lengths) != 1:
            raise ValueError(f"{table}: columns of unequal length {sorted(lengths)}")
        (count,) = lengths
        schema_name, table_name = table.split(".")
        statement = sql.SQL("copy {}.{} ({}) from stdin with (format csv, freeze)").format(
            sql.Identifier(schema_name),
            sql.Identifier(table_name),
            sql.SQL(", ").join(sql.Identifier(name) for name in columns),
        )
        for start in range(0, count, self.chunk_rows):
            stop = min(start + self.chunk_rows, count)
            self._queue.put((statement, csv_bytes(columns, start, stop)))
        self.row_counts[table] = self.row_counts.get(table, 0) + count
        return count

    def _copy_worker(self) -> None:
        try:
            with self.connection.cursor() as cursor:
                while True:
                    item = self._queue.get()
                    if item is None:
                        return
                    statement, buffer = item
                    cursor.copy_expert(statement, pa.BufferReader(buffer), size=_COPY_READ_SIZE)
        except BaseException as exc:  # surfaced in the main thread
            self._failure = exc
            # Keep draining so the producer never blocks on a full queue.
            while self._queue.get() is not None:
                pass

    def _raise_if_failed(self) -> None:
        if self._failure is not None:
            raise RuntimeError(f"COPY failed: {self._failure}") from self._failure


def _statements(script: str) -> list[str]:
    without_comments = re.sub(r"--[^\n]*", "", script)
    return [part.strip() for part in without_comments.split(";") if part.strip()]
