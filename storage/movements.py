"""Writing MRR: each change of a customer's MRR is one movement row with ChartMogul's kind, never over newer state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, text
from sqlmodel import Session, col, select

from storage.models import Customer, MovementKind, MrrMovement, Status

# Customers in these states pay nothing, whatever their plan says (ChartMogul: MRR is 0 while trialing or paused).
NOT_PAYING = frozenset({Status.trialing.value, Status.incomplete.value, Status.paused.value, Status.canceled.value})
_HOUR = {"sqlite": "substr({}, 1, 13)", "postgresql": "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')"}


class MrrInvalid(ValueError):
    """An MRR that cannot be stored (negative, or without a currency); the message says which."""


@dataclass(frozen=True)
class MrrApplied:
    """What applying an MRR did: `stale` when a newer movement is already stored (nothing changed)."""

    movements: tuple[MrrMovement, ...] = ()
    stale: bool = False


def movement_kind(old: int, new: int, *, paid_before: bool) -> MovementKind:
    """ChartMogul's kind of a change from `old` to `new` (which differ); `paid_before`: any earlier movement."""
    if old == 0:
        return MovementKind.reactivation if paid_before else MovementKind.new
    if new == 0:
        return MovementKind.churn
    return MovementKind.expansion if new > old else MovementKind.contraction


def mrr_steps(
    *, old_mrr: int, old_currency: str | None, mrr: int, currency: str | None, paid_before: bool,
) -> list[tuple[str, int, int, str]]:
    """The movements (currency, old, new, kind) that take a customer from one MRR and currency to another.

    A paying customer that switches currency churns in the old one and starts again in the new one.
    """
    steps: list[tuple[str, int, int]] = []
    if old_mrr > 0 and old_currency and currency != old_currency:
        steps.append((old_currency, old_mrr, 0))
        if mrr > 0:
            steps.append((currency or "", 0, mrr))
    elif mrr != old_mrr:
        steps.append((currency or "", old_mrr, mrr))
    result = []
    for step_currency, old, new in steps:
        result.append((step_currency, old, new, movement_kind(old, new, paid_before=paid_before).value))
        paid_before = True
    return result


def paying_mrr(status: str, mrr: int) -> int:
    """The MRR a customer in this status pays: 0 while trialing, incomplete, paused or canceled."""
    return 0 if status in NOT_PAYING else mrr


def last_movement_at(*, session: Session, customer_id: int) -> datetime | None:
    """When the customer's latest movement happened (None: never paid)."""
    stmt = (select(col(MrrMovement.at)).where(col(MrrMovement.customer_id) == customer_id)
            .order_by(col(MrrMovement.at).desc()).limit(1))
    return session.exec(stmt).first()


def apply_mrr(
    *, session: Session, customer: Customer, mrr: int, currency: str | None, at: datetime,
    source_event: str | None = None,
) -> MrrApplied:
    """Set the customer's MRR as of `at`, writing the movement; an `at` older than its latest movement is stale.

    `currency` None keeps the customer's. A paying customer that switches currency churns in the old one and starts
    again in the new one (two movements), so every currency's MRR stays the sum of its own movements. The caller
    holds the customer's row lock (storage.writes.find_customer(lock=True)) and commits.
    """
    if mrr < 0:
        raise MrrInvalid("mrr must be an integer >= 0 (minor units)")
    currency = (currency or customer.currency or "").upper() or None
    if currency is None and mrr > 0:
        raise MrrInvalid("an mrr needs a currency")
    assert customer.id is not None
    last = last_movement_at(session=session, customer_id=customer.id)
    if last is not None and last > at:
        return MrrApplied(stale=True)
    written = []
    for step_currency, old, new, kind in mrr_steps(old_mrr=customer.mrr, old_currency=customer.currency, mrr=mrr,
                                                   currency=currency, paid_before=last is not None):
        movement = MrrMovement(customer_id=customer.id, at=at, currency=step_currency, old_mrr=old, new_mrr=new,
                               delta=new - old, kind=kind, source_event=source_event)
        session.add(movement)
        written.append(movement)
    if currency != customer.currency or mrr != customer.mrr:
        customer.mrr, customer.currency = mrr, currency
        session.add(customer)
    session.flush()
    return MrrApplied(movements=tuple(written))


def recent_movements(*, session: Session, customer_id: int, limit: int = 5) -> list[MrrMovement]:
    """A customer's latest movements, newest first (the customer card)."""
    stmt = (select(MrrMovement).where(col(MrrMovement.customer_id) == customer_id)
            .order_by(col(MrrMovement.at).desc(), col(MrrMovement.id).desc()).limit(limit))
    return list(session.exec(stmt))


def recount_revenue(conn: Connection) -> None:
    """Recompute the trigger-kept MRR totals from the customers and movements (bulk loads run it, triggers off)."""
    hour = _HOUR[conn.dialect.name].format("at")
    conn.exec_driver_sql("DELETE FROM mrr_hour")
    conn.exec_driver_sql(f"INSERT INTO mrr_hour(hour, currency, kind, amount, count) "
                         f"SELECT {hour}, currency, kind, sum(delta), count(*) FROM mrr_movement "
                         f"GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")  # in hour order: a window's hours share pages
    conn.exec_driver_sql("DELETE FROM mrr_day")
    conn.exec_driver_sql("INSERT INTO mrr_day(day, currency, kind, amount, count) "
                         "SELECT substr(hour, 1, 10), currency, kind, sum(amount), sum(count) FROM mrr_hour "
                         "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")
    conn.exec_driver_sql("DELETE FROM mrr_total")
    conn.exec_driver_sql("INSERT INTO mrr_total(currency, mrr, paying) "
                         "SELECT currency, sum(mrr), sum(CASE WHEN mrr > 0 THEN 1 ELSE 0 END) FROM customer "
                         "WHERE currency IS NOT NULL GROUP BY currency")


def record_first_mrr(conn: Connection, *, after_id: int) -> None:
    """A `new` movement at signup for each paying customer inserted after `after_id` (imports state MRR as of now).

    An import states what a new customer pays, not since when: the movement is dated at its signup, so MRR over time
    follows the signups the store already shows; nothing else (expansions, churn) is invented.
    """
    conn.execute(text("INSERT INTO mrr_movement(customer_id, at, currency, old_mrr, new_mrr, delta, kind) "
                      "SELECT id, created_at, currency, 0, mrr, mrr, :kind FROM customer "
                      "WHERE id > :after AND mrr > 0 ORDER BY id"), {"kind": MovementKind.new.value, "after": after_id})


def write_mrr_changes(conn: Connection, changes: list[tuple[int, int, str | None, int, str | None]], *,
                      at: datetime) -> None:
    """The movements of MRR changes (customer id, old mrr, old currency, new mrr, new currency) made at `at`."""
    if not changes:
        return
    ids = [change[0] for change in changes]
    paid: set[int] = set()  # customers with any earlier movement: from 0 they reactivate rather than start
    for start in range(0, len(ids), 1000):
        paid.update(conn.execute(select(col(MrrMovement.customer_id)).distinct()
                                 .where(col(MrrMovement.customer_id).in_(ids[start:start + 1000]))).scalars())
    rows = [{"customer_id": cid, "at": at, "currency": step_currency, "old_mrr": old, "new_mrr": new,
             "delta": new - old, "kind": kind}
            for cid, old_mrr, old_currency, mrr, currency in changes
            for step_currency, old, new, kind in mrr_steps(old_mrr=old_mrr, old_currency=old_currency, mrr=mrr,
                                                           currency=currency, paid_before=cid in paid)]
    for start in range(0, len(rows), 5000):
        conn.execute(insert(MrrMovement.__table__), rows[start:start + 5000])  # type: ignore[attr-defined]
