"""Block Kit's limits, and validators that check payloads the way Slack would before we send them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from handlers.blocks.chart_limits import (
    CHART_BLOCKS,
    CHARTS_PER_MESSAGE,
    DATA_TABLE_CHARS,
    validate_chart,
    validate_data_table,
)

# Limits from slack_sdk's models and docs.slack.dev (Block Kit reference); lengths are characters.
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
FALLBACK_TEXT = 40_000
TEXT = 3000  # any text object (context elements too)
SECTION_TEXT = 3000
FIELDS = 10
FIELD_TEXT = 2000
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
BUTTON_URL = 3000
ACTION_ID = 255
BLOCK_ID = 255
CONTEXT_ELEMENTS = 10
ACTION_ELEMENTS = 25
TABLES = 1
TABLE_ROWS = 100
TABLE_CELLS = 20
TABLE_COLUMN_SETTINGS = 20
_ALIGN = ("left", "center", "right")


def slack_len(text: str) -> int:
    """Length as Slack may count it (UTF-16 code units): never less than len(), so limits hold either way."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def validate_message(msg: Mapping[str, Any]) -> None:
    """Raise ValueError naming the first thing Slack would reject in a message (or a missing fallback text)."""
    text = msg.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("message: fallback `text` is required (notifications and screen readers use it)")
    if slack_len(text) > FALLBACK_TEXT:
        raise ValueError(f"message: fallback text has {slack_len(text):,} characters; the limit is {FALLBACK_TEXT:,}")
    blocks = _block_list(msg, "message")
    if len(blocks) > MESSAGE_BLOCKS:
        raise ValueError(f"message: {len(blocks)} blocks; a message holds at most {MESSAGE_BLOCKS}")
    tables = sum(1 for b in blocks if b.get("type") == "table")
    if tables > TABLES:
        raise ValueError(f"message: {tables} tables; a message holds at most {TABLES}")
    charts = sum(1 for b in blocks if b.get("type") == "data_visualization")
    if charts > CHARTS_PER_MESSAGE:
        raise ValueError(f"message: {charts} charts; a message holds at most {CHARTS_PER_MESSAGE}")
    cells = _validate_blocks(blocks)
    if cells > DATA_TABLE_CHARS:
        raise ValueError(f"message: its data tables hold {cells:,} characters; the limit is {DATA_TABLE_CHARS:,}")


def validate_view(view: Mapping[str, Any]) -> None:
    """Raise ValueError naming the first thing Slack would reject in a Home tab or modal view."""
    if view.get("type") not in ("home", "modal"):
        raise ValueError(f"view: type must be 'home' or 'modal', not {view.get('type')!r}")
    blocks = _block_list(view, "view")
    if len(blocks) > VIEW_BLOCKS:
        raise ValueError(f"view: {len(blocks)} blocks; a view holds at most {VIEW_BLOCKS}")
    for kind in ("table", "data_visualization"):
        if any(b.get("type") == kind for b in blocks):
            raise ValueError(f"view: {kind} blocks are only allowed in messages")
    known = [b for b in blocks if b["type"] not in CHART_BLOCKS]  # slack_sdk's View does not know data tables
    try:
        View(**{**view, "blocks": known or [{"type": "divider"}]}).validate_json()
    except (SlackObjectFormationError, TypeError) as exc:
        raise ValueError(f"view: {exc}") from exc
    _validate_blocks(blocks)


def _block_list(payload: Mapping[str, Any], what: str) -> list[dict[str, Any]]:
    """The payload's blocks, each a dict with a type."""
    blocks = payload.get("blocks", [])
    if not isinstance(blocks, list):
        raise ValueError(f"{what}: blocks must be a list")
    for i, block in enumerate(blocks):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            raise ValueError(f"blocks[{i}]: not a block (a dict with a type)")
    return blocks


def _validate_blocks(blocks: list[dict[str, Any]]) -> int:
    """Parse each block with slack_sdk, run its validators, then check what slack_sdk does not.

    Returns the characters in data table cells (a message's total is capped). slack_sdk has no model for charts and
    data tables yet: handlers.blocks.chart_limits checks them from the reference pages.
    """
    seen_ids: dict[str, int] = {}
    cells = 0
    for i, raw in enumerate(blocks):
        where = f"blocks[{i}] ({raw['type']})"
        block_id = raw.get("block_id")
        if block_id is not None:
            _length(block_id, BLOCK_ID, f"{where}: block_id")
            if block_id in seen_ids:
                raise ValueError(f"{where}: block_id {block_id!r} repeats blocks[{seen_ids[block_id]}]")
            seen_ids[block_id] = i
        if raw["type"] == "data_visualization":
            validate_chart(raw, where)
            continue
        if raw["type"] == "data_table":
            cells += validate_data_table(raw, where, rich_text=_cell)
            continue
        again = _parse(raw, where)
        _CHECKS.get(raw["type"], _no_check)(raw, where)
        _same(raw, again, where)
    return cells


def _parse(raw: dict[str, Any], where: str) -> Any:
    """slack_sdk's own parse and validators; returns its serialisation for the round-trip check."""
    try:
        parsed = Block.parse(raw)
        if parsed is None:
            raise ValueError(f"{where}: unknown block type")
        parsed.validate_json()
        return parsed.to_dict()
    except (SlackObjectFormationError, TypeError, KeyError, AttributeError) as exc:
        raise ValueError(f"{where}: {exc}") from exc


def _same(raw: Any, again: Any, where: str) -> None:
    """What slack_sdk serialises back must equal what we send: it drops unknown fields, elements and empties."""
    if isinstance(raw, dict) and isinstance(again, dict):
        for key in raw.keys() | again.keys():
            if key not in again or key not in raw:
                raise ValueError(f"{where}: {key!r} is not something slack_sdk knows here (or it is empty)")
            _same(raw[key], again[key], f"{where}.{key}")
    elif isinstance(raw, list) and isinstance(again, list) and len(raw) == len(again):
        for n, (a, b) in enumerate(zip(raw, again, strict=True)):
            _same(a, b, f"{where}[{n}]")
    elif raw != again:
        raise ValueError(f"{where}: slack_sdk does not know this element or value: {raw!r}")


def _text(obj: Any, limit: int, what: str, *, kinds: tuple[str, ...] = ("plain_text", "mrkdwn")) -> None:
    """A text object of an allowed kind, with 1..limit characters."""
    if not isinstance(obj, dict) or obj.get("type") not in kinds:
        raise ValueError(f"{what}: must be a {' or '.join(kinds)} text object")
    _length(obj.get("text"), limit, what)


def _length(value: Any, limit: int, what: str) -> None:
    """A non-empty string within `limit` characters."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what}: must not be empty")
    if slack_len(value) > limit:
        raise ValueError(f"{what}: has {slack_len(value):,} characters; the limit is {limit:,}")


def _no_check(raw: dict[str, Any], where: str) -> None:
    """Blocks slack_sdk checks completely (divider, rich_text, ...)."""


def _section(raw: dict[str, Any], where: str) -> None:
    """Text up to 3,000, at most 10 fields of up to 2,000, and at least one of them."""
    if "text" not in raw and not raw.get("fields"):
        raise ValueError(f"{where}: needs text or fields")
    if "text" in raw:
        _text(raw["text"], SECTION_TEXT, f"{where}: text")
    fields = raw.get("fields", [])
    if len(fields) > FIELDS:
        raise ValueError(f"{where}: {len(fields)} fields; a section holds at most {FIELDS}")
    for n, field in enumerate(fields):
        _text(field, FIELD_TEXT, f"{where}: fields[{n}]")
    if "accessory" in raw:
        _element(raw["accessory"], f"{where}: accessory")


def _header(raw: dict[str, Any], where: str) -> None:
    """Plain text only, up to 150 characters."""
    _text(raw.get("text"), HEADER_TEXT, f"{where}: text", kinds=("plain_text",))


def _context(raw: dict[str, Any], where: str) -> None:
    """1..10 elements, each text within the text-object limit."""
    elements = raw.get("elements", [])
    if not 1 <= len(elements) <= CONTEXT_ELEMENTS:
        raise ValueError(f"{where}: {len(elements)} elements; a context holds 1..{CONTEXT_ELEMENTS}")
    for n, element in enumerate(elements):
        if element.get("type") in ("plain_text", "mrkdwn"):
            _text(element, TEXT, f"{where}: elements[{n}]")


def _actions(raw: dict[str, Any], where: str) -> None:
    """1..25 elements with unique action ids; buttons within their text, value, url and id limits."""
    elements = raw.get("elements", [])
    if not 1 <= len(elements) <= ACTION_ELEMENTS:
        raise ValueError(f"{where}: {len(elements)} elements; an actions block holds 1..{ACTION_ELEMENTS}")
    ids: set[str] = set()
    for n, element in enumerate(elements):
        _element(element, f"{where}: elements[{n}]")
        action_id = element.get("action_id")
        if action_id in ids:
            raise ValueError(f"{where}: elements[{n}]: action_id {action_id!r} repeats within the block")
        if action_id is not None:
            ids.add(action_id)


def _element(element: dict[str, Any], where: str) -> None:
    """An interactive element; buttons are what we send, checked field by field."""
    if "action_id" in element:
        _length(element["action_id"], ACTION_ID, f"{where}: action_id")
    if element.get("type") != "button":
        return
    _text(element.get("text"), BUTTON_TEXT, f"{where}: text", kinds=("plain_text",))
    if "value" in element:
        _length(element["value"], BUTTON_VALUE, f"{where}: value")
    if "url" in element:
        _length(element["url"], BUTTON_URL, f"{where}: url")


def _table(raw: dict[str, Any], where: str) -> None:
    """1..100 rows of 1..20 cells, every row as wide as the first; cells raw_text or valid rich_text."""
    rows = raw.get("rows")
    if not isinstance(rows, list) or not 1 <= len(rows) <= TABLE_ROWS:
        raise ValueError(f"{where}: rows must be a list of 1..{TABLE_ROWS} rows")
    width = len(rows[0]) if isinstance(rows[0], list) else 0
    for r, row in enumerate(rows):
        if not isinstance(row, list) or not 1 <= len(row) <= TABLE_CELLS:
            raise ValueError(f"{where}: rows[{r}] must hold 1..{TABLE_CELLS} cells")
        if len(row) != width:
            raise ValueError(f"{where}: rows[{r}] has {len(row)} cells; the first row has {width}")
        for c, cell in enumerate(row):
            _cell(cell, f"{where}: rows[{r}][{c}]")
    settings = raw.get("column_settings")
    if settings is None:
        return
    if not isinstance(settings, list) or len(settings) > TABLE_COLUMN_SETTINGS:
        raise ValueError(f"{where}: column_settings must be a list of at most {TABLE_COLUMN_SETTINGS}")
    for n, setting in enumerate(settings):
        if setting is None:
            continue
        if not isinstance(setting, dict) or set(setting) - {"align", "is_wrapped"}:
            raise ValueError(f"{where}: column_settings[{n}] may only hold align and is_wrapped")
        if "align" in setting and setting["align"] not in _ALIGN:
            raise ValueError(f"{where}: column_settings[{n}].align must be one of {', '.join(_ALIGN)}")
        if "is_wrapped" in setting and not isinstance(setting["is_wrapped"], bool):
            raise ValueError(f"{where}: column_settings[{n}].is_wrapped must be true or false")


def _cell(cell: Any, where: str) -> None:
    """A table cell: raw_text with non-empty text, or a rich_text block slack_sdk accepts."""
    kind = cell.get("type") if isinstance(cell, dict) else None
    if kind == "raw_text":
        if set(cell) != {"type", "text"}:
            raise ValueError(f"{where}: a raw_text cell holds only type and text")
        _length(cell["text"], TEXT, where)
    elif kind == "rich_text":
        _same(cell, _parse(cell, where), where)
    else:
        raise ValueError(f"{where}: a cell is raw_text or rich_text, not {kind!r}")


_CHECKS = {"section": _section, "header": _header, "context": _context, "actions": _actions, "table": _table}
