"""Keyset pagination shared by every list: pages stay correct while rows are added."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import tuple_

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 10
MAX_CURSOR = 4000  # longer than any button value Slack carries


class CursorError(ValueError):
    """A page cursor that was not made by us (or was cut short in transit)."""


@dataclass(frozen=True)
class PageRequest:
    """Which page: the first, the one after `after`, or the one before `before`."""

    size: int = DEFAULT_PAGE_SIZE
    after: str | None = None
    before: str | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows, the total that match, and cursors for the neighbours."""

    items: list[T]
    total: int
    next_cursor: str | None
    prev_cursor: str | None
    total_capped: bool = False  # more than `total` match; shown as "1,000+"


def encode_cursor(value: Any, row_id: int) -> str:
    """Pack a sort value and tie-breaking id into a short opaque token."""
    if isinstance(value, datetime):
        value = {"t": value.isoformat()}
    raw = json.dumps([value, row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, *, expect: type | None = None) -> tuple[Any, int]:
    """Unpack a cursor made by encode_cursor; CursorError for anything else, before it can reach SQL.

    `expect` is the sort column's Python type: a cursor holding another type (or an id beyond 64 bits) is refused.
    """
    try:
        if len(token) > MAX_CURSOR:
            raise ValueError("too long")
        value, row_id = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if isinstance(value, dict):
            value = datetime.fromisoformat(value["t"])
            if value.tzinfo is None:
                raise ValueError("naive")
        if isinstance(row_id, bool) or not isinstance(row_id, int) or not 0 < row_id < 2**63:
            raise TypeError("id")
        if value is not None and expect is not None and (
                not isinstance(value, expect) or isinstance(value, bool) or (
                    isinstance(value, int) and not -(2**63) < value < 2**63)):
            raise TypeError("value")
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("NUL")
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        raise CursorError("that page link is no longer valid; run the command again") from exc
    return value, row_id


def keyset(
    stmt: Any,
    *,
    column: Any,
    id_column: Any,
    descending: bool,
    page: PageRequest,
) -> tuple[Any, bool]:
    """Order and limit `stmt` for the requested page; returns the statement and whether it runs backwards."""
    backwards = page.before is not None and page.after is None
    token = page.after if not backwards else page.before
    forward_desc = descending != backwards
    if token is not None:
        value, row_id = decode_cursor(token, expect=_python_type(column))
        # A row comparison starts an index walk right at the cursor: with `column < value OR (column = value AND
        # id < row_id)` PostgreSQL started at the top of the cursor's value and skipped that value's rows one by one
        # (Previous on `sort:seats`, where one seat count holds a hundred thousand rows). The plain bound beside it
        # is the range SQLite needs to pick the index.
        key = tuple_(column, id_column)
        if forward_desc:
            stmt = stmt.where(column <= value, key < (value, row_id))
        else:
            stmt = stmt.where(column >= value, key > (value, row_id))
    order = (column.desc(), id_column.desc()) if forward_desc else (column.asc(), id_column.asc())
    return stmt.order_by(*order).limit(page.size + 1), backwards


def _python_type(column: Any) -> type | None:
    """The Python type a column's values have (None when SQLAlchemy cannot tell)."""
    column_type = getattr(column, "type", None)
    try:
        kind: type = getattr(column_type, "impl", column_type).python_type  # type: ignore[union-attr]
    except (AttributeError, NotImplementedError):
        return None
    return None if kind is object else kind


def build_page(
    rows: list[T], *, total: int, page: PageRequest, backwards: bool, key: Any, capped: bool = False
) -> Page[T]:
    """Trim the look-ahead row, restore order when paging backwards, and make neighbour cursors."""
    more = len(rows) > page.size
    rows = rows[: page.size]
    if backwards:
        rows.reverse()
    has_next = (more and not backwards) or (backwards and page.before is not None)
    has_prev = (more and backwards) or (not backwards and page.after is not None)
    first, last = (rows[0], rows[-1]) if rows else (None, None)
    return Page(
        items=rows,
        total=total,
        next_cursor=encode_cursor(*key(last)) if has_next and last is not None else None,
        prev_cursor=encode_cursor(*key(first)) if has_prev and first is not None else None,
        total_capped=capped,
    )
