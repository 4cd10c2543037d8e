"""Customer queries: filtered, planned lists, counts and the detail card (see also storage.search, storage.signals)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, ScalarSelect, func, or_, text
from sqlalchemy import select as sa_select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.selectable import Alias
from sqlalchemy.sql.util import ClauseAdapter
from sqlmodel import Session, col, select

from storage.conditions import SORT_COLUMNS, ids_condition, kept_count, planned_conditions
from storage.conditions import count_customers as count_customers
from storage.conditions import count_statement as count_statement
from storage.conditions import customer_conditions as customer_conditions
from storage.conditions import sort_columns as sort_columns
from storage.conditions import window_conditions as window_conditions
from storage.estimate import MIN_TRIGRAM_TERM, gather, term_select
from storage.models import Customer, Payment, SeatChange, Status
from storage.paging import Page, PageRequest, build_page, keyset
from storage.plan import SCAN_CAP, WALK_BUDGET, Count, Estimates, Kind, Plan, capped_groups, choose, count_groups
from storage.query import Query, reject_control
from storage.search import COUNT_CAP, term_condition
from storage.types import UTCDateTime

T = TypeVar("T")


def list_customers(*, session: Session, query: Query, page: PageRequest,
                   known_total: tuple[int, bool] | None = None) -> Page[Customer]:
    """A page of customers matching the query, in its sort order, with the total count (planned: storage.plan).

    `known_total` (count, capped): the count an earlier page of the same question found, shown instead of counting.
    """
    return planned_page(session=session, query=query, page=page, known_total=known_total)[0]


def choose_plan(*, session: Session, query: Query) -> Plan:
    """The plan a question gets, from the estimates gathered for it (the bench prints it beside the slow ones)."""
    kept = kept_count(session=session, query=query)
    return choose(query, gather(session, query, cap=COUNT_CAP), cap=COUNT_CAP, kept_count=kept is not None)


def planned_page(*, session: Session, query: Query, page: PageRequest,
                 known_total: tuple[int, bool] | None = None) -> tuple[Page[Customer], Plan]:
    """Estimate, choose a plan, then read the page and its count the way the plan says (unless the count is known)."""
    est = gather(session, query, cap=COUNT_CAP)
    kept = kept_count(session=session, query=query)
    plan = choose(query, est, cap=COUNT_CAP, kept_count=kept is not None)
    column = SORT_COLUMNS[query.sort.key]
    found: tuple[int, bool] | None = known_total  # (count, capped) when it is already known
    if found is None and plan.count is Count.capped and est.term_ids is None and _terms_only(query):
        found = (COUNT_CAP, True)  # the probe met more than the cap holding every term: "1,000+" without a count
    conditions = planned_conditions(session, query, visible=plan.visible,
                                    ids=est.term_ids if plan.kind is Kind.ids else None)
    if plan.kind in (Kind.ids, Kind.both) and est.term_ids is None:  # beyond the probe's cap, under SCAN_CAP
        one_pass = term_page(session=session, query=query, plan=plan, est=est, page=page)
        if one_pass is not None:
            rows, total, backwards = one_pass
            found = found or (total, False)
            return build_page(rows, total=found[0], page=page, backwards=backwards, key=_sort_key(query),
                              capped=found[1]), plan
        plan = replace(plan, kind=Kind.scan, visible=frozenset(), why=f"{plan.why}; over {SCAN_CAP:,}: scan")
    if plan.kind is Kind.scan:
        table, scanned, run = _scanned(session, query)
        matched = run(lambda: list(session.connection().execute(select(table.c.id).where(*scanned)
                                                                .limit(SCAN_CAP + 1)).scalars().all()))
        if len(matched) <= SCAN_CAP:
            conditions, found = [ids_condition(session, matched)], found or (len(matched), False)
        else:  # far more matched than estimated: keep the first page during a scan instead
            plan = replace(plan, kind=Kind.top, why=f"{plan.why}; over {SCAN_CAP:,}: top")
            found = found or (COUNT_CAP, True)
    walked = _walk(session, query, plan, page) if plan.kind is Kind.walk else None
    if walked is not None:
        rows, backwards = walked
    else:
        if plan.kind is Kind.walk:  # the walk's budget ran out before the page was full
            plan = replace(plan, kind=Kind.top, visible=frozenset(), why=f"{plan.why}; walk ran short: top")
        entity: Any = Customer
        run = _now
        together = found is None and plan.count is Count.exact and plan.kind in (Kind.ids, Kind.collect)
        stmt: Any
        if plan.kind is Kind.top:  # every row once, keeping the first page in sort order (a bounded sort)
            table, conditions, run = _scanned(session, query)
            entity = aliased(Customer, table)
            stmt = select(entity).where(*conditions)
        elif together:  # few candidates: the page and their count in one pass over them
            candidates = select(Customer, func.count().over().label("total")).where(*conditions).subquery()
            entity = aliased(Customer, candidates)
            stmt = select(entity, candidates.c.total)
        else:
            stmt = select(entity).where(*conditions)
        sort_by = getattr(entity, column.key)
        stmt, backwards = keyset(stmt, column=func.coalesce(sort_by, sort_by), id_column=entity.id,
                                 descending=query.sort.descending, page=page)
        rows = run(lambda: list(session.exec(stmt)))
        if together:
            found = (int(rows[0][1]), False) if rows else None  # an empty page counts on its own
            rows = [row[0] for row in rows]
    total, capped = found or _total(session, query, plan, est, kept=kept, conditions=conditions)
    return build_page(rows, total=total, page=page, backwards=backwards, key=_sort_key(query), capped=capped), plan


def _sort_key(query: Query) -> Callable[[Customer], tuple[Any, int]]:
    """A row's place in the question's sort order, as its page cursors carry it."""
    name = SORT_COLUMNS[query.sort.key].key
    return lambda row: (getattr(row, name), row.id or 0)


def term_page(*, session: Session, query: Query, plan: Plan, est: Estimates, page: PageRequest,
              cap: int = SCAN_CAP) -> tuple[list[Customer], int, bool] | None:
    """An ids or intersection plan past the probe's cap, in one pass: the terms' matches (at most cap + 1) read
    through the trigram index, every filter tested on them, counted, and the page sorted from them.

    (rows, count, whether the page runs backwards), or None when more than `cap` match: one scan answers then.
    Listing the matches' ids first and reading the page by those ids after read each match twice.
    """
    both = plan.kind is Kind.both
    tested = planned_conditions(session, query, visible=plan.visible if both else frozenset(), indexed_terms=False)
    source = term_select(session, query.terms, pairs=est.pair_grams, within=tested if both else None,
                         range_first=plan.range_first, also=None if both else tested).limit(cap + 1).subquery()
    counted = select(aliased(Customer, source), func.count().over().label("total")).subquery()
    entity: Any = aliased(Customer, counted)
    sort_by = getattr(entity, SORT_COLUMNS[query.sort.key].key)
    stmt, backwards = keyset(select(entity, counted.c.total), column=func.coalesce(sort_by, sort_by),
                             id_column=entity.id, descending=query.sort.descending, page=page)
    got = _intersected(session, lambda: list(session.exec(stmt))) if both else list(session.exec(stmt))
    if got:
        total = int(got[0][1])
    elif page.after is None and page.before is None:
        total = 0
    else:  # past the last row: the page is empty, its count is not
        total = int(session.exec(select(func.count()).select_from(source)).one())
    return None if total > cap else ([row[0] for row in got], total, backwards)


def _walk(session: Session, query: Query, plan: Plan, page: PageRequest) -> tuple[list[Customer], bool] | None:
    """Walk at most WALK_BUDGET rows of the sort's index from the cursor, testing each; None if the page ran short.

    The budget bounds what a misjudged walk costs (matches clustered away from the start of the sort order, as
    `orchid sort:name` is): a walk that runs short gives way to one scan.
    """
    column = SORT_COLUMNS[query.sort.key]
    # The cursor's bound comes first: given two bounds on one column (the cursor's and a window's), SQLite starts
    # its index walk at the first, and the cursor's is the tighter.
    inner, backwards = keyset(select(Customer), column=column, id_column=col(Customer.id),
                              descending=query.sort.descending, page=page)
    inner = inner.where(*planned_conditions(session, query, visible=plan.visible, only_visible=True))
    sub = inner.limit(WALK_BUDGET).subquery()
    adapt = ClauseAdapter(sub).traverse
    stmt = select(aliased(Customer, sub)).where(
        *(adapt(c) for c in planned_conditions(session, query, visible=frozenset()))).limit(page.size + 1)
    descending = query.sort.descending != backwards
    if session.get_bind().dialect.name == "postgresql":  # it keeps the subquery's order and says so
        # A sort column pinned to one value (`seats:5 sort:seats`) is left out: PostgreSQL does not carry that
        # equality out of the subquery, and would sort the whole walked range to order by a constant.
        pinned = query.sort.key == "seats" and query.seats_min is not None and query.seats_min == query.seats_max
        keys = (sub.c.id,) if pinned else (sub.c[column.key], sub.c.id)
        stmt = stmt.order_by(*((c.desc() if descending else c.asc()) for c in keys))
        # Left alone, PostgreSQL may collect the whole visible range and sort it when it misjudges its size.
        rows: list[Customer] = _without(session, ("enable_sort", "enable_bitmapscan"), lambda: list(session.exec(stmt)))
    else:  # SQLite streams the subquery in its order; an outer ORDER BY would make it sort the whole budget first
        rows = list(session.exec(stmt))
    if len(rows) <= page.size and not _walked_to_the_end(session, inner):
        return None
    rows.sort(key=lambda row: (getattr(row, column.key), row.id or 0), reverse=descending)
    return rows, backwards


def _walked_to_the_end(session: Session, inner: Any) -> bool:
    """True when a short walk read its whole index range within the budget: the page it found is complete.

    The page before page 2, and a last page, end where the range does; only a walk stopped by the budget needs a scan.
    """
    ids = inner.with_only_columns(col(Customer.id)).limit(WALK_BUDGET).subquery()
    return int(session.exec(select(func.count()).select_from(ids)).one()) < WALK_BUDGET


def _without(session: Session, settings: tuple[str, ...], read: Callable[[], list[T]]) -> list[T]:
    """Run a PostgreSQL read with some planner methods off, then back on (reads may run outside a transaction)."""
    conn = session.connection()
    switch = "SELECT " + ", ".join(f"set_config('{name}', :value, false)" for name in settings)
    conn.execute(text(switch), {"value": "off"})
    try:
        return read()
    finally:
        conn.execute(text(switch), {"value": "on"})


def _intersected(session: Session, read: Callable[[], list[T]]) -> list[T]:
    """Run an intersection's read with PostgreSQL costing a random page read at 1.1 (its pages are cached), then back.

    At 4 it may skip the range's index and test the range on every row the terms' index lists: `evergreen
    status:canceled,paused` then read 22k rows instead of the 4.6k in both lists (213 ms against 69, pages uncached).
    """
    if session.get_bind().dialect.name != "postgresql":
        return read()
    conn = session.connection()
    conn.execute(text("SELECT set_config('random_page_cost', '1.1', false)"))
    try:
        return read()
    finally:
        conn.execute(text("RESET random_page_cost"))


class _Unindexed(Alias):
    """The customer table read row by row in storage order: `customer AS scanned NOT INDEXED` on SQLite.

    Hiding the conditions is not enough there: SQLite may still read a whole index and look up every row it lists,
    one random read each, which costs many times a scan.
    """

    inherit_cache = True


@compiles(_Unindexed, "sqlite")
def _not_indexed(element: _Unindexed, compiler: Any, **kw: Any) -> str:
    """Add NOT INDEXED where the alias appears in a FROM clause."""
    rendered: str = compiler.visit_alias(element, **kw)
    return f"{rendered} NOT INDEXED" if kw.get("asfrom") else rendered


def _terms_only(query: Query) -> bool:
    """Indexed terms (3+ characters) and nothing else narrowing them."""
    return bool(query.terms) and all(len(term) >= MIN_TRIGRAM_TERM for term in query.terms) and not (
        query.statuses or query.seats_min is not None or query.seats_max is not None or query.created
        or query.canceled or query.sort.key == "canceled" or query.mrr_min is not None or query.mrr_max is not None)


def _now(read: Callable[[], list[T]]) -> list[T]:
    """Run a read as it is."""
    return read()


def _scanned(session: Session, query: Query) -> tuple[Any, list[ColumnElement[bool]], Any]:
    """The customer table read once in storage order, the query's conditions on it, and how to run a read of it.

    SQLite: `NOT INDEXED`, every condition hidden. PostgreSQL: the plain conditions with index reads switched off
    for that read, so it may share the scan among parallel workers (as a bare LIKE scan does).
    """
    table = _Unindexed._construct(Customer.__table__, name="scanned")  # type: ignore[attr-defined]
    adapt = ClauseAdapter(table).traverse
    if session.get_bind().dialect.name == "sqlite":
        return table, [adapt(c) for c in planned_conditions(session, query, visible=frozenset())], _now
    plain = [adapt(c) for c in planned_conditions(session, query, visible=None)]
    methods = ("enable_indexscan", "enable_indexonlyscan", "enable_bitmapscan")
    return table, plain, lambda read: _without(session, methods, read)


def _total(session: Session, query: Query, plan: Plan, est: Estimates, *, kept: ScalarSelect[int] | None,
           conditions: list[ColumnElement[bool]]) -> tuple[int, bool]:
    """The count shown beside a page, and whether it stopped at the cap ("1,000+")."""
    if plan.count is Count.kept and kept is not None:
        return int(session.exec(select(kept)).one()), False
    if plan.count is Count.exact:
        if plan.kind in (Kind.walk, Kind.top):  # the cheapest index range that holds every match
            conditions = planned_conditions(session, query, visible=count_groups(query, est))
        return int(session.exec(select(func.count()).select_from(Customer).where(*conditions)).one()), False
    return capped_count(session=session, query=query, est=est, matches=plan.matches)


def capped_count(*, session: Session, query: Query, est: Estimates, matches: int) -> tuple[int, bool]:
    """The matches counted up to the cap, and whether more match ("1,000+"), without counting them all.

    Reads the index whose candidates hold the cap's worth soonest (the terms' trigram index or an index range:
    storage.plan.capped_groups), else the table in storage order (soon, among so many matches).
    """
    if groups := capped_groups(query, est, matches, cap=COUNT_CAP):
        candidates = planned_conditions(session, query, visible=groups)
        capped = select(col(Customer.id)).where(*candidates).limit(COUNT_CAP + 1).subquery()
        total = int(session.exec(select(func.count()).select_from(capped)).one())
    else:
        table, scanned, run = _scanned(session, query)
        capped = select(table.c.id).where(*scanned).limit(COUNT_CAP + 1).subquery()
        total = int(run(lambda: [session.exec(select(func.count()).select_from(capped)).one()])[0])
    return min(total, COUNT_CAP), total > COUNT_CAP


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
