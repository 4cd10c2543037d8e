"""Chart renderers stay inside the documented chart and data table limits (worst cases too), as does the fallback."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest

from handlers.blocks.charts import chart, has_charts, home_trend_blocks, sparkline, trend_message, without_charts
from handlers.blocks.limits import validate_message, validate_view
from storage.trends import Bucket, Trend, bucket_edges

NOW = datetime(2026, 11, 24, 12, 34, tzinfo=UTC)
HUGE = 10**12


def _trend(since: datetime, *, value: int = 7) -> Trend:
    """A trend over [since, NOW) with the same figures in every bucket."""
    unit, step, edges = bucket_edges(since, NOW)
    buckets = [Bucket(start=a, end=b, signups=value, churned=value // 2, customers=value * 3)
               for a, b in pairwise(edges)]
    return Trend(unit=unit, step=step, buckets=buckets)


def _blocks(msg: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The blocks of one type."""
    return [b for b in msg["blocks"] if b["type"] == kind]


@pytest.mark.parametrize("days", [1, 2, 7, 20, 21, 31, 32, 45, 90, 182, 183, 365, 366, 730, 1095, 5 * 365])
def test_every_window_renders_valid_charts_and_a_valid_fallback(days: int) -> None:
    trend = _trend(NOW - timedelta(days=days), value=HUGE)
    msg = trend_message(trend, title="Customers trend · last " + "9" * 200, filters="seats:>10 status:active",
                        share_value="90d seats:>10")
    validate_message(msg)
    charts = _blocks(msg, "data_visualization")
    assert [c["chart"]["type"] for c in charts] == ["bar", "line"]
    assert all(len(s["data"]) == len(trend.buckets) <= 20 for c in charts for s in c["chart"]["series"])
    assert str(trend.signups // 10**9) in msg["text"].replace(",", "")  # the figures are in the text too
    plain = without_charts(msg)
    validate_message(plain)
    assert not has_charts(plain)
    rows = _blocks(plain, "table")[0]["rows"]
    assert len(rows) == len(trend.buckets) + 1
    assert plain["text"] == msg["text"]


def test_a_shared_trend_hides_emails_and_has_no_buttons() -> None:
    msg = trend_message(_trend(NOW - timedelta(days=90)), title="Customers trend · last 90d",
                        filters='"boss@acme.example" status:active', share_value="x", shared_by="U1")
    validate_message(msg)
    assert "acme.example" not in str(msg)
    assert not _blocks(msg, "actions")
    assert "<@U1>" in msg["text"]


def test_the_text_equivalent_lists_every_bucket_for_screen_readers() -> None:
    trend = _trend(NOW - timedelta(days=6), value=4)
    msg = trend_message(trend, title="Trend", filters="")
    figures = " ".join(e["text"] for b in _blocks(msg, "context") for e in b["elements"])
    assert "new 4, 4, 4, 4, 4, 4, 4" in figures
    assert "churned 2, 2, 2" in figures
    assert msg["text"].startswith("Trend: 28 new, 14 churned, net +14")


def test_charts_clip_titles_labels_and_series_to_the_limits() -> None:
    block = chart("t" * 80, "line", [f"category {i:02d} is long" for i in range(30)],
                  {f"series name number {i}": list(range(30)) for i in range(9)}, x_label="x" * 90, y_label="y" * 90)
    validate_message({"text": "t", "blocks": [block]})
    assert len(block["chart"]["series"]) == 6
    assert len(block["chart"]["axis_config"]["categories"]) == 20


def test_sparkline_draws_lowest_to_highest() -> None:
    assert sparkline([0, 5, 10]) == "▁▅█"
    assert sparkline([3, 3]) == "▁▁"
    assert sparkline([]) == ""


def _bar(**chart_fields: Any) -> dict[str, Any]:
    """A valid bar chart block with fields replaced."""
    block = chart("Title", "bar", ["a", "b"], {"New": [1, 2], "Churned": [0, 1]})
    block["chart"].update(chart_fields)
    return block


def _table(rows: int = 3, cols: int = 2, text: str = "x") -> dict[str, Any]:
    """A data table block: a header and rows of raw_text and raw_number cells."""
    head = [{"type": "raw_text", "text": f"h{c}"} for c in range(cols)]
    body = [[{"type": "raw_number", "value": r} if c else {"type": "raw_text", "text": text} for c in range(cols)]
            for r in range(rows)]
    return {"type": "data_table", "caption": "Customers", "rows": [head, *body]}


def _points(n: int) -> list[dict[str, Any]]:
    """n data points labelled 0..n-1."""
    return [{"label": str(i), "value": i} for i in range(n)]


def test_documented_maximums_pass() -> None:
    cats = [f"{i:0>20}" for i in range(20)]
    series = {f"{n:x>20}": list(range(20)) for n in range(6)}
    bars = chart("x" * 50, "bar", cats, series, x_label="x" * 50, y_label="y" * 50)
    pie = {"type": "data_visualization", "title": "Pie", "chart": {"type": "pie", "segments": [
        {"label": "s" * 19 + str(i), "value": 0.5} for i in range(6)]}}
    table = _table(rows=100, cols=20, text="x" * 4)
    table["page_size"] = 100
    table["row_header_column_index"] = 19
    validate_message({"text": "t", "blocks": [bars, pie, table]})
    validate_view({"type": "home", "blocks": [_table(rows=100)]})


def _pie(segments: list[dict[str, Any]]) -> dict[str, Any]:
    """A pie chart block."""
    return {"type": "data_visualization", "title": "Pie", "chart": {"type": "pie", "segments": segments}}


@pytest.mark.parametrize(("blocks", "error"), [
    ([_bar(), _bar(), _bar()], "3 charts; a message holds at most 2"),
    ([{**_bar(), "title": "x" * 51}], "title: has 51 characters; the limit is 50"),
    ([_bar(series=[{"name": f"s{i}", "data": _points(2)} for i in range(7)],
           axis_config={"categories": ["0", "1"]})], "series must be a list of 1..6"),
    ([_bar(series=[{"name": "s", "data": _points(21)}], axis_config={"categories": [str(i) for i in range(21)]})],
     "categories must be a list of 1..20"),
    ([_bar(axis_config={"categories": ["a", "x" * 21]})], r"categories\[1\]: has 21 characters"),
    ([_bar(series=[{"name": "n" * 21, "data": [{"label": "a", "value": 1}, {"label": "b", "value": 1}]}])],
     r"series\[0\].name: has 21 characters"),
    ([_bar(series=[{"name": "s", "data": [{"label": "b", "value": 1}, {"label": "a", "value": 1}]}])],
     "exactly one point per category"),
    ([_bar(series=[{"name": "s", "data": [{"label": "a", "value": 1}]}])], "exactly one point per category"),
    ([_bar(series=[{"name": "s", "data": _points(2)}] * 2, axis_config={"categories": ["0", "1"]})],
     "repeats; series names must be unique"),
    ([_bar(series=[{"name": "s", "data": [{"label": "a", "value": True}, {"label": "b", "value": 1}]}])],
     "must be a finite number"),
    ([_bar(axis_config={"categories": ["a", "b"], "x_label": "x" * 51})], r"x_label: has 51 characters"),
    ([_bar(stacked=True)], "unknown field"),
    ([_bar(type="scatter")], "chart must be an object of type pie, bar, area, line"),
    ([_pie([{"label": "a", "value": 0}])], r"segments\[0\].value must be greater than 0"),
    ([_pie([{"label": str(i), "value": 1} for i in range(7)])], "segments must be a list of 1..6"),
    ([_table(rows=101)], "rows must be a list of 2..101"),
    ([_table(rows=0)], "rows must be a list of 2..101"),
    ([_table(cols=21)], r"rows\[0\] must hold 1..20 cells"),
    ([_table(rows=1, text="x" * 10_001)], "the limit is 10,000"),
    ([_table(rows=50, text="x" * 150), _table(rows=50, text="x" * 150)], "message: its data tables hold"),
    ([{**_table(), "page_size": 101}], "page_size must be an integer 1..100"),
    ([{**_table(), "row_header_column_index": 2}], "row_header_column_index must be a column index 0..1"),
    ([{**_table(), "caption": ""}], "caption: must be a non-empty string"),
])
def test_payloads_outside_the_documented_limits_are_refused(blocks: list[dict[str, Any]], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        validate_message({"text": "t", "blocks": blocks})


def test_a_rich_text_header_cell_and_a_chart_in_a_view_are_refused() -> None:
    table = _table()
    table["rows"][0][0] = {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [
        {"type": "text", "text": "h"}]}]}
    with pytest.raises(ValueError, match="a header cell is raw_text or raw_number"):
        validate_message({"text": "t", "blocks": [table]})
    with pytest.raises(ValueError, match="only allowed in messages"):
        validate_view({"type": "home", "blocks": [_bar()]})


def test_without_charts_turns_a_data_table_and_an_unmatched_chart_into_todays_blocks() -> None:
    other = chart("Other", "line", ["x"], {"S": [5]})
    msg = {"text": "t", "blocks": [_bar(), other, _table(rows=3)]}
    validate_message(msg)
    plain = without_charts(copy.deepcopy(msg))
    validate_message(plain)
    assert [b["type"] for b in plain["blocks"]] == ["table", "section", "section"]
    assert "*Other*" in plain["blocks"][1]["text"]["text"]


def test_home_trend_blocks_fit_a_home_view_with_and_without_the_data_table() -> None:
    trend = _trend(NOW - timedelta(weeks=11), value=HUGE)
    assert len(trend.buckets) == 12
    blocks = home_trend_blocks(trend)
    validate_view({"type": "home", "blocks": blocks})
    table = blocks[-1]
    assert table["type"] == "data_table"
    assert len(table["rows"]) == 13
    assert table["rows"][1][3]["text"] == f"{HUGE - HUGE // 2:+,}"
    plain = home_trend_blocks(trend, tables=False)
    validate_view({"type": "home", "blocks": plain})
    assert not any(b["type"] in ("data_table", "data_visualization") for b in plain)
    assert "`▁▁▁" in plain[1]["text"]["text"]
