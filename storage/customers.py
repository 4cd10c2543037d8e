"""Customer queries: filtered, planned lists, counts and the detail card (see also storage.search, storage.signals)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, func, or_, text
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from storage.conditions import SORT_COLUMNS, ids_condition, kept_count, planned_conditions
from storage.conditions import count_customers as count_customers
from storage.conditions import count_statement as count_statement
from storage.conditions import customer_conditions as customer_conditions
from storage.conditions import sort_columns as sort_columns
from storage.conditions import window_conditions as window_conditions
from storage.estimate import MIN_TRIGRAM_TERM, gather
from storage.models import Customer, Payment, SeatChange, Status
from storage.paging import Page, PageRequest, build_page, keyset
from storage.plan import SCAN_CAP, Count, Estimates, Kind, Plan, capped_groups, choose, count_groups
from storage.query import Query, reject_control
from storage.search import COUNT_CAP, term_condition
from storage.types import UTCDateTime
from storage.ways import as_is, scan_reads, sort_key, term_page, walk


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
    if plan.kind in (Kind.ids, Kind.both) and est.term_ids is None:  # matches not listed: read once, up to SCAN_CAP
        one_pass = term_page(session=session, query=query, plan=plan, est=est, page=page)
        if one_pass is not None:
            rows, total, backwards = one_pass
            found = found or (total, False)
            return build_page(rows, total=found[0], page=page, backwards=backwards, key=sort_key(query),
                              capped=found[1]), plan
        plan = replace(plan, kind=Kind.scan, visible=frozenset(), why=f"{plan.why}; over {SCAN_CAP:,}: scan")
    conditions = planned_conditions(session, query, visible=plan.visible,
                                    ids=est.term_ids if plan.kind is Kind.ids else None)
    if plan.kind is Kind.scan:
        table, scanned, run = scan_reads(session, query)
        matched = run(lambda: list(session.connection().execute(select(table.c.id).where(*scanned)
                                                                .limit(SCAN_CAP + 1)).scalars().all()))
        if len(matched) <= SCAN_CAP:
            conditions, found = [ids_condition(session, matched)], found or (len(matched), False)
        else:  # far more matched than estimated: keep the first page during a scan instead
            plan = replace(plan, kind=Kind.top, why=f"{plan.why}; over {SCAN_CAP:,}: top")
            found = found or (COUNT_CAP, True)
    walked = walk(session, query, plan, page) if plan.kind is Kind.walk else None
    if walked is not None:
        rows, backwards = walked
    else:
        if plan.kind is Kind.walk:  # the walk's budget ran out before the page was full
            plan = replace(plan, kind=Kind.top, visible=frozenset(), why=f"{plan.why}; walk ran short: top")
        entity: Any = Customer
        run = as_is
        together = found is None and plan.count is Count.exact and plan.kind in (Kind.ids, Kind.collect)
        stmt: Any
        if plan.kind is Kind.top:  # every row once, keeping the first page in sort order (a bounded sort)
            table, conditions, run = scan_reads(session, query)
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
    return build_page(rows, total=total, page=page, backwards=backwards, key=sort_key(query), capped=capped), plan


def _terms_only(query: Query) -> bool:
    """Indexed terms (3+ characters) and nothing else narrowing them."""
    return bool(query.terms) and all(len(term) >= MIN_TRIGRAM_TERM for term in query.terms) and not (
        query.statuses or query.seats_min is not None or query.seats_max is not None or query.created
        or query.canceled or query.sort.key == "canceled" or query.mrr_min is not None or query.mrr_max is not None)


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
        table, scanned, run = scan_reads(session, query)
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
