"""HTML for the view model: one self-contained page, inline CSS, no script at all.

Every text from the database is escaped here; the SVG comes escaped from
``charts``. The same page is served by the plugin and written by the report.
"""

from __future__ import annotations

import re
from html import escape

from steward.dashboard.view import Dashboard, Section, Table

CSS = """
:root { color-scheme: light; --bad:#c53030; --warn:#b7791f; --good:#2f855a; --line:#e2e8f0; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
       color: #1a202c; background: #f7fafc; }
header { padding: 16px 24px; background: #fff; border-bottom: 1px solid var(--line); }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; color: #4a5568; }
nav a { margin-right: 14px; color: #2b6cb0; text-decoration: none; }
main { padding: 8px 24px 32px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px;
          padding: 16px 20px; margin: 16px 0; }
section h2 { margin: 0 0 10px; font-size: 18px; }
.state { padding: 10px 12px; border-radius: 6px; background: #fffaf0;
         border: 1px solid #fbd38d; margin: 8px 0; }
.state.error { background: #fff5f5; border-color: #feb2b2; }
.state code { background: #edf2f7; padding: 1px 4px; border-radius: 3px; }
.metrics { display: flex; flex-wrap: wrap; gap: 12px; margin: 8px 0 12px; }
.metric { min-width: 170px; padding: 10px 12px; border: 1px solid var(--line);
          border-radius: 6px; }
.metric .label { color: #4a5568; font-size: 12px; }
.metric .value { font-size: 22px; font-weight: 600; }
.metric .note { color: #718096; font-size: 12px; }
.good .value, td.good { color: var(--good); }
.warn .value, td.warn { color: var(--warn); }
.bad .value, td.bad { color: var(--bad); font-weight: 600; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
figure { margin: 0; }
figcaption { font-weight: 600; font-size: 13px; margin-bottom: 4px; }
table { border-collapse: collapse; margin: 8px 0 4px; min-width: 50%; }
caption { text-align: left; font-weight: 600; padding: 6px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left; }
th { background: #edf2f7; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #718096; font-size: 12px; }
footer { color: #718096; font-size: 12px; padding: 0 24px 24px; }
"""


def _code_spans(text: str) -> str:
    """Escape ``text``; `backticked` commands become <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text))


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(column)}</th>" for column in table.columns)
    if not table.rows:
        body = f'<tr><td colspan="{len(table.columns)}">{escape(table.empty)}</td></tr>'
    else:
        lines = []
        for row in table.rows:
            cells = []
            for cell in row:
                classes = " ".join(c for c in (cell.tone, "num" if cell.numeric else "") if c)
                attribute = f' class="{classes}"' if classes else ""
                cells.append(f"<td{attribute}>{escape(cell.text)}</td>")
            lines.append("<tr>" + "".join(cells) + "</tr>")
        body = "".join(lines)
    note = f'<p class="note">{escape(table.note)}</p>' if table.note else ""
    return (
        f"<table><caption>{escape(table.caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table>{note}"
    )


def _section(section: Section) -> str:
    parts = [
        f'<section id="{escape(section.key, quote=True)}" data-state="{section.state}">',
        f"<h2>{escape(section.title)}</h2>",
    ]
    if section.state != "ready":
        kind = " error" if section.state == "error" else ""
        parts.append(
            f'<div class="state{kind}"><p>{escape(section.message)}</p>'
            f'<p class="hint">{_code_spans(section.hint)}</p></div>'
        )
    if section.links:
        parts.append(
            "<p>"
            + " ".join(
                f'<a href="{escape(link.href, quote=True)}">{escape(link.text)}</a>'
                for link in section.links
            )
            + "</p>"
        )
    if section.metrics:
        parts.append('<div class="metrics">')
        for metric in section.metrics:
            tone = f" {metric.tone}" if metric.tone else ""
            note = f'<div class="note">{_code_spans(metric.note)}</div>' if metric.note else ""
            parts.append(
                f'<div class="metric{tone}" data-metric="{escape(metric.label, quote=True)}">'
                f'<div class="label">{escape(metric.label)}</div>'
                f'<div class="value">{escape(metric.value)}</div>{note}</div>'
            )
        parts.append("</div>")
    if section.charts:
        parts.append('<div class="charts">')
        for chart in section.charts:
            parts.append(
                f"<figure><figcaption>{escape(chart.title)}</figcaption>{chart.svg}</figure>"
            )
        parts.append("</div>")
    parts.extend(_table(table) for table in section.tables)
    parts.append("</section>")
    return "".join(parts)


def render_page(dashboard: Dashboard) -> str:
    """The whole page as one HTML document."""
    generated = dashboard.generated_at.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    nav = "".join(
        f'<a href="#{escape(s.key, quote=True)}">{escape(s.title)}</a>' for s in dashboard.sections
    )
    kind = "report" if dashboard.static else "dashboard"
    return (
        "<!DOCTYPE html>"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Steward {kind}</title><style>{CSS}</style></head><body>"
        f"<header><h1>Steward</h1><p>Governance at a glance: aggregates from the marts in "
        f"schema <code>steward</code>, generated {escape(generated)}.</p>"
        f"<nav>{nav}</nav></header><main>"
        + "".join(_section(section) for section in dashboard.sections)
        + "</main><footer>Counts only: no personal value is read for this page.</footer>"
        "</body></html>"
    )
