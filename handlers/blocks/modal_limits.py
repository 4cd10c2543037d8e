"""Block Kit's limits for modals, input blocks, select options and options responses (beside limits.py's checks)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from handlers.blocks.limits import VIEW_BLOCKS, slack_len, validate_view

MODAL_TITLE = 24  # title, submit and close
CALLBACK_ID = 255
PRIVATE_METADATA = 3000
INPUT_LABEL = 2000
INPUT_HINT = 2000
PLACEHOLDER = 150
OPTION_TEXT = 75
OPTION_VALUE = 150
OPTION_DESCRIPTION = 75
OPTIONS = 100
OPTION_GROUPS = 100
CHECKBOX_OPTIONS = 10
PLAIN_INPUT_VALUE = 3000
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_SELECTS = ("static_select", "external_select", "multi_static_select", "multi_external_select")


def validate_modal(view: Mapping[str, Any]) -> None:
    """Raise ValueError naming the first thing Slack would reject in a modal (limits.py's view checks included)."""
    if view.get("type") != "modal":
        raise ValueError(f"modal: type must be 'modal', not {view.get('type')!r}")
    _text(view.get("title"), MODAL_TITLE, "modal: title")
    for key in ("submit", "close"):
        if key in view:
            _text(view[key], MODAL_TITLE, f"modal: {key}")
    if "callback_id" in view:
        _length(view["callback_id"], CALLBACK_ID, "modal: callback_id")
    if "private_metadata" in view and slack_len(str(view["private_metadata"])) > PRIVATE_METADATA:
        raise ValueError(f"modal: private_metadata is over {PRIVATE_METADATA:,} characters")
    blocks = view.get("blocks") or []
    inputs = [b for b in blocks if b.get("type") == "input"]
    if inputs and "submit" not in view and not all(b.get("dispatch_action") for b in inputs):
        raise ValueError("modal: input blocks need a submit button (or dispatch_action)")
    validate_surface(view)


def validate_surface(view: Mapping[str, Any]) -> None:
    """limits.py's view checks, then every input block and interactive element of a modal or Home tab."""
    validate_view(view)
    blocks = view.get("blocks") or []
    if len(blocks) > VIEW_BLOCKS:
        raise ValueError(f"view: {len(blocks)} blocks; at most {VIEW_BLOCKS}")
    for i, block in enumerate(blocks):
        where = f"blocks[{i}] ({block.get('type')})"
        if block.get("type") == "input":
            _text(block.get("label"), INPUT_LABEL, f"{where}: label", kinds=("plain_text",))
            if "hint" in block:
                _text(block["hint"], INPUT_HINT, f"{where}: hint", kinds=("plain_text",))
            _element(block.get("element") or {}, f"{where}: element")
        for n, element in enumerate(block.get("elements") or []):
            if isinstance(element, dict) and "action_id" in element:
                _element(element, f"{where}: elements[{n}]")
        if isinstance(block.get("accessory"), dict):
            _element(block["accessory"], f"{where}: accessory")


def validate_options(response: Mapping[str, Any]) -> None:
    """An options response (block_suggestion answer): at most 100 options of valid text and value."""
    options = response.get("options")
    if not isinstance(options, list):
        raise ValueError("options response: `options` must be a list")
    _options(options, "options response", limit=OPTIONS)


def _element(element: Mapping[str, Any], where: str) -> None:
    """Placeholders, options and initial values of one interactive element."""
    if "placeholder" in element:
        _text(element["placeholder"], PLACEHOLDER, f"{where}: placeholder", kinds=("plain_text",))
    kind = element.get("type")
    if kind in _SELECTS and "options" in element:
        _options(element["options"], where, limit=OPTIONS)
    if kind == "checkboxes":
        _options(element.get("options") or [], where, limit=CHECKBOX_OPTIONS)
    for key in ("initial_option",):
        if key in element:
            _options([element[key]], f"{where}: {key}", limit=1)
    if "initial_options" in element:
        _options(element["initial_options"], f"{where}: initial_options", limit=OPTIONS)
    if kind == "timepicker" and "initial_time" in element and not _TIME.match(str(element["initial_time"])):
        raise ValueError(f"{where}: initial_time must be HH:mm, not {element['initial_time']!r}")
    if kind == "plain_text_input" and "initial_value" in element:
        _length(element["initial_value"], PLAIN_INPUT_VALUE, f"{where}: initial_value")
    if kind == "external_select" and not 0 <= int(element.get("min_query_length", 3)) <= 25:
        raise ValueError(f"{where}: min_query_length out of range")


def _options(options: Any, where: str, *, limit: int) -> None:
    """1..limit options, each plain text within 75 characters and a value within 150."""
    if not isinstance(options, list) or len(options) > limit:
        raise ValueError(f"{where}: at most {limit} options")
    for n, opt in enumerate(options):
        if not isinstance(opt, dict):
            raise ValueError(f"{where}: options[{n}] is not an option")
        _text(opt.get("text"), OPTION_TEXT, f"{where}: options[{n}].text")
        _length(opt.get("value"), OPTION_VALUE, f"{where}: options[{n}].value")
        if "description" in opt:
            _text(opt["description"], OPTION_DESCRIPTION, f"{where}: options[{n}].description")


def _text(obj: Any, limit: int, what: str, *, kinds: tuple[str, ...] = ("plain_text", "mrkdwn")) -> None:
    """A text object of an allowed kind with 1..limit characters."""
    if not isinstance(obj, dict) or obj.get("type") not in kinds:
        raise ValueError(f"{what}: must be a {' or '.join(kinds)} text object")
    _length(obj.get("text"), limit, what)


def _length(value: Any, limit: int, what: str) -> None:
    """A non-empty string within `limit` characters (as Slack counts them)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what}: must not be empty")
    if slack_len(value) > limit:
        raise ValueError(f"{what}: has {slack_len(value):,} characters; the limit is {limit:,}")
