"""Finance: the balance per currency as of an instant, and payment and payout lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, or_, text, union_all
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from storage.customers import window_conditions
from storage.models import Customer, Payment, PaymentDaily, PaymentTotal, Payout, PayoutStatus
from storage.paging import Page, PageRequest, build_page, keyset
from storage.query import Query
from storage.search import COUNT_CAP, customer_term, is_common, like_pattern

COMMITTED_PAYOUTS = (PayoutStatus.pending.value, PayoutStatus.in_transit.value, PayoutStatus.paid.value)
# Above this many matching customers, a payment search walks the time index instead of collecting their payments:
# collecting and sorting many customers' payments costs more than walking newest first until a page is full.
WALK_ABOVE_CUSTOMERS = 10_000
IN_TRANSIT_PAYOUTS = (PayoutStatus.pending.value, PayoutStatus.in_transit.value)


@dataclass(frozen=True)
class Balance:
    """Where the money stands in one currency; every figure in minor units."""

    currency: str
    available: int
    pending: int
    in_transit: int
    paid_out: int
    lifetime: int
    next_clearing_at: datetime | None
    next_clearing_amount: int


def balance(*, session: Session, now: datetime, refund_window_days: int) -> list[Balance]:
    """Per currency, never mixed: available, pending in the refund window, payouts and earnings as of `now`."""
    cutoff = now - timedelta(days=refund_window_days)
    net = col(Payment.amount) - col(Payment.fee) - col(Payment.refunded_amount)
    sums = _sums(session, net, cutoff=cutoff, now=now)

    def part(name: str, currency: str, status: str = "") -> int:
        return sums.get((name, currency, status), 0)

    result = []
    for currency in sorted({currency for _, currency, _ in sums}):
        lifetime = part("total", currency) - part("future", currency)
        pending = part("pending", currency)
        at, amount = _next_clearing(session, net, currency=currency, cutoff=cutoff, now=now)
        result.append(Balance(
            currency=currency,
            available=lifetime - pending - sum(part("payout", currency, s) for s in COMMITTED_PAYOUTS),
            pending=pending,
            in_transit=sum(part("payout", currency, s) for s in IN_TRANSIT_PAYOUTS),
            paid_out=part("payout", currency, PayoutStatus.paid.value),
            lifetime=lifetime,
            next_clearing_at=at + timedelta(days=refund_window_days) if at else None,
            next_clearing_amount=amount,
        ))
    return result


def _sums(session: Session, net: Any, *, cutoff: datetime, now: datetime) -> dict[tuple[str, str, str], int]:
    """Every sum the balance needs, in one statement: (part, currency, payout status or "") -> minor units.

    total: the trigger-kept lifetime net; future: net of payments after `now` (subtracted); pending: net in
    (cutoff, now], whole UTC days from payment_daily and the two partial days from payments; payout: per status.
    """
    def payments(name: str, *conditions: ColumnElement[bool]) -> Select[str, str, str, int]:
        return (sa_select(literal(name), col(Payment.currency), literal(""), func.sum(net))
                .where(*conditions).group_by(col(Payment.currency)))

    stamp = col(Payment.created_at)
    parts: list[Select[str, str, str, int]] = [
        sa_select(literal("total"), col(PaymentTotal.currency), literal(""),
               col(PaymentTotal.amount) - col(PaymentTotal.fee) - col(PaymentTotal.refunded)),
        payments("future", stamp > now),
        sa_select(literal("payout"), col(Payout.currency), col(Payout.status), func.sum(Payout.amount))
        .where(col(Payout.created_at) <= now).group_by(col(Payout.currency), col(Payout.status)),
    ]
    first_day, last_day = cutoff.astimezone(UTC).date(), now.astimezone(UTC).date()
    if (last_day - first_day).days < 2:
        parts.append(payments("pending", stamp > cutoff, stamp <= now))
    else:
        after_first = datetime.combine(first_day + timedelta(days=1), time.min, tzinfo=UTC)
        start_last = datetime.combine(last_day, time.min, tzinfo=UTC)
        parts += [
            payments("pending", stamp > cutoff, stamp < after_first),
            payments("pending", stamp >= start_last, stamp <= now),
            sa_select(literal("pending"), col(PaymentDaily.currency), literal(""), func.sum(PaymentDaily.net))
            .where(col(PaymentDaily.day) >= after_first.date().isoformat(),
                   col(PaymentDaily.day) < last_day.isoformat())
            .group_by(col(PaymentDaily.currency)),
        ]
    sums: dict[tuple[str, str, str], int] = {}
    for name, currency, status, amount in session.connection().execute(union_all(*parts)):
        key = (str(name), str(currency), str(status))
        sums[key] = sums.get(key, 0) + int(amount or 0)
    return sums


def _next_clearing(
    session: Session, net: Any, *, currency: str, cutoff: datetime, now: datetime
) -> tuple[datetime | None, int]:
    """The earliest uncleared payment with a positive net, and the net that clears at that instant (one statement)."""
    first = (select(col(Payment.created_at))
             .where(col(Payment.created_at) > cutoff, col(Payment.created_at) <= now,
                    col(Payment.currency) == currency, net > 0)
             .order_by(col(Payment.created_at)).limit(1).scalar_subquery())
    found = session.exec(
        select(col(Payment.created_at), func.sum(net))
        .where(col(Payment.created_at) == first, col(Payment.currency) == currency, net > 0)
        .group_by(col(Payment.created_at))
    ).first()
    if found is None:
        return None, 0
    return found[0], int(found[1] or 0)


@dataclass(frozen=True)
class PaymentRow:
    """A payment with the organization it came from."""

    payment: Payment
    organization: str
    email: str


def _payment_conditions(session: Session, query: Query) -> list[ColumnElement[bool]]:
    """WHERE clauses for payment lists: text on customer or payment id, currency, created window."""
    conditions: list[ColumnElement[bool]] = []
    for term in query.terms:
        # The customer side goes through the customers' search index; a payment id matches when pasted whole.
        customers = select(col(Customer.id)).where(customer_term(session, term))
        # Tens of thousands of customers match a common term: walk the payments newest first and test each, which
        # finds a page soon, instead of gathering all their payments and sorting them (`+ 0` hides the customer index).
        walk = is_common(session, term, cap=WALK_ABOVE_CUSTOMERS)
        payer = col(Payment.customer_id) + 0 if walk else col(Payment.customer_id)
        conditions.append(or_(payer.in_(customers), col(Payment.external_id) == term))
    if query.currency:
        conditions.append(col(Payment.currency) == query.currency)
    return conditions + window_conditions(col(Payment.created_at), query.created)


def list_payments(*, session: Session, query: Query, page: PageRequest) -> Page[PaymentRow]:
    """A page of payments, newest first unless sorted otherwise, with the total count."""
    column = col(Payment.amount) if query.sort.key == "amount" else col(Payment.created_at)
    conditions = _payment_conditions(session, query)
    base = select(Payment, col(Customer.organization), col(Customer.email)).join(
        Customer, col(Customer.id) == Payment.customer_id).where(*conditions)
    stmt, backwards = keyset(base, column=column, id_column=col(Payment.id),
                             descending=query.sort.descending, page=page)
    rows = [PaymentRow(payment=p, organization=o, email=e) for p, o, e in session.exec(stmt)]
    total, capped = _count_payments(session, query, conditions)
    attr = "amount" if query.sort.key == "amount" else "created_at"

    def key(row: PaymentRow) -> tuple[Any, int]:
        return getattr(row.payment, attr), row.payment.id or 0

    return build_page(rows, total=total, page=page, backwards=backwards, key=key, capped=capped)


def _count_payments(session: Session, query: Query, conditions: list[ColumnElement[bool]]) -> tuple[int, bool]:
    """(count, more than that): exact from the running totals without filters, else counted up to COUNT_CAP."""
    if not query.terms and not query.created:
        currency = "WHERE currency = :c" if query.currency else ""
        known = session.connection().execute(text(f"SELECT coalesce(sum(count), 0) FROM payment_total {currency}"),
                                             {"c": query.currency}).scalar_one()
        return int(known), False
    # Millions of payments: counting every match would cost more than the page itself.
    capped = select(col(Payment.id)).where(*conditions).limit(COUNT_CAP + 1).subquery()
    found = int(session.exec(select(func.count()).select_from(capped)).one())
    return min(found, COUNT_CAP), found > COUNT_CAP


def list_payouts(*, session: Session, query: Query, page: PageRequest) -> Page[Payout]:
    """A page of payouts filtered by status, currency and window, newest first by default."""
    columns = {"amount": col(Payout.amount), "arrival": col(Payout.arrival_date)}
    column = columns.get(query.sort.key, col(Payout.created_at))
    conditions = window_conditions(col(Payout.created_at), query.created)
    if query.statuses:
        conditions.append(col(Payout.status).in_(query.statuses))
    if query.currency:
        conditions.append(col(Payout.currency) == query.currency)
    for term in query.terms:
        conditions.append(func.lower(Payout.external_id).like(like_pattern(term), escape="\\"))
    if query.sort.key == "arrival":
        conditions.append(col(Payout.arrival_date).is_not(None))
    stmt, backwards = keyset(select(Payout).where(*conditions), column=column, id_column=col(Payout.id),
                             descending=query.sort.descending, page=page)
    rows = list(session.exec(stmt))
    total = int(session.exec(select(func.count()).select_from(Payout).where(*conditions)).one())
    attr = {"amount": "amount", "arrival": "arrival_date"}.get(query.sort.key, "created_at")

    def key(row: Payout) -> tuple[Any, int]:
        return getattr(row, attr), row.id or 0

    return build_page(rows, total=total, page=page, backwards=backwards, key=key)
