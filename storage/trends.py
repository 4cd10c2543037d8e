"""Signups and churn per day, week or month, from the trigger-kept counts: a trend never scans the customers.

Without filters the per-hour counts answer (`customer_hour`, migration 0007). With `status:` and `seats:` filters the
per-(day, status, seats) counts do (`customer_day`, migration 0014): counting `seats:>10` over a year from the
customers themselves read ~300k index entries at 1M customers, far beyond a chart's budget. Buckets are calendar
units in UTC; filters apply to each customer's current status and seats, as lists do.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from storage.customers import count_customers
from storage.models import CustomerDay, CustomerHour, Status
from storage.query import Query, QueryError

Unit = Literal["day", "week", "month"]
MAX_BUCKETS = 20  # a chart series holds at most 20 points (chart_limits.CHART_POINTS)
DAYS_UP_TO = 31  # windows up to 31 days count days, up to 26 weeks weeks, longer ones months
WEEKS_UP_TO = 26 * 7
MAX_MONTHS = 60
_DAY = {"sqlite": "substr({}, 1, 10)", "postgresql": "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"}
_CANCELED = "{row}.status = 'canceled' AND {row}.canceled_at IS NOT NULL"


@dataclass(frozen=True)
class Bucket:
    """One bar: signups and churned customers in [start, end), and customers not canceled at its end."""

    start: datetime
    end: datetime
    signups: int
    churned: int
    customers: int

    @property
    def net(self) -> int:
        """Signups minus churned."""
        return self.signups - self.churned


@dataclass(frozen=True)
class Trend:
    """A window's buckets (oldest first), each `step` calendar `unit`s long."""

    unit: Unit
    step: int
    buckets: list[Bucket]
    filters: str = ""

    @property
    def signups(self) -> int:
        """Signups over the whole window."""
        return sum(b.signups for b in self.buckets)

    @property
    def churned(self) -> int:
        """Churned customers over the whole window."""
        return sum(b.churned for b in self.buckets)

    @property
    def net(self) -> int:
        """Signups minus churned over the whole window."""
        return self.signups - self.churned

    @property
    def since(self) -> datetime:
        """The start of the first bucket."""
        return self.buckets[0].start

    @property
    def customers_before(self) -> int:
        """Customers not canceled when the window began."""
        return self.buckets[0].customers - self.buckets[0].net


def _floor(instant: datetime, unit: Unit) -> datetime:
    """The start of the UTC day, ISO week (Monday) or month an instant falls in."""
    day = instant.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1) if unit == "month" else day


def _add(start: datetime, unit: Unit, count: int) -> datetime:
    """`count` units after (or before, when negative) a unit start."""
    if unit == "day":
        return start + timedelta(days=count)
    if unit == "week":
        return start + timedelta(weeks=count)
    year, month = divmod(start.year * 12 + start.month - 1 + count, 12)
    return start.replace(year=year, month=month + 1)


def bucket_edges(since: datetime, until: datetime) -> tuple[Unit, int, list[datetime]]:
    """The unit, units per bucket and bucket edges (one more than buckets) covering [since, until).

    Whole calendar units from the one holding `since` to the one holding `until`'s last instant; more than 20 of them
    are merged into buckets of 2, 3, ... units ending with the latest one, so a chart shows at most 20 points.
    """
    if until <= since:
        raise QueryError("the window ends before it starts; write the earlier date first")
    span = until - since
    unit: Unit = "day" if span <= timedelta(days=DAYS_UP_TO) else "week" if span <= timedelta(
        days=WEEKS_UP_TO) else "month"
    first, last = _floor(since, unit), _floor(until - timedelta(microseconds=1), unit)
    units = 1
    while _add(first, unit, units) <= last:
        units += 1
    if unit == "month" and units > MAX_MONTHS + 1:  # five years touch 61 calendar months
        raise QueryError(f"a trend covers at most {MAX_MONTHS // 12} years; try 24m or 2y")
    step = math.ceil(units / MAX_BUCKETS)
    count = math.ceil(units / step)
    end = _add(last, unit, 1)
    edges = [_add(end, unit, -step * (count - i)) for i in range(count + 1)]
    return unit, step, edges


def customer_trend(*, session: Session, query: Query, since: datetime, until: datetime) -> Trend:
    """Signups, churned and customers per bucket over [since, until), for the status and seat filters of `query`."""
    unit, step, edges = bucket_edges(since, until)
    _refuse_unsupported(query)
    keys = [edge.strftime("%Y-%m-%d") for edge in edges]
    filtered = bool(query.statuses) or query.seats_min is not None or query.seats_max is not None
    if filtered:
        key, signups, cancellations = col(CustomerDay.day), col(CustomerDay.signups), col(CustomerDay.cancellations)
    else:  # hour keys ('YYYY-MM-DD HH') compare with day keys as the hours of that day
        key, signups, cancellations = col(CustomerHour.hour), col(CustomerHour.signups), col(CustomerHour.cancellations)
    # One row per day (hours summed), bucketed here: a CASE of 20 text comparisons per row cost more than the sums.
    day = func.substr(key, 1, 10) if not filtered else key
    stmt = select(day, func.sum(signups), func.sum(cancellations)).where(key >= keys[0])
    if filtered:
        stmt = stmt.where(*_filters(query))
    sums: dict[int, tuple[int, int]] = {}
    for day_key, new, gone in session.exec(stmt.group_by(day)):
        i = bisect_right(keys, day_key) - 1  # len(keys) - 1 is after the window: customers are walked back from now
        before = sums.get(i, (0, 0))
        sums[i] = (before[0] + int(new or 0), before[1] + int(gone or 0))
    now_customers = _customers_now(session, query)
    after_signups, after_churned = sums.get(len(keys) - 1, (0, 0))
    customers = now_customers - after_signups + after_churned
    buckets: list[Bucket] = []
    for i in reversed(range(len(keys) - 1)):
        new, gone = sums.get(i, (0, 0))
        buckets.append(Bucket(start=edges[i], end=edges[i + 1], signups=new, churned=gone, customers=customers))
        customers -= new - gone
    return Trend(unit=unit, step=step, buckets=buckets[::-1], filters=query.summary)


def _refuse_unsupported(query: Query) -> None:
    """Trends count from per-day totals by status and seats: other filters get a message naming them."""
    if query.terms:
        raise QueryError(f"a trend counts by status: and seats: only, not search words ({' '.join(query.terms)}); "
                         "try `/customers trend 90d status:active` or `/customers search` for the matches")
    if query.created or query.canceled:
        raise QueryError("the window sets a trend's time range; write `/customers trend 30d` or "
                         "`/customers trend 2026-01-01..2026-06-30` instead of since:, until:, created: or canceled:")
    if any(token.startswith("sort:") for token in query.tokens):
        raise QueryError("a trend is always in time order; leave out sort:")


def _filters(query: Query) -> list[ColumnElement[bool]]:
    """The status and seat filters on the per-day totals."""
    conditions: list[ColumnElement[bool]] = []
    if query.statuses:
        conditions.append(col(CustomerDay.status).in_(query.statuses))
    if query.seats_min is not None:
        conditions.append(col(CustomerDay.seats) >= query.seats_min)
    if query.seats_max is not None:
        conditions.append(col(CustomerDay.seats) <= query.seats_max)
    return conditions


def _customers_now(session: Session, query: Query) -> int:
    """Customers matching the filters that are not canceled now, from the trigger-kept totals."""
    statuses = tuple(s.value for s in Status if s is not Status.canceled and (not query.statuses
                                                                              or s.value in query.statuses))
    if not statuses:
        return 0
    return count_customers(session=session, query=Query(statuses=statuses, seats_min=query.seats_min,
                                                        seats_max=query.seats_max))


def fill_statement(dialect: str) -> str:
    """Recount every customer's signup and cancellation day by status and seats (migration 0014 and bulk loads)."""
    day = _DAY[dialect]
    return f"""INSERT INTO customer_day(day, status, seats, signups, cancellations)
        SELECT day, status, seats, sum(signups), sum(cancellations) FROM (
            SELECT {day.format('created_at')} AS day, status, seats, 1 AS signups, 0 AS cancellations FROM customer
            UNION ALL
            SELECT {day.format('canceled_at')}, status, seats, 0, 1 FROM customer
            WHERE {_CANCELED.format(row='customer')}
        ) AS days GROUP BY day, status, seats ORDER BY day, status, seats"""

