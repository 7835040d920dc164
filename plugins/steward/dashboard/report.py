"""``steward report --out DIR``: the dashboard as a static HTML file, for e-mail or archiving."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from steward.dashboard import page

REPORT_FILE = "steward-report.html"


def write_report(out_dir: Path, url: str | None = None) -> dict[str, Any]:
    """Write the page to ``out_dir/steward-report.html`` (and a dated copy); return a summary.

    The same sections and figures as the plugin's page; the Data Docs link is left
    out (it points into the running Airflow), the section says where they are served.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    generated_at = dt.datetime.now(dt.UTC)
    rendered = page.build(url, static=True, generated_at=generated_at)
    latest = out_dir / REPORT_FILE
    dated = out_dir / f"steward-report-{generated_at:%Y%m%dT%H%M%SZ}.html"
    for target in (latest, dated):
        target.write_text(rendered.html, encoding="utf-8")
    return {
        "report": str(latest),
        "archived": str(dated),
        "sections": {s.key: s.state for s in rendered.dashboard.sections},
        "seconds": round(rendered.read_seconds + rendered.render_seconds, 3),
    }
