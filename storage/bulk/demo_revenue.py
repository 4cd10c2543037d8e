"""Demo revenue: per-seat plans in a few currencies, and each customer's seat and MRR history consistent with it.

Every customer's history is drawn from a generator seeded by its id, so the customer rows (final MRR), the seat
history and the movements can be produced in separate streaming passes without holding millions of rows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from storage.movements import movement_kind

# Monthly list price per seat in US cents; a quarter of customers pay yearly (two months free).
PLANS = ((0.55, 2_000), (0.85, 4_500), (1.0, 8_000))
# Currency and how many of its minor units a US cent is worth (x100): EUR 0.92, GBP 0.79, JPY 1.5.
CURRENCIES = ((0.70, "USD", 100), (0.85, "EUR", 92), (0.95, "GBP", 79), (1.0, "JPY", 150))
TRIAL = timedelta(days=14)
STEP = timedelta(days=30)  # seats (and so MRR) may change once a month
SAME_SEATS = 0.6  # the share of months without a seat change
CHANGES = (-2, -1, -1, 1, 1, 1, 2, 3)  # seats added in a month that changes (more grow than shrink)
PAYING = ("active", "past_due", "unpaid", "canceled", "paused")


@dataclass(frozen=True)
class Base:
    """What the customer generator decided about one customer."""

    cid: int
    seats: int
    status: str
    created: datetime
    canceled: datetime | None


@dataclass(frozen=True)
class History:
    """One customer's seat changes (old, new, at), MRR movements (at, old, new, kind) and final MRR."""

    currency: str | None
    mrr: int
    seat_changes: list[tuple[int, int, datetime]]
    movements: list[tuple[datetime, int, int, str]]


def _pick(rng: random.Random, cuts: tuple[tuple[Any, ...], ...]) -> tuple[Any, ...]:
    """The first entry whose cumulative share exceeds a uniform draw."""
    roll = rng.random()
    return next(cut for cut in cuts if roll < cut[0])


def history(seed: int, base: Base, now: datetime) -> History:
    """The customer's seat walk, monthly (ending at its seats now), with the MRR movements it implies."""
    rng = random.Random(seed * 1_000_003 + base.cid)
    per_seat = _pick(rng, PLANS)[1]
    _, currency, rate = _pick(rng, CURRENCIES)
    yearly = rng.random() < 0.25
    unit = per_seat * rate // 100 * (10 if yearly else 12) // 12  # minor units (yen are JPY's: 150 per cent x 100)
    start = base.created + TRIAL
    end = base.canceled if base.status == "canceled" and base.canceled else now
    if base.status not in PAYING or start >= end:
        return History(currency=None, mrr=0, seat_changes=[], movements=[])
    steps = int((end - start) / STEP)
    # Walk backwards from the seats now, so the history ends exactly where the customer is.
    seats = [base.seats]
    draw = rng.random
    for _ in range(steps):
        roll = draw()  # one draw decides whether and how the seats change
        change = 0 if roll < SAME_SEATS else CHANGES[int((roll - SAME_SEATS) / (1 - SAME_SEATS) * len(CHANGES))]
        seats.append(max(1, seats[-1] - change))
    seats.reverse()
    gap = None
    if base.status in ("active", "past_due") and steps >= 4 and rng.random() < 0.06:
        first = 1 + int(rng.random() * (steps - 3))
        gap = (first, first + 1 + int(rng.random() * 2))  # churned for one or two months, then back
    seat_changes: list[tuple[int, int, datetime]] = []
    movements: list[tuple[datetime, int, int, str]] = []
    mrr, paid = 0, False

    def move(at: datetime, new: int) -> None:
        nonlocal mrr, paid
        if new != mrr:
            movements.append((at, mrr, new, movement_kind(mrr, new, paid_before=paid).value))
            mrr, paid = new, True

    last = end - timedelta(seconds=1)
    previous = 0
    for step, count in enumerate(seats):
        away = gap is not None and gap[0] <= step < gap[1]
        target = 0 if away else max(count, 1) * unit
        if target == mrr and count == previous:
            continue  # a month without a change: nothing to date (most months)
        at = min(start + step * STEP + timedelta(seconds=int(rng.random() * 86_400)), last)
        if step and count != previous:
            seat_changes.append((previous, count, at))
        previous = count
        move(at, target)
    if base.status == "canceled":
        move(end, 0)
    elif base.status == "paused":
        move(min(now, start + steps * STEP + timedelta(days=rng.random() * 20)), 0)
    return History(currency=currency, mrr=mrr, seat_changes=seat_changes, movements=movements)


MOVEMENT_COLUMNS = ("customer_id", "at", "currency", "old_mrr", "new_mrr", "delta", "kind")


def demo_chunk(
    seed: int, chunk: list[tuple[tuple[Any, ...], datetime, datetime | None]], now: datetime, ts: Any,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Customer rows (with final MRR and currency), seat_change rows and mrr_movement rows of a chunk of customers.

    Each `chunk` entry is a customer row (id first, seats and status at 5 and 6) with its signup and cancel instants.
    """
    rows: list[tuple[Any, ...]] = []
    seats: list[tuple[Any, ...]] = []
    moves: list[tuple[Any, ...]] = []
    for row, created, canceled in chunk:
        cid = row[0]
        h = history(seed, Base(cid=cid, seats=row[5], status=row[6], created=created, canceled=canceled), now)
        rows.append((*row, h.mrr, h.currency))
        seats += [(cid, old, new, ts(at)) for old, new, at in h.seat_changes]
        moves += [(cid, ts(at), h.currency, old, new, new - old, kind) for at, old, new, kind in h.movements]
    return rows, seats, moves
