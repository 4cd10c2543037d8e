"""Revenue figures per currency (never mixed) as of an instant and over a window, from the trigger-kept totals.

MRR and paying customers now come from `mrr_total`; MRR at an earlier instant is that minus every movement since,
and a window's movements are summed from `mrr_day` (whole UTC days), `mrr_hour` (the whole hours of the partial days
at its ends) and the movement rows of the partial hours, so no figure reads more than two hours of movement rows and
about 20 rows per day (currencies x kinds) whatever the window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from sqlalchemy import ColumnElement, Select, func, literal, tuple_, union_all
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from storage.models import Customer, MovementKind, MrrDay, MrrHour, MrrMovement, MrrTotal

GAINS = (MovementKind.new.value, MovementKind.expansion.value, MovementKind.reactivation.value)
LOSSES = (MovementKind.contraction.value, MovementKind.churn.value)
KINDS = GAINS + LOSSES
# The largest movements of a kind walk its rank index from the top this far, keeping those inside the window; a
# window holding fewer of them than that (one that ended long ago) then seeks each size's entries inside the window,
# size by size, at most SIZE_STEPS sizes, and only a window still short after that sorts its own movements.
RANK_WALK = 300  # two chunks (100, then 200)
RANK_CHUNK = 100
SIZE_STEPS = 500


@dataclass(frozen=True)
class KindTotal:
    """Movements of one kind: how much MRR they moved (a positive magnitude, minor units) and how many."""

    amount: int = 0
    count: int = 0


def _ratio(numerator: int, denominator: int) -> Fraction | None:
    """numerator / denominator, None when the denominator is 0 (shown as a dash)."""
    return None if denominator == 0 else Fraction(numerator, denominator)


@dataclass(frozen=True)
class Revenue:
    """One currency's revenue: MRR and paying customers at both ends of the window, and its movements."""

    currency: str
    mrr: int  # at the end of the window
    paying: int
    mrr_start: int
    paying_start: int
    movements: dict[str, KindTotal] = field(default_factory=dict)

    def moved(self, kind: str) -> int:
        """The MRR moved by one kind (positive)."""
        return self.movements.get(kind, KindTotal()).amount

    def counted(self, kind: str) -> int:
        """How many movements of one kind."""
        return self.movements.get(kind, KindTotal()).count

    @property
    def arr(self) -> int:
        """Annual run rate: 12 x MRR."""
        return 12 * self.mrr

    @property
    def arpa(self) -> int | None:
        """Average revenue per paying account, rounded half up to a minor unit."""
        return None if self.paying == 0 else (2 * self.mrr + self.paying) // (2 * self.paying)

    @property
    def net_new(self) -> int:
        """new + expansion + reactivation - contraction - churn."""
        return sum(self.moved(k) for k in GAINS) - sum(self.moved(k) for k in LOSSES)

    @property
    def logo_churn_rate(self) -> Fraction | None:
        """Customers churned in the window / (paying at the start + new in the window) (Stripe's definition)."""
        return _ratio(self.counted("churn"), self.paying_start + self.counted("new"))

    @property
    def gross_mrr_churn_rate(self) -> Fraction | None:
        """(churn + contraction) / MRR at the start."""
        return _ratio(self.moved("churn") + self.moved("contraction"), self.mrr_start)

    @property
    def net_mrr_churn_rate(self) -> Fraction | None:
        """(churn + contraction - expansion - reactivation) / MRR at the start."""
        lost = self.moved("churn") + self.moved("contraction") - self.moved("expansion") - self.moved("reactivation")
        return _ratio(lost, self.mrr_start)

    @property
    def nrr(self) -> Fraction | None:
        """Net revenue retention: 1 - net MRR churn rate."""
        rate = self.net_mrr_churn_rate
        return None if rate is None else 1 - rate

    @property
    def quick_ratio(self) -> Fraction | None:
        """(new + expansion + reactivation) / (contraction + churn)."""
        return _ratio(sum(self.moved(k) for k in GAINS), sum(self.moved(k) for k in LOSSES))


def _floor_hour(instant: datetime) -> datetime:
    """The start of the hour an instant falls in."""
    return instant.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _ceil_hour(instant: datetime) -> datetime:
    """The first whole hour starting at or after an instant."""
    floor = _floor_hour(instant)
    return floor if floor == instant else floor + timedelta(hours=1)


def _floor_day(instant: datetime) -> datetime:
    """The start of the UTC day an instant falls in."""
    return _floor_hour(instant).replace(hour=0)


def _ceil_day(instant: datetime) -> datetime:
    """The first whole UTC day starting at or after an instant."""
    floor = _floor_day(instant)
    return floor if floor == instant else floor + timedelta(days=1)


def _key(instant: datetime) -> str:
    """mrr_hour's key for the hour an instant starts."""
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H")


Part = Select[str, str, str, int, int]


def _rows(part: str, since: datetime, until: datetime | None) -> list[Part]:
    """The movements in [since, until) summed per currency and kind, from the rows themselves."""
    if until is not None and since >= until:
        return []
    at = col(MrrMovement.at)
    conditions: list[ColumnElement[bool]] = [at >= since] + ([at < until] if until is not None else [])
    return [sa_select(literal(part), col(MrrMovement.currency), col(MrrMovement.kind), func.sum(MrrMovement.delta),
                      func.count()).where(*conditions).group_by(col(MrrMovement.currency), col(MrrMovement.kind))]


def _hours(part: str, first: datetime, last: datetime | None) -> list[Part]:
    """The movements in the whole hours [first, last), from the hourly totals."""
    if last is not None and first >= last:
        return []
    hour = col(MrrHour.hour)
    conditions = [hour >= _key(first)] + ([hour < _key(last)] if last is not None else [])
    return [sa_select(literal(part), col(MrrHour.currency), col(MrrHour.kind), func.sum(MrrHour.amount),
                      func.sum(MrrHour.count)).where(*conditions).group_by(col(MrrHour.currency), col(MrrHour.kind))]


def _days(part: str, first: datetime, last: datetime | None) -> list[Part]:
    """The movements in the whole days [first, last), from the daily totals."""
    if last is not None and first >= last:
        return []
    day = col(MrrDay.day)
    conditions = [day >= first.date().isoformat()] + ([day < last.date().isoformat()] if last is not None else [])
    return [sa_select(literal(part), col(MrrDay.currency), col(MrrDay.kind), func.sum(MrrDay.amount),
                      func.sum(MrrDay.count)).where(*conditions).group_by(col(MrrDay.currency), col(MrrDay.kind))]


def _hour_span(part: str, since: datetime, until: datetime | None) -> list[Part]:
    """[since, until): whole hours from the hourly totals, the partial hours at either end from the rows."""
    first = _ceil_hour(since)
    last = None if until is None else _floor_hour(until)
    if last is not None and first >= last:
        return _rows(part, since, until)
    return _rows(part, since, first) + _hours(part, first, last) + ([] if last is None else _rows(part, last, until))


def _span(part: str, since: datetime, until: datetime | None) -> list[Part]:
    """[since, until): whole days from the daily totals, the partial days at either end by hours."""
    first = _ceil_day(since)
    last = None if until is None else _floor_day(until)
    if last is not None and first >= last:
        return _hour_span(part, since, until)
    return (_hour_span(part, since, first) + _days(part, first, last)
            + ([] if last is None or until is None else _hour_span(part, last, until)))


def revenue(*, session: Session, since: datetime, until: datetime) -> list[Revenue]:
    """Every currency's figures over [since, until), in one statement; currencies by code."""
    parts = [sa_select(literal("total"), col(MrrTotal.currency), literal(""), col(MrrTotal.mrr), col(MrrTotal.paying))]
    parts += _span("window", since, until) + _span("after", until, None)
    totals: dict[str, tuple[int, int]] = {}
    sums: dict[tuple[str, str, str], tuple[int, int]] = {}
    for part, currency, kind, amount, count in session.connection().execute(union_all(*parts)):
        if part == "total":
            totals[currency] = (int(amount), int(count))
            continue
        before = sums.get((part, currency, kind), (0, 0))
        sums[(part, currency, kind)] = (before[0] + int(amount or 0), before[1] + int(count or 0))
    result = []
    for currency in sorted(set(totals) | {c for _, c, _ in sums}):
        def moved(part: str, kind: str, currency: str = currency) -> tuple[int, int]:
            return sums.get((part, currency, kind), (0, 0))

        def paying_change(part: str) -> int:
            return (moved(part, "new")[1] + moved(part, "reactivation")[1]) - moved(part, "churn")[1]

        mrr_now, paying_now = totals.get(currency, (0, 0))
        mrr = mrr_now - sum(moved("after", k)[0] for k in KINDS)
        paying = paying_now - paying_change("after")
        window = {k: KindTotal(abs(moved("window", k)[0]), moved("window", k)[1]) for k in KINDS
                  if moved("window", k)[1]}
        if not (mrr or window):
            continue
        result.append(Revenue(currency=currency, mrr=mrr, paying=paying,
                              mrr_start=mrr - sum(moved("window", k)[0] for k in KINDS),
                              paying_start=paying - paying_change("window"), movements=window))
    return result


@dataclass(frozen=True)
class MovementRow:
    """A movement with the organization it belongs to."""

    movement: MrrMovement
    organization: str
    email: str


def largest_movements(
    *, session: Session, currency: str, kind: str, since: datetime, until: datetime, counted: int, limit: int = 5,
    chunk: int = RANK_CHUNK, walk_max: int = RANK_WALK, size_steps: int = SIZE_STEPS,
) -> list[MovementRow]:
    """The movements of one kind in [since, until) that moved the most MRR (churns: the largest losses).

    `counted` is how many there are (Revenue.counted): the walk stops looking once it has found them all.
    """
    if counted <= 0:
        return []
    m = MrrMovement
    in_window = [col(m.at) >= since, col(m.at) < until]
    losing = kind in LOSSES  # the largest losses are the most negative deltas
    # Walk the rank index (size, then time) backward in growing chunks, never reading the table, keeping the entries
    # inside the window: a recent window finds 5 in the first chunk even where many movements have the same size.
    size = func.abs(col(m.delta))
    order = (size, col(m.at), col(m.id))
    walked: list[int] = []
    after: tuple[int, datetime, int] | None = None
    batch, walk, exhausted = chunk, 0, False
    while walk < walk_max:
        stmt = sa_select(col(m.id), col(m.at), size).where(col(m.currency) == currency, col(m.kind) == kind)
        if after is not None:
            stmt = stmt.where(tuple_(*order) < tuple_(*after))
        rows = list(session.connection().execute(stmt.order_by(*(c.desc() for c in order)).limit(batch)))
        walked += [row_id or 0 for row_id, at, _size in rows if since <= at < until][:limit - len(walked)]
        exhausted = len(rows) < batch
        if len(walked) >= min(limit, counted) or exhausted:
            break
        last_id, last_at, last_size = rows[-1]
        after = (int(last_size), last_at, last_id or 0)
        walk, batch = walk + batch, batch * 2  # few round trips when the window is sparse among the largest
    if len(walked) < min(limit, counted) and after is not None and not exhausted:
        walked += _by_size(session, currency=currency, kind=kind, since=since, until=until, after=after,
                           wanted=min(limit, counted) - len(walked), steps=size_steps)
    if len(walked) < min(limit, counted):
        # Still short after SIZE_STEPS sizes (amounts that rarely repeat): sort the window's own (`+ 0` keeps the
        # rank index out of the ordering, so the time index finds the window).
        hidden = col(m.delta) + 0
        walked = [row_id or 0 for row_id in session.exec(
            select(col(m.id)).where(col(m.currency) == currency, col(m.kind) == kind, *in_window)
            .order_by(hidden if losing else hidden.desc(), col(m.id)).limit(limit))]
    if not walked:
        return []
    named = session.exec(select(m, col(Customer.organization), col(Customer.email))
                         .join(Customer, col(Customer.id) == m.customer_id).where(col(m.id).in_(walked)))
    found = [MovementRow(movement=mv, organization=o, email=e) for mv, o, e in named]
    return sorted(found, key=lambda r: (r.movement.delta if losing else -r.movement.delta, r.movement.id or 0))


def _by_size(
    session: Session, *, currency: str, kind: str, since: datetime, until: datetime, after: tuple[int, datetime, int],
    wanted: int, steps: int,
) -> list[int]:
    """Continue a rank walk stopped at `after` (size, at, id) one size at a time, seeking each size's window.

    The rank index is ordered by size, then time: for one size the window's entries are one range of it, so a window
    that ended long ago is found without reading the newer entries of each size. Bounded by `steps` sizes.
    """
    m = MrrMovement
    size = func.abs(col(m.delta))
    same = (col(m.currency) == currency, col(m.kind) == kind)
    found: list[int] = []
    current, rest = after[0], [tuple_(col(m.at), col(m.id)) < tuple_(after[1], after[2])]  # the rest of this size
    for _ in range(steps):
        rows = session.connection().execute(
            sa_select(col(m.id)).where(*same, size == current, col(m.at) >= since, col(m.at) < until, *rest)
            .order_by(col(m.at).desc(), col(m.id).desc()).limit(wanted - len(found)))
        found += [row_id or 0 for (row_id,) in rows]
        if len(found) >= wanted:
            break
        smaller = session.connection().execute(
            sa_select(size).where(*same, size < current).order_by(size.desc()).limit(1)).first()
        if smaller is None:
            break
        current, rest = int(smaller[0]), []
    return found
