"""Window counts from the trigger-kept signups and cancellations per UTC hour (migration 0007).

A window like `7d` rarely starts on the hour, so whole hours come from `customer_hour` and the two partial hours at
its ends are counted from the customers themselves: a few hundred rows at most, instead of every row in the window.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, ScalarSelect, func
from sqlmodel import col, select

from storage.models import CustomerHour
from storage.query import Window

Kind = Literal["signups", "cancellations"]
_HOUR = {"sqlite": "substr({}, 1, 13)", "postgresql": "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')"}


def fill_statement(dialect: str) -> str:
    """Recount every customer's signup and cancellation hours (bulk loads run it with the triggers off)."""
    hour = _HOUR[dialect]
    return f"""INSERT INTO customer_hour(hour, signups, cancellations)
        SELECT hour, sum(signups), sum(cancellations) FROM (
            SELECT {hour.format('created_at')} AS hour, 1 AS signups, 0 AS cancellations FROM customer
            UNION ALL
            SELECT {hour.format('canceled_at')}, 0, 1 FROM customer
            WHERE status = 'canceled' AND canceled_at IS NOT NULL
        ) AS hours GROUP BY hour ORDER BY hour"""  # stored in hour order: a window's hours share a few pages


def _hour_key(instant: datetime) -> str:
    """The table's key for the hour an instant falls in."""
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H")


def _floor_hour(instant: datetime) -> datetime:
    """The start of the hour an instant falls in."""
    return instant.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _ceil_hour(instant: datetime) -> datetime:
    """The first whole hour starting at or after an instant."""
    floor = _floor_hour(instant)
    return floor if floor == instant else floor + timedelta(hours=1)


def window_count(*, kind: Kind, window: Window, count_rows: Callable[[Window], ScalarSelect[int]]) -> ScalarSelect[int]:
    """How many customers signed up (or were canceled) in the window, as one scalar subquery.

    `count_rows(part)` is a scalar subquery counting customers in a part of the window directly; it is used for the
    partial hours only.
    """
    since, until = window.since, window.until
    first = None if since is None else _ceil_hour(since)
    last = None if until is None else _floor_hour(until)
    if first is not None and last is not None and first >= last:  # inside one or two partial hours
        return count_rows(window)
    column = col(CustomerHour.signups if kind == "signups" else CustomerHour.cancellations)
    hours = select(func.coalesce(func.sum(column), 0))
    if first is not None:
        hours = hours.where(col(CustomerHour.hour) >= _hour_key(first))
    if last is not None:
        hours = hours.where(col(CustomerHour.hour) < _hour_key(last))
    total: ColumnElement[int] = hours.scalar_subquery()
    if since is not None and first is not None and first != since:
        total = total + count_rows(Window(since=since, until=first))
    if until is not None and last is not None and last != until:
        total = total + count_rows(Window(since=last, until=until))
    return select(total).scalar_subquery()
