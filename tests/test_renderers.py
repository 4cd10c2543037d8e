"""Block Kit renderers: pure functions, every payload parsed and validated with slack_sdk, worst cases included."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console

from bot.blocks.common import apology, clip, error_message, format_money, refusal
from bot.blocks.customers import customer_card, customer_matches, customers_page
from bot.blocks.exports import export_parent, not_in_channel
from bot.blocks.finance import balance_message, payments_page, payouts_page
from bot.blocks.help import customers_usage, finance_usage
from bot.blocks.home import home_view
from bot.blocks.limits import validate_message, validate_view
from bot.blocks.nav import PageState, decode_state, encode_state
from bot.terminal import button_labels, find_button, render_message
from storage.customers import CurrencyTotals, CustomerDetail
from storage.finance import Balance, PaymentRow
from storage.models import Customer, Payment, Payout, SeatChange
from storage.paging import Page

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
LONG_ORG = "Ω" * 1000
LONG_EMAIL = ("x" * 300) + "@example.com"


def customer(i: int, *, org: str = "Acme", email: str | None = None, status: str = "active") -> Customer:
    """A customer row as the storage layer returns it."""
    return Customer(id=i, organization=f"{org} {i}", email=email or f"owner{i}@acme.example",
                    email_key=(email or f"owner{i}@acme.example").lower(), seats=i, status=status,
                    created_at=NOW - timedelta(days=i), updated_at=NOW)


def page(items: list[Customer], total: int | None = None, **kwargs: object) -> Page[Customer]:
    """A page with neighbours on both sides."""
    return Page(items=items, total=len(items) if total is None else total, next_cursor="n", prev_cursor="p",
                **kwargs)  # type: ignore[arg-type]


STATE = PageState(command="list", query="status:active seats:>1", page_no=2)


def test_a_page_has_a_header_count_filters_one_table_and_every_button() -> None:
    msg = customers_page(page([customer(i) for i in range(10)], total=1234), state=STATE, title="Customers",
                         filters="status:active", product_url="https://app.example", tz=UTC, can_export=True)
    validate_message(msg)
    assert msg["blocks"][0]["type"] == "header"
    assert "1,234 customers · page 2" in json.dumps(msg, ensure_ascii=False)
    assert [b["type"] for b in msg["blocks"]].count("table") == 1
    table = next(b for b in msg["blocks"] if b["type"] == "table")
    assert len(table["rows"]) == 11
    assert "mailto:owner1@acme.example" in json.dumps(table)
    assert button_labels(msg) == ["◀ Previous", "Next ▶", "Export CSV", "Share in channel", "Open Product"]
    nxt = find_button(msg, "next")
    assert nxt is not None
    assert decode_state(nxt["value"]).page_no == 3


def test_members_get_no_export_button_and_no_product_button_without_a_url() -> None:
    msg = customers_page(page([customer(1)]), state=STATE, title="Customers", filters="", product_url="", tz=UTC,
                         can_export=False)
    assert "Export CSV" not in button_labels(msg)
    assert "Open Product" not in button_labels(msg)


def test_the_shared_copy_has_no_email_addresses_and_no_navigation() -> None:
    msg = customers_page(page([customer(i) for i in range(10)]), state=STATE, title="Customers", filters="",
                         product_url="", tz=UTC, can_export=True, shared_by="U1")
    validate_message(msg)
    assert "@acme.example" not in json.dumps(msg)
    assert button_labels(msg) == []
    assert "shared by <@U1>" in json.dumps(msg)


def test_capped_totals_read_as_a_lower_bound() -> None:
    msg = customers_page(page([customer(1)], total=1000, total_capped=True), state=STATE, title="Search: inc",
                         filters="", product_url="", tz=UTC, can_export=False)
    assert "1,000+ customers" in msg["text"]


def test_empty_results_suggest_broader_filters() -> None:
    msg = customers_page(Page(items=[], total=0, next_cursor=None, prev_cursor=None), state=STATE, title="Customers",
                         filters="seats:>100000", product_url="", tz=UTC, can_export=True)
    validate_message(msg)
    assert "No customers match" in json.dumps(msg)
    assert button_labels(msg) == []


def test_worst_case_names_and_emails_are_cut_not_rejected() -> None:
    rows = [customer(i, org=LONG_ORG, email=f"{i}{LONG_EMAIL}") for i in range(10)]
    msg = customers_page(page(rows, total=10**12), state=PageState("search", "x" * 1500), title="T" * 500,
                         filters="f" * 5000, product_url="https://app.example/" + "p" * 4000, tz=UTC, can_export=True)
    validate_message(msg)
    detail = CustomerDetail(customer=rows[0], seat_history=[SeatChange(customer_id=1, old_seats=1, new_seats=10**9,
                                                                       at=NOW)] * 30,
                            totals=[CurrencyTotals(c, 10**15, 10**14, 10**6, NOW) for c in ("USD", "EUR", "JPY")] * 10)
    validate_message(customer_card(detail, show_finance=True, product_url="https://app.example", tz=UTC))
    validate_message(customer_matches(rows * 3, key=LONG_EMAIL, tz=UTC))


def test_page_state_round_trips_and_refuses_garbage() -> None:
    state = PageState(command="churned", query="30d seats:1", after="abc", page_no=4)
    assert decode_state(encode_state(state)) == state
    for bad in ("", "{}", "[1]", '{"command": "drop"}', "not json"):
        with pytest.raises(ValueError, match="page state"):
            decode_state(bad)
    with pytest.raises(ValueError, match="too long"):
        encode_state(PageState(command="list", query="q" * 3000))


def test_the_card_shows_finance_only_to_finance_users() -> None:
    detail = CustomerDetail(customer=customer(3, status="canceled"), seat_history=[],
                            totals=[CurrencyTotals("USD", 4_900, 0, 1, NOW)])
    for_finance = customer_card(detail, show_finance=True, product_url="", tz=UTC)
    validate_message(for_finance)
    assert "$49.00" in json.dumps(for_finance)
    assert "$49.00" not in json.dumps(customer_card(detail, show_finance=False, product_url="", tz=UTC))


@pytest.mark.parametrize(("amount", "currency", "shown"), [
    (123_456, "USD", "$1,234.56"), (-5, "EUR", "-€0.05"), (500, "JPY", "¥500"), (1_234_500, "KWD", "1,234.500 KWD"),
    (100, "CHF", "1.00 CHF"), (0, "USD", "$0.00"),
])
def test_money_is_formatted_from_minor_units_with_the_currency_exponent(amount: int, currency: str,
                                                                        shown: str) -> None:
    assert format_money(amount, currency) == shown


def test_the_balance_explains_the_refund_window_and_flags_negative_available() -> None:
    balances = [Balance("USD", -2_000, 4_410, 15_000, 50_000, 90_000, NOW + timedelta(days=3), 4_410),
                Balance("EUR", 1_300, 0, 0, 500, 1_800, None, 0)]
    msg = balance_message(balances * 10, refund_window_days=14, tz=UTC)
    validate_message(msg)
    text = json.dumps(msg)
    assert "payments become payable 14 days after they are made" in text
    assert "-$20.00" in text
    assert "negative" in text
    assert "nothing pending" in text


def test_payment_and_payout_pages_validate() -> None:
    payment = Payment(id=1, external_id="py_1", customer_id=1, amount=4_900, currency="USD", fee=490,
                      created_at=NOW, refunded_amount=100, refunded_at=NOW)
    rows = [PaymentRow(payment=payment, organization=LONG_ORG, email=LONG_EMAIL)] * 10
    state = PageState("payments", "acme")
    validate_message(payments_page(Page(rows, 11, "n", None), state=state, filters="acme", tz=UTC))
    payout = Payout(id=1, external_id="po_" + "x" * 300, amount=10**12, currency="EUR", status="in_transit",
                    created_at=NOW, arrival_date=None)
    validate_message(payouts_page(Page([payout] * 10, 10, None, "p"), state=PageState("payouts", ""), filters="",
                                  tz=UTC))


def test_home_shows_balance_only_when_given_and_export_only_to_admins() -> None:
    counts = {"active": 10**9, "canceled": 5, "paused": 0}
    member = home_view(counts=counts, new_7d=3, churned_7d=1, total_seats=10**10, balances=None, is_admin=False, tz=UTC)
    validate_view(member)
    assert "Balance" not in json.dumps(member)
    assert "Export" not in json.dumps(member)
    admin = home_view(counts=counts, new_7d=3, churned_7d=1, total_seats=9, is_admin=True, tz=UTC,
                      balances=[Balance("USD", 1, 2, 3, 4, 5, None, 0)] * 30)
    validate_view(admin)
    assert "Balance" in json.dumps(admin)


def test_usage_errors_refusals_and_export_messages_validate() -> None:
    for msg in (customers_usage(), finance_usage(), error_message("seats:abc is not a number"), apology("ab12cd34"),
                refusal(needs="finance", granters="<@U1>"), not_in_channel("C1"),
                export_parent(rows=1234, filters="status:canceled", user_id="U1")):
        validate_message(msg)
    assert export_parent(rows=1234, filters="status:canceled", user_id="U1")["text"] == \
        "CSV export: 1,234 customers, status:canceled, requested by <@U1>"
    assert "ab12cd34" in apology("ab12cd34")["text"]
    usage = json.dumps(customers_usage())
    for example in ("search", "list", "show", "new", "churned", "export", "digest subscribe", "status:", "seats:",
                    "since:", "sort:"):
        assert example in usage


def test_validation_catches_what_slack_would_reject() -> None:
    with pytest.raises(ValueError, match="blocks"):
        validate_message({"text": "x", "blocks": [{"type": "divider"}] * 51})
    table = {"type": "table", "rows": [[{"type": "raw_text", "text": "a"}]]}
    with pytest.raises(ValueError, match="tables"):
        validate_message({"text": "x", "blocks": [table, table]})
    long_header = {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}
    with pytest.raises(ValueError, match="header"):
        validate_message({"text": "x", "blocks": [long_header]})
    assert clip("abcdef", 4) == "abc…"


def test_the_terminal_renders_tables_and_buttons_readably() -> None:
    console = Console(record=True, width=120)
    render_message(customers_page(page([customer(1)]), state=STATE, title="Customers", filters="", product_url="",
                                  tz=UTC, can_export=True), console)
    out = console.export_text()
    assert "Organization" in out
    assert "owner1@acme.example" in out
    assert "[ Next ▶ ]" in out
