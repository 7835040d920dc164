"""The page end to end (read, model, render), shared by the plugin app and the report."""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from steward import paths, warehouse
from steward.dashboard import model, queries, render

DATA_DOCS_ENV = "STEWARD_DATA_DOCS_DIR"
DATA_DOCS_ROUTE = "data-docs"


def data_docs_dir() -> Path:
    """Where Great Expectations builds Data Docs.

    The same place as ``steward.quality.checkpoint.data_docs_dir()`` (not imported:
    it would load Great Expectations into the API server); ``STEWARD_DATA_DOCS_DIR``
    overrides it.
    """
    configured = os.environ.get(DATA_DOCS_ENV)
    if configured:
        return Path(configured).resolve()
    return paths.project_root() / "expectations" / "uncommitted" / "data_docs" / "local_site"


def data_docs_available(root: Path | None = None) -> bool:
    root = root or data_docs_dir()
    return (root / "index.html").is_file()


@dataclass
class RenderedPage:
    html: str
    dashboard: model.Dashboard
    read_seconds: float
    render_seconds: float
    # Each section's query time, for the load benchmark.
    section_seconds: dict[str, float] = field(default_factory=dict)


def build(
    url: str | None = None,
    *,
    static: bool = False,
    data_docs_href: str | None = None,
    generated_at: dt.datetime | None = None,
) -> RenderedPage:
    """Read the marts, build the view model and render it as one HTML page."""
    started = time.perf_counter()
    read = queries.read_all(warehouse.engine(url))
    read_done = time.perf_counter()
    dashboard = model.build_dashboard(
        read, generated_at=generated_at, data_docs_href=data_docs_href, static=static
    )
    html = render.render_page(dashboard)
    return RenderedPage(
        html,
        dashboard,
        read_done - started,
        time.perf_counter() - read_done,
        {key: section.seconds for key, section in read["sections"].items()},
    )
