"""Columns between PostgreSQL and an in-process DuckDB, streamed, never through a file.

Reading: ``COPY (query) TO STDOUT (FORMAT csv)`` is written by a thread into an
OS pipe and read on the other end by Arrow's streaming CSV reader, batch by
batch, into a DuckDB table: PostgreSQL's fastest export path, columnar on the
DuckDB side, bounded memory in between, and no record on disk or in a log.

Writing: a DuckDB query's result is fetched as Arrow record batches and each
batch is sent with ``COPY ... FROM STDIN (FORMAT csv)`` on the caller's cursor,
so it joins the caller's transaction.
"""

from __future__ import annotations

import io
import os
import threading

import pyarrow as pa
import pyarrow.csv as pa_csv
from psycopg2 import sql

# Arrow reads the pipe in blocks of this size (each becomes one record batch).
READ_BLOCK_BYTES = 16 << 20
WRITE_BATCH_ROWS = 200_000


def copy_query_into_duckdb(
    raw_connection,
    query: sql.Composable,
    duckdb_connection,
    table: str,
    column_types: dict[str, pa.DataType],
) -> int:
    """Stream ``query``'s rows (columns named and typed by ``column_types``) into ``table``.

    ``raw_connection`` is a psycopg2 connection; ``table`` is created in DuckDB.
    Returns the row count.
    """
    copy = sql.SQL("copy ({}) to stdout with (format csv)").format(query)
    statement = copy.as_string(raw_connection)
    read_fd, write_fd = os.pipe()
    failure: list[BaseException] = []

    def produce() -> None:
        with open(write_fd, "wb", buffering=1 << 20) as sink:
            try:
                with raw_connection.cursor() as cursor:
                    cursor.copy_expert(statement, sink)
            except BaseException as error:
                failure.append(error)

    producer = threading.Thread(target=produce, name="steward-dedupe-copy", daemon=True)
    producer.start()
    names = list(column_types)
    empty = pa.Table.from_batches([], schema=pa.schema(list(column_types.items())))
    try:
        with open(read_fd, "rb") as source:
            duckdb_connection.register("steward_incoming", empty)
            duckdb_connection.execute(
                f"create or replace table {table} as select * from steward_incoming"
            )
            if source.peek(1):
                reader = pa_csv.open_csv(
                    source,
                    read_options=pa_csv.ReadOptions(
                        column_names=names, block_size=READ_BLOCK_BYTES, use_threads=True
                    ),
                    convert_options=pa_csv.ConvertOptions(
                        column_types=column_types,
                        strings_can_be_null=True,
                        quoted_strings_can_be_null=False,
                    ),
                )
                for batch in reader:
                    duckdb_connection.register("steward_incoming", pa.Table.from_batches([batch]))
                    duckdb_connection.execute(f"insert into {table} select * from steward_incoming")
            duckdb_connection.unregister("steward_incoming")
    finally:
        producer.join()
    if failure:
        raise failure[0]
    return int(duckdb_connection.execute(f"select count(*) from {table}").fetchall()[0][0])


def copy_duckdb_into_postgres(
    cursor,
    duckdb_connection,
    query: str,
    target: sql.Composable,
    columns: list[str],
) -> int:
    """Send ``query``'s rows (in ``columns`` order) to ``target`` with COPY; return the count."""
    statement = sql.SQL("copy {} ({}) from stdin with (format csv)").format(
        target, sql.SQL(", ").join(sql.Identifier(column) for column in columns)
    )
    reader = duckdb_connection.sql(query).to_arrow_reader(WRITE_BATCH_ROWS)
    written = 0
    options = pa_csv.WriteOptions(include_header=False)
    for batch in reader:
        if batch.num_rows == 0:
            continue
        buffer = io.BytesIO()
        pa_csv.write_csv(batch, buffer, write_options=options)
        buffer.seek(0)
        cursor.copy_expert(statement.as_string(cursor.connection), buffer)
        written += batch.num_rows
    return written
