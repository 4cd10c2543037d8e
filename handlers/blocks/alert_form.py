"""The `alert add` form (pure): a channel, the alert's kind, its filters and a quiet window, as a modal."""

from __future__ import annotations

from typing import Any

from handlers.blocks.common import Block, button, context, plain
from handlers.blocks.modals import PLACEHOLDER, option, title

ALERT_FORM_OPEN = "alert_form_open"
ALERT_FORM = "alert_form"
ALERT_CHANNEL = "alert_channel"
ALERT_KIND = "alert_kind"
ALERT_FILTERS = "alert_filters"
ALERT_QUIET = "alert_quiet"
# The kinds `/customers alert add` takes (issue 18); the last two are for finance channels.
ALERT_KINDS = ("churn", "signup", "expansion", "contraction", "reactivation", "payout_failed", "refund")


def alert_form(*, channel_id: str | None, kinds: tuple[str, ...] = ALERT_KINDS) -> dict[str, Any]:
    """The form: channel (the current one first), kind, filters in the filter language, quiet hours."""
    picker: Block = {"type": "conversations_select", "action_id": ALERT_CHANNEL,
                     "placeholder": plain("Pick a channel", PLACEHOLDER), "default_to_current_conversation": True,
                     "filter": {"include": ["public", "private"], "exclude_bot_users": True}}
    if channel_id:
        picker["initial_conversation"] = channel_id
    kind_options = [option(k.replace("_", " "), k) for k in kinds]
    blocks: list[Block] = [
        {"type": "input", "block_id": ALERT_CHANNEL, "label": plain("Channel", 2000), "element": picker},
        {"type": "input", "block_id": ALERT_KIND, "label": plain("When a customer…", 2000),
         "element": {"type": "static_select", "action_id": ALERT_KIND, "options": kind_options,
                     "initial_option": kind_options[0], "placeholder": plain("Pick a kind", PLACEHOLDER)}},
        {"type": "input", "block_id": ALERT_FILTERS, "optional": True, "label": plain("Only for", 2000),
         "hint": plain("Filters as in /customers search, e.g. seats:>=20 status:active", 2000),
         "element": {"type": "plain_text_input", "action_id": ALERT_FILTERS,
                     "placeholder": plain("seats:>=20", PLACEHOLDER)}},
        {"type": "input", "block_id": ALERT_QUIET, "optional": True, "label": plain("Quiet hours", 2000),
         "hint": plain("Hold non-urgent alerts in this window (the rule's time zone), e.g. 22:00-07:00", 2000),
         "element": {"type": "plain_text_input", "action_id": ALERT_QUIET,
                     "placeholder": plain("22:00-07:00", PLACEHOLDER)}},
        context("The same as `/customers alert add churn seats:>=20 quiet:22:00-07:00` in a channel."),
    ]
    return {"type": "modal", "callback_id": ALERT_FORM, "title": title("New alert"), "submit": title("Add alert"),
            "close": title("Cancel"), "blocks": blocks}


def alert_form_button() -> Block:
    """The button that opens the alert form (for `alert list` and App Home)."""
    return button("Add an alert…", ALERT_FORM_OPEN, value="open")
