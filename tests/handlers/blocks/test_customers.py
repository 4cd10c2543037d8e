"""Customer renderers: the list page, the shared copy, the card and the matches; every payload validated."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.local.terminal import button_labels, find_button
from handlers.blocks.customers import STATUS_MARKERS, customer_card, customer_matches, customers_page
from handlers.blocks.limits import validate_message
from handlers.blocks.nav import EXPORT_CSV, MAILTO, OPEN_PRODUCT, PAGE_NEXT, PAGE_PREV, SHARE, PageState, decode_state
from storage.customers import CurrencyTotals, CustomerDetail
from storage.models import Customer, SeatChange, Status
from storage.paging import Page, encode_cursor

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
N, P, CUR2 = encode_cursor(5, 12), encode_cursor(7, 3), encode_cursor(6, 9)
STATE = PageState(command="list", query="status:active seats:>1", after=CUR2, page_no=2)
LONG_ORG = "Ω&<" * 334
LONG_EMAIL = "x" * 300 + "@example.com"


def customer(i: int, *, org: str | None = None, email: str | None = None, status: str = "active",
             seats: int | None = None, canceled: bool = False) -> Customer:
    """A customer row as storage returns it."""
    address = email or f"owner{i}@acme{i}.example"
    return Customer(id=i, organization=org or f"Acme {i}", email=address, email_key=address.lower(),
                    seats=i if seats is None else seats, status=status, created_at=NOW - timedelta(days=i),
                    canceled_at=NOW - timedelta(days=1) if canceled else None, updated_at=NOW,
                    external_id=f"ws_{i}")


def page(items: list[Customer], *, total: int | None = None, nxt: str | None = N, prev: str | None = P,
         capped: bool = False) -> Page[Customer]:
    """A page of customers."""
    return Page(items=items, total=len(items) if total is None else total, next_cursor=nxt, prev_cursor=prev,
                total_capped=capped)


def render(items: list[Customer], **kwargs: Any) -> dict[str, Any]:
    """customers_page with everyday defaults, validated like every payload we send."""
    p = kwargs.pop("page", None) or page(items, total=kwargs.pop("total", 1234))
    options: dict[str, Any] = {"state": STATE, "title": "Customers", "filters": "status:active seats:>1",
                               "product_url": "https://app.example", "tz": UTC, "can_export": True}
    msg = customers_page(p, **(options | kwargs))
    validate_message(msg)
    return msg


def the_table(msg: dict[str, Any]) -> dict[str, Any]:
    """The message's only table block."""
    tables: list[dict[str, Any]] = [b for b in msg["blocks"] if b["type"] == "table"]
    assert len(tables) == 1
    return tables[0]


def test_a_page_reads_header_count_page_and_filters_then_one_table_then_the_buttons() -> None:
    msg = render([customer(i) for i in range(1, 11)])
    assert [b["type"] for b in msg["blocks"]] == ["header", "context", "table", "actions"]
    assert msg["blocks"][0]["text"]["text"] == "Customers"
    assert msg["blocks"][1]["elements"][0]["text"] == "1,234 customers · page 2 · status:active seats:&gt;1"
    assert button_labels(msg) == ["◀ Previous", "Next ▶", "Export CSV", "Share in channel", "Open Product"]
    assert msg["text"] == "Customers: 1,234 customers (status:active seats:>1)"


def test_the_table_has_a_bold_header_row_and_one_row_per_customer() -> None:
    table = the_table(render([customer(i) for i in range(1, 11)]))
    head = [cell["elements"][0]["elements"][0] for cell in table["rows"][0]]
    assert [h["text"] for h in head] == ["Organization", "Email", "Seats", "Status", "Created"]
    assert all(h["style"] == {"bold": True} for h in head)
    assert len(table["rows"]) == 11
    assert table["column_settings"] == [{"is_wrapped": True}, None, {"align": "right"}]


def test_emails_are_mailto_links_and_seats_status_and_dates_are_readable() -> None:
    row = the_table(render([customer(3, status="past_due", seats=1500)], total=1))["rows"][1]
    assert row[0] == {"type": "raw_text", "text": "Acme 3"}
    link = row[1]["elements"][0]["elements"][0]
    assert link == {"type": "link", "url": "mailto:owner3@acme3.example", "text": "owner3@acme3.example"}
    assert row[2]["text"] == "1,500"
    assert row[3]["text"] == "🟠 past due"
    date = row[4]["elements"][0]["elements"][0]
    assert date["type"] == "date"
    assert date["timestamp"] == int((NOW - timedelta(days=3)).timestamp())
    assert date["fallback"] == "2026-11-21"


@pytest.mark.parametrize("status", [s.value for s in Status])
def test_every_status_has_its_own_marker(status: str) -> None:
    row = the_table(render([customer(1, status=status)], total=1))["rows"][1]
    assert row[3]["text"] == f"{STATUS_MARKERS[status]} {status.replace('_', ' ')}"


def test_a_canceled_column_appears_only_when_someone_on_the_page_canceled() -> None:
    table = the_table(render([customer(1), customer(2, status="canceled", canceled=True)], total=2))
    assert [c["elements"][0]["elements"][0]["text"] for c in table["rows"][0]][-2:] == ["Created", "Canceled"]
    assert table["rows"][1][-1] == {"type": "raw_text", "text": "—"}
    assert table["rows"][2][-1]["elements"][0]["elements"][0]["fallback"] == "2026-11-23"
    assert len(the_table(render([customer(1)], total=1))["rows"][0]) == 5


def test_dates_fall_back_to_the_day_in_the_configured_zone() -> None:
    late = customer(1)
    late.created_at = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    berlin = the_table(render([late], total=1, tz=BERLIN))["rows"][1][4]["elements"][0]["elements"][0]
    utc = the_table(render([late], total=1, tz=UTC))["rows"][1][4]["elements"][0]["elements"][0]
    assert (berlin["fallback"], utc["fallback"]) == ("2026-11-24", "2026-11-23")


def test_previous_and_next_carry_the_query_the_cursor_and_the_page_number() -> None:
    msg = render([customer(1)])
    nxt, prev = find_button(msg, "next"), find_button(msg, "previous")
    assert nxt is not None
    assert prev is not None
    assert (nxt["action_id"], prev["action_id"]) == (PAGE_NEXT, PAGE_PREV)
    # the count this page shows rides along, so the next page shows it without counting again
    assert decode_state(nxt["value"]) == PageState("list", "status:active seats:>1", after=N, page_no=3, total=1234)
    assert decode_state(prev["value"]) == PageState("list", "status:active seats:>1", before=P, page_no=1,
                                                    total=1234)


def test_export_and_share_carry_this_page_and_open_product_is_a_link() -> None:
    msg = render([customer(1)])
    export, share, product = find_button(msg, "export"), find_button(msg, "share"), find_button(msg, "open")
    assert export is not None
    assert share is not None
    assert product is not None
    assert (export["action_id"], share["action_id"], product["action_id"]) == (EXPORT_CSV, SHARE, OPEN_PRODUCT)
    assert decode_state(export["value"]) == STATE
    assert decode_state(share["value"]) == STATE
    assert product["url"] == "https://app.example"


def test_the_first_page_has_no_previous_and_the_last_has_no_next() -> None:
    first = render([customer(1)], page=page([customer(1)], total=20, prev=None))
    last = render([customer(1)], page=page([customer(1)], total=20, nxt=None))
    assert "◀ Previous" not in button_labels(first)
    assert "Next ▶" in button_labels(first)
    assert "Next ▶" not in button_labels(last)


def test_members_get_no_export_and_there_is_no_product_button_without_a_url() -> None:
    msg = render([customer(1)], can_export=False, product_url="")
    assert button_labels(msg) == ["◀ Previous", "Next ▶", "Share in channel"]


def test_a_single_page_shows_no_page_number() -> None:
    msg = render([customer(1)], page=page([customer(1)], nxt=None, prev=None), state=PageState("list", ""))
    assert msg["blocks"][1]["elements"][0]["text"] == "1 customer · status:active seats:&gt;1"


def test_capped_totals_read_as_a_lower_bound() -> None:
    msg = render([customer(1)], page=page([customer(1)], total=1000, capped=True), title="Search: inc")
    assert msg["text"].startswith("Search: inc: 1,000+ customers")
    assert "1,000+ customers · page 2" in json.dumps(msg, ensure_ascii=False)


def test_no_results_get_a_friendly_hint_and_no_export_or_share() -> None:
    msg = render([], page=page([], total=0, nxt=None, prev=None), filters="seats:>100000")
    assert "table" not in [b["type"] for b in msg["blocks"]]
    assert "Try fewer filters" in msg["blocks"][2]["text"]["text"]
    assert button_labels(msg) == ["Open Product"]


def test_the_shared_copy_has_no_email_anywhere_no_buttons_and_says_who_shared_it() -> None:
    rows = [customer(i) for i in range(1, 11)] + [customer(11, org="bob@gmail.com's workspace")]
    msg = render(rows, shared_by="U1", title="Search: bob@gmail.com", filters="bob@gmail.com status:active")
    dumped = json.dumps(msg, ensure_ascii=False)
    assert "@" not in dumped.replace("<@U1>", "")
    assert button_labels(msg) == []
    assert "Shared by <@U1>" in [e["text"] for e in msg["blocks"][1]["elements"]]
    assert [c["elements"][0]["elements"][0]["text"] for c in the_table(msg)["rows"][0]] == [
        "Organization", "Seats", "Status", "Created"]
    assert "[email hidden]'s workspace" in dumped


def test_user_data_cannot_ping_the_channel_from_the_fallback_text() -> None:
    msg = render([customer(1)], title="Search: <!channel>", filters="<!channel>", shared_by="U1")
    assert "<!channel>" not in msg["text"]
    assert "&lt;!channel>" in msg["text"]
    assert msg["text"].endswith("shared by <@U1>")


def test_worst_case_rows_titles_and_filters_are_cut_not_rejected() -> None:
    rows = [customer(i, org=LONG_ORG, email=f"{i}{LONG_EMAIL}", seats=10**9) for i in range(10)]
    msg = render(rows, total=10**12, title="T" * 500, filters="f&" * 2500,
                 state=PageState("search", "x" * 1500, after=encode_cursor("a" * 140, 1), page_no=10**6))
    row = the_table(msg)["rows"][1]
    assert row[0]["text"].endswith("…")
    assert len(row[0]["text"]) == 60
    assert row[1]["elements"][0]["elements"][0]["text"].endswith("…")
    assert row[1]["elements"][0]["elements"][0]["url"].endswith("@example.com")
    assert len(msg["blocks"][0]["text"]["text"]) == 150


def test_a_query_too_long_for_a_button_drops_the_buttons_that_need_it_and_says_why() -> None:
    msg = render([customer(1)], state=PageState("search", "q" * 2100))
    assert button_labels(msg) == ["Open Product"]
    assert "too long" in msg["blocks"][-1]["elements"][0]["text"]


def test_a_product_url_too_long_for_a_button_is_left_out_rather_than_cut() -> None:
    msg = render([customer(1)], product_url="https://app.example/" + "p" * 3000)
    assert "Open Product" not in button_labels(msg)


def card(c: Customer, *, history: list[SeatChange] | None = None, totals: list[CurrencyTotals] | None = None,
         show_finance: bool = True, product_url: str = "https://app.example") -> dict[str, Any]:
    """customer_card, validated."""
    msg = customer_card(CustomerDetail(customer=c, seat_history=history or [], totals=totals or []),
                        show_finance=show_finance, product_url=product_url, tz=UTC)
    validate_message(msg)
    return msg


def test_the_card_shows_status_seats_dates_email_and_platform_id() -> None:
    msg = card(customer(5, status="canceled", seats=12, canceled=True))
    assert msg["blocks"][0]["text"]["text"] == "Acme 5"
    shown = [f["text"] for f in msg["blocks"][1]["fields"]]
    assert shown[:2] == ["*Status*\n⚫ canceled", "*Seats*\n12"]
    assert shown[2] == f"*Created*\n<!date^{int((NOW - timedelta(days=5)).timestamp())}^{{date_short}}|2026-11-19>"
    assert shown[3].startswith("*Canceled*\n<!date^")
    assert shown[4] == "*Email*\n<mailto:owner5@acme5.example|owner5@acme5.example>"
    assert shown[5] == "*Platform id*\n`ws_5`"
    assert "owner5" not in msg["text"]


def test_an_active_customer_has_no_canceled_date() -> None:
    assert "Canceled" not in json.dumps(card(customer(1)))


def test_the_card_lists_the_latest_seat_changes_with_the_difference() -> None:
    history = [SeatChange(customer_id=1, old_seats=3, new_seats=5, at=NOW),
               SeatChange(customer_id=1, old_seats=5, new_seats=3, at=NOW - timedelta(days=9))]
    text = card(customer(1), history=history)["blocks"][2]["text"]["text"]
    assert text.startswith("*Seat history* (latest first)\n• 3 → 5 seats (+2) · <!date^")
    assert "• 5 → 3 seats (-2) · <!date^" in text


def test_the_card_shows_finance_totals_per_currency_only_to_finance_users() -> None:
    totals = [CurrencyTotals("USD", 4_900, 100, 1, NOW), CurrencyTotals("JPY", 5_000, 0, 3, NOW)]
    shown = json.dumps(card(customer(1), totals=totals), ensure_ascii=False)
    assert "*USD* · paid $49.00 over 1 payment · refunded $1.00 · last payment <!date^" in shown
    assert "*JPY* · paid ¥5,000 over 3 payments" in shown
    hidden = json.dumps(card(customer(1), totals=totals, show_finance=False), ensure_ascii=False)
    assert "$49.00" not in hidden
    assert "Payments" not in hidden


def test_a_finance_user_sees_when_there_are_no_payments_yet() -> None:
    assert "No payments yet." in json.dumps(card(customer(1)))


def test_the_card_buttons_write_an_email_and_open_the_product() -> None:
    msg = card(customer(1, email="o'brien+billing@acme.example"))
    email, product = find_button(msg, "email"), find_button(msg, "open product")
    assert email is not None
    assert product is not None
    assert (email["action_id"], email["url"]) == (MAILTO, "mailto:o%27brien+billing@acme.example")
    assert (product["action_id"], product["url"]) == (OPEN_PRODUCT, "https://app.example")
    assert button_labels(card(customer(1), product_url="")) == ["Email"]


def test_worst_case_cards_stay_inside_the_limits() -> None:
    history = [SeatChange(customer_id=1, old_seats=10**9, new_seats=0, at=NOW)] * 30
    totals = [CurrencyTotals(f"C{i:02d}", 10**15, 10**14, 10**6, NOW) for i in range(40)]
    msg = card(customer(1, org=LONG_ORG, email=LONG_EMAIL, canceled=True), history=history, totals=totals,
               product_url="https://app.example/" + "p" * 5000)
    assert "and 28 more currencies" in json.dumps(msg)
    assert msg["blocks"][0]["text"]["text"].endswith("…")


def test_an_organization_name_cannot_inject_markup_into_the_card() -> None:
    msg = card(customer(1, org="<!channel> *Acme*"))
    assert msg["blocks"][0]["text"] == {"type": "plain_text", "text": "<!channel> *Acme*", "emoji": True}
    assert "<!channel>" not in json.dumps(msg["blocks"][1:]) + msg["text"]


def test_several_matches_are_listed_one_line_each_with_a_hint() -> None:
    msg = customer_matches([customer(i) for i in range(1, 4)], key="acme", tz=UTC)
    validate_message(msg)
    assert msg["blocks"][0]["text"]["text"].startswith("*3 customers match “acme”.* Be more specific")
    assert "`/customers show owner1@acme1.example`" in msg["blocks"][0]["text"]["text"]
    lines = msg["blocks"][1]["text"]["text"].split("\n")
    assert len(lines) == 3
    assert lines[0].startswith("• *Acme 1* · owner1@acme1.example · 🟢 active · 1 seat · since <!date^")
    assert "@" not in msg["text"]


def test_more_matches_than_shown_say_so() -> None:
    msg = customer_matches([customer(i) for i in range(1, 12)], key="acme", tz=UTC)
    validate_message(msg)
    assert "*10+ customers match" in msg["blocks"][0]["text"]["text"]
    assert msg["blocks"][-1]["type"] == "context"


def test_worst_case_matches_are_split_across_sections_not_rejected() -> None:
    rows = [customer(i, org="&" * 1000, email=f"{i}{LONG_EMAIL}") for i in range(11)]
    msg = customer_matches(rows, key="&" * 1000, tz=UTC)
    validate_message(msg)
    assert sum(1 for b in msg["blocks"] if b["type"] == "section") > 2
