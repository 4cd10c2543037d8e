"""Render Block Kit messages and views in a terminal with rich, the way Slack would lay them out."""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

_LINK = re.compile(r"<(?:mailto:)?([^|<>]+)\|([^<>]+)>|<!date\^\d+\^[^|]*\|([^<>]+)>|<@([A-Z0-9_]+)>|<#([A-Z0-9]+)>")


def slack_text(text: str) -> str:
    """mrkdwn to plain terminal text: links show their label, dates their fallback, mentions as @U."""
    def sub(m: re.Match[str]) -> str:
        return m.group(2) or m.group(3) or (f"@{m.group(4)}" if m.group(4) else f"#{m.group(5)}")

    text = _LINK.sub(sub, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _markup(text: str) -> Text:
    """mrkdwn bold (*x*) and code (`x`) as rich styles."""
    out = Text()
    for part in re.split(r"(\*[^*\n]+\*|`[^`\n]+`)", slack_text(text)):
        if part.startswith("*") and part.endswith("*") and len(part) > 2:
            out.append(part[1:-1], style="bold")
        elif part.startswith("`") and part.endswith("`") and len(part) > 2:
            out.append(part[1:-1], style="cyan")
        else:
            out.append(part)
    return out


def _cell(cell: dict[str, Any]) -> str:
    """A table cell's visible text."""
    if cell.get("type") in ("raw_text", "raw_number"):
        return str(cell.get("text", ""))
    parts: list[str] = []
    for section in cell.get("elements", []):
        for element in section.get("elements", []):
            parts.append(str(element.get("text") or element.get("url") or ""))
    return "".join(parts)


def button_labels(msg: dict[str, Any]) -> list[str]:
    """Every button's label in a message or view, in order."""
    return [b["text"]["text"] for b in _buttons(msg)]


def find_button(msg: dict[str, Any], label: str) -> dict[str, Any] | None:
    """The first button whose label contains `label` (case-insensitive), e.g. 'next' or 'export'."""
    wanted = label.strip().lower()
    return next((b for b in _buttons(msg) if wanted in b["text"]["text"].lower()), None)


def _buttons(msg: dict[str, Any]) -> list[dict[str, Any]]:
    """All buttons of a message."""
    return [e for block in msg.get("blocks", []) if block.get("type") == "actions"
            for e in block.get("elements", []) if e.get("type") == "button"]


def render_message(msg: dict[str, Any], console: Console) -> None:
    """Print a message's blocks: headers, sections, fields, context, tables and buttons."""
    blocks = msg.get("blocks") or [{"type": "section", "text": {"type": "mrkdwn", "text": msg.get("text", "")}}]
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            console.print(Text(block["text"]["text"], style="bold underline"))
        elif kind == "section":
            if "text" in block:
                console.print(_markup(block["text"]["text"]))
            if block.get("fields"):
                grid = Table.grid(padding=(0, 4))
                fields = [_markup(f["text"]) for f in block["fields"]]
                for _ in range(2):
                    grid.add_column()
                for i in range(0, len(fields), 2):
                    grid.add_row(*fields[i:i + 2])
                console.print(grid)
        elif kind == "context":
            console.print(Text(" · ".join(slack_text(e.get("text", "")) for e in block["elements"]), style="dim"))
        elif kind == "table":
            rows = block["rows"]
            table = Table(*[_cell(c) for c in rows[0]], header_style="bold")
            for row in rows[1:]:
                table.add_row(*[_cell(c) for c in row])
            console.print(table)
        elif kind == "actions":
            console.print(Text("  ".join(f"[ {b['text']['text']} ]" for b in block["elements"]), style="bold blue"))
        elif kind == "divider":
            console.rule(style="dim")


def render_view(view: dict[str, Any], console: Console) -> None:
    """Print a Home view like a message."""
    console.rule("App Home")
    render_message(view, console)
