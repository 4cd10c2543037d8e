"""Customer answers: the paginated list (one table), the customer card and the several-matches list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from urllib.parse import quote

from handlers.blocks.common import (
    Block,
    Message,
    actions,
    button,
    clip,
    context,
    date_cell,
    day,
    escape,
    escape_fallback,
    fields,
    format_money,
    header,
    hide_emails,
    line_sections,
    link_button,
    link_cell,
    message,
    plural,
    raw_cell,
    section,
    table,
)
from handlers.blocks.nav import (
    EXPORT_CSV,
    MAILTO,
    OPEN_PRODUCT,
    SHARE,
    TOO_LONG,
    PageState,
    page_buttons,
    page_summary,
    state_value,
)
from storage.customers import CurrencyTotals, CustomerDetail
from storage.models import Customer
from storage.paging import Page

STATUS_MARKERS = {"active": "🟢", "trialing": "🔵", "past_due": "🟠", "unpaid": "🔴", "paused": "⏸️",
                  "incomplete": "⚪", "canceled": "⚫"}
ORG_CELL = 60
EMAIL_CELL = 60
ORG_LINE = 80
EMAIL_LINE = 100
HISTORY_SHOWN = 10
CURRENCIES_SHOWN = 12
MATCHES_SHOWN = 10
NO_MATCH = ("No customers match. Try fewer filters or a shorter search word; "
            "`/customers help` lists every filter.")


def status_label(status: str) -> str:
    """A status with its marker, readable at a glance: `🟠 past due`."""
    return f"{STATUS_MARKERS.get(status, '•')} {status.replace('_', ' ')}"


def mailto(email: str) -> str:
    """A mailto: URL for an address."""
    return "mailto:" + quote(email, safe="@.+-_")


def customer_table(customers: list[Customer], *, tz: tzinfo, with_email: bool) -> Block:
    """One table: organization, email (a mailto link, left out of shared copies), seats, status, created, canceled.

    The Canceled column appears only when a customer on the page has canceled (churn lists, status:canceled).
    """
    canceled = any(c.canceled_at is not None for c in customers)
    head = ["Organization", *(["Email"] if with_email else []), "Seats", "Status", "Created",
            *(["Canceled"] if canceled else [])]
    rows: list[list[Block]] = []
    for c in customers:
        org = c.organization if with_email else hide_emails(c.organization)
        cells = [raw_cell(clip(org, ORG_CELL))]
        if with_email:
            cells.append(link_cell(mailto(c.email), clip(c.email, EMAIL_CELL)))
        cells += [raw_cell(f"{c.seats:,}"), raw_cell(status_label(c.status)), date_cell(c.created_at, tz)]
        if canceled:
            cells.append(date_cell(c.canceled_at, tz))
        rows.append(cells)
    seats_column = 2 if with_email else 1
    settings: list[dict[str, object] | None] = [{"is_wrapped": True}, *[None] * (seats_column - 1), {"align": "right"}]
    return table(head, rows, settings)


def customers_page(
    page: Page[Customer], *, state: PageState, title: str, filters: str, product_url: str, tz: tzinfo,
    can_export: bool, shared_by: str | None = None,
) -> Message:
    """A page of customers: title, total and filters, one table, and the buttons that act on it.

    With `shared_by` it is the in-channel copy: no email addresses anywhere, no buttons, and who shared it.
    """
    shared = shared_by is not None
    shown: Callable[[str], str] = hide_emails if shared else str
    summary = page_summary(total=page.total, capped=page.total_capped, shown=len(page.items), state=state,
                           noun="customer", filters=shown(filters))
    blocks: list[Block | None] = [
        header(shown(title)),
        context(summary, f"Shared by <@{shared_by}>" if shared else ""),
        customer_table(page.items, tz=tz, with_email=not shared) if page.items else section(NO_MATCH),
    ]
    if not shared:
        value = state_value(state)
        blocks.append(actions(
            *page_buttons(state, prev_cursor=page.prev_cursor, next_cursor=page.next_cursor, total=page.total,
                          capped=page.total_capped),
            button("Export CSV", EXPORT_CSV, value=value) if can_export and page.total and value else None,
            button("Share in channel", SHARE, value=value) if page.items and value else None,
            link_button("Open Product", OPEN_PRODUCT, product_url),
        ))
        if value is None and (page.next_cursor or page.prev_cursor):
            blocks.append(context(TOO_LONG))
    count = f"{page.total:,}+ customers" if page.total_capped else plural(page.total, "customer")
    text = escape_fallback(f"{shown(title)}: {count}" + (f" ({shown(filters)})" if filters else ""))
    return message(text + (f", shared by <@{shared_by}>" if shared else ""), blocks)


def customer_card(detail: CustomerDetail, *, show_finance: bool, product_url: str, tz: tzinfo) -> Message:
    """One customer: status, seats and their history, dates, finance totals (finance users), email and product."""
    c = detail.customer
    blocks: list[Block | None] = [
        header(c.organization),
        fields(
            f"*Status*\n{status_label(c.status)}",
            f"*Seats*\n{c.seats:,}",
            f"*Created*\n{day(c.created_at, tz)}",
            f"*Canceled*\n{day(c.canceled_at, tz)}" if c.canceled_at else None,
            f"*Email*\n<{mailto(c.email)}|{escape(clip(c.email, EMAIL_LINE))}>",
            f"*Platform id*\n`{escape(clip(c.external_id, 200))}`" if c.external_id else None,
        ),
    ]
    if detail.seat_history:
        lines = [f"• {h.old_seats:,} → {h.new_seats:,} seats ({h.new_seats - h.old_seats:+,}) · {day(h.at, tz)}"
                 for h in detail.seat_history[:HISTORY_SHOWN]]
        blocks.append(section("*Seat history* (latest first)\n" + "\n".join(lines)))
    if show_finance:
        blocks.append(section("*Payments*\n" + _totals(detail.totals, tz)))
    blocks.append(actions(
        link_button("Email", MAILTO, mailto(c.email)),
        link_button("Open Product", OPEN_PRODUCT, product_url),
    ))
    text = f"{c.organization}: {c.status.replace('_', ' ')}, {plural(c.seats, 'seat')}"
    return message(escape_fallback(text), blocks)


def _totals(totals: list[CurrencyTotals], tz: tzinfo) -> str:
    """One line per currency: paid, refunded, how many payments, the last one."""
    if not totals:
        return "No payments yet."
    lines = [f"• *{t.currency}* · paid {format_money(t.paid, t.currency)} over {plural(t.payments, 'payment')}"
             f" · refunded {format_money(t.refunded, t.currency)} · last payment {day(t.last_payment_at, tz)}"
             for t in totals[:CURRENCIES_SHOWN]]
    if len(totals) > CURRENCIES_SHOWN:
        lines.append(f"• and {plural(len(totals) - CURRENCIES_SHOWN, 'more currency', 'more currencies')}")
    return "\n".join(lines)


def customer_matches(customers: list[Customer], *, key: str, tz: tzinfo) -> Message:
    """Several customers matched `show`: a short line each, and how to pick one."""
    listed = customers[:MATCHES_SHOWN]
    lines = [f"• *{escape(clip(c.organization, ORG_LINE))}* · {escape(clip(c.email, EMAIL_LINE))} · "
             f"{status_label(c.status)} · {plural(c.seats, 'seat')} · since {day(c.created_at, tz)}" for c in listed]
    count = f"{MATCHES_SHOWN}+" if len(customers) > MATCHES_SHOWN else f"{len(customers):,}"
    example = f"`/customers show {escape(clip(listed[0].email, EMAIL_LINE))}`" if listed else "`/customers show EMAIL`"
    lead = (f"*{count} customers match “{escape(clip(key, ORG_LINE))}”.* Be more specific, "
            f"or show one by its email, e.g. {example}.")
    blocks: list[Block | None] = [section(lead), *line_sections(lines)]
    if len(customers) > MATCHES_SHOWN:
        blocks.append(context(f"Showing the first {MATCHES_SHOWN}. `/customers search` lists them all with filters."))
    text = f"{count} customers match “{clip(key, ORG_LINE)}”; be more specific or use the exact email"
    return message(escape_fallback(text), blocks)
