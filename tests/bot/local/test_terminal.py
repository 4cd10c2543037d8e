"""The terminal renderer shows what Slack would: headers, fields, tables, links as text, and buttons to click."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console

from bot.local.terminal import button_labels, find_button, render_message, render_view, slack_text
from handlers.blocks.charts import trend_message, without_charts
from handlers.blocks.customers import customer_card, customers_page
from handlers.blocks.home import home_view
from handlers.blocks.nav import PageState
from storage.customers import CustomerDetail
from storage.models import Customer
from storage.paging import Page
from storage.trends import Bucket, Trend

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def customer(i: int, org: str | None = None) -> Customer:
    """A customer row."""
    return Customer(id=i, organization=org or f"Acme {i}", email=f"owner{i}@acme.example",
                    email_key=f"owner{i}@acme.example", seats=i, status="past_due", created_at=NOW - timedelta(days=i),
                    updated_at=NOW)


def list_page(*customers: Customer) -> dict[str, Any]:
    """A middle page with every button."""
    return customers_page(Page(list(customers), 1234, "n", "p"), state=PageState("list", "", page_no=2),
                          title="Customers", filters="seats:>1", product_url="https://app.example", tz=UTC,
                          can_export=True)


def shown(msg: dict[str, Any], *, view: bool = False) -> str:
    """What a 120-column terminal shows."""
    console = Console(record=True, width=120)
    (render_view if view else render_message)(msg, console)
    return console.export_text()


def test_a_page_renders_its_title_count_table_and_buttons() -> None:
    out = shown(list_page(customer(1), customer(2)))
    lines = out.splitlines()
    assert lines[0] == "Customers"
    assert lines[1] == "1,234 customers · page 2 · seats:>1"
    assert all(column in lines[3] for column in ("Organization", "Email", "Seats", "Status", "Created"))
    row = next(line for line in lines if "Acme 1" in line)
    assert "owner1@acme.example" in row
    assert "🟠 past due" in row
    assert "2026-11-23" in row
    assert lines[-1] == "[ ◀ Previous ]  [ Next ▶ ]  [ Export CSV ]  [ Share in channel ]  [ Open Product ]"


def test_user_data_is_printed_literally_not_as_terminal_markup() -> None:
    out = shown(list_page(customer(1, org="[bold red]Evil[/] & Co")))
    assert "[bold red]Evil[/] & Co" in out


def test_card_fields_links_and_dates_read_as_plain_text() -> None:
    detail = CustomerDetail(customer=customer(3, org="Acme & Sons"), seat_history=[], totals=[])
    out = shown(customer_card(detail, show_finance=False, product_url="", tz=UTC))
    assert out.splitlines()[0] == "Acme & Sons"
    assert "🟠 past due" in out
    assert "owner3@acme.example" in out
    assert "mailto:" not in out
    assert "2026-11-21" in out
    assert "<!date" not in out


def test_slack_markup_turns_into_readable_text() -> None:
    assert slack_text("<@U1> in <#C2> at <!date^1764000000^{date_short}|2025-11-24>") == "@U1 in #C2 at 2025-11-24"
    assert slack_text("<https://app.example|Open> · <mailto:a@b.example|a@b.example> · <!here>") == (
        "Open (https://app.example) · a@b.example · @here")
    assert slack_text("a &lt;b&gt; &amp; c") == "a <b> & c"


def test_the_home_view_renders_under_its_own_rule() -> None:
    view = home_view(counts={"active": 3}, new_7d=1, churned_7d=0, total_seats=9, balances=None, is_admin=True,
                     tz=UTC)
    out = shown(view, view=True)
    assert "App Home" in out.splitlines()[0]
    assert "3 customers · 9 seats in use" in out
    assert "[ Export all (CSV) ]" in out


def test_button_labels_lists_every_button_in_order() -> None:
    assert button_labels(list_page(customer(1))) == [
        "◀ Previous", "Next ▶", "Export CSV", "Share in channel", "Open Product"]
    assert button_labels({"text": "x", "blocks": []}) == []


def test_find_button_matches_a_label_prefix_ignoring_case_and_arrows() -> None:
    msg = list_page(customer(1))
    for typed, label in (("next", "Next ▶"), ("Prev", "◀ Previous"), ("EXPORT", "Export CSV"),
                         ("share in", "Share in channel"), ("◀ previous", "◀ Previous")):
        found = find_button(msg, typed)
        assert found is not None
        assert found["text"]["text"] == label
    assert find_button(msg, "csv") is None
    assert find_button(msg, "") is None
    assert find_button({}, "next") is None


def test_a_trend_draws_bars_a_line_of_block_characters_and_its_figures() -> None:
    days = [NOW - timedelta(days=3 - i) for i in range(4)]
    buckets = [Bucket(start=d, end=d + timedelta(days=1), signups=n, churned=1, customers=10 + n)
               for d, n in zip(days, (2, 4, 8, 0), strict=True)]
    msg = trend_message(Trend(unit="day", step=1, buckets=buckets), title="Customers trend", filters="",
                        share_value="7d")
    out = shown(msg)
    assert "Nov 21 New     ██████████ 2\n" in out
    assert "Nov 23 New     ████████████████████████████████████████ 8" in out
    assert "Customers ▃▅█▁ 12 → 10" in out
    assert "new 2, 4, 8, 0" in out
    assert "[ Share in channel ]" in out
    table = shown(without_charts(msg))
    assert "Period" in table
    assert "Churned" in table
