"""Window counts from the trigger-kept signups and cancellations per UTC hour and per (UTC day, status, seats).

A window like `7d` rarely starts on the hour, so whole hours come from `customer_hour` and the two partial hours at
its ends are counted from the customers themselves: a few hundred rows at most, instead of every row in the window.
With status or seat filters (`churned 60d seats:5`), whole days come from `customer_day` and the partial days at the
ends from the customers: a day's rows at most at each end.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, ScalarSelect, Select, func
from sqlmodel import col, select

from storage.models import CustomerDay, CustomerHour
from storage.query import Window

Kind = Literal["signups", "cancellations"]
_HOUR_UNIT, _DAY = timedelta(hours=1), timedelta(days=1)
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
    """The hour table's key for the hour an instant falls in."""
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H")


def _day_key(instant: datetime) -> str:
    """The day table's key for the UTC day an instant falls in."""
    return instant.astimezone(UTC).strftime("%Y-%m-%d")


def _floor(instant: datetime, unit: timedelta) -> datetime:
    """The start of the UTC hour (or day) an instant falls in."""
    utc = instant.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return utc.replace(hour=0) if unit == _DAY else utc


def _ceil(instant: datetime, unit: timedelta) -> datetime:
    """The first whole UTC hour (or day) starting at or after an instant."""
    floor = _floor(instant, unit)
    return floor if floor == instant else floor + unit


def window_count(*, kind: Kind, window: Window, count_rows: Callable[[Window], ScalarSelect[int]],
                 statuses: tuple[str, ...] = (), seats: tuple[int | None, int | None] = (None, None)
                 ) -> ScalarSelect[int]:
    """How many customers signed up (or were canceled) in the window, as one scalar subquery.

    Without status or seat filters, whole hours come from `customer_hour`; with them, whole UTC days come from the
    per-(day, status, seats) totals (`customer_day`, migration 0014). `count_rows(part)` is a scalar subquery counting
    customers in a part of the window directly (every filter applied): it is used for the partial hours or days at
    the window's ends only.
    """
    by_day = bool(statuses) or seats != (None, None)
    unit = _DAY if by_day else _HOUR_UNIT
    since, until = window.since, window.until
    first = None if since is None else _ceil(since, unit)
    last = None if until is None else _floor(until, unit)
    if first is not None and last is not None and first >= last:  # inside one or two partial units
        return count_rows(window)
    whole: ColumnElement[int] = (_days(kind, first, last, statuses, seats) if by_day
                                 else _hours(kind, first, last))
    total = whole
    if since is not None and first is not None and first != since:
        total = total + count_rows(Window(since=since, until=first))
    if until is not None and last is not None and last != until:
        total = total + count_rows(Window(since=last, until=until))
    return select(total).scalar_subquery()


def _hours(kind: Kind, first: datetime | None, last: datetime | None) -> ColumnElement[int]:
    """Signups or cancellations in the whole hours [first, last)."""
    column = col(CustomerHour.signups if kind == "signups" else CustomerHour.cancellations)
    return _whole(column, col(CustomerHour.hour), _hour_key, first, last).scalar_subquery()


def _whole(column: Any, key: Any, to_key: Callable[[datetime], str], first: datetime | None,
           last: datetime | None) -> Select[tuple[int]]:
    """sum(column) over the rows of a per-hour or per-day table whose key lies in [first, last)."""
    total = select(func.coalesce(func.sum(column), 0))
    if first is not None:
        total = total.where(key >= to_key(first))
    if last is not None:
        total = total.where(key < to_key(last))
    return total


def _days(kind: Kind, first: datetime | None, last: datetime | None, statuses: tuple[str, ...],
          seats: tuple[int | None, int | None]) -> ColumnElement[int]:
    """Signups or cancellations in the whole UTC days [first, last) of customers in these statuses and seats."""
    column = col(CustomerDay.signups if kind == "signups" else CustomerDay.cancellations)
    days = _whole(column, col(CustomerDay.day), _day_key, first, last)
    if statuses:
        days = days.where(col(CustomerDay.status).in_(statuses))
    low, high = seats
    if low is not None and low == high:
        days = days.where(col(CustomerDay.seats) == low)
    else:
        if low is not None:
            days = days.where(col(CustomerDay.seats) >= low)
        if high is not None:
            days = days.where(col(CustomerDay.seats) <= high)
    return days.scalar_subquery()
