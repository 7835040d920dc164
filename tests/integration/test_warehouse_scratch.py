"""warehouse.scratch_database: the benchmarks' throw-away database."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from steward import warehouse

pytestmark = pytest.mark.integration


def _exists(admin_url: str, name: str) -> bool:
    engine = sa.create_engine(admin_url)
    try:
        with engine.connect() as conn:
            return bool(
                conn.execute(
                    sa.text("select 1 from pg_database where datname = :n"), {"n": name}
                ).first()
            )
    finally:
        engine.dispose()


def test_scratch_database_is_dropped_even_after_a_failure(warehouse_url, server_admin_url):
    with (
        pytest.raises(RuntimeError, match="benchmark failed"),
        warehouse.scratch_database("steward_scratch_test") as url,
    ):
        name = make_url(url).database
        assert name.startswith("steward_scratch_test_")
        # Pooled connections left open must not block the drop.
        with warehouse.engine(url).begin() as conn:
            conn.execute(sa.text("create table t as select 1 as x"))
        assert _exists(server_admin_url, name)
        raise RuntimeError("benchmark failed")
    assert not _exists(server_admin_url, name)
