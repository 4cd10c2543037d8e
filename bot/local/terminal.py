"""Render Block Kit messages and views in a terminal with rich, laid out the way Slack shows them."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from rich.console import Console, JustifyMethod
from rich.emoji import Emoji
from rich.table import Table
from rich.text import Text

_TOKEN = re.compile(r"<([^<>]*)>")
_STYLE = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])|(?<!\w)_([^_\n]+)_(?!\w)|`([^`\n]+)`|(?<!\w)~([^~\n]+)~(?!\w)")
_STYLES = ("bold", "italic", "cyan", "strike")
_JUSTIFY: dict[str, JustifyMethod] = {"left": "left", "center": "center", "right": "right"}


def slack_text(text: str) -> str:
    """mrkdwn to plain terminal text: dates show their fallback, mentions @U, links their label, emoji as emoji."""
    return Emoji.replace(html.unescape(_TOKEN.sub(lambda m: _token(m.group(1)), text)))


def _token(inner: str) -> str:
    """One `<...>` token of Slack's markup as readable text."""
    target, _, label = inner.partition("|")
    if target.startswith("!date^"):
        return label or target
    if target.startswith("@"):
        return f"@{label or target[1:]}"
    if target.startswith("#"):
        return f"#{label or target[1:]}"
    if target.startswith("!"):
        return f"@{target[1:].split('^')[0]}"
    if target.startswith("mailto:") or not label or label == target:
        return label or target.removeprefix("mailto:")
    return f"{label} ({target})"


def _markup(text: str, style: str = "") -> Text:
    """mrkdwn as rich Text: *bold*, _italic_, `code`, ~strike~; user data is never read as rich markup."""
    out = Text(style=style)
    plain = slack_text(text)
    last = 0
    for match in _STYLE.finditer(plain):
        out.append(plain[last:match.start()])
        group = next(i for i in range(4) if match.group(i + 1) is not None)
        out.append(match.group(group + 1), style=_STYLES[group])
        last = match.end()
    out.append(plain[last:])
    return out


def _rich_elements(elements: list[Mapping[str, Any]]) -> str:
    """The visible text of rich_text leaf elements."""
    parts: list[str] = []
    for e in elements:
        kind = e.get("type")
        if kind == "text":
            parts.append(str(e.get("text", "")))
        elif kind == "link":
            parts.append(str(e.get("text") or e.get("url", "")).removeprefix("mailto:"))
        elif kind == "date":
            parts.append(str(e.get("fallback") or e.get("timestamp", "")))
        elif kind == "emoji":
            parts.append(Emoji.replace(f":{e.get('name', '')}:"))
        elif kind in ("user", "usergroup"):
            parts.append(f"@{e.get('user_id') or e.get('usergroup_id', '')}")
        elif kind == "channel":
            parts.append(f"#{e.get('channel_id', '')}")
        elif kind == "broadcast":
            parts.append(f"@{e.get('range', '')}")
    return "".join(parts)


def _rich_text(block: Mapping[str, Any]) -> str:
    """A rich_text block (or table cell) as lines of text."""
    lines = []
    for part in block.get("elements", []):
        if part.get("type") == "rich_text_list":
            lines += [f"• {_rich_elements(item.get('elements', []))}" for item in part.get("elements", [])]
        else:
            lines.append(_rich_elements(part.get("elements", [])))
    return "\n".join(lines)


def _cell(cell: Mapping[str, Any]) -> Text:
    """A table cell's visible text."""
    if cell.get("type") == "raw_number":
        return Text(str(cell.get("text") or f"{cell.get('value', 0):,}"))
    if cell.get("type") == "rich_text":
        bold = all(e.get("style", {}).get("bold") for p in cell.get("elements", []) for e in p.get("elements", []))
        return Text(_rich_text(cell), style="bold" if bold else "")
    return Text(str(cell.get("text", "")))


def _buttons(msg: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every button of a message or view, in order (actions blocks and section accessories)."""
    found: list[dict[str, Any]] = []
    for block in msg.get("blocks") or []:
        elements = block.get("elements", []) if block.get("type") == "actions" else [block.get("accessory") or {}]
        found += [e for e in elements if e.get("type") == "button"]
    return found


def button_labels(msg: Mapping[str, Any]) -> list[str]:
    """Every button's label, in order."""
    return [str(b["text"]["text"]) for b in _buttons(msg)]


def find_button(msg: Mapping[str, Any], label: str) -> dict[str, Any] | None:
    """The first button whose label starts with `label`, ignoring case and leading arrows (`next`, `prev`)."""
    wanted = label.strip().casefold()
    if not wanted:
        return None
    for b in _buttons(msg):
        text = str(b["text"]["text"]).casefold()
        if text.startswith(wanted) or re.sub(r"^\W+", "", text).startswith(wanted):
            return b
    return None


def _table(block: Mapping[str, Any]) -> Table:
    """A table block as a rich Table; the first row is the header."""
    rows = block.get("rows") or [[]]
    settings = list(block.get("column_settings") or [])
    table = Table(header_style="bold", show_lines=False)
    for i, cell in enumerate(rows[0]):
        setting = settings[i] if i < len(settings) and settings[i] else {}
        table.add_column(_cell(cell), justify=_JUSTIFY.get(setting.get("align", "left"), "left"),
                         overflow="fold" if setting.get("is_wrapped") else "ellipsis")
    for row in rows[1:]:
        table.add_row(*[_cell(c) for c in row])
    return table


_TICKS = "▁▂▃▄▅▆▇█"
_BAR_WIDTH = 40
_SERIES_STYLES = ("green", "red", "cyan", "magenta", "yellow", "blue")


def _number(value: float) -> str:
    """A chart value as text."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"


def chart_lines(block: Mapping[str, Any]) -> list[Text]:
    """A data_visualization block as terminal lines: bars of █ per category, or a line of ▁▂▃▅▇ per series."""
    chart = block.get("chart") or {}
    lines = [Text(str(block.get("title", "")), style="bold")]
    if chart.get("type") == "pie":
        points = [(str(s["label"]), float(s["value"])) for s in chart.get("segments", [])]
        total = sum(v for _, v in points) or 1.0
        width = max((len(label) for label, _ in points), default=0)
        for label, value in points:
            lines.append(Text(f"{label:<{width}} ") + Text("█" * round(value / total * _BAR_WIDTH), style="cyan")
                         + Text(f" {value / total:.0%}"))
        return lines
    categories = [str(c) for c in (chart.get("axis_config") or {}).get("categories", [])]
    series = [(str(s["name"]), [float(p["value"]) for p in s.get("data", [])]) for s in chart.get("series", [])]
    if chart.get("type") == "bar":
        top = max((abs(v) for _, values in series for v in values), default=0.0) or 1.0
        width = max((len(c) for c in categories), default=0)
        name_width = max((len(name) for name, _ in series), default=0)
        for i, label in enumerate(categories):
            for n, (name, values) in enumerate(series):
                value = values[i] if i < len(values) else 0.0
                head = f"{label if n == 0 else '':<{width}} {name:<{name_width}} "
                lines.append(Text(head, style="dim") + Text("█" * round(abs(value) / top * _BAR_WIDTH),
                                                          style=_SERIES_STYLES[n % len(_SERIES_STYLES)])
                             + Text(f" {_number(value)}"))
        return lines
    for n, (name, values) in enumerate(series):  # line and area: one row of block characters per series
        low, high = min(values, default=0.0), max(values, default=0.0)
        span = high - low
        ticks = "".join(_TICKS[0 if not span else round((v - low) * (len(_TICKS) - 1) / span)] for v in values)
        lines.append(Text(f"{name} ", style="dim") + Text(ticks, style=_SERIES_STYLES[n % len(_SERIES_STYLES)])
                     + Text(f" {_number(values[0]) if values else ''} → {_number(values[-1]) if values else ''}"
                            f" (low {_number(low)}, high {_number(high)})"))
    if categories:
        lines.append(Text(f"{categories[0]} … {categories[-1]}", style="dim"))
    return lines


def render_message(msg: Mapping[str, Any], console: Console) -> None:
    """Print a message's blocks: headers, sections, fields, context, tables, rich text and buttons."""
    blocks = msg.get("blocks") or [{"type": "section", "text": {"type": "mrkdwn", "text": msg.get("text", "")}}]
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            console.print(Text(slack_text(block["text"]["text"]), style="bold"))
        elif kind == "section":
            if "text" in block:
                console.print(_markup(block["text"]["text"]))
            if block.get("fields"):
                grid = Table.grid(padding=(0, 4))
                grid.add_column()
                grid.add_column()
                cells = [_markup(f["text"]) for f in block["fields"]]
                for i in range(0, len(cells), 2):
                    grid.add_row(*cells[i:i + 2])
                console.print(grid)
        elif kind == "context":
            parts = [_markup(e["text"], style="dim") for e in block.get("elements", []) if "text" in e]
            console.print(Text(" · ", style="dim").join(parts))
        elif kind in ("table", "data_table"):
            console.print(_table(block))
        elif kind == "data_visualization":
            for line in chart_lines(block):
                console.print(line)
        elif kind == "rich_text":
            console.print(Text(_rich_text(block)))
        elif kind == "actions":
            labels = [f"[ {b['text']['text']} ]" for b in block.get("elements", []) if b.get("type") == "button"]
            console.print(Text("  ".join(labels), style="bold blue"))
        elif kind == "divider":
            console.rule(style="dim")
        else:
            console.print(Text(f"({kind} block)", style="dim"))


def render_view(view: Mapping[str, Any], console: Console) -> None:
    """Print a Home tab (or modal) view under a rule."""
    console.rule("App Home" if view.get("type") == "home" else "View")
    render_message(view, console)
