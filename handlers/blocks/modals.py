"""Modal and typeahead renderers (pure): find a customer, the message look-up, App Home search, the digest form."""

from __future__ import annotations

import json
from typing import Any

from handlers.blocks.common import (
    Block,
    Message,
    actions,
    button,
    clip,
    context,
    escape,
    hide_emails,
    link_button,
    message,
    plain,
    plural,
    section,
)
from handlers.blocks.customers import status_label
from handlers.blocks.nav import MAILTO, OPEN_PRODUCT
from handlers.message_keys import MessageKeys
from storage.lookup import Found

FIND_SHORTCUT = "find_customer"  # callback ids declared in manifest.yml
LOOKUP_SHORTCUT = "lookup_customers"
FIND_VIEW = "find_customer_modal"
FIND_SELECT = "find_customer_select"
POST_BLOCK = "post_channel"
POST_SELECT = "post_channel_select"
SHOW_CUSTOMER = "show_customer"
HOME_SEARCH = "home_search"
DIGEST_FORM_OPEN = "digest_form_open"
DIGEST_FORM = "digest_form"
DIGEST_CHANNEL = "digest_channel"
DIGEST_TIME = "digest_time"
DIGEST_ZONE = "digest_zone"
DIGEST_OPTIONS = "digest_options"
QUIET_SKIP = "quiet:skip"
REVENUE_SHOW = "revenue:show"
OPTION_TEXT = 75  # Slack's limits for a select option
OPTION_VALUE = 150
OPTIONS = 100
MODAL_TITLE = 24
PLACEHOLDER = 150
ORG_IN_OPTION = 40
LISTED = 20  # customers listed in a look-up answer (two blocks each, inside a message's 50)


def title(text: str) -> Block:
    """A modal title, submit or close label (24 characters)."""
    return plain(text, MODAL_TITLE)


def option(text: str, value: str) -> Block:
    """A select option: plain text up to 75 characters, a value up to 150."""
    return {"text": plain(text, OPTION_TEXT), "value": value[:OPTION_VALUE]}


def customer_option(found: Found) -> Block:
    """`Quokka Robotics — ops@quokka.example · 12 seats · active` (the option's value is the customer id)."""
    text = (f"{clip(found.organization, ORG_IN_OPTION)} — {found.email} · {plural(found.seats, 'seat')} · "
            f"{found.status.replace('_', ' ')}")
    return option(text, str(found.id))


def customer_options(found: list[Found]) -> list[Block]:
    """What the external select shows for what was typed (at most Slack's 100)."""
    return [customer_option(f) for f in found[:OPTIONS]]


def _find_select(chosen: Block | None) -> Block:
    """The typeahead: options load from the store once three letters are typed."""
    element: Block = {"type": "external_select", "action_id": FIND_SELECT, "min_query_length": 3,
                      "placeholder": plain("Type part of an organization or email", PLACEHOLDER)}
    if chosen is not None:
        element["initial_option"] = chosen
    else:
        element["focus_on_load"] = True
    return {"type": "actions", "block_id": FIND_SELECT, "elements": [element]}


def find_modal() -> dict[str, Any]:
    """The "Find a customer" modal before anything is chosen."""
    return {"type": "modal", "callback_id": FIND_VIEW, "title": title("Find a customer"), "close": title("Close"),
            "blocks": [section("Type at least three letters of an organization, an email or a domain."),
                       _find_select(None)]}


def customer_modal(card: Message, *, chosen: Block, customer_id: int, channel_id: str | None) -> dict[str, Any]:
    """The modal with a customer's card, and a channel picker that posts the card (without email or finance)."""
    picker: Block = {"type": "conversations_select", "action_id": POST_SELECT,
                     "placeholder": plain("Pick a channel", PLACEHOLDER), "default_to_current_conversation": True,
                     "filter": {"include": ["public", "private"], "exclude_bot_users": True}}
    if channel_id:
        picker["initial_conversation"] = channel_id
    post: Block = {"type": "input", "block_id": POST_BLOCK, "label": plain("Post this card in", 2000),
                   "hint": plain("Everyone there sees it, without the email address and payments.", 2000),
                   "element": picker}
    return {"type": "modal", "callback_id": FIND_VIEW, "title": title("Find a customer"), "close": title("Close"),
            "submit": title("Post to channel"), "private_metadata": str(customer_id),
            "blocks": [_find_select(chosen), {"type": "divider"}, *card["blocks"][:90], post]}


def channel_card(card: Message, *, shared_by: str) -> Message:
    """A customer card for a channel: no email address anywhere, no mailto button, and who shared it."""
    blocks: list[Block | None] = []
    for block in card["blocks"]:
        if block.get("fields"):
            kept = [f for f in block["fields"] if not f["text"].startswith("*Email*")]
            block = {**block, "fields": [{**f, "text": hide_emails(f["text"])} for f in kept]}
        elif block.get("type") == "actions":
            block = actions(*[e for e in block["elements"] if e.get("action_id") != MAILTO])
        elif block.get("type") == "header":
            block = {**block, "text": plain(hide_emails(block["text"]["text"]), 150)}
        elif block.get("type") == "section" and "text" in block:
            block = {**block, "text": {**block["text"], "text": hide_emails(block["text"]["text"])}}
        blocks.append(block)
    blocks.append(context(f"Shared by <@{shared_by}>"))
    return message(card["text"] + f", shared by <@{shared_by}>", blocks)


def notice_modal(heading: str, msg: Message) -> dict[str, Any]:
    """A modal that only says something (a confirmation or a refusal), with a Done button."""
    return {"type": "modal", "title": title(heading), "close": title("Done"),
            "blocks": [b for b in msg["blocks"] if b.get("type") != "actions"][:100] or [section(msg["text"])]}


def _found_line(found: Found) -> str:
    """`*Quokka Robotics* · ops@quokka.example · 🟢 active · 12 seats` (mrkdwn, escaped)."""
    return (f"*{escape(clip(found.organization, 80))}* · {escape(clip(found.email, 100))} · "
            f"{status_label(found.status)} · {plural(found.seats, 'seat')}")


def found_rows(found: list[Found]) -> list[Block]:
    """A section per customer with a Show card button (the card is rendered for whoever clicks)."""
    return [{**section(_found_line(f)), "accessory": button("Show card", SHOW_CUSTOMER, value=str(f.id))}
            for f in found[:LISTED]]


def lookup_results(keys: MessageKeys, found: list[Found], *, product_url: str) -> Message:
    """The customers a message names (ephemeral), or what was looked for when none matches."""
    if keys.empty:
        text = ("This message names no email address, domain or organization to look up. "
                "Try it on a message that mentions a customer, or use the “Find a customer” shortcut.")
        return message(text, [section(text)])
    looked = keys.described()
    if not found:
        text = f"No customer matches {looked}."
        return message(text, [section(f":mag: {escape(text)}")])
    shown = found[:LISTED]
    lead = f"*{plural(len(found), 'customer')}* named in this message"
    blocks: list[Block | None] = [section(lead), *found_rows(shown)]
    if len(found) > LISTED:
        blocks.append(context(f"Showing the first {LISTED}. Use `/customers search` for the rest."))
    blocks += [context(f"Looked for {escape(looked)}"), actions(link_button("Open Product", OPEN_PRODUCT, product_url))]
    return message(f"{plural(len(found), 'customer')} named in this message", blocks)


def home_search_input(typed: str = "") -> Block:
    """The App Home search box: Enter sends what was typed (dispatch_action), no submit button needed."""
    element: Block = {"type": "plain_text_input", "action_id": HOME_SEARCH,
                      "placeholder": plain("Organization, email or domain, then Enter", PLACEHOLDER),
                      "dispatch_action_config": {"trigger_actions_on": ["on_enter_pressed"]}}
    if typed:
        element["initial_value"] = typed[:PLACEHOLDER]
    return {"type": "input", "block_id": HOME_SEARCH, "dispatch_action": True,
            "label": plain("Find a customer", 2000), "element": element}


def home_search_results(typed: str, found: list[Found]) -> list[Block]:
    """What the Home search found, under its box (nothing before a search)."""
    term = " ".join(typed.split())
    if not term:
        return []
    if len(term) < 3 and not found:
        return [context("Type at least three letters (or a whole email address).")]
    if not found:
        return [section(f"No customer matches “{escape(clip(term, 80))}”.")]
    more = f" (first {LISTED})" if len(found) > LISTED else ""
    return [context(f"{plural(min(len(found), LISTED), 'match', 'matches')} for “{escape(clip(term, 80))}”{more}"),
            *found_rows(found)]


def zone_options(zones: list[str]) -> list[Block]:
    """Time zones as select options (the value is the IANA name)."""
    return [option(z.replace("_", " "), z) for z in zones[:OPTIONS]]


def digest_form(*, channel_id: str | None, zone: str, local_time: str, quiet_skip: bool,
                revenue: bool = False) -> dict[str, Any]:
    """The `digest subscribe` form: channel (defaulting to the current one), time, the user's zone first, options."""
    picker: Block = {"type": "conversations_select", "action_id": DIGEST_CHANNEL,
                     "placeholder": plain("Pick a channel", PLACEHOLDER), "default_to_current_conversation": True,
                     "filter": {"include": ["public", "private"], "exclude_bot_users": True}}
    if channel_id:
        picker["initial_conversation"] = channel_id
    quiet = option("Skip quiet days (quiet:skip)", QUIET_SKIP)
    quiet["description"] = plain("No post on a day without signups or churn", OPTION_TEXT)
    money = option("Show revenue (revenue:show)", REVENUE_SHOW)
    money["description"] = plain("Net new and churned MRR: everyone in the channel sees them", OPTION_TEXT)
    checkboxes: Block = {"type": "checkboxes", "action_id": DIGEST_OPTIONS, "options": [quiet, money]}
    chosen = [o for o, on in ((quiet, quiet_skip), (money, revenue)) if on]
    if chosen:
        checkboxes["initial_options"] = chosen
    blocks: list[Block] = [
        {"type": "input", "block_id": DIGEST_CHANNEL, "label": plain("Channel", 2000), "element": picker,
         "hint": plain("Invite @Customers there so it can post.", 2000)},
        {"type": "input", "block_id": DIGEST_TIME, "label": plain("Time of day", 2000),
         "element": {"type": "timepicker", "action_id": DIGEST_TIME, "initial_time": local_time,
                     "placeholder": plain("Pick a time", PLACEHOLDER)}},
        {"type": "input", "block_id": DIGEST_ZONE, "label": plain("Time zone", 2000),
         "element": {"type": "external_select", "action_id": DIGEST_ZONE, "min_query_length": 0,
                     "initial_option": zone_options([zone])[0],
                     "placeholder": plain("Type a city, e.g. Berlin", PLACEHOLDER)}},
        {"type": "input", "block_id": DIGEST_OPTIONS, "optional": True, "label": plain("Options", 2000),
         "element": checkboxes},
        context("The same as `/customers digest subscribe 09:00 Europe/Berlin quiet:skip` in a channel."),
    ]
    return {"type": "modal", "callback_id": DIGEST_FORM, "title": title("Daily digest"),
            "submit": title("Subscribe"), "close": title("Cancel"), "blocks": blocks,
            "private_metadata": json.dumps({"zone": zone})}


def digest_form_button() -> Block:
    """The button that opens the digest form (App Home and `digest list`)."""
    return button("Set up a digest…", DIGEST_FORM_OPEN, value="open")


def with_search(home: dict[str, Any], typed: str, found: list[Found]) -> dict[str, Any]:
    """A Home view with the search box holding `typed` and its matches under it (beside the day's figures)."""
    blocks = list(home.get("blocks") or [])
    at = next((i for i, b in enumerate(blocks) if b.get("block_id") == HOME_SEARCH), None)
    if at is None:
        at = min(2, len(blocks))  # under the header and the totals line
    else:
        del blocks[at]
    searched = [home_search_input(typed), *home_search_results(typed, found)]
    return {**home, "blocks": [*blocks[:at], *searched, *blocks[at:]][:100]}
