"""Customer queries: filtered lists, counts and the detail card (see also storage.search, storage.signals)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, func, or_, text
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from storage.hourly import window_count
from storage.models import Customer, Payment, SeatChange, SeatCount, Status, StatusCount
from storage.paging import Page, PageRequest, build_page, keyset
from storage.query import Query, Window, reject_control
from storage.search import COUNT_CAP, probe_matches, term_condition
from storage.types import UTCDateTime

_SORT_COLUMNS: dict[str, Any] = {
    "created": Customer.created_at,
    "seats": Customer.seats,
    "organization": Customer.organization,
    "canceled": Customer.canceled_at,
}


def window_conditions(column: Any, window: Window) -> list[ColumnElement[bool]]:
    """since <= column < until, for whichever ends are set."""
    conditions: list[ColumnElement[bool]] = []
    if window.since is not None:
        conditions.append(column >= window.since)
    if window.until is not None:
        conditions.append(column < window.until)
    return conditions


def customer_conditions(
    session: Session, query: Query, *, scan_terms: frozenset[str] = frozenset(), for_page: bool = False
) -> list[ColumnElement[bool]]:
    """The WHERE clauses a query stands for (shared by lists, counts and exports).

    For a page sorted by name or seats, the status test is written so the planner walks the sort index instead of
    collecting every row of a common status and sorting them (`status || ''` hides the status index).
    """
    conditions = [term_condition(session, term, scan=term in scan_terms) for term in query.terms]
    if query.statuses:
        status = col(Customer.status)
        hide = for_page and query.sort.key in ("organization", "seats")
        conditions.append((status.concat("") if hide else status).in_(query.statuses))
    if query.seats_min is not None and query.seats_min == query.seats_max:
        conditions.append(col(Customer.seats) == query.seats_min)  # equality lets (seats, created_at) order too
    else:
        if query.seats_min is not None:
            conditions.append(col(Customer.seats) >= query.seats_min)
        if query.seats_max is not None:
            conditions.append(col(Customer.seats) <= query.seats_max)
    conditions += window_conditions(col(Customer.created_at), query.created)
    if query.canceled:
        conditions.append(col(Customer.status) == Status.canceled.value)
        conditions += window_conditions(col(Customer.canceled_at), query.canceled)
    if query.sort.key == "canceled":
        conditions.append(col(Customer.canceled_at).is_not(None))
    return conditions


def sort_columns(query: Query) -> tuple[Any, Any]:
    """ORDER BY for a query: its sort key in its direction, then id the same way (a stable tie-breaker)."""
    column = _SORT_COLUMNS[query.sort.key]
    if query.sort.descending:
        return column.desc(), col(Customer.id).desc()
    return column.asc(), col(Customer.id).asc()


def count_customers(*, session: Session, query: Query) -> int:
    """How many customers match; status, seat and window-only queries are answered from the running counts."""
    return int(session.exec(select(count_statement(session=session, query=query))).one())


def count_statement(*, session: Session, query: Query) -> ScalarSelect[int]:
    """The count of a query's matches as a scalar subquery, from the trigger-kept totals where they can answer."""
    if not (query.terms or query.created or query.canceled or query.sort.key == "canceled"):
        # status and seat filters only: sum the trigger-kept totals
        total = _status_total(query.statuses)
        if query.seats_min is None and query.seats_max is None:
            return total
        if query.seats_max is None and query.seats_min is not None:
            # an open range (`seats:>10`) spans most (status, seats) pairs: subtracting the few below it reads less
            return select(total - _seat_total(query.statuses, below=query.seats_min)).scalar_subquery()
        return _seat_total(query.statuses, low=query.seats_min, high=query.seats_max)

    def rows_in(part: Query) -> ScalarSelect[int]:
        return select(func.count()).where(*customer_conditions(session, part)).scalar_subquery()

    if not (query.terms or query.seats_min is not None or query.seats_max is not None):
        if query.created and not (query.canceled or query.statuses or query.sort.key == "canceled"):
            return window_count(kind="signups", window=query.created,
                                count_rows=lambda part: rows_in(query.with_window(created=part)))
        if query.canceled and not query.created and set(query.statuses) <= {Status.canceled.value}:
            return window_count(kind="cancellations", window=query.canceled,
                                count_rows=lambda part: rows_in(query.with_window(canceled=part)))
    return rows_in(query)


def _status_total(statuses: tuple[str, ...]) -> ScalarSelect[int]:
    """Customers in these statuses (all when none are given), from the per-status totals."""
    totals = select(func.coalesce(func.sum(StatusCount.customers), 0))
    if statuses:
        totals = totals.where(col(StatusCount.status).in_(statuses))
    return totals.scalar_subquery()


def _seat_total(statuses: tuple[str, ...], *, low: int | None = None, high: int | None = None,
                below: int | None = None) -> ScalarSelect[int]:
    """Customers in these statuses with seats in [low, high] (or under `below`), from the (status, seats) totals."""
    kept = select(func.coalesce(func.sum(SeatCount.customers), 0))
    if statuses:
        kept = kept.where(col(SeatCount.status).in_(statuses))
    if low is not None:
        kept = kept.where(col(SeatCount.seats) >= low)
    if high is not None:
        kept = kept.where(col(SeatCount.seats) <= high)
    if below is not None:
        kept = kept.where(col(SeatCount.seats) < below)
    return kept.scalar_subquery()


def list_customers(*, session: Session, query: Query, page: PageRequest) -> Page[Customer]:
    """A page of customers matching the query, in its sort order, with the total count."""
    column = _SORT_COLUMNS[query.sort.key]
    probes = {term: probe_matches(session, term) for term in query.terms}
    common = frozenset(term for term, found in probes.items() if found is None or found > COUNT_CAP)
    only_term = len(probes) == 1 and not (query.statuses or query.seats_min is not None or query.seats_max is not None
                                          or query.created or query.canceled or query.sort.key == "canceled")
    # When the count is exact, it rides along with the page as a subquery: one round trip instead of two.
    counted = not common and not only_term
    extra = [count_statement(session=session, query=query).label("total")] if counted else []
    stmt = select(Customer, *extra).where(*customer_conditions(session, query, scan_terms=common, for_page=True))
    sort_by = column
    if probes and not common and session.get_bind().dialect.name == "postgresql":
        # Every term is rare (at most COUNT_CAP matches): collect them from the trigram index, then sort. Behind
        # coalesce the sort index cannot lure the planner into testing every row when it misjudges a rare term
        # (10k customers, no match: 16 ms walking the index instead of 0.5 ms).
        sort_by = func.coalesce(column, column)
    stmt, backwards = keyset(
        stmt, column=sort_by, id_column=col(Customer.id), descending=query.sort.descending, page=page
    )
    fetched = list(session.exec(stmt))
    rows: list[Customer] = [r[0] for r in fetched] if counted else fetched
    total: int | None = int(fetched[0][1]) if counted and fetched else None  # an empty page counts on its own
    attr = column.key

    def key(row: Customer) -> tuple[Any, int]:
        return getattr(row, attr), row.id or 0

    found = next(iter(probes.values())) if only_term else None
    if found is not None:  # the probe already counted this one-term search (up to the cap): don't count it twice
        return build_page(rows, total=min(found, COUNT_CAP), page=page, backwards=backwards, key=key,
                          capped=found > COUNT_CAP)
    if common:  # thousands match: count up to the cap ("1,000+") instead of counting them all
        # Driven by the trigram index, this stops after COUNT_CAP + 1 matches however rare the other filters are.
        # Short terms have no trigrams: their count scans too, stopping at the cap (a GIN scan would read it all).
        short = frozenset(term for term, found in probes.items() if found is None)
        conditions = customer_conditions(session, query, scan_terms=short)
        capped = select(Customer.id).where(*conditions).limit(COUNT_CAP + 1).subquery()
        total = int(session.exec(select(func.count()).select_from(capped)).one())
        return build_page(rows, total=min(total, COUNT_CAP), page=page, backwards=backwards, key=key,
                          capped=total > COUNT_CAP)
    return build_page(rows, total=count_customers(session=session, query=query) if total is None else total,
                      page=page, backwards=backwards, key=key)


def count_by_status(*, session: Session) -> dict[str, int]:
    """Customers per status, every status present (0 when none), from the trigger-kept counts."""
    rows = session.connection().execute(text("SELECT status, customers FROM status_count"))
    counts = {status.value: 0 for status in Status}
    counts.update({status: int(n) for status, n in rows})
    return counts


def seat_totals(*, session: Session) -> dict[str, int]:
    """Seats per status, from the trigger-kept counts."""
    return {status: seats for status, (_customers, seats) in status_totals(session=session).items()}


def status_totals(*, session: Session) -> dict[str, tuple[int, int]]:
    """(customers, seats) per status in one statement, from the trigger-kept counts."""
    rows = session.connection().execute(text("SELECT status, customers, seats FROM status_count"))
    return {status: (int(customers), int(seats)) for status, customers, seats in rows}


@dataclass(frozen=True)
class CurrencyTotals:
    """What one customer paid in one currency."""

    currency: str
    paid: int
    refunded: int
    payments: int
    last_payment_at: datetime | None


@dataclass(frozen=True)
class CustomerDetail:
    """Everything the `/customers show` card needs."""

    customer: Customer
    seat_history: list[SeatChange]
    totals: list[CurrencyTotals]


def find_customers(*, session: Session, key: str, limit: int = 10) -> list[Customer]:
    """Exact email, external id or organization first; otherwise a substring search."""
    reject_control(key)
    lowered = key.strip().lower()
    if not lowered:
        return []
    exact = session.exec(
        select(Customer)
        .where(or_(col(Customer.email_key) == lowered, col(Customer.external_id) == key.strip(),
                   func.lower(Customer.organization) == lowered))
        .order_by(col(Customer.created_at).desc())
        .limit(limit)
    ).all()
    if exact:
        return list(exact)
    cond = term_condition(session, lowered)
    return list(session.exec(select(Customer).where(cond).order_by(col(Customer.created_at).desc()).limit(limit)))


def customer_detail(*, session: Session, customer: Customer, history: int = 10) -> CustomerDetail:
    """The customer with its latest seat changes and its finance totals per currency."""
    changes = session.exec(
        select(SeatChange).where(SeatChange.customer_id == customer.id)
        .order_by(col(SeatChange.at).desc(), col(SeatChange.id).desc()).limit(history)
    ).all()
    totals = session.connection().execute(
        sa_select(col(Payment.currency), func.sum(Payment.amount), func.sum(Payment.refunded_amount),
                  func.count(), func.max(Payment.created_at))
        .where(col(Payment.customer_id) == customer.id)
        .group_by(col(Payment.currency))
        .order_by(col(Payment.currency))
    ).all()
    return CustomerDetail(
        customer=customer,
        seat_history=list(changes),
        totals=[CurrencyTotals(currency=c, paid=int(p), refunded=int(r), payments=int(n),
                               last_payment_at=_aware(last)) for c, p, r, n, last in totals],
    )


def _aware(value: Any) -> datetime | None:
    """func.max loses the column type on SQLite; turn its text back into an aware UTC instant."""
    return UTCDateTime().process_result_value(value, None)  # type: ignore[arg-type]
