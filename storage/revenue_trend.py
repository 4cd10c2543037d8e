"""MRR, its movements and earnings per currency per day, week or month, from the trigger-kept totals only.

MRR at the end of each bucket is `mrr_total` (now) minus every movement since, and a bucket's movements per kind are
summed from `mrr_day`; earnings (payments net of fees and refunds) come from `payment_daily`. So a trend reads at most
days x currencies x kinds aggregate rows (grouped per month in the database for month buckets) and no customer or
movement row, whatever the store's size. Buckets are the calendar units of storage.trends.bucket_edges, in UTC.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, literal, union_all
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from storage.models import MovementKind, MrrDay, MrrTotal, PaymentDaily
from storage.trends import Unit, bucket_edges

KINDS = tuple(k.value for k in MovementKind)
# How each kind changes the number of paying customers (the rest move MRR between paying ones).
PAYING_STEP = {MovementKind.new.value: 1, MovementKind.reactivation.value: 1, MovementKind.churn.value: -1}


@dataclass(frozen=True)
class Period:
    """One bucket of one currency: MRR and paying customers at its end, its movements and its earnings."""

    start: datetime
    end: datetime
    mrr: int
    paying: int
    moved: dict[str, int] = field(default_factory=dict)  # signed: contraction and churn are negative
    earnings: int = 0

    def kind(self, kind: str) -> int:
        """The signed MRR one kind moved in this bucket."""
        return self.moved.get(kind, 0)

    @property
    def net_new(self) -> int:
        """new + expansion + reactivation - contraction - churn (the change of MRR over the bucket)."""
        return sum(self.moved.values())


@dataclass(frozen=True)
class CurrencyTrend:
    """One currency's buckets, oldest first (never mixed with another currency's)."""

    currency: str
    periods: list[Period]
    mrr_start: int  # at the start of the first bucket
    paying_start: int

    @property
    def mrr(self) -> int:
        """MRR at the end of the last bucket."""
        return self.periods[-1].mrr

    @property
    def paying(self) -> int:
        """Paying customers at the end of the last bucket."""
        return self.periods[-1].paying

    @property
    def earnings(self) -> int:
        """Earnings over the whole window."""
        return sum(p.earnings for p in self.periods)

    def moved(self, kind: str) -> int:
        """The signed MRR one kind moved over the whole window."""
        return sum(p.kind(kind) for p in self.periods)

    @property
    def net_new(self) -> int:
        """Net new MRR over the whole window."""
        return self.mrr - self.mrr_start


@dataclass(frozen=True)
class RevenueTrend:
    """Every currency with MRR, movements or earnings in the window, by code, over the same buckets."""

    unit: Unit
    step: int
    edges: list[datetime]
    currencies: list[CurrencyTrend]

    def of(self, currency: str) -> CurrencyTrend | None:
        """One currency's trend, or None when it has nothing in the window."""
        return next((c for c in self.currencies if c.currency == currency), None)


def revenue_trend(*, session: Session, since: datetime, until: datetime) -> RevenueTrend:
    """MRR, movements and earnings per bucket over [since, until) for every currency, in one statement."""
    unit, step, edges = bucket_edges(since, until)
    keys = [edge.strftime("%Y-%m-%d") for edge in edges]
    day, paid_day = col(MrrDay.day), col(PaymentDaily.day)
    # Month buckets start on the 1st: group the days per month in the database (25 rows, not 731, per kind).
    width = 7 if unit == "month" else 10
    moved_key, paid_key = func.substr(day, 1, width), func.substr(paid_day, 1, width)
    parts = [
        sa_select(literal("total"), col(MrrTotal.currency), literal(""), literal(""), col(MrrTotal.mrr),
                  col(MrrTotal.paying)),
        sa_select(literal("moved"), col(MrrDay.currency), moved_key, col(MrrDay.kind), func.sum(MrrDay.amount),
                  func.sum(MrrDay.count))
        .where(day >= keys[0], day < keys[-1]).group_by(col(MrrDay.currency), moved_key, col(MrrDay.kind)),
        # Everything after the window in one row per currency and kind: a window years back stays one sum.
        sa_select(literal("moved"), col(MrrDay.currency), literal(keys[-1]), col(MrrDay.kind), func.sum(MrrDay.amount),
                  func.sum(MrrDay.count))
        .where(day >= keys[-1]).group_by(col(MrrDay.currency), col(MrrDay.kind)),
        sa_select(literal("earned"), col(PaymentDaily.currency), paid_key, literal(""), func.sum(PaymentDaily.net),
                  literal(0))
        .where(paid_day >= keys[0], paid_day < keys[-1]).group_by(col(PaymentDaily.currency), paid_key),
    ]
    now: dict[str, tuple[int, int]] = {}
    moved: dict[str, dict[int, dict[str, tuple[int, int]]]] = {}
    earned: dict[str, dict[int, int]] = {}
    for part, currency, key, kind, amount, count in session.connection().execute(union_all(*parts)):
        if part == "total":
            now[currency] = (int(amount or 0), int(count or 0))
            continue
        # len(keys) - 1 is after the window: MRR is walked back from now through it
        i = bisect_right(keys, key if len(key) == 10 else f"{key}-01") - 1
        if part == "moved":
            bucket = moved.setdefault(currency, {}).setdefault(i, {})
            amount_before, count_before = bucket.get(kind, (0, 0))
            bucket[kind] = (amount_before + int(amount or 0), count_before + int(count or 0))
        else:
            earned.setdefault(currency, {})[i] = earned.get(currency, {}).get(i, 0) + int(amount or 0)
    trends = [_walk(currency, edges, now.get(currency, (0, 0)), moved.get(currency, {}), earned.get(currency, {}))
              for currency in sorted(set(now) | set(moved) | set(earned))]
    return RevenueTrend(unit=unit, step=step, edges=edges, currencies=[t for t in trends if _shows(t)])


def _walk(currency: str, edges: list[datetime], now: tuple[int, int], moved: dict[int, dict[str, tuple[int, int]]],
          earned: dict[int, int]) -> CurrencyTrend:
    """Walk MRR and paying customers back from now through the movements after each bucket's end."""
    mrr, paying = now

    def back(i: int) -> None:
        nonlocal mrr, paying
        for kind, (amount, count) in moved.get(i, {}).items():
            mrr -= amount
            paying -= PAYING_STEP.get(kind, 0) * count

    back(len(edges) - 1)
    periods: list[Period] = []
    for i in reversed(range(len(edges) - 1)):
        periods.append(Period(start=edges[i], end=edges[i + 1], mrr=mrr, paying=paying,
                              moved={k: a for k, (a, _c) in moved.get(i, {}).items() if a},
                              earnings=earned.get(i, 0)))
        back(i)
    return CurrencyTrend(currency=currency, periods=periods[::-1], mrr_start=mrr, paying_start=paying)


def _shows(trend: CurrencyTrend) -> bool:
    """A currency belongs in the trend when it had MRR, a movement or earnings in the window."""
    return bool(trend.mrr_start or any(p.mrr or p.moved or p.earnings for p in trend.periods))
