"""Limits of the chart (`data_visualization`) and `data_table` blocks, checked as Slack would (slack_sdk has no model).

From docs.slack.dev's reference pages (data-visualization-block, data-table-block). Where two published versions of
a page differ (6 or 12 series and segments; 101 or 201 data table rows; 10,000 or 20,000 cell characters) the
stricter number is kept, so a payload valid here is valid under either.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

CHART_TITLE = 50
CHARTS_PER_MESSAGE = 2
CHART_SERIES = 6
PIE_SEGMENTS = 6
CHART_POINTS = 20  # per series, and so categories: every series has exactly one point per category
CHART_LABEL = 20  # segment labels, series names, categories and point labels
AXIS_LABEL = 50
CHART_KINDS = ("pie", "bar", "area", "line")
DATA_TABLE_ROWS = 101  # the header and 100 rows
DATA_TABLE_COLUMNS = 20
DATA_TABLE_PAGE = 100
DATA_TABLE_CHARS = 10_000  # across a table's cells, and across every data table's cells in a message
CHART_BLOCKS = frozenset({"data_visualization", "data_table"})


def _len(text: str) -> int:
    """Length in UTF-16 code units (never less than len()), as limits.slack_len counts."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _label(value: Any, limit: int, what: str) -> str:
    """A non-empty string within `limit` characters."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what}: must be a non-empty string")
    if _len(value) > limit:
        raise ValueError(f"{what}: has {_len(value):,} characters; the limit is {limit:,}")
    return value


def _number(value: Any, what: str) -> float:
    """A finite JSON number (not a boolean)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what}: must be a finite number, not {value!r}")
    return float(value)


def _keys(raw: dict[str, Any], allowed: set[str], what: str) -> None:
    """Only documented fields: Slack answers invalid_blocks for others."""
    extra = set(raw) - allowed
    if extra:
        raise ValueError(f"{what}: unknown field(s) {', '.join(sorted(extra))}")


def validate_chart(raw: dict[str, Any], where: str) -> None:
    """A data_visualization block: title, and a pie, bar, area or line chart within every documented limit."""
    _keys(raw, {"type", "title", "chart", "block_id"}, where)
    _label(raw.get("title"), CHART_TITLE, f"{where}: title")
    chart = raw.get("chart")
    if not isinstance(chart, dict) or chart.get("type") not in CHART_KINDS:
        raise ValueError(f"{where}: chart must be an object of type {', '.join(CHART_KINDS)}")
    what = f"{where}: chart ({chart['type']})"
    if chart["type"] == "pie":
        _pie(chart, what)
    else:
        _series_chart(chart, what)


def _pie(chart: dict[str, Any], what: str) -> None:
    """1..6 segments, labels up to 20 characters, values above zero."""
    _keys(chart, {"type", "segments"}, what)
    segments = chart.get("segments")
    if not isinstance(segments, list) or not 1 <= len(segments) <= PIE_SEGMENTS:
        raise ValueError(f"{what}: segments must be a list of 1..{PIE_SEGMENTS}")
    for n, segment in enumerate(segments):
        if not isinstance(segment, dict):
            raise ValueError(f"{what}: segments[{n}] must be an object")
        _keys(segment, {"label", "value"}, f"{what}: segments[{n}]")
        _label(segment.get("label"), CHART_LABEL, f"{what}: segments[{n}].label")
        if _number(segment.get("value"), f"{what}: segments[{n}].value") <= 0:
            raise ValueError(f"{what}: segments[{n}].value must be greater than 0")


def _series_chart(chart: dict[str, Any], what: str) -> None:
    """1..6 uniquely named series, each with exactly one point per category, in the categories' order."""
    _keys(chart, {"type", "series", "axis_config"}, what)
    axis = chart.get("axis_config")
    if not isinstance(axis, dict):
        raise ValueError(f"{what}: axis_config is required")
    _keys(axis, {"categories", "x_label", "y_label"}, f"{what}: axis_config")
    categories = axis.get("categories")
    if not isinstance(categories, list) or not 1 <= len(categories) <= CHART_POINTS:
        raise ValueError(f"{what}: axis_config.categories must be a list of 1..{CHART_POINTS}")
    for n, category in enumerate(categories):
        _label(category, CHART_LABEL, f"{what}: axis_config.categories[{n}]")
    if len(set(categories)) != len(categories):
        raise ValueError(f"{what}: axis_config.categories repeat a label")
    for key in ("x_label", "y_label"):
        if key in axis:
            _label(axis[key], AXIS_LABEL, f"{what}: axis_config.{key}")
    series = chart.get("series")
    if not isinstance(series, list) or not 1 <= len(series) <= CHART_SERIES:
        raise ValueError(f"{what}: series must be a list of 1..{CHART_SERIES}")
    names: set[str] = set()
    for n, one in enumerate(series):
        if not isinstance(one, dict):
            raise ValueError(f"{what}: series[{n}] must be an object")
        _keys(one, {"name", "data"}, f"{what}: series[{n}]")
        name = _label(one.get("name"), CHART_LABEL, f"{what}: series[{n}].name")
        if name in names:
            raise ValueError(f"{what}: series[{n}].name {name!r} repeats; series names must be unique")
        names.add(name)
        data = one.get("data")
        if not isinstance(data, list) or not 1 <= len(data) <= CHART_POINTS:
            raise ValueError(f"{what}: series[{n}].data must be a list of 1..{CHART_POINTS} points")
        labels = []
        for p, point in enumerate(data):
            if not isinstance(point, dict):
                raise ValueError(f"{what}: series[{n}].data[{p}] must be an object")
            _keys(point, {"label", "value"}, f"{what}: series[{n}].data[{p}]")
            labels.append(_label(point.get("label"), CHART_LABEL, f"{what}: series[{n}].data[{p}].label"))
            _number(point.get("value"), f"{what}: series[{n}].data[{p}].value")
        if labels != categories:
            raise ValueError(f"{what}: series[{n}] must have exactly one point per category, in their order")


def validate_data_table(raw: dict[str, Any], where: str, *, rich_text: Callable[[Any, str], None]) -> int:
    """A data_table block within its limits; returns its cells' character count (a message has a total cap).

    `rich_text(cell, where)` checks a rich_text cell the way limits.py checks table cells (with slack_sdk).
    """
    _keys(raw, {"type", "rows", "caption", "page_size", "row_header_column_index", "block_id"}, where)
    _label(raw.get("caption"), 3000, f"{where}: caption")
    rows = raw.get("rows")
    if not isinstance(rows, list) or not 2 <= len(rows) <= DATA_TABLE_ROWS:
        raise ValueError(f"{where}: rows must be a list of 2..{DATA_TABLE_ROWS} (the header and 1..100 rows)")
    width = len(rows[0]) if isinstance(rows[0], list) else 0
    if not 1 <= width <= DATA_TABLE_COLUMNS:
        raise ValueError(f"{where}: rows[0] must hold 1..{DATA_TABLE_COLUMNS} cells")
    chars = 0
    for r, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != width:
            raise ValueError(f"{where}: rows[{r}] must hold {width} cells, as the header does")
        for c, cell in enumerate(row):
            chars += _data_cell(cell, f"{where}: rows[{r}][{c}]", header=r == 0, rich_text=rich_text)
    if chars > DATA_TABLE_CHARS:
        raise ValueError(f"{where}: its cells hold {chars:,} characters; the limit is {DATA_TABLE_CHARS:,}")
    if "page_size" in raw:
        page = raw["page_size"]
        if isinstance(page, bool) or not isinstance(page, int) or not 1 <= page <= DATA_TABLE_PAGE:
            raise ValueError(f"{where}: page_size must be an integer 1..{DATA_TABLE_PAGE}")
    if "row_header_column_index" in raw:
        index = raw["row_header_column_index"]
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < width:
            raise ValueError(f"{where}: row_header_column_index must be a column index 0..{width - 1}")
    return chars


def _data_cell(cell: Any, where: str, *, header: bool, rich_text: Callable[[Any, str], None]) -> int:
    """One cell: raw_text, raw_number or (not in the header) rich_text; returns its character count."""
    kind = cell.get("type") if isinstance(cell, dict) else None
    if kind == "raw_text":
        _keys(cell, {"type", "text"}, where)
        return _len(_label(cell.get("text"), DATA_TABLE_CHARS, where))
    if kind == "raw_number":
        _keys(cell, {"type", "value", "text"}, where)
        value = _number(cell.get("value"), f"{where}: value")
        return _len(_label(cell["text"], DATA_TABLE_CHARS, where)) if "text" in cell else len(f"{value:g}")
    if kind == "rich_text" and not header:
        rich_text(cell, where)
        return sum(_len(str(leaf.get("text") or leaf.get("fallback") or leaf.get("url") or ""))
                   for part in cell.get("elements", []) for leaf in part.get("elements", []))
    allowed = "raw_text or raw_number" if header else "raw_text, raw_number or rich_text"
    raise ValueError(f"{where}: a {'header ' if header else ''}cell is {allowed}, not {kind!r}")
