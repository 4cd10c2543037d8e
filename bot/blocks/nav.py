"""What travels in button values: the command, the query as typed and the keyset position."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

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
VALUE_LIMIT = 2000
COMMANDS = ("list", "search", "new", "churned", "payments", "payouts")


@dataclass(frozen=True)
class PageState:
    """Everything needed to serve a page click on any replica."""

    command: str
    query: str
    after: str | None = None
    before: str | None = None
    page_no: int = 1


def encode_state(state: PageState) -> str:
    """Compact JSON for a button value; ValueError when it cannot fit Slack's 2,000 characters."""
    raw = {k: v for k, v in asdict(state).items() if v is not None}
    value = json.dumps(raw, separators=(",", ":"), ensure_ascii=False)
    if len(value) > VALUE_LIMIT:
        raise ValueError("query too long to carry in a button")
    return value


def decode_state(value: str) -> PageState:
    """Parse a button value made by encode_state; ValueError on anything else."""
    try:
        raw = json.loads(value)
        state = PageState(command=str(raw["command"]), query=str(raw.get("query", "")), after=raw.get("after"),
                          before=raw.get("before"), page_no=int(raw.get("page_no", 1)))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError("not a page state") from exc
    if state.command not in COMMANDS or state.page_no < 1:
        raise ValueError("not a page state")
    return state
