"""splink's PostgreSQL backend, made to work on Steward's servers.

splink 5's ``PostgresAPI`` runs every step of training, prediction and
clustering as SQL inside PostgreSQL, which is what Steward wants. Two of its
set-up steps need help, handled by :class:`StewardPostgresAPI`:

* it registers the small tables it builds in Python (u-estimation counts) by
  having DuckDB ``INSTALL postgres`` from the internet and ``ATTACH`` a DSN
  holding the password; offline that raises an ``IOException`` its fallback
  does not catch. Here those tables (a few dozen rows) go in through SQLAlchemy.
* it runs ``CREATE EXTENSION fuzzystrmatch`` for ``levenshtein``; the embedded
  server (pgserver) ships no contrib modules. When the extension is missing,
  an equivalent PL/pgSQL ``levenshtein(text, text)`` is created in the work
  schema (slower, but only run on blocked pairs).

* PostgreSQL raises an error where other engines return 0 for
  ``power(2, -1100)``; splink turns match weights into probabilities with
  exactly that, and EM drives the weight of a field's disagreement towards
  -infinity on clean data. :data:`_POWER_CLAMP` shadows ``power`` in the work
  schema (searched before ``pg_catalog``) with one that clamps the exponent of
  2 to what a float8 holds: a probability of 1e-307 instead of 0.

The search path (work schema, then ``pg_catalog``, then ``public``) is set by
the caller's engine (``options=-csearch_path=...``) so that every pooled
connection, not only the first, finds splink's tables; splink's own
``SET search_path`` is skipped because it would put ``pg_catalog`` back first.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from psycopg2 import sql
from splink.backends.postgres import PostgresAPI

log = logging.getLogger(__name__)

_LEVENSHTEIN_FALLBACK = """
create or replace function {schema}.levenshtein(source text, target text) returns integer
language plpgsql immutable strict parallel safe
as $$
declare
    source_length integer := char_length(source);
    target_length integer := char_length(target);
    previous_row integer[];
    current_row integer[];
    substitution integer;
begin
    if source_length = 0 then return target_length; end if;
    if target_length = 0 then return source_length; end if;
    previous_row := array(select generate_series(0, target_length));
    for i in 1..source_length loop
        current_row := array[i];
        for j in 1..target_length loop
            substitution := case
                when substr(source, i, 1) = substr(target, j, 1) then 0 else 1 end;
            current_row := current_row || least(
                previous_row[j + 1] + 1, current_row[j] + 1, previous_row[j] + substitution
            );
        end loop;
        previous_row := current_row;
    end loop;
    return previous_row[target_length + 1];
end
$$;
"""


# 2**1020 and 2**-1020 are within float8; beyond them PostgreSQL errors out.
_POWER_CLAMP = """
create or replace function {schema}.power(base double precision, exponent double precision)
returns double precision
language sql immutable strict parallel safe
as $$
    select case
        when base = 2 then pg_catalog.power(base, least(greatest(exponent, -1020), 1020))
        else pg_catalog.power(base, exponent)
    end
$$;
"""


def install_levenshtein_fallback(connection: sa.Connection, schema: str) -> None:
    """Create the PL/pgSQL ``<schema>.levenshtein(text, text)`` (no contrib needed)."""
    ddl = sql.SQL(_LEVENSHTEIN_FALLBACK).format(schema=sql.Identifier(schema))
    connection.exec_driver_sql(ddl.as_string(connection.connection.driver_connection))


def install_power_clamp(connection: sa.Connection, schema: str) -> None:
    """Create ``<schema>.power``: ``pg_catalog.power`` that cannot underflow for base 2."""
    ddl = sql.SQL(_POWER_CLAMP).format(schema=sql.Identifier(schema))
    connection.exec_driver_sql(ddl.as_string(connection.connection.driver_connection))


class StewardPostgresAPI(PostgresAPI):
    """``PostgresAPI`` without DuckDB downloads, and with a ``levenshtein`` everywhere."""

    uses_native_levenshtein: bool = True

    def _table_registration(self, input, table_name):  # splink's signature
        import pandas as pd

        # Lists of records (u-estimation counts: a few dozen rows) or Arrow tables.
        if hasattr(input, "to_pandas"):
            frame = input.to_pandas()
        elif isinstance(input, pd.DataFrame):
            frame = input
        else:
            frame = pd.DataFrame(input)
        frame.to_sql(
            table_name,
            con=self._engine,
            index=False,
            if_exists="replace",
            schema=self._db_schema,
        )

    def _create_splink_schema(self, other_schemas_to_search):
        schema = sql.Identifier(self._db_schema)
        with self._engine.begin() as connection:
            driver = connection.connection.driver_connection
            connection.exec_driver_sql(
                sql.SQL("create schema if not exists {}").format(schema).as_string(driver)
            )
            install_power_clamp(connection, self._db_schema)

    def _register_extensions(self):
        with self._engine.begin() as connection:
            available = connection.execute(
                sa.text("select 1 from pg_available_extensions where name = 'fuzzystrmatch'")
            ).scalar()
            installed_in = connection.execute(
                sa.text(
                    "select n.nspname from pg_extension as e"
                    " join pg_namespace as n on n.oid = e.extnamespace"
                    " where e.extname = 'fuzzystrmatch'"
                )
            ).scalar()
            if installed_in is not None:
                # Installed by someone else, maybe off our search path: point at it.
                wrapper = sql.SQL(
                    "create or replace function {}(source text, target text) returns integer"
                    " language sql immutable strict parallel safe"
                    " as $$ select {}(source, target) $$"
                ).format(
                    sql.Identifier(self._db_schema, "levenshtein"),
                    sql.Identifier(installed_in, "levenshtein"),
                )
                if installed_in != self._db_schema:
                    connection.exec_driver_sql(
                        wrapper.as_string(connection.connection.driver_connection)
                    )
                return
            if available:
                connection.execute(
                    sa.text(
                        sql.SQL("create extension if not exists fuzzystrmatch schema {}")
                        .format(sql.Identifier(self._db_schema))
                        .as_string(connection.connection.driver_connection)
                    )
                )
                return
            self.uses_native_levenshtein = False
            log.info("fuzzystrmatch unavailable: using the PL/pgSQL levenshtein")
            install_levenshtein_fallback(connection, self._db_schema)
