"""The WHERE clauses and counts of customer questions: every index usable, or only those a plan leaves visible."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Integer, ScalarSelect, String, and_, any_, bindparam, cast, func, or_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session, col, select

from storage.estimate import MIN_TRIGRAM_TERM
from storage.hourly import window_count
from storage.models import Customer, SeatCount, Status, StatusCount
from storage.query import Query, Window
from storage.rules import CURRENCY_EXPONENTS
from storage.search import term_condition

SORT_COLUMNS: dict[str, Any] = {
    "created": Customer.created_at,
    "seats": Customer.seats,
    "organization": Customer.organization,
    "canceled": Customer.canceled_at,
    "mrr": Customer.mrr,  # minor units: within one currency the order of the amounts (finance users only)
}


def window_conditions(column: Any, window: Window) -> list[ColumnElement[bool]]:
    """since <= column < until, for whichever ends are set."""
    conditions: list[ColumnElement[bool]] = []
    if window.since is not None:
        conditions.append(column >= window.since)
    if window.until is not None:
        conditions.append(column < window.until)
    return conditions


def customer_conditions(session: Session, query: Query) -> list[ColumnElement[bool]]:
    """The WHERE clauses a query stands for (shared by counts and exports), every index left to the engine."""
    return planned_conditions(session, query, visible=None)


def planned_conditions(session: Session, query: Query, *, visible: frozenset[str] | None,
                       ids: tuple[int, ...] | None = None, only_visible: bool = False,
                       indexed_terms: bool = True) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a query, the index groups outside `visible` hidden from the planner (None: hide none).

    A hidden column is written `coalesce(c, c)`: the same value, but no index serves it, so the engine reads the plan's
    index (storage.plan) and tests the rest on the rows it reads. `ids`: the customers holding every indexed term
    (storage.estimate), which then stand in for those terms. `only_visible`: just the visible groups' clauses.
    `indexed_terms=False`: leave out the terms of 3+ characters (a trigram-index read states them).
    """
    conditions: list[ColumnElement[bool]] = []

    def shown(group: str, column: Any) -> Any:
        return column if visible is None or group in visible else func.coalesce(column, column)

    def add(group: str, *clauses: ColumnElement[bool]) -> None:
        if not only_visible or (visible is not None and group in visible):
            conditions.extend(clauses)

    terms = query.terms
    if ids is not None:
        add("ids", ids_condition(session, ids))
    if ids is not None or not indexed_terms:
        terms = tuple(term for term in terms if len(term) < MIN_TRIGRAM_TERM)
    if query.statuses:
        add("status", shown("status", col(Customer.status)).in_(query.statuses))
    seats = shown("seats", col(Customer.seats))
    if query.seats_min is not None and query.seats_min == query.seats_max:
        add("seats", seats == query.seats_min)  # equality lets (seats, created_at) order too
    else:
        if query.seats_min is not None:
            add("seats", seats >= query.seats_min)
        if query.seats_max is not None:
            add("seats", seats <= query.seats_max)
    add("created", *window_conditions(shown("created", col(Customer.created_at)), query.created))
    if query.mrr_min is not None or query.mrr_max is not None:
        add("mrr", *mrr_conditions(shown("mrr", col(Customer.mrr)), col(Customer.currency), query))
    if query.canceled:  # canceled customers only: the status test serves whichever index the plan reads
        by_status = visible is not None and "status" in visible and "canceled" not in visible
        group = "status" if by_status else "canceled"
        add(group, shown(group, col(Customer.status)) == Status.canceled.value)
        add("canceled", *window_conditions(shown("canceled", col(Customer.canceled_at)), query.canceled))
    if query.sort.key == "canceled":  # only canceled customers have a time
        group = "canceled" if visible is not None and "canceled" in visible else "sort"
        # A plan reading a (status, ...) index gets the status stated (a canceled window already states it), and
        # the time test stays hidden: else PostgreSQL took (status, canceled_at) for both and intersected every
        # canceled row with the range.
        if visible is not None and "status" in visible and group == "sort" and not query.canceled:
            add("status", col(Customer.status) == Status.canceled.value)
        add(group, shown(group, col(Customer.canceled_at)).is_not(None))
    # Terms last: a row read in a scan meets the cheap comparisons first, and most never reach the LIKEs.
    hide_terms = visible is not None and "terms" not in visible
    add("terms", *(term_condition(session, term, scan=hide_terms) for term in terms))
    return conditions


def ids_condition(session: Session, ids: Sequence[int]) -> ColumnElement[bool]:
    """The customer is one of these ids: one array parameter on PostgreSQL, which would parse and plan a list of
    a thousand parameters anew for each question; SQLite takes the list."""
    if session.get_bind().dialect.name == "postgresql":
        # As the array's text: the driver would inspect each of thousands of ints in Python to send a list.
        listed = bindparam(None, "{" + ",".join(map(str, ids)) + "}", type_=String)
        return col(Customer.id) == any_(cast(listed, ARRAY(Integer)))
    return col(Customer.id).in_(ids)


def mrr_conditions(mrr: Any, currency: Any, query: Query) -> list[ColumnElement[bool]]:
    """MRR within the query's bounds, in whole major units of each customer's own currency (JPY 0 decimals, KWD 3).

    The outer bounds (the smallest and largest exponent's, inclusive) let an (mrr, id) index read just that range.
    """
    low, high, (above, below) = query.mrr_min, query.mrr_max, query.mrr_strict

    def within(scale: int) -> list[ColumnElement[bool]]:
        bounds = [] if low is None else [mrr > low * scale if above else mrr >= low * scale]
        return bounds + ([] if high is None else [mrr < high * scale if below else mrr <= high * scale])

    if low in (None, 0) and high in (None, 0):
        return within(1)  # 0 is 0 in every currency
    groups: dict[int, list[str]] = {}
    for code, exponent in CURRENCY_EXPONENTS.items():
        if exponent != 2:
            groups.setdefault(exponent, []).append(code)
    exponents = sorted({2, *groups})
    outer = [] if low is None else [mrr >= low * 10 ** exponents[0]]
    outer += [] if high is None else [mrr <= high * 10 ** exponents[-1]]
    held = func.coalesce(currency, "")
    others = [c for codes in groups.values() for c in codes]
    per_exponent = [and_(held.in_(groups[e]) if e in groups else held.not_in(others), *within(10 ** e))
                    for e in exponents]
    return [*outer, or_(*per_exponent)]


def sort_columns(query: Query) -> tuple[Any, Any]:
    """ORDER BY for a query: its sort key in its direction, then id the same way (a stable tie-breaker)."""
    column = SORT_COLUMNS[query.sort.key]
    if query.sort.descending:
        return column.desc(), col(Customer.id).desc()
    return column.asc(), col(Customer.id).asc()


def count_customers(*, session: Session, query: Query) -> int:
    """How many customers match; status, seat and window-only queries are answered from the running counts."""
    return int(session.exec(select(count_statement(session=session, query=query))).one())


def count_statement(*, session: Session, query: Query) -> ScalarSelect[int]:
    """The exact count of a query's matches as a scalar subquery, from the trigger-kept totals where they can answer."""
    kept = kept_count(session=session, query=query)
    return _rows_in(session, query) if kept is None else kept


def _rows_in(session: Session, part: Query) -> ScalarSelect[int]:
    """Count the customers of a query row by row."""
    return select(func.count()).where(*customer_conditions(session, part)).scalar_subquery()


def kept_count(*, session: Session, query: Query) -> ScalarSelect[int] | None:
    """The count from the trigger-kept totals (status, seats, one window), or None when they cannot answer it."""
    if query.mrr_min is not None or query.mrr_max is not None:
        return None  # no total is kept per MRR
    if not (query.terms or query.created or query.canceled or query.sort.key == "canceled"):
        # status and seat filters only: sum the trigger-kept totals
        total = _status_total(query.statuses)
        if query.seats_min is None and query.seats_max is None:
            return total
        if query.seats_max is None and query.seats_min is not None:
            # an open range (`seats:>10`) spans most (status, seats) pairs: subtracting the few below it reads less
            return select(total - _seat_total(query.statuses, below=query.seats_min)).scalar_subquery()
        return _seat_total(query.statuses, low=query.seats_min, high=query.seats_max)
    if query.terms:
        return None
    seats = (query.seats_min, query.seats_max)
    if query.created and not (query.canceled or query.sort.key == "canceled"):
        return window_count(kind="signups", window=query.created, statuses=query.statuses, seats=seats,
                            count_rows=lambda part: _window_rows(session, query.with_window(created=part), "created"))
    if query.canceled and not query.created and (not query.statuses or Status.canceled.value in query.statuses):
        # a cancellation window holds canceled customers only: `status:canceled,paused` asks no more than that
        return window_count(kind="cancellations", window=query.canceled, seats=seats,
                            count_rows=lambda part: _window_rows(session, query.with_window(canceled=part), "canceled"))
    return None


def _window_rows(session: Session, part: Query, window: str) -> ScalarSelect[int]:
    """Count a window's partial hour or day row by row, through the window's own index (a day's rows at most).

    Left to choose, an engine may read a (status, seats) range of hundreds of thousands of rows instead. A signup
    window's statuses and one seat count lead the (status, created_at), (seats, created_at) and (status, seats,
    created_at) indexes, so they are shown too: else each of a partial day's signups was read to test them.
    """
    groups = {window}
    if window == "created":
        if part.statuses:
            groups.add("status")
        if part.seats_min is not None and part.seats_min == part.seats_max:
            groups.add("seats")
    return select(func.count()).where(*planned_conditions(session, part, visible=frozenset(groups))
                                      ).scalar_subquery()


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
