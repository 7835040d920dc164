"""Server-side SVG charts: no JavaScript, no fonts or scripts from anywhere.

Each function returns one ``<svg>`` element as a string, every label escaped. The
charts are plain enough to read in an e-mailed report: horizontal bars (optionally
stacked) and a trend line over nights.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

PALETTE = ("#2b6cb0", "#dd6b20", "#38a169", "#805ad5", "#d53f8c", "#718096")
FONT = "font-family:system-ui,sans-serif;font-size:12px"


def _number(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    label = escape(title, quote=True)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'aria-label="{label}" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" style="{FONT}"><title>{escape(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def bar_chart(
    items: Sequence[tuple[str, float]],
    title: str,
    *,
    width: int = 580,
    bar_height: int = 18,
    label_width: int = 240,
    color: str = PALETTE[0],
    value_format: Callable[[float], str] = _number,
) -> str:
    """Horizontal bars, one per (label, value), longest scale = largest value."""
    return stacked_bar_chart(
        [label for label, _ in items],
        {"": [value for _, value in items]},
        title,
        width=width,
        bar_height=bar_height,
        label_width=label_width,
        colors=(color,),
        value_format=value_format,
        legend=False,
    )


def stacked_bar_chart(
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    title: str,
    *,
    width: int = 580,
    bar_height: int = 18,
    label_width: int = 240,
    colors: Sequence[str] = PALETTE,
    value_format: Callable[[float], str] = _number,
    legend: bool = True,
) -> str:
    """Horizontal bars, each split into the series' parts (e.g. confirmed / suggested)."""
    names = list(series)
    for name in names:
        if len(series[name]) != len(labels):
            raise ValueError(f"series {name!r} has {len(series[name])} values for {len(labels)}")
        if any(value < 0 for value in series[name]):
            raise ValueError(f"series {name!r} has a negative value")
    gap = 6
    top = 22 if legend and names else 4
    value_width = 70
    plot_width = max(width - label_width - value_width, 40)
    totals = [sum(series[name][i] for name in names) for i in range(len(labels))]
    scale = max(totals, default=0) or 1
    height = top + max(len(labels), 1) * (bar_height + gap) + 4
    body: list[str] = []
    if legend and names:
        x = label_width
        for index, name in enumerate(names):
            color = colors[index % len(colors)]
            body.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{color}"/>')
            body.append(f'<text x="{x + 14}" y="13">{escape(name)}</text>')
            x += 24 + 7 * len(name)
    if not labels:
        body.append(f'<text x="4" y="{top + bar_height - 4}">no data</text>')
    for row, label in enumerate(labels):
        y = top + row * (bar_height + gap)
        body.append(
            f'<text x="{label_width - 6}" y="{y + bar_height - 5}" text-anchor="end">'
            f"{escape(label)}</text>"
        )
        x = float(label_width)
        for index, name in enumerate(names):
            value = float(series[name][row])
            bar = plot_width * value / scale
            if bar > 0:
                color = colors[index % len(colors)]
                tip = f"{name + ': ' if name else ''}{value_format(value)}"
                body.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{bar:.1f}" height="{bar_height}" '
                    f'fill="{color}"><title>{escape(label)} {escape(tip)}</title></rect>'
                )
                x += bar
        body.append(
            f'<text x="{x + 4:.1f}" y="{y + bar_height - 5}" class="value">'
            f"{escape(value_format(totals[row]))}</text>"
        )
    return _svg(width, height, title, body)


def line_chart(
    points: Sequence[tuple[str, float | None]],
    title: str,
    *,
    width: int = 580,
    height: int = 160,
    color: str = PALETTE[0],
    value_format: Callable[[float], str] = _number,
    y_min: float | None = None,
    y_max: float | None = None,
) -> str:
    """A trend over nights: one point per (label, value); ``None`` values leave a gap."""
    left, right, top, bottom = 56, 12, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    known = [value for _, value in points if value is not None]
    body: list[str] = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#a0aec0"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#a0aec0"/>',
    ]
    if not known:
        body.append(
            f'<text x="{left + 8}" y="{top + plot_h / 2:.0f}">no nights recorded yet</text>'
        )
        return _svg(width, height, title, body)
    low = min(known) if y_min is None else y_min
    high = max(known) if y_max is None else y_max
    if high == low:
        high, low = high + 1, max(low - 1, 0) if low >= 0 else low - 1
    step = plot_w / max(len(points) - 1, 1)

    def y_of(value: float) -> float:
        return top + plot_h - plot_h * (value - low) / (high - low)

    for value in (low, high):
        body.append(
            f'<text x="{left - 4}" y="{y_of(value) + 4:.1f}" text-anchor="end">'
            f"{escape(value_format(value))}</text>"
        )
    segments: list[list[tuple[float, float]]] = [[]]
    for index, (label, value) in enumerate(points):
        x = left + (step * index if len(points) > 1 else plot_w / 2)
        if value is None:
            segments.append([])
            continue
        y = y_of(float(value))
        segments[-1].append((x, y))
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}">'
            f"<title>{escape(label)}: {escape(value_format(float(value)))}</title></circle>"
        )
    for segment in segments:
        if len(segment) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in segment)
            body.append(
                f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>'
            )
    first, last = points[0][0], points[-1][0]
    body.append(f'<text x="{left}" y="{height - 8}">{escape(first)}</text>')
    if len(points) > 1:
        body.append(
            f'<text x="{left + plot_w}" y="{height - 8}" text-anchor="end">{escape(last)}</text>'
        )
    return _svg(width, height, title, body)
