"""What travels in button values (the command, the query as typed, the keyset position) and the page buttons."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from typing import Any

from handlers.blocks.common import Block, button, clip, escape, plural
from handlers.blocks.limits import BUTTON_VALUE
from storage.paging import decode_cursor

PAGE_NEXT = "page_next"
PAGE_PREV = "page_prev"
EXPORT_CSV = "export_csv"
SHARE = "share_channel"
OPEN_PRODUCT = "open_product"
MAILTO = "mailto"
HOME_NEW = "home_new"
HOME_CHURNED = "home_churned"
HOME_ONE_SEAT = "home_one_seat"
HOME_EXPORT = "home_export"
VALUE_LIMIT = BUTTON_VALUE
FILTERS_SHOWN = 300
COMMANDS = ("list", "search", "new", "churned", "payments", "payouts")
MAX_PAGE_NO = 1_000_000
TOO_LONG = "Page buttons are off: this query is too long to carry in a button. Narrow it to page through."


@dataclass(frozen=True)
class PageState:
    """Everything needed to serve a page click on any replica."""

    command: str
    query: str
    after: str | None = None
    before: str | None = None
    page_no: int = 1
    total: int | None = None  # the count the first page found: later pages show it instead of counting again
    capped: bool = False  # that count stopped at the cap ("1,000+")


def encode_state(state: PageState) -> str:
    """Compact JSON for a button value; ValueError when it cannot fit Slack's 2,000 characters."""
    raw = {k: v for k, v in asdict(state).items()
           if v is not None and not (k == "page_no" and v == 1) and not (k == "capped" and not v)}
    value = json.dumps(raw, separators=(",", ":"), ensure_ascii=False)
    if len(value) > VALUE_LIMIT:
        raise ValueError(f"query too long to carry in a button ({len(value):,} of {VALUE_LIMIT:,} characters)")
    return value


def decode_state(value: str) -> PageState:
    """Parse a button value made by encode_state; ValueError on anything else (however deep or long)."""
    if not isinstance(value, str) or len(value) > VALUE_LIMIT:
        raise ValueError("not a page state")
    try:
        raw: Any = json.loads(value)
    except (ValueError, TypeError, RecursionError) as exc:
        raise ValueError("not a page state") from exc
    if not isinstance(raw, dict) or raw.get("command") not in COMMANDS:
        raise ValueError("not a page state")
    query, after, before, page_no = raw.get("query", ""), raw.get("after"), raw.get("before"), raw.get("page_no", 1)
    if not isinstance(query, str) or not all(c is None or isinstance(c, str) for c in (after, before)):
        raise ValueError("not a page state")
    if isinstance(page_no, bool) or not isinstance(page_no, int) or not 1 <= page_no <= MAX_PAGE_NO:
        raise ValueError("not a page state")
    if after and before:
        raise ValueError("not a page state")
    total, capped = raw.get("total"), raw.get("capped", False)
    if total is not None and (isinstance(total, bool) or not isinstance(total, int) or not 0 <= total < 2**53):
        raise ValueError("not a page state")
    if not isinstance(capped, bool) or (capped and total is None):
        raise ValueError("not a page state")
    for cursor in (after, before):
        if cursor is not None:
            decode_cursor(cursor)  # a CursorError is a ValueError: the value was not made by us
    return PageState(command=raw["command"], query=query, after=after, before=before, page_no=page_no, total=total,
                     capped=capped)


def read_state(action: dict[str, Any]) -> PageState | None:
    """The page state a clicked button carries, or None when its value was not made by encode_state."""
    try:
        return decode_state(action.get("value"))  # type: ignore[arg-type]  # decode_state checks the type
    except ValueError:
        return None


def state_value(state: PageState) -> str | None:
    """encode_state, or None when the query is too long (the renderer then leaves its buttons out)."""
    try:
        return encode_state(state)
    except ValueError:
        return None


def page_buttons(state: PageState, *, prev_cursor: str | None, next_cursor: str | None,
                 total: int | None = None, capped: bool = False) -> list[Block]:
    """◀ Previous and Next ▶, each only when that page exists; the value is the target page's state.

    `total` (with `capped`): the count this page shows, carried so the pages after show it without counting again.
    """
    buttons: list[Block] = []
    if total is not None:
        state = replace(state, total=total, capped=capped)
    if prev_cursor:
        value = state_value(replace(state, after=None, before=prev_cursor, page_no=max(state.page_no - 1, 1)))
        if value:
            buttons.append(button("◀ Previous", PAGE_PREV, value=value))
    if next_cursor:
        value = state_value(replace(state, after=next_cursor, before=None, page_no=state.page_no + 1))
        if value:
            buttons.append(button("Next ▶", PAGE_NEXT, value=value))
    return buttons


def page_summary(*, total: int, capped: bool, shown: int, state: PageState, noun: str, filters: str) -> str:
    """`1,234 customers · page 2 · status:canceled seats:1` (mrkdwn, filters escaped)."""
    count = f"{total:,}+ {noun}s" if capped else plural(total, noun)
    parts = [count]
    if capped or total > shown or state.page_no > 1:
        parts.append(f"page {state.page_no:,}")
    if filters:
        parts.append(escape(clip(filters, FILTERS_SHOWN)))
    return " · ".join(parts)
