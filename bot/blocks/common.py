"""Small Block Kit builders shared by every renderer: text, clipping, money, dates, notices."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

from bot.blocks.nav import PageState, encode_state
from storage.csv_read import currency_exponent

Message = dict[str, Any]
Block = dict[str, Any]
SECTION_TEXT = 3000
HEADER_TEXT = 150
BUTTON_TEXT = 75
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}


def clip(text: str, limit: int) -> str:
    """Cut text to `limit` characters with an ellipsis, so Slack never rejects a payload for length."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def escape(text: str) -> str:
    """Escape the three characters mrkdwn treats specially."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(text: str) -> Block:
    """A mrkdwn text object."""
    return {"type": "mrkdwn", "text": clip(text, SECTION_TEXT)}


def plain(text: str, limit: int = BUTTON_TEXT) -> Block:
    """A plain_text object, clipped."""
    return {"type": "plain_text", "text": clip(text, limit) or " ", "emoji": True}


def header(text: str) -> Block:
    """A header block."""
    return {"type": "header", "text": plain(text, HEADER_TEXT)}


def section(text: str) -> Block:
    """A mrkdwn section."""
    return {"type": "section", "text": mrkdwn(text)}


def context(*parts: str) -> Block:
    """A context line of up to 10 mrkdwn parts."""
    return {"type": "context", "elements": [mrkdwn(clip(p, 2000)) for p in parts[:10] if p]}


def button(text: str, action_id: str, *, value: str | None = None, url: str | None = None,
           style: str | None = None) -> Block:
    """A button; `url` makes it a link button, `value` carries state back to us."""
    element: Block = {"type": "button", "text": plain(text), "action_id": action_id}
    if value is not None:
        element["value"] = value
    if url:
        element["url"] = url[:3000]
    if style:
        element["style"] = style
    return element


def actions(*elements: Block | None, block_id: str | None = None) -> Block | None:
    """An actions block of the buttons given (None entries skipped), or None when there are none."""
    present = [e for e in elements if e is not None][:25]
    if not present:
        return None
    block: Block = {"type": "actions", "elements": present}
    if block_id:
        block["block_id"] = block_id
    return block


def raw_cell(text: str) -> Block:
    """A plain table cell (never empty: Slack rejects empty text)."""
    return {"type": "raw_text", "text": text or " "}


def nav_button(action_id: str, label: str, state: PageState, *, page_no: int, after: str | None = None,
               before: str | None = None) -> Block:
    """A Previous/Next button carrying the query and the keyset position."""
    target = PageState(command=state.command, query=state.query, after=after, before=before, page_no=max(page_no, 1))
    return button(label, action_id, value=encode_state(target))


def message(text: str, blocks: list[Block | None]) -> Message:
    """A message with fallback text and its blocks (None entries dropped)."""
    return {"text": clip(text, 3000), "blocks": [b for b in blocks if b is not None]}


def format_money(amount_minor: int, currency: str) -> str:
    """Integer minor units as `$1,234.56`, `€12.00`, `¥500` or `1,234.500 KWD`; never through floats."""
    exponent = currency_exponent(currency)
    sign = "-" if amount_minor < 0 else ""
    major, minor = divmod(abs(amount_minor), 10**exponent)
    number = f"{major:,}" + (f".{minor:0{exponent}d}" if exponent else "")
    symbol = _SYMBOLS.get(currency.upper())
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {currency.upper()}"


def day(value: datetime | None, tz: tzinfo) -> str:
    """A date in the reader's own zone via Slack's date token, with the date in `tz` as the fallback."""
    if value is None:
        return "—"
    local = value.astimezone(tz).strftime("%Y-%m-%d")
    return f"<!date^{int(value.timestamp())}^{{date_short}}|{local}>"


def local_day(value: datetime | None, tz: tzinfo) -> str:
    """A plain date in `tz` (table cells cannot hold Slack's date token)."""
    return value.astimezone(tz).strftime("%Y-%m-%d") if value is not None else "—"


def error_message(text: str) -> Message:
    """An ephemeral message about something the user can fix."""
    return message(text, [section(f":warning: {escape(text)}")])


def notice(text: str) -> Message:
    """A short informational message."""
    return message(text, [section(escape(text))])


def apology(error_id: str) -> Message:
    """What the user sees when something broke on our side: short, with an id that is also in the log."""
    text = f"Sorry, something went wrong on our side (error id: {error_id}). It has been logged; please try again."
    return message(text, [section(f":face_with_head_bandage: {text}")])


def refusal(*, needs: str, granters: str) -> Message:
    """A polite refusal that says what access is needed and who can grant it."""
    text = f"This needs {needs} access. {granters} can grant it."
    return message(text, [section(f":lock: Sorry, this needs *{escape(needs)}* access. Ask {granters} to add you.")])


def utc(value: datetime) -> datetime:
    """The same instant in UTC."""
    return value.astimezone(UTC)
