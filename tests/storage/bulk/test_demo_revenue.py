"""Demo data carries revenue: per-seat MRR in a few currencies, 18 months of movements consistent with the seats."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from storage.bulk.demo import fill_demo_data
from storage.models import Customer, MrrMovement, SeatChange
from storage.revenue import revenue
from tests.conftest import NOW


def test_demo_movements_add_up_to_each_customers_mrr_and_follow_its_seats(engine: Engine) -> None:
    summary = fill_demo_data(engine=engine, customers=400, seed=3, now=NOW)
    assert summary.movements > 400
    with Session(engine) as session:
        customers = {c.id: c for c in session.exec(select(Customer))}
        moves: dict[int | None, list[MrrMovement]] = defaultdict(list)
        for m in session.exec(select(MrrMovement).order_by(col(MrrMovement.at), col(MrrMovement.id))):
            moves[m.customer_id].append(m)
        last_seats: dict[int | None, int] = {}
        for change in session.exec(select(SeatChange).order_by(col(SeatChange.at), col(SeatChange.id))):
            last_seats[change.customer_id] = change.new_seats
    for cid, customer in customers.items():
        history = moves.get(cid, [])
        assert sum(m.delta for m in history) == customer.mrr
        assert all(m.currency == customer.currency for m in history)
        for before, after in zip([None, *history], history, strict=False):
            expected = "new" if before is None else ("churn" if after.new_mrr == 0 else "reactivation"
                                                     if after.old_mrr == 0 else None)
            assert before is None or before.new_mrr == after.old_mrr
            if expected is not None:
                assert after.kind == expected
        if history:
            assert customer.created_at <= history[0].at <= NOW
        if cid in last_seats:
            assert last_seats[cid] == customer.seats  # the seat walk ends at the seats now
        if customer.status in ("trialing", "incomplete"):
            assert customer.mrr == 0
    assert {c.currency for c in customers.values() if c.mrr} >= {"USD", "EUR", "GBP"}
    spans = [m.at for ms in moves.values() for m in ms]
    assert max(spans) - min(spans) > timedelta(days=365)
    assert any(m.kind == "reactivation" for ms in moves.values() for m in ms)
    with engine.connect() as conn:
        totals: dict[str, int] = {r[0]: int(r[1]) for r in conn.execute(text(
            "SELECT currency, mrr FROM mrr_total WHERE mrr <> 0"))}
        days: dict[str, int] = {r[0]: int(r[1]) for r in conn.execute(text(
            "SELECT currency, sum(amount) FROM mrr_day GROUP BY currency HAVING sum(amount) <> 0"))}
    paying: dict[str | None, int] = defaultdict(int)
    for customer in customers.values():
        paying[customer.currency] += customer.mrr
    assert totals == {k: v for k, v in paying.items() if v} == days
    with Session(engine) as session:
        figures = revenue(session=session, since=NOW - timedelta(days=90), until=NOW)
    assert any(f.movements for f in figures)
