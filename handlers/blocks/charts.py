"""Chart renderers (pure): trends as Slack's chart blocks, with text equivalents and a chart-free fallback.

Every chart message carries its figures in words too (`text` and a compact line): notifications, screen readers and
clients that do not draw the block still get them. `without_charts` turns any chart message into today's `table`
block and text, for workspaces where Slack refuses the new blocks (answered `invalid_blocks`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from handlers.blocks.chart_limits import CHART_BLOCKS, CHART_LABEL, CHART_POINTS, CHART_SERIES, CHART_TITLE
from handlers.blocks.common import (
    Block,
    Message,
    actions,
    button,
    clip,
    context,
    escape,
    escape_fallback,
    header,
    hide_emails,
    message,
    raw_cell,
    section,
    table,
)
from handlers.blocks.limits import TABLE_ROWS, TEXT
from storage.trends import Trend

TREND_SHARE = "trend_share"
_UNIT_WORDS = {"day": ("day", "days"), "week": ("week", "weeks"), "month": ("month", "months")}
_TICKS = "▁▂▃▄▅▆▇█"


def signed(n: int) -> str:
    """+3, -2, 0."""
    return f"{n:+,}" if n else "0"


def category(trend: Trend, i: int) -> str:
    """A bucket's x-axis label: `Nov 24` (days and weeks, by their first day) or `Nov 2026` (months)."""
    start = trend.buckets[i].start
    return f"{start:%b} {start.year}" if trend.unit == "month" else f"{start:%b} {start.day}"


def period_words(trend: Trend) -> str:
    """`week`, `2 days`, `3 months`: how long one bucket is."""
    one, many = _UNIT_WORDS[trend.unit]
    return one if trend.step == 1 else f"{trend.step} {many}"


def chart(title: str, kind: str, categories: list[str], series: Mapping[str, Sequence[float]], *, x_label: str = "",
          y_label: str = "") -> Block:
    """A bar, area or line chart block of up to 6 named series over the same categories (clipped to the limits)."""
    names = [clip(name, CHART_LABEL) for name in list(series)[:CHART_SERIES]]
    labels = [clip(c, CHART_LABEL) for c in categories[-CHART_POINTS:]]
    axis: dict[str, Any] = {"categories": labels}
    if x_label:
        axis["x_label"] = clip(x_label, 50)
    if y_label:
        axis["y_label"] = clip(y_label, 50)
    data = [{"name": name, "data": [{"label": label, "value": value}
                                    for label, value in zip(labels, values[-CHART_POINTS:], strict=True)]}
            for name, values in zip(names, series.values(), strict=False)]
    return {"type": "data_visualization", "title": clip(title, CHART_TITLE),
            "chart": {"type": kind, "series": data, "axis_config": axis}}


def sparkline(values: list[int]) -> str:
    """Values as a line of block characters (`▁▃▇█`), lowest to highest: how the terminal and Home draw a line."""
    if not values:
        return ""
    low, high = min(values), max(values)
    span = high - low
    return "".join(_TICKS[0 if not span else round((v - low) * (len(_TICKS) - 1) / span)] for v in values)


def trend_figures(trend: Trend) -> str:
    """The compact line of figures per bucket, for screen readers: `New per week: 12, 15, 9 · Churned per ...`."""
    per = period_words(trend)
    new = ", ".join(f"{b.signups:,}" for b in trend.buckets)
    gone = ", ".join(f"{b.churned:,}" for b in trend.buckets)
    first, last = category(trend, 0), category(trend, len(trend.buckets) - 1)
    return f"Per {per} from {first} to {last}: new {new} · churned {gone}"


def trend_summary(trend: Trend) -> str:
    """The figures of the whole window in one mrkdwn line."""
    before, after = trend.customers_before, trend.buckets[-1].customers
    return (f"*{trend.signups:,}* new · *{trend.churned:,}* churned · net *{signed(trend.net)}* · "
            f"customers *{before:,}* → *{after:,}*")


def trend_text(trend: Trend, title: str) -> str:
    """The fallback `text`: the title and the window's figures in words."""
    return (f"{title}: {trend.signups:,} new, {trend.churned:,} churned, net {signed(trend.net)}; "
            f"{trend.buckets[-1].customers:,} customers (not canceled)")


def trend_message(trend: Trend, *, title: str, filters: str, share_value: str | None = None,
                  shared_by: str | None = None) -> Message:
    """`/customers trend`: new and churned as bars, customers as a line, the summary, and the figures in words."""
    shared = shared_by is not None
    cats = [category(trend, i) for i in range(len(trend.buckets))]
    per = period_words(trend)
    shown = hide_emails(filters) if shared else filters
    blocks: list[Block | None] = [
        header(title),
        section(trend_summary(trend)),
        chart(f"New and churned per {per}", "bar", cats,
              {"New": [b.signups for b in trend.buckets], "Churned": [b.churned for b in trend.buckets]},
              x_label=f"{per.capitalize()} starting (UTC)", y_label="Customers"),
        chart("Customers (not canceled)", "line", cats, {"Customers": [b.customers for b in trend.buckets]},
              x_label=f"End of each {per}", y_label="Customers"),
        context(escape(clip(trend_figures(trend), TEXT))),
        context(*[p for p in (f"Whole {_UNIT_WORDS[trend.unit][1]} (UTC) since {trend.since:%a %-d %b %Y}",
                              f"Filters: {escape(clip(shown, 300))}" if shown else "",
                              "Filters apply to each customer's current status and seats",
                              f"Shared by <@{shared_by}>" if shared else "") if p]),
    ]
    if not shared and share_value:
        blocks.append(actions(button("Share in channel", TREND_SHARE, value=share_value)))
    text = escape_fallback(trend_text(trend, title) + (f" ({shown})" if shown else ""))
    return message(text + (f", shared by <@{shared_by}>" if shared else ""), blocks)


def has_charts(msg: Message) -> bool:
    """True when a message carries a chart or data table block (which some workspaces do not accept yet)."""
    return any(b.get("type") in CHART_BLOCKS for b in msg.get("blocks", []))


def without_charts(msg: Message) -> Message:
    """The same message with today's blocks only: charts become one `table` (and text), data tables a `table`.

    Charts sharing the first chart's categories become columns of one table (a message holds one); others, and
    charts when the message already has a table, become a section of `label: values` lines.
    """
    blocks = msg.get("blocks", [])
    charts = [b for b in blocks if b["type"] == "data_visualization"]
    has_table = any(b["type"] == "table" for b in blocks)
    head: list[str] = []
    rows: list[list[str]] = []
    placed: set[int] = set()
    first_cats = charts[0]["chart"].get("axis_config", {}).get("categories") if charts else None
    if charts and first_cats and not has_table:
        rows = [[c] for c in first_cats]
        head = ["Period"]
        for n, block in enumerate(charts):
            if block["chart"].get("axis_config", {}).get("categories") != first_cats:
                continue
            placed.add(n)
            for series in block["chart"]["series"]:
                head.append(series["name"])
                for row, point in zip(rows, series["data"], strict=True):
                    row.append(_number(point["value"]))
    out: list[Block] = []
    table_done = False
    for block in blocks:
        kind = block["type"]
        if kind == "data_visualization":
            n = next(i for i, c in enumerate(charts) if c is block)
            if n in placed:
                if not table_done:
                    out.append(table(head, [[raw_cell(v) for v in row] for row in rows],
                                     [None, *[{"align": "right"}] * (len(head) - 1)]))
                    table_done = True
                continue
            out.append(section(_chart_lines(block)))
        elif kind == "data_table":
            out.append(_data_table_as_table(block) if not (has_table or table_done) else section(block["caption"]))
            table_done = True
        else:
            out.append(block)
    return {**msg, "blocks": out}


def _number(value: float) -> str:
    """A chart value as table text: integers with separators."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"


def _chart_lines(block: Block) -> str:
    """A chart as mrkdwn lines: its title, then each series (or the pie's segments) with its values."""
    chart_ = block["chart"]
    if chart_["type"] == "pie":
        lines = [f"• {escape(s['label'])}: {_number(s['value'])}" for s in chart_["segments"]]
    else:
        lines = [f"• {escape(s['name'])}: " + ", ".join(f"{escape(p['label'])} {_number(p['value'])}"
                                                        for p in s["data"]) for s in chart_["series"]]
    return clip(f"*{escape(block['title'])}*\n" + "\n".join(lines), 3000)


def _data_table_as_table(block: Block) -> Block:
    """A data table as today's table block: the header in bold, up to 99 rows, numbers as text."""
    rows = block["rows"]
    head = [str(c.get("text") or _number(c.get("value", 0))) for c in rows[0]]
    body = [[raw_cell(str(c.get("text") or _number(c["value"]))) if c["type"] == "raw_number" else c
             for c in row] for row in rows[1:TABLE_ROWS]]
    return table(head, body)


def with_digest_trend(msg: Message, trend: Trend) -> Message:
    """The daily digest with its last days' signups and churn as bars (and in words) under the day's counts."""
    cats = [category(trend, i) for i in range(len(trend.buckets))]
    bars = chart(f"Signups and churn, last {len(trend.buckets)} days", "bar", cats,
                 {"New": [b.signups for b in trend.buckets], "Churned": [b.churned for b in trend.buckets]},
                 x_label="Day (UTC)", y_label="Customers")
    blocks = list(msg["blocks"])
    at = min(3, len(blocks))  # after the header, the day's counts and their time line
    return {**msg, "blocks": [*blocks[:at], bars, context(escape(clip(trend_figures(trend), TEXT))), *blocks[at:]]}


def home_trend_blocks(trend: Trend, *, tables: bool = True) -> list[Block]:
    """App Home's trend (views cannot hold charts): the figures, a line of ▁▃▇ per series and a data table by week.

    `tables=False` leaves the data table out, for workspaces that refuse it (charts_send remembers them).
    """
    per = period_words(trend)
    lines = [f"*New* `{sparkline([b.signups for b in trend.buckets])}` {trend.signups:,}",
             f"*Churned* `{sparkline([b.churned for b in trend.buckets])}` {trend.churned:,}",
             f"*Customers* `{sparkline([b.customers for b in trend.buckets])}` "
             f"{trend.customers_before:,} → {trend.buckets[-1].customers:,}"]
    blocks: list[Block] = [header(f"Last {len(trend.buckets)} {_UNIT_WORDS[trend.unit][1]}"),
                           section(trend_summary(trend) + "\n" + "\n".join(lines))]
    if tables:
        head = [{"type": "raw_text", "text": f"{per.capitalize()} of"}] + [
            {"type": "raw_text", "text": name} for name in ("New", "Churned", "Net", "Customers")]
        rows = [[{"type": "raw_text", "text": category(trend, i)},
                 *[{"type": "raw_number", "value": v, "text": f"{v:,}" if k != 2 else signed(v)}
                   for k, v in enumerate((b.signups, b.churned, b.net, b.customers))]]
                for i, b in enumerate(trend.buckets)]
        blocks.append({"type": "data_table", "caption": f"Signups and churn per {per}", "rows": [head, *rows],
                       "page_size": min(len(rows), 13)})
    else:
        blocks.append(context(escape(clip(trend_figures(trend), TEXT))))
    return blocks
