"""What the local shell needs to drive modals: their typeahead, their inputs' values, and showing what came back."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from bot.local.terminal import render_message

JSONDict = dict[str, Any]


def external_select(view: JSONDict) -> JSONDict | None:
    """The first external_select of a view (in an actions or an input block) with its block_id, or None."""
    for block in view.get("blocks") or []:
        elements = block.get("elements") or ([block["element"]] if "element" in block else [])
        for element in elements:
            if element.get("type") == "external_select":
                return {**element, "block_id": block.get("block_id") or element.get("action_id")}
    return None


def pick_option(options: list[JSONDict], wanted: str) -> JSONDict | None:
    """An option by its number in the list shown (1-based) or by the start of its label (any letter case)."""
    if wanted.isdigit() and 1 <= int(wanted) <= len(options):
        return options[int(wanted) - 1]
    folded = wanted.strip().casefold()
    return next((o for o in options if str(o["text"]["text"]).casefold().startswith(folded)), None) if folded else None


def _value(element: JSONDict, given: str | None, channel_id: str) -> JSONDict | None:
    """The state Slack would send for one input element, from what was typed or its initial value."""
    kind = element.get("type")
    if kind == "conversations_select":
        return {"type": kind, "selected_conversation": given or element.get("initial_conversation") or channel_id}
    if kind == "timepicker":
        return {"type": kind, "selected_time": given or element.get("initial_time")}
    if kind in ("external_select", "static_select"):
        chosen = ({"text": {"type": "plain_text", "text": given}, "value": given} if given
                  else element.get("initial_option"))
        return {"type": kind, "selected_option": chosen}
    if kind == "checkboxes":
        options = element.get("options") or []
        chosen = ([o for o in options if o["value"] in given.split(",")] if given is not None
                  else element.get("initial_options") or [])
        return {"type": kind, "selected_options": chosen}
    if kind == "plain_text_input":
        return {"type": kind, "value": given if given is not None else element.get("initial_value")}
    return None


def submitted_values(view: JSONDict, given: dict[str, str], channel_id: str) -> JSONDict:
    """view.state.values for a submission: each input block's initial value unless `given` names its block_id."""
    values: JSONDict = {}
    for block in view.get("blocks") or []:
        element = block.get("element") if block.get("type") == "input" else None
        if not element:
            continue
        state = _value(element, given.get(str(block.get("block_id"))), channel_id)
        if state is not None:
            values[str(block["block_id"])] = {str(element["action_id"]): state}
    return values


def parse_fields(text: str) -> dict[str, str]:
    """`digest_time=08:30 digest_zone=Europe/Berlin` -> {block_id: value}."""
    return dict(part.split("=", 1) for part in text.split() if "=" in part)


def show_options(options: list[JSONDict], console: Console) -> None:
    """A numbered list of what the typeahead offers."""
    if not options:
        console.print("(no options)", style="dim")
    for n, option in enumerate(options, 1):
        console.print(f"{n:>3}. {option['text']['text']}")


def show_view(view: JSONDict, console: Console, *, heading: str) -> None:
    """A modal as a titled box of its blocks, naming its inputs (and their block ids, for `submit`)."""
    title = (view.get("title") or {}).get("text", "")
    console.rule(f"{heading}: {title}")
    render_message({"blocks": [b for b in view.get("blocks") or [] if b.get("type") != "input"]}, console)
    select = external_select(view)
    if select is not None:
        chosen = (select.get("initial_option") or {}).get("text", {}).get("text", "")
        console.print(Text(f"[typeahead] {chosen or select['placeholder']['text']}  (type LETTERS, pick N)",
                           style="cyan"))
    for block in view.get("blocks") or []:
        if block.get("type") == "input":
            label, element = block["label"]["text"], block.get("element") or {}
            shown = (element.get("initial_conversation") or element.get("initial_time")
                     or (element.get("initial_option") or {}).get("value") or element.get("initial_value") or "")
            console.print(Text(f"[{label}] {shown}  ({block['block_id']}=…)", style="cyan"))
    if view.get("submit"):
        console.print(Text(f"[ {view['submit']['text']} ]  (submit)", style="bold blue"))


def show_errors(errors: JSONDict, console: Console) -> None:
    """Field errors of a refused submission, each under its block id."""
    for block_id, error in errors.items():
        console.print(f":warning: {block_id}: {error}", style="red")
