"""Block Kit's limits, and validators that check payloads the way Slack would before we send them."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_TEXT = 3000
FIELDS = 10
FIELD_TEXT = 2000
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTION_ID = 255
CONTEXT_ELEMENTS = 10
ACTION_ELEMENTS = 25
TABLES = 1
TABLE_ROWS = 100
TABLE_CELLS = 20
FALLBACK_TEXT = 40_000


def validate_message(msg: dict[str, Any]) -> None:
    """Raise ValueError when a message would be rejected by Slack (or lacks fallback text)."""
    blocks = msg.get("blocks", [])
    if not msg.get("text"):
        raise ValueError("a message needs fallback text")
    if len(msg["text"]) > FALLBACK_TEXT:
        raise ValueError("fallback text too long")
    if len(blocks) > MESSAGE_BLOCKS:
        raise ValueError(f"{len(blocks)} blocks; a message holds {MESSAGE_BLOCKS}")
    _validate_blocks(blocks)


def validate_view(view: dict[str, Any]) -> None:
    """Raise ValueError when a Home or modal view would be rejected by Slack."""
    blocks = view.get("blocks", [])
    if len(blocks) > VIEW_BLOCKS:
        raise ValueError(f"{len(blocks)} blocks; a view holds {VIEW_BLOCKS}")
    View(**view).validate_json()
    _validate_blocks(blocks)


def _validate_blocks(blocks: list[dict[str, Any]]) -> None:
    """Parse each block with slack_sdk, run its validators, then check what slack_sdk does not."""
    tables = 0
    for raw in blocks:
        parsed = Block.parse(raw)
        if parsed is None:
            raise ValueError(f"unknown block {raw.get('type')!r}")
        try:
            parsed.validate_json()
        except SlackObjectFormationError as exc:
            raise ValueError(f"{raw.get('type')} block: {exc}") from exc
        kind = raw["type"]
        if kind == "section":
            _text(raw.get("text"), SECTION_TEXT, "section text")
            fields = raw.get("fields", [])
            if len(fields) > FIELDS:
                raise ValueError(f"{len(fields)} fields; a section holds {FIELDS}")
            for field in fields:
                _text(field, FIELD_TEXT, "field")
        elif kind == "header":
            _text(raw["text"], HEADER_TEXT, "header")
        elif kind == "context" and len(raw["elements"]) > CONTEXT_ELEMENTS:
            raise ValueError("too many context elements")
        elif kind == "actions":
            _actions(raw["elements"])
        elif kind == "table":
            tables += 1
            if len(raw["rows"]) > TABLE_ROWS or any(len(r) > TABLE_CELLS for r in raw["rows"]):
                raise ValueError("table too large")
    if tables > TABLES:
        raise ValueError(f"{tables} tables; a message holds {TABLES}")


def _text(obj: dict[str, Any] | None, limit: int, what: str) -> None:
    """A text object within its limit and not empty."""
    if obj is None:
        return
    if not obj.get("text") or len(obj["text"]) > limit:
        raise ValueError(f"{what} must have 1..{limit} characters, has {len(obj.get('text') or '')}")


def _actions(elements: list[dict[str, Any]]) -> None:
    """Buttons within their text, value and id limits."""
    if len(elements) > ACTION_ELEMENTS:
        raise ValueError("too many action elements")
    for element in elements:
        if element.get("type") == "button":
            _text(element["text"], BUTTON_TEXT, "button text")
            if len(element.get("value", "")) > BUTTON_VALUE:
                raise ValueError("button value too long")
            if len(element.get("action_id", "")) > ACTION_ID:
                raise ValueError("action_id too long")
