"""Messages around CSV exports into threads."""

from __future__ import annotations

from handlers.blocks.common import Message, clip, escape, escape_fallback, message, plural, section

FILTERS_SHOWN = 1000


def export_parent(*, rows: int, filters: str, user_id: str) -> Message:
    """The channel message whose thread receives the file: `CSV export: 1,234 customers, status:canceled, ...`."""
    shown = clip(filters, FILTERS_SHOWN)
    text = f"CSV export: {plural(rows, 'customer')}" + (f", {escape_fallback(shown)}" if shown else "")
    block = f":page_facing_up: *CSV export:* {plural(rows, 'customer')}" + (f", `{escape(shown)}`" if shown else "")
    return message(f"{text}, requested by <@{user_id}>", [section(f"{block}, requested by <@{user_id}>")])


def export_on_its_way(*, filters: str) -> Message:
    """The ephemeral answer while the export runs in the background."""
    shown = clip(filters, FILTERS_SHOWN)
    what = f" for `{escape(shown)}`" if shown else " of all customers"
    later = "; it will appear in a thread in this channel shortly."
    text = f"Preparing the CSV export{f' for {shown}' if shown else ' of all customers'}{later}"
    return message(escape_fallback(text), [section(f":hourglass_flowing_sand: Preparing the CSV export{what}{later}")])


def not_in_channel(channel_id: str) -> Message:
    """The bot cannot post here: say how to invite it."""
    text = (f"I can't post in <#{channel_id}> yet. Invite me with `/invite @Customers` in that channel, "
            "then try again.")
    return message(text, [section(f":wave: {text}")])


def export_done_comment(rows: int) -> str:
    """The comment attached to the uploaded file."""
    return f"{plural(rows, 'row')} · columns organization, email, seats, status, created_at, canceled_at"
