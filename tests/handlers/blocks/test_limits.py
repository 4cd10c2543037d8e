"""The payload validator refuses, with a precise message, everything Slack would reject."""

from __future__ import annotations

from typing import Any

import pytest

from handlers.blocks.limits import validate_message, validate_view


def text(s: str, kind: str = "mrkdwn") -> dict[str, Any]:
    """A text object."""
    return {"type": kind, "text": s}


def section(s: str = "hi") -> dict[str, Any]:
    """A section block."""
    return {"type": "section", "text": text(s)}


def btn(label: str = "Go", action_id: str = "go", **extra: Any) -> dict[str, Any]:
    """A button element."""
    return {"type": "button", "text": text(label, "plain_text"), "action_id": action_id, **extra}


def raw(s: str) -> dict[str, Any]:
    """A raw_text table cell."""
    return {"type": "raw_text", "text": s}


def tbl(rows: list[list[dict[str, Any]]], **extra: Any) -> dict[str, Any]:
    """A table block."""
    return {"type": "table", "rows": rows, **extra}


def msg(*blocks: dict[str, Any], fallback: str = "fallback") -> dict[str, Any]:
    """A message of these blocks."""
    return {"text": fallback, "blocks": list(blocks)}


def test_a_well_formed_message_and_view_pass() -> None:
    cell = {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [
        {"type": "link", "url": "mailto:a@b.example", "text": "a@b.example"},
        {"type": "date", "timestamp": 1_764_000_000, "format": "{date_short}", "fallback": "2025-11-24"}]}]}
    validate_message(msg({"type": "header", "text": text("Title", "plain_text")}, section("x" * 3000),
                         {"type": "context", "elements": [text("c")] * 10},
                         tbl([[raw("a")] * 20, [cell] * 20] * 50, column_settings=[{"align": "right"}, None]),
                         {"type": "actions", "elements": [btn(action_id=f"a{i}", value="v" * 2000) for i in range(25)]},
                         {"type": "divider", "block_id": "b" * 255}))
    validate_view({"type": "home", "blocks": [section()] * 100})


@pytest.mark.parametrize(("payload", "error"), [
    (msg(section(), fallback=""), "fallback `text` is required"),
    (msg(section(), fallback="x" * 40_001), "fallback text has 40,001 characters; the limit is 40,000"),
    (msg(*[section()] * 51), "51 blocks; a message holds at most 50"),
    (msg(tbl([[raw("a")]]), tbl([[raw("b")]])), "2 tables; a message holds at most 1"),
    (msg({"type": "nonsense"}), r"blocks\[0\] \(nonsense\): unknown block type"),
    (msg({"text": "no type"}), r"blocks\[0\]: not a block"),
    (msg(section(), {"type": "section", "text": text("x"), "colour": "red"}),
     r"blocks\[1\] \(section\): 'colour' is not something slack_sdk knows"),
    (msg({"type": "header", "text": text("h" * 151, "plain_text")}), "text attribute cannot exceed 150"),
    (msg({"type": "header", "text": text("😀" * 76, "plain_text")}), "has 152 characters; the limit is 150"),
    (msg({"type": "header", "text": text("h")}), "must be a plain_text text object"),
    (msg(section("")), "must not be empty"),
    (msg(section("x" * 3001)), "cannot exceed 3000"),
    (msg({"type": "section"}), "text or fields attribute must be specified"),
    (msg({"type": "section", "fields": [text("f")] * 11}), "fields attribute cannot exceed 10"),
    (msg({"type": "section", "fields": [text("f" * 2001)]}), r"fields\[0\]: has 2,001 characters; the limit is 2,000"),
    (msg({"type": "context", "elements": [text("c")] * 11}), "elements attribute cannot exceed 10"),
    (msg({"type": "actions", "elements": [btn(label="b" * 76)]}), "text attribute cannot exceed 75"),
    (msg({"type": "actions", "elements": [btn(value="v" * 2001)]}), "value attribute cannot exceed 2000"),
    (msg({"type": "actions", "elements": [btn(action_id="a" * 256)]}), "action_id attribute cannot exceed 255"),
    (msg({"type": "actions", "elements": [btn(), btn()]}), "action_id 'go' repeats within the block"),
    (msg({"type": "actions", "elements": [btn(value="")]}), "value: must not be empty"),
    (msg({"type": "actions", "elements": [btn(url="https://x/" + "p" * 3000)]}), "cannot exceed 3000"),
    (msg({"type": "actions", "elements": [btn(action_id=f"a{i}") for i in range(26)]}), "cannot exceed 25"),
    (msg({"type": "divider", "block_id": "b" * 256}), "block_id: has 256 characters; the limit is 255"),
    (msg({"type": "divider", "block_id": "x"}, {"type": "divider", "block_id": "x"}), "block_id 'x' repeats"),
    (msg(tbl([])), "rows attribute must be specified"),
    (msg(tbl([[raw("a")]] * 101)), "rows must be a list of 1..100 rows"),
    (msg(tbl([[raw("a")] * 21])), r"rows\[0\] must hold 1..20 cells"),
    (msg(tbl([[raw("a"), raw("b")], [raw("c")]])), r"rows\[1\] has 1 cells; the first row has 2"),
    (msg(tbl([[raw("")]])), r"rows\[0\]\[0\]: must not be empty"),
    (msg(tbl([[{"type": "mrkdwn", "text": "x"}]])), "a cell is raw_text or rich_text"),
    (msg(tbl([[{"type": "raw_text", "text": "x", "bold": True}]])), "holds only type and text"),
    (msg(tbl([[{"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [{"type": "date"}]}]}]])),
     "timestamp"),
    (msg(tbl([[{"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [{"type": "x"}]}]}]])),
     r"rows\[0\]\[0\]\.elements\[0\]\.elements\[0\]: slack_sdk does not know this element"),
    (msg(tbl([[raw("a")]], column_settings=[{"align": "middle"}])), "align must be one of left, center, right"),
    (msg(tbl([[raw("a")]], column_settings=[{"width": 3}])), "may only hold align and is_wrapped"),
    (msg(tbl([[raw("a")]], column_settings=[None] * 21)), "at most 20"),
])
def test_messages_slack_would_reject_are_refused_precisely(payload: dict[str, Any], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        validate_message(payload)


@pytest.mark.parametrize(("view", "error"), [
    ({"type": "home", "blocks": [section()] * 101}, "101 blocks; a view holds at most 100"),
    ({"type": "message", "blocks": []}, "type must be 'home' or 'modal'"),
    ({"type": "home", "blocks": [tbl([[raw("a")]])]}, "table blocks are only allowed in messages"),
    ({"type": "home", "blocks": [section("")]}, "must not be empty"),
    ({"type": "home", "blocks": "nope"}, "blocks must be a list"),
])
def test_views_slack_would_reject_are_refused_precisely(view: dict[str, Any], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        validate_view(view)
