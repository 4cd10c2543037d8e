"""Small Block Kit builders shared by every renderer: text, clipping, money, dates, table cells, notices."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Any

from handlers.blocks.limits import (
    ACTION_ELEMENTS,
    BUTTON_TEXT,
    BUTTON_URL,
    CONTEXT_ELEMENTS,
    FIELD_TEXT,
    FIELDS,
    HEADER_TEXT,
    SECTION_TEXT,
    TABLE_ROWS,
    TEXT,
    slack_len,
)
from storage.bulk.csv_read import currency_exponent

Message = dict[str, Any]
Block = dict[str, Any]
FALLBACK = 3000  # notifications show a line or two; Slack's own cap is 40,000
EMPTY = "—"
EMAIL_HIDDEN = "[email hidden]"
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
_EMAIL = re.compile(r"\w[\w.%+'-]*@[\w-]+(?:\.[\w-]+)+")
_DANGLING = "\u200d\ufe0e\ufe0f"  # a joiner or variation selector left at the cut joins nothing


def clip(text: str, limit: int) -> str:
    """Cut text to `limit` characters (UTF-16 units, as Slack may count) ending in "…", never mid-character."""
    if slack_len(text) <= limit:
        return text
    kept: list[str] = []
    used = 0
    for ch in text:
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > limit - 1:
            break
        kept.append(ch)
    return "".join(kept).rstrip().rstrip(_DANGLING) + "…" if limit > 0 else ""


def escape(text: str) -> str:
    """Escape the three characters mrkdwn treats specially, so user data never becomes a link or @channel."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_fallback(text: str) -> str:
    """Escape user data for fallback text: `&` and `<` (a lone `>` is harmless there and reads better)."""
    return text.replace("&", "&amp;").replace("<", "&lt;")


def hide_emails(text: str) -> str:
    """Replace every email address, for copies that others see and for fallback text."""
    return _EMAIL.sub(EMAIL_HIDDEN, text)


def mrkdwn(text: str, limit: int = SECTION_TEXT) -> Block:
    """A mrkdwn text object (never empty, clipped as a last resort)."""
    return {"type": "mrkdwn", "text": clip(text, limit) if text.strip() else EMPTY}


def plain(text: str, limit: int = BUTTON_TEXT) -> Block:
    """A plain_text object, clipped and never empty."""
    return {"type": "plain_text", "text": clip(text, limit) if text.strip() else EMPTY, "emoji": True}


def header(text: str) -> Block:
    """A header block (150 characters of plain text)."""
    return {"type": "header", "text": plain(text, HEADER_TEXT)}


def section(text: str) -> Block:
    """A mrkdwn section."""
    return {"type": "section", "text": mrkdwn(text)}


def fields(*texts: str | None, text: str | None = None) -> Block:
    """A section of up to 10 mrkdwn fields (two columns), with an optional line above them."""
    block: Block = {"type": "section", "fields": [mrkdwn(t, FIELD_TEXT) for t in texts if t][:FIELDS]}
    if text:
        block["text"] = mrkdwn(text)
    return block


def line_sections(lines: list[str], *, title: str = "") -> list[Block]:
    """Lines packed into as few sections as fit 3,000 characters each (a title goes on the first)."""
    chunks: list[list[str]] = [[title]] if title else [[]]
    for line in lines:
        line = clip(line, SECTION_TEXT)
        if chunks[-1] and slack_len("\n".join([*chunks[-1], line])) > SECTION_TEXT:
            chunks.append([])
        chunks[-1].append(line)
    return [section("\n".join(chunk)) for chunk in chunks if chunk]


def context(*parts: str) -> Block:
    """A small grey line of up to 10 mrkdwn parts."""
    elements = [mrkdwn(p, TEXT) for p in parts if p][:CONTEXT_ELEMENTS]
    return {"type": "context", "elements": elements or [mrkdwn(EMPTY)]}


def button(text: str, action_id: str, *, value: str | None = None, url: str | None = None,
           style: str | None = None) -> Block:
    """A button; `url` makes it a link button, `value` carries state back to us."""
    element: Block = {"type": "button", "text": plain(text), "action_id": action_id}
    if value:
        element["value"] = value
    if url:
        element["url"] = url[:BUTTON_URL]
    if style:
        element["style"] = style
    return element


def link_button(text: str, action_id: str, url: str) -> Block | None:
    """A URL button, or None when there is no usable URL (a cut URL would open the wrong page)."""
    return button(text, action_id, url=url) if url and slack_len(url) <= BUTTON_URL else None


def actions(*elements: Block | None, block_id: str | None = None) -> Block | None:
    """An actions block of the buttons given (None entries skipped), or None when there are none."""
    present = [e for e in elements if e is not None][:ACTION_ELEMENTS]
    if not present:
        return None
    block: Block = {"type": "actions", "elements": present}
    if block_id:
        block["block_id"] = block_id
    return block


def message(text: str, blocks: list[Block | None]) -> Message:
    """A message: fallback text without email addresses, and its blocks (None entries dropped)."""
    return {"text": clip(hide_emails(text), FALLBACK) or EMPTY, "blocks": [b for b in blocks if b is not None]}


def raw_cell(text: str) -> Block:
    """A plain table cell (never empty: Slack rejects empty text)."""
    return {"type": "raw_text", "text": clip(text, TEXT) if text.strip() else EMPTY}


def rich_cell(*elements: Block) -> Block:
    """A rich_text table cell holding one line of elements (text, link, date)."""
    return {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": list(elements)}]}


def link_cell(url: str, text: str) -> Block:
    """A table cell that is a link."""
    return rich_cell({"type": "link", "url": url, "text": text or url})


def date_cell(value: datetime | None, tz: tzinfo) -> Block:
    """A table cell with Slack's date element (each reader's own zone), falling back to the date in `tz`."""
    if value is None:
        return raw_cell(EMPTY)
    return rich_cell({"type": "date", "timestamp": int(value.timestamp()), "format": "{date_short}",
                      "fallback": local_day(value, tz)})


def table(head: list[str], rows: list[list[Block]], settings: list[dict[str, Any] | None] | None = None) -> Block:
    """One table block: a bold header row, then at most 99 rows."""
    bold = [rich_cell({"type": "text", "text": h, "style": {"bold": True}}) for h in head]
    block: Block = {"type": "table", "rows": [bold, *rows[: TABLE_ROWS - 1]]}
    if settings:
        block["column_settings"] = settings
    return block


def format_money(amount_minor: int, currency: str) -> str:
    """Integer minor units as `$1,234.56`, `€12.00`, `¥500` or `1,234.500 KWD`; integer math, never floats."""
    code = currency.upper()
    exponent = currency_exponent(code)
    sign = "-" if amount_minor < 0 else ""
    major, minor = divmod(abs(amount_minor), 10**exponent)
    number = f"{major:,}" + (f".{minor:0{exponent}d}" if exponent else "")
    symbol = _SYMBOLS.get(code)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {code}"


def day(value: datetime | None, tz: tzinfo) -> str:
    """A date in mrkdwn: Slack shows it in each reader's zone; the fallback is the date in `tz`."""
    if value is None:
        return EMPTY
    return f"<!date^{int(value.timestamp())}^{{date_short}}|{local_day(value, tz)}>"


def local_day(value: datetime | None, tz: tzinfo) -> str:
    """A plain YYYY-MM-DD date in `tz`."""
    return value.astimezone(tz).strftime("%Y-%m-%d") if value is not None else EMPTY


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """`1 customer`, `1,234 customers`."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"


def error_message(text: str) -> Message:
    """Something the user can fix, said plainly (the text names the problem and the right form)."""
    return message(escape_fallback(text), [section(f":warning: {escape(text)}")])


def notice(text: str) -> Message:
    """A short informational message."""
    return message(escape_fallback(text), [section(escape(text))])


def apology(error_id: str) -> Message:
    """Something broke on our side: short, with the id that is also in the log, never a trace."""
    text = f"Something went wrong on our side (error id: {error_id}). We've logged it; please try again in a moment."
    return message(text, [section(f":face_with_head_bandage: {escape(text)}")])


def refusal(*, needs: str, granters: str) -> Message:
    """A polite refusal that says which access is needed and who can grant it (`granters` may hold mentions)."""
    text = f"Sorry, this needs {escape_fallback(needs)} access. {granters} can grant it."
    return message(text, [section(f":lock: Sorry, this needs *{escape(needs)}* access. Ask {granters} to add you.")])
