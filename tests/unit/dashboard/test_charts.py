"""The SVG charts: well-formed, proportional, escaped, honest about missing data."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from steward.dashboard import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def bars(svg: str) -> list[float]:
    return [float(rect.get("width")) for rect in parse(svg).iter(f"{SVG}rect")]


def test_bar_lengths_are_proportional_to_the_values():
    widths = bars(charts.bar_chart([("a", 10), ("b", 5), ("c", 0)], "t"))
    assert len(widths) == 2  # a zero draws no bar
    assert widths[0] == pytest.approx(2 * widths[1])


def test_stacked_parts_add_up_and_the_total_is_labelled():
    svg = charts.stacked_bar_chart(["x"], {"confirmed": [3], "suggested": [1]}, "t")
    legend, *parts = bars(svg)
    assert legend == 10
    # two legend squares, then the two parts of the bar
    assert parts[1] == pytest.approx(3 * parts[2])
    assert ">4</text>" in svg


def test_labels_are_escaped():
    svg = charts.bar_chart([("<script>&", 1)], 'a "title"')
    parse(svg)  # still well-formed XML
    assert "<script>" not in svg
    assert "&lt;script&gt;&amp;" in svg


def test_mismatched_or_negative_series_are_refused():
    with pytest.raises(ValueError, match="values"):
        charts.stacked_bar_chart(["a", "b"], {"s": [1]}, "t")
    with pytest.raises(ValueError, match="negative"):
        charts.bar_chart([("a", -1)], "t")


def test_empty_bar_chart_says_no_data():
    assert "no data" in charts.bar_chart([], "t")


def test_line_chart_draws_a_point_per_night_and_breaks_at_gaps():
    svg = charts.line_chart([("d1", 1.0), ("d2", None), ("d3", 2.0), ("d4", 3.0)], "trend")
    root = parse(svg)
    assert len(list(root.iter(f"{SVG}circle"))) == 3
    lines = list(root.iter(f"{SVG}polyline"))
    assert len(lines) == 1  # d1 stands alone; d3-d4 are joined
    assert len(lines[0].get("points").split()) == 2


def test_line_chart_higher_values_are_drawn_higher():
    root = parse(charts.line_chart([("a", 0.9), ("b", 0.95)], "rate"))
    low, high = (float(c.get("cy")) for c in root.iter(f"{SVG}circle"))
    assert high < low  # SVG y grows downwards


def test_line_chart_without_nights_says_so():
    assert "no nights recorded yet" in charts.line_chart([], "trend")
    assert "no nights recorded yet" in charts.line_chart([("a", None)], "trend")


def test_a_single_point_is_drawn():
    root = parse(charts.line_chart([("only", 5.0)], "trend"))
    assert len(list(root.iter(f"{SVG}circle"))) == 1
