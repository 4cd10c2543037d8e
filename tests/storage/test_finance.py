"""Finance rules, hand-computed: net, the refund window, payouts, late refunds, currencies (both engines)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from storage.finance import Balance, balance, list_payments, list_payouts
from storage.paging import PageRequest
from storage.query import Domain, parse_query
from tests.conftest import NOW
from tests.factories import add_customer, add_payment, add_payout

DAY = timedelta(days=1)


def _usd(session: Session, now: datetime = NOW) -> Balance:
    return next(b for b in balance(session=session, now=now, refund_window_days=14) if b.currency == "USD")


def test_net_is_amount_minus_fee_minus_refunds_and_clears_after_the_window(session: Session) -> None:
    c = add_customer(session, "Acme")
    add_payment(session, c, amount=10_000, fee=1_000, created_at=NOW - 20 * DAY, refunded_amount=500,
                refunded_at=NOW - 19 * DAY)  # cleared: net 8,500
    add_payment(session, c, amount=4_900, fee=490, created_at=NOW - 3 * DAY)  # pending: net 4,410
    b = _usd(session)
    assert b.available == 8_500
    assert b.pending == 4_410
    assert b.lifetime == 12_910
    assert b.next_clearing_at == NOW - 3 * DAY + 14 * DAY
    assert b.next_clearing_amount == 4_410


def test_a_payment_clears_exactly_at_created_plus_the_window(session: Session) -> None:
    c = add_customer(session, "Edge")
    made = NOW - 14 * DAY
    add_payment(session, c, amount=1_000, fee=100, created_at=made)
    assert _usd(session, now=made + 14 * DAY - timedelta(seconds=1)).pending == 900
    at_boundary = _usd(session, now=made + 14 * DAY)
    assert at_boundary.pending == 0
    assert at_boundary.available == 900


def test_payouts_reduce_available_by_status(session: Session) -> None:
    c = add_customer(session, "Payer")
    add_payment(session, c, amount=100_000, fee=10_000, created_at=NOW - 30 * DAY)  # net 90,000 cleared
    add_payout(session, amount=50_000, status="paid", created_at=NOW - 10 * DAY)
    add_payout(session, amount=10_000, status="in_transit", created_at=NOW - 2 * DAY)
    add_payout(session, amount=5_000, status="pending", created_at=NOW - DAY)
    add_payout(session, amount=7_000, status="failed", created_at=NOW - DAY)
    add_payout(session, amount=3_000, status="canceled", created_at=NOW - DAY)
    b = _usd(session)
    assert b.available == 90_000 - 50_000 - 10_000 - 5_000
    assert b.paid_out == 50_000
    assert b.in_transit == 15_000
    assert b.lifetime == 90_000


def test_a_late_refund_after_payout_makes_available_negative(session: Session) -> None:
    c = add_customer(session, "Late")
    payment = add_payment(session, c, amount=20_000, fee=2_000, created_at=NOW - 40 * DAY)
    add_payout(session, amount=18_000, status="paid", created_at=NOW - 20 * DAY)
    payment.refunded_amount = 20_000
    payment.refunded_at = NOW - DAY
    session.add(payment)
    session.commit()
    b = _usd(session)
    assert b.available == -20_000  # net -2,000 (the fee is not returned) minus 18,000 paid out
    assert b.lifetime == -2_000


def test_currencies_are_never_mixed(session: Session) -> None:
    c = add_customer(session, "Euro")
    add_payment(session, c, amount=1_000, fee=100, currency="USD", created_at=NOW - 30 * DAY)
    add_payment(session, c, amount=2_000, fee=200, currency="EUR", created_at=NOW - 30 * DAY)
    add_payout(session, amount=500, status="paid", created_at=NOW - DAY, currency="EUR")
    by = {b.currency: b for b in balance(session=session, now=NOW, refund_window_days=14)}
    assert by["USD"].available == 900
    assert by["EUR"].available == 1_800 - 500
    assert set(by) == {"EUR", "USD"}


def test_payments_after_now_are_ignored_and_next_clearing_skips_fully_refunded(session: Session) -> None:
    c = add_customer(session, "Future")
    add_payment(session, c, amount=1_000, fee=0, created_at=NOW + DAY)
    add_payment(session, c, amount=1_000, fee=0, created_at=NOW - 5 * DAY, refunded_amount=1_000,
                refunded_at=NOW - 4 * DAY)
    add_payment(session, c, amount=700, fee=0, created_at=NOW - 2 * DAY)
    b = _usd(session)
    assert b.lifetime == 700
    assert b.next_clearing_at == NOW - 2 * DAY + 14 * DAY
    assert b.next_clearing_amount == 700


def test_an_empty_store_has_no_balances(session: Session) -> None:
    assert balance(session=session, now=NOW, refund_window_days=14) == []


def test_payment_and_payout_lists_filter_and_page(session: Session) -> None:
    acme = add_customer(session, "Acme Payments")
    other = add_customer(session, "Other")
    for i in range(12):
        add_payment(session, acme, amount=1_000 + i, created_at=NOW - i * DAY, currency="EUR" if i % 2 else "USD")
    add_payment(session, other, amount=5, created_at=NOW - DAY)
    query = parse_query("acme currency:usd", now=NOW, domain=Domain.payments)
    page = list_payments(session=session, query=query, page=PageRequest(size=4))
    assert page.total == 6
    assert [r.payment.amount for r in page.items] == [1_000, 1_002, 1_004, 1_006]
    rest = list_payments(session=session, query=query, page=PageRequest(size=4, after=page.next_cursor))
    assert [r.payment.amount for r in rest.items] == [1_008, 1_010]
    add_payout(session, amount=1, status="paid", created_at=NOW - DAY)
    add_payout(session, amount=2, status="failed", created_at=NOW - DAY)
    payouts = list_payouts(session=session, query=parse_query("status:paid", now=NOW, domain=Domain.payouts),
                           page=PageRequest())
    assert [p.amount for p in payouts.items] == [1]


def test_pending_from_daily_totals_equals_a_sum_over_every_payment(session: Session) -> None:
    c = add_customer(session, "Spread")
    payments = [add_payment(session, c, amount=1_000 + i, fee=i % 7, created_at=NOW - timedelta(hours=7 * i))
                for i in range(120)]
    refunded = payments[10]
    refunded.refunded_amount = 300
    refunded.refunded_at = NOW
    session.add(refunded)
    session.commit()
    for now in (NOW, NOW - timedelta(hours=13, minutes=5), NOW - timedelta(days=3, seconds=1)):
        for days in (14, 1, 0):  # whole days from the daily totals, or (under two days) straight from payments
            cutoff = now - timedelta(days=days)
            expected = sum(p.amount - p.fee - p.refunded_amount for p in payments if cutoff < p.created_at <= now)
            (usd,) = balance(session=session, now=now, refund_window_days=days)
            assert (usd.pending, usd.lifetime) == (expected, sum(p.amount - p.fee - p.refunded_amount
                                                                 for p in payments if p.created_at <= now))


def test_payment_search_matches_the_payer_or_a_whole_payment_id_and_counts_from_the_totals(session: Session) -> None:
    harbor = add_customer(session, "Blue Harbor Labs", email="ops@blueharbor.example")
    other = add_customer(session, "Zenith", email="ap@zenith.example")
    add_payment(session, harbor, amount=100, created_at=NOW - DAY, external_id="py_harbor_1")
    add_payment(session, other, amount=200, created_at=NOW - 2 * DAY, external_id="py_zenith_1", currency="EUR")

    def amounts(text: str) -> tuple[list[int], int, bool]:
        page = list_payments(session=session, query=parse_query(text, now=NOW, domain=Domain.payments),
                             page=PageRequest())
        return [r.payment.amount for r in page.items], page.total, page.total_capped

    assert amounts("harbor") == ([100], 1, False)
    assert amounts("BLUEHARBOR.example") == ([100], 1, False)
    assert amounts("py_zenith_1") == ([200], 1, False)
    assert amounts("") == ([100, 200], 2, False)
    assert amounts("currency:eur") == ([200], 1, False)
    assert amounts("nobody") == ([], 0, False)
