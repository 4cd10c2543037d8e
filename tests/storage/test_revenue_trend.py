"""MRR, movements and earnings per bucket: hand-computed per month, and against the rows for every unit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from storage.models import Customer, MrrMovement, Payment
from storage.movements import apply_mrr, recount_revenue
from storage.revenue_trend import CurrencyTrend, RevenueTrend, revenue_trend
from tests.factories import add_customer, add_payment

NOW = datetime(2026, 11, 24, 12, 34, 56, 789000, tzinfo=UTC)
SINCE = datetime(2026, 5, 20, tzinfo=UTC)  # 188 days: whole months, May .. November


def _at(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, micro, tzinfo=UTC)


def _mrr(session: Session, customer: Customer, mrr: int, at: datetime, currency: str = "USD") -> None:
    apply_mrr(session=session, customer=customer, mrr=mrr, currency=currency, at=at)
    session.commit()


def _history(session: Session) -> None:
    """USD A, B, C, E around May..November, EUR H from September, JPY earnings only; payments at the edges."""
    c = {name: add_customer(session, f"Org {name}", email=f"{name.lower()}@{name.lower()}.example",
                            created_at=_at(1, 1)) for name in "ABCEHJ"}
    _mrr(session, c["A"], 10000, _at(5, 10))  # new +10000 in May
    _mrr(session, c["A"], 15000, _at(7, 3))  # expansion +5000 in July
    _mrr(session, c["A"], 0, _at(9, 20))  # churn -15000 in September
    _mrr(session, c["A"], 12000, _at(10, 5))  # reactivation +12000 in October
    _mrr(session, c["B"], 20000, _at(6, 1))  # new +20000 at June's first instant: June
    _mrr(session, c["B"], 18000, _at(8, 31, 23, 59, 59, 999999))  # contraction -2000 at August's last instant
    _mrr(session, c["C"], 5000, _at(11, 24, 10))  # new +5000 today, before now
    _mrr(session, c["E"], 3000, _at(12, 3))  # after the window's last month: walked back through
    _mrr(session, c["H"], 9000, _at(9, 10), currency="EUR")  # a currency first seen mid-window
    _mrr(session, c["H"], 9900, _at(11, 2), currency="EUR")
    for amount, fee, refunded, at, currency in (
        (999, 0, 0, _at(4, 30, 23, 59, 59), "USD"),  # before the window
        (10000, 300, 0, _at(6, 15, 8), "USD"),
        (20000, 600, 5000, _at(7, 1), "USD"),  # net of its fee and its refund
        (700, 0, 0, _at(12, 1), "USD"),  # after the window
        (5000, 100, 0, _at(7, 5), "JPY"),  # a currency with earnings and no MRR
    ):
        add_payment(session, c["J"], amount=amount, fee=fee, refunded_amount=refunded, created_at=at,
                    currency=currency)


def _rows(ct: CurrencyTrend | None) -> list[tuple[int, int, dict[str, int], int]]:
    assert ct is not None
    return [(p.mrr, p.paying, p.moved, p.earnings) for p in ct.periods]


def test_mrr_per_month_is_walked_back_from_now_by_hand(session: Session) -> None:
    _history(session)
    trend = revenue_trend(session=session, since=SINCE, until=NOW)
    assert (trend.unit, trend.step) == ("month", 1)
    assert [e.month for e in trend.edges] == [5, 6, 7, 8, 9, 10, 11, 12]
    assert [c.currency for c in trend.currencies] == ["EUR", "JPY", "USD"]
    usd = trend.of("USD")
    assert usd is not None
    assert (usd.mrr_start, usd.paying_start) == (0, 0)
    assert _rows(usd) == [
        (10000, 1, {"new": 10000}, 0),
        (30000, 2, {"new": 20000}, 9700),
        (35000, 2, {"expansion": 5000}, 14400),
        (33000, 2, {"contraction": -2000}, 0),
        (18000, 1, {"churn": -15000}, 0),
        (30000, 2, {"reactivation": 12000}, 0),
        (35000, 3, {"new": 5000}, 0),  # E's later movement is not November's
    ]
    assert (usd.net_new, usd.earnings, usd.moved("churn")) == (35000, 24100, -15000)
    eur = trend.of("EUR")
    assert eur is not None
    assert (eur.mrr_start, eur.paying_start) == (0, 0)
    assert [p.mrr for p in eur.periods] == [0, 0, 0, 0, 9000, 9000, 9900]
    assert _rows(trend.of("JPY")) == [(0, 0, {}, 0), (0, 0, {}, 0), (0, 0, {}, 4900), *[(0, 0, {}, 0)] * 4]


def test_a_window_with_nothing_in_it_has_no_currencies(session: Session) -> None:
    assert revenue_trend(session=session, since=SINCE, until=NOW).currencies == []
    c = add_customer(session, "Org Z", email="z@z.example", created_at=_at(1, 1))
    _mrr(session, c, 4000, _at(1, 10))
    _mrr(session, c, 0, _at(2, 10))  # MRR long gone: nothing to show from May
    assert revenue_trend(session=session, since=SINCE, until=NOW).currencies == []


def _expected(session: Session, trend: RevenueTrend, currency: str) -> list[tuple[int, int, dict[str, int], int]]:
    """(MRR, paying, signed movements per kind, earnings) per bucket, from the movement and payment rows."""
    moves = list(session.exec(select(MrrMovement).where(MrrMovement.currency == currency)))
    payments = list(session.exec(select(Payment).where(Payment.currency == currency)))
    out = []
    for start, end in zip(trend.edges, trend.edges[1:], strict=False):
        inside = [m for m in moves if start <= m.at < end]
        moved: dict[str, int] = {}
        for m in inside:
            moved[m.kind] = moved.get(m.kind, 0) + m.delta
        last: dict[int, int] = {}
        for m in sorted((m for m in moves if m.at < end), key=lambda m: (m.at, m.id or 0)):
            last[m.customer_id] = m.new_mrr
        out.append((sum(last.values()), sum(1 for v in last.values() if v > 0), {k: v for k, v in moved.items() if v},
                    sum(p.amount - p.fee - p.refunded_amount for p in payments if start <= p.created_at < end)))
    return out


@pytest.mark.parametrize("days", [7, 31, 90, 182, 400, 730])
def test_days_weeks_and_months_agree_with_the_rows(session: Session, days: int) -> None:
    _history(session)
    trend = revenue_trend(session=session, since=NOW - timedelta(days=days), until=NOW)
    assert len(trend.edges) - 1 <= 20
    for currency in ("USD", "EUR"):
        ct = trend.of(currency)
        if ct is not None:
            assert _rows(ct) == _expected(session, trend, currency), (days, currency)


def test_a_recount_after_a_bulk_load_gives_the_same_trend(session: Session) -> None:
    _history(session)
    before = revenue_trend(session=session, since=SINCE, until=NOW)
    recount_revenue(session.connection())
    session.commit()
    assert revenue_trend(session=session, since=SINCE, until=NOW) == before


def test_a_window_in_the_past_walks_back_through_everything_after_it(session: Session) -> None:
    _history(session)
    trend = revenue_trend(session=session, since=_at(3, 1), until=_at(7, 1))  # March .. June, weeks
    assert trend.unit == "week"
    for currency in ("USD", "EUR"):
        ct = trend.of(currency)
        assert ct is None or _rows(ct) == _expected(session, trend, currency), currency
    usd = trend.of("USD")
    assert usd is not None
    assert (usd.mrr_start, usd.mrr) == (0, 35000)  # the last whole week runs to Sun 5 July: A expanded on the 3rd
