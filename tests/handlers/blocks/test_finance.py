"""Finance renderers and money formatting: balance, payments and payouts; every payload validated."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.local.terminal import button_labels, find_button
from handlers.blocks.common import format_money
from handlers.blocks.finance import balance_message, payments_page, payouts_page, refund_window_words
from handlers.blocks.limits import MESSAGE_BLOCKS, validate_message
from handlers.blocks.nav import PageState, decode_state
from storage.finance import Balance, PaymentRow
from storage.models import Payment, Payout, PayoutStatus
from storage.paging import Page, encode_cursor

N, P = encode_cursor(5, 12), encode_cursor(7, 3)

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


@pytest.mark.parametrize(("amount", "currency", "shown"), [
    (123_456, "USD", "$1,234.56"), (1_200, "EUR", "€12.00"), (-5, "EUR", "-€0.05"), (999, "GBP", "£9.99"),
    (500, "JPY", "¥500"), (1_234_500, "KWD", "1,234.500 KWD"), (123_456, "CHF", "1,234.56 CHF"),
    (100, "chf", "1.00 CHF"), (0, "USD", "$0.00"), (7, "BHD", "0.007 BHD"), (-1_000_000, "KRW", "-1,000,000 KRW"),
    (10**20 + 1, "USD", "$1,000,000,000,000,000,000.01"), (2**63 - 1, "JPY", "¥9,223,372,036,854,775,807"),
])
def test_money_is_formatted_from_minor_units_with_the_currency_exponent(amount: int, currency: str,
                                                                        shown: str) -> None:
    assert format_money(amount, currency) == shown


@given(st.integers(min_value=-(10**30), max_value=10**30))
def test_money_formatting_is_exact_for_any_integer(amount: int) -> None:
    shown = format_money(amount, "CHF").removesuffix(" CHF")
    assert int(shown.replace(",", "").replace(".", "")) == amount


@pytest.mark.parametrize(("days", "words"), [
    (14, "payments become payable 14 days after they are made"),
    (1, "payments become payable 1 day after they are made"),
    (0, "payments become payable as soon as they are made"),
])
def test_the_refund_window_is_said_in_words(days: int, words: str) -> None:
    assert refund_window_words(days) == words


def usd(**overrides: Any) -> Balance:
    """A USD balance with everyday figures."""
    values: dict[str, Any] = {"currency": "USD", "available": 123_456, "pending": 4_410, "in_transit": 15_000,
                              "paid_out": 50_000, "lifetime": 192_866, "next_clearing_at": NOW + timedelta(days=3),
                              "next_clearing_amount": 4_410}
    return Balance(**(values | overrides))


def balance(balances: list[Balance], days: int = 14) -> dict[str, Any]:
    """balance_message, validated."""
    msg = balance_message(balances, refund_window_days=days, tz=UTC)
    validate_message(msg)
    return msg


def test_the_balance_shows_every_figure_per_currency_and_the_refund_window() -> None:
    msg = balance([usd(), usd(currency="EUR", available=1_300, next_clearing_at=None, next_clearing_amount=0)])
    usd_block, eur_block = msg["blocks"][1], msg["blocks"][2]
    assert usd_block["text"]["text"] == "*USD*"
    assert [f["text"] for f in usd_block["fields"]] == [
        "*Available now*\n$1,234.56", "*Pending (refund window)*\n$44.10",
        f"*Next clearing*\n$44.10 on <!date^{int((NOW + timedelta(days=3)).timestamp())}^{{date_short}}|2026-11-27>",
        "*In transit*\n$150.00", "*Paid out*\n$500.00", "*Lifetime earnings*\n$1,928.66"]
    assert "*Next clearing*\nnothing pending" in [f["text"] for f in eur_block["fields"]]
    assert "payments become payable 14 days after they are made" in msg["blocks"][-1]["elements"][0]["text"]
    assert msg["text"] == "Balance: USD $1,234.56 available; EUR €13.00 available"


def test_a_negative_available_balance_is_shown_plainly_with_a_warning() -> None:
    available = balance([usd(available=-2_000)])["blocks"][1]["fields"][0]["text"]
    assert available.startswith("*Available now*\n:warning: -$20.00\n")
    assert "negative" in available


def test_the_refund_window_uses_the_configured_number_of_days() -> None:
    assert "payable 30 days after" in json.dumps(balance([usd()], days=30))


def test_no_money_yet_is_said_plainly() -> None:
    msg = balance([])
    assert "No payments or payouts yet." in json.dumps(msg)
    assert msg["text"] == "Balance: no payments yet"


def test_many_currencies_fit_in_one_message_and_the_rest_are_named() -> None:
    codes = [f"{chr(65 + i // 26)}{chr(65 + i % 26)}X" for i in range(180)]
    msg = balance([usd(currency=c, available=-(10**18), lifetime=10**18) for c in codes])
    assert len(msg["blocks"]) == MESSAGE_BLOCKS
    assert "And 133 more currencies: " in msg["blocks"][-2]["elements"][0]["text"]


def payment(*, amount: int = 4_900, fee: int = 490, refunded: int = 100, currency: str = "USD") -> Payment:
    """A payment row."""
    return Payment(id=1, external_id="py_1", customer_id=1, amount=amount, currency=currency, fee=fee,
                   created_at=NOW, refunded_amount=refunded, refunded_at=NOW if refunded else None)


def the_table(msg: dict[str, Any]) -> dict[str, Any]:
    """The message's only table."""
    return next(b for b in msg["blocks"] if b["type"] == "table")


def test_a_payments_page_is_a_table_of_amount_fee_refunded_net_and_date_with_paging() -> None:
    rows = [PaymentRow(payment=payment(), organization="Acme", email="a@acme.example"),
            PaymentRow(payment=payment(refunded=0, currency="JPY", amount=5_000, fee=50), organization="Nippon",
                       email="n@nippon.example")]
    state = PageState("payments", "acme currency:usd")
    msg = payments_page(Page(rows, 25, N, None), state=state, filters="currency:usd", tz=UTC)
    validate_message(msg)
    assert msg["blocks"][0]["text"]["text"] == "Payments"
    assert msg["blocks"][1]["elements"][0]["text"] == "25 payments · page 1 · currency:usd"
    table = the_table(msg)
    assert [c["text"] for c in table["rows"][1][:5]] == ["Acme", "$49.00", "$4.90", "$1.00", "$43.10"]
    assert [c["text"] for c in table["rows"][2][:5]] == ["Nippon", "¥5,000", "¥50", "—", "¥4,950"]
    assert table["rows"][1][5]["elements"][0]["elements"][0]["fallback"] == "2026-11-24"
    assert "a@acme.example" not in json.dumps(msg)
    assert button_labels(msg) == ["Next ▶"]
    nxt = find_button(msg, "next")
    assert nxt is not None
    assert decode_state(nxt["value"]) == PageState("payments", "acme currency:usd", after=N, page_no=2)


def test_a_payouts_page_shows_status_markers_and_arrival_dates() -> None:
    payouts = [Payout(id=i, external_id=f"po_{i}", amount=10_000, currency="EUR", status=s, created_at=NOW,
                      arrival_date=NOW + timedelta(days=2) if s != "failed" else None)
               for i, s in enumerate(PayoutStatus)]
    msg = payouts_page(Page(payouts, 5, None, P), state=PageState("payouts", "", page_no=2), filters="", tz=UTC)
    validate_message(msg)
    rows = the_table(msg)["rows"]
    assert [r[2]["text"] for r in rows[1:]] == ["🕓 pending", "🚚 in transit", "✅ paid", "❌ failed", "⚫ canceled"]
    assert rows[4][4] == {"type": "raw_text", "text": "—"}
    assert button_labels(msg) == ["◀ Previous"]


def test_empty_finance_pages_suggest_fewer_filters() -> None:
    msg = payments_page(Page([], 0, None, None), state=PageState("payments", "since:1h"), filters="since:1h",
                        tz=UTC)
    validate_message(msg)
    assert "No payments match" in json.dumps(msg)
    assert button_labels(msg) == []


def test_worst_case_finance_pages_stay_inside_the_limits() -> None:
    rows = [PaymentRow(payment=payment(amount=10**18, fee=10**17, refunded=10**16, currency="KWD"),
                       organization="Ω" * 1000, email="x" * 320)] * 10
    msg = payments_page(Page(rows, 10**12, encode_cursor("n" * 210, 1), encode_cursor("p" * 210, 2), total_capped=True),
                        state=PageState("payments", "acme " * 300, page_no=99), filters="f" * 5000, tz=UTC)
    validate_message(msg)
    payout = Payout(id=1, external_id="po_" + "x" * 300, amount=-(10**18), currency="EUR", status="weird",
                    created_at=NOW, arrival_date=None)
    validate_message(payouts_page(Page([payout] * 10, 10, None, None), state=PageState("payouts", ""),
                                  filters="", tz=UTC))
