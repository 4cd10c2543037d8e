"""Messages around CSV exports into threads."""

from __future__ import annotations

from bot.blocks.common import Message, clip, escape, message, section


def export_parent(*, rows: int, filters: str, user_id: str) -> Message:
    """The channel message whose thread receives the file."""
    what = f", {clip(filters, 1000)}" if filters else ""
    text = f"CSV export: {rows:,} customer{'s' if rows != 1 else ''}{what}, requested by <@{user_id}>"
    return message(text, [section(f":page_facing_up: {escape(text).replace('&lt;@', '<@').replace('&gt;', '>')}")])


def export_on_its_way(*, filters: str) -> Message:
    """Ephemeral ack: the export runs in the background."""
    what = f" for `{escape(clip(filters, 500))}`" if filters else ""
    text = f"Preparing the CSV export{what}; it will appear in a thread in this channel shortly."
    return message(text, [section(f":hourglass_flowing_sand: {text}")])


def not_in_channel(channel_id: str) -> Message:
    """The bot cannot post here: say how to invite it."""
    text = (f"I can't post in <#{channel_id}> yet. Invite me with `/invite @Customers` in that channel, "
            "then try again.")
    return message(text, [section(f":wave: {text}")])


def export_done_comment(rows: int) -> str:
    """The comment attached to the uploaded file."""
    return f"{rows:,} row{'s' if rows != 1 else ''} · header organization,email,seats,status,created_at,canceled_at"
