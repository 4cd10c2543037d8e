"""The ways to a page a plan names (storage.plan): walking the sort's index, one scan, one pass over the terms'
matches, and the PostgreSQL planner settings each read needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.selectable import Alias
from sqlalchemy.sql.util import ClauseAdapter
from sqlmodel import Session, col, select

from storage.conditions import SORT_COLUMNS, planned_conditions
from storage.estimate import term_select
from storage.models import Customer
from storage.paging import PageRequest, keyset
from storage.plan import SCAN_CAP, WALK_BUDGET, Estimates, Kind, Plan
from storage.query import Query

T = TypeVar("T")


def sort_key(query: Query) -> Callable[[Customer], tuple[Any, int]]:
    """A row's place in the question's sort order, as its page cursors carry it."""
    name = SORT_COLUMNS[query.sort.key].key
    return lambda row: (getattr(row, name), row.id or 0)


def term_page(*, session: Session, query: Query, plan: Plan, est: Estimates, page: PageRequest,
              cap: int = SCAN_CAP) -> tuple[list[Customer], int, bool] | None:
    """An ids or intersection plan whose matches the probe did not list (few by the sample, or past its cap), in one
    pass: the terms' matches (at most cap + 1) read through the trigram index, every filter tested on them, counted,
    and the page sorted from them.

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


def walk(session: Session, query: Query, plan: Plan, page: PageRequest) -> tuple[list[Customer], bool] | None:
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

    At 4 it may skip the range's index and test the range on every row the terms' index lists, reading several times
    the rows in both lists (`evergreen status:canceled,paused`, bench/README session 9).
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


def as_is(read: Callable[[], list[T]]) -> list[T]:
    """Run a read as it is."""
    return read()


def scan_reads(session: Session, query: Query) -> tuple[Any, list[ColumnElement[bool]], Any]:
    """The customer table read once in storage order, the query's conditions on it, and how to run a read of it.

    SQLite: `NOT INDEXED`, every condition hidden. PostgreSQL: the plain conditions with index reads switched off
    for that read, so it may share the scan among parallel workers (as a bare LIKE scan does).
    """
    table = _Unindexed._construct(Customer.__table__, name="scanned")  # type: ignore[attr-defined]
    adapt = ClauseAdapter(table).traverse
    if session.get_bind().dialect.name == "sqlite":
        return table, [adapt(c) for c in planned_conditions(session, query, visible=frozenset())], as_is
    plain = [adapt(c) for c in planned_conditions(session, query, visible=None)]
    methods = ("enable_indexscan", "enable_indexonlyscan", "enable_bitmapscan")
    return table, plain, lambda read: _without(session, methods, read)
