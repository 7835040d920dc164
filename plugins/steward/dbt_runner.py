"""Running dbt in-process against the warehouse: the one place that knows how.

Airflow runs the dbt project through Cosmos; the CLI commands, the areas' own
steps (retention's verification, the catalogue's marts) and the tests call
:func:`run`. dbt's artefacts go to a private scratch folder (several jobs run
dbt at once, and the project may be read-only), and its connection comes from
:func:`steward.warehouse.dbt_env`, never from a file.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from steward import paths, warehouse

STAGING_SCHEMA = "staging"
# dbt commands that read the project only, never the warehouse.
OFFLINE_COMMANDS = frozenset({"ls", "list", "parse", "deps", "clean"})


class DbtError(RuntimeError):
    """A dbt invocation failed."""


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of the block, then restore them."""
    previous = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@functools.cache
def _process_scratch_dir() -> Path:
    """This process's dbt target/log folder: kept while it lives, so later
    invocations reuse dbt's partial parse; removed at exit."""
    scratch = tempfile.mkdtemp(prefix="steward-dbt-")
    atexit.register(shutil.rmtree, scratch, True)
    return Path(scratch)


def run(
    arguments: Sequence[str],
    url: str | None = None,
    *,
    dbt_vars: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    scratch: Path | None = None,
    quiet: bool = True,
):
    """Invoke dbt (``["build", "--select", ...]``) on the warehouse; return dbt's result.

    ``env``: environment variables the project reads for this invocation (set
    around it, then restored). ``scratch`` receives ``target/`` and ``logs/``
    (default: a folder private to this process). Raises nothing itself: callers
    look at ``result.success``, or use :func:`run_or_raise`. Steward's own tables
    (the internal source ``steward``) are brought to the newest revision first, so
    every model that reads them finds them (one query when they are).
    """
    from dbt.cli.main import dbtRunner

    if arguments and arguments[0] not in OFFLINE_COMMANDS:
        from steward import schema

        schema.upgrade(url)

    project = str(paths.dbt_project_dir())
    scratch = scratch or _process_scratch_dir()
    command = [
        *arguments,
        "--project-dir",
        project,
        "--profiles-dir",
        project,
        "--target-path",
        str(scratch / "target"),
        "--log-path",
        str(scratch / "logs"),
    ]
    if dbt_vars:
        command += ["--vars", json.dumps(dbt_vars, sort_keys=True, default=str)]
    if quiet:
        command.append("--quiet")
    with environment({**warehouse.dbt_env(url), **(env or {})}):
        return dbtRunner().invoke(command)


def run_or_raise(arguments: Sequence[str], url: str | None = None, **kwargs: Any):
    """:func:`run`, raising :class:`DbtError` naming the failed nodes when dbt fails."""
    result = run(arguments, url, **kwargs)
    if not result.success:
        raise DbtError(f"dbt {' '.join(arguments)} failed: {failure_summary(result)}")
    return result


def staging_built(url: str | None) -> bool:
    """Are dbt's staging views there already (the nightly run builds them first)?

    Rebuilding a staging view drops the views built on it (dbt replaces views
    with ``drop ... cascade``): callers then pick the selector without them.
    """
    import sqlalchemy as sa

    with warehouse.engine(url).connect() as conn:
        views = conn.execute(
            sa.text("select count(*) from information_schema.views where table_schema = :schema"),
            {"schema": STAGING_SCHEMA},
        ).scalar_one()
    return views > 0


def failure_summary(result) -> str:
    """The failed or erroring nodes of a dbt result, by name (no row data)."""
    if result.exception is not None:
        return f"{type(result.exception).__name__}: {result.exception}"
    failed = [
        f"{node.node.name} ({node.status})"
        for node in getattr(result.result, "results", None) or []
        if str(node.status) in {"error", "fail", "runtime error"}
    ]
    return ", ".join(failed) or "see the dbt log"
