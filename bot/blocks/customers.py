"""Customer answers: the paginated list (one table), the customer card and several-matches list."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any
from urllib.parse import quote

from bot.blocks.common import (
    Block,
    Message,
    actions,
    button,
    clip,
    context,
    day,
    escape,
    format_money,
    header,
    local_day,
    message,
    nav_button,
    raw_cell,
    section,
)
from bot.blocks.nav import EXPORT_CSV, MAILTO, OPEN_PRODUCT, PAGE_NEXT, PAGE_PREV, SHARE, PageState, encode_state
from storage.customers import CustomerDetail
from storage.models import Customer
from storage.paging import Page

STATUS_MARKERS = {"active": "🟢", "trialing": "🔵", "past_due": "🟠", "unpaid": "🔴", "paused": "⏸️",
                  "incomplete": "⚪", "canceled": "⚫"}
ORG_CELL = 60
EMAIL_CELL = 80


def status_label(status: str) -> str:
    """A status with its marker, readable at a glance."""
    return f"{STATUS_MARKERS.get(status, '•')} {status.replace('_', ' ')}"



def _mail_cell(email: str) -> dict[str, Any]:
    """A table cell whose email is a mailto link."""
    link = {"type": "link", "url": f"mailto:{quote(email, safe='@.+-_')}", "text": clip(email, EMAIL_CELL)}
    return {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [link]}]}


def customer_table(customers: list[Customer], *, tz: tzinfo, with_email: bool) -> Block:
    """One table block: organization, (email), seats, status, created."""
    head = ["Organization", *(["Email"] if with_email else []), "Seats", "Status", "Created"]
    rows = [[raw_cell(h) for h in head]]
    for c in customers[:99]:
        cells = [raw_cell(clip(c.organization, ORG_CELL))]
        if with_email:
            cells.append(_mail_cell(c.email))
        cells += [raw_cell(f"{c.seats:,}"), raw_cell(status_label(c.status)), raw_cell(local_day(c.created_at, tz))]
        rows.append(cells)
    settings: list[dict[str, Any] | None] = [{"is_wrapped": True}, *([None] if with_email else []), {"align": "right"}]
    return {"type": "table", "rows": rows, "column_settings": settings}


def customers_page(
    page: Page[Customer], *, state: PageState, title: str, filters: str, product_url: str, tz: tzinfo,
    can_export: bool, shared_by: str | None = None,
) -> Message:
    """A page of customers with its total, active filters and the buttons that act on it."""
    noun = "customer" if page.total == 1 else "customers"
    count = f"{page.total:,}{'+' if page.total_capped else ''}"
    summary = f"{count} {noun}" + (f" · page {state.page_no}" if page.total > len(page.items) else "")
    if filters:
        summary += f" · `{escape(clip(filters, 500))}`"
    shared = shared_by is not None
    blocks: list[Block | None] = [header(title), context(summary + (f" · shared by <@{shared_by}>" if shared else ""))]
    if page.items:
        blocks.append(customer_table(page.items, tz=tz, with_email=not shared))
    else:
        blocks.append(section("No customers match. Try fewer filters, a shorter search word, or `/customers help`."))
    if not shared:
        blocks.append(actions(
            nav_button(PAGE_PREV, "◀ Previous", state, before=page.prev_cursor, page_no=state.page_no - 1)
            if page.prev_cursor else None,
            nav_button(PAGE_NEXT, "Next ▶", state, after=page.next_cursor, page_no=state.page_no + 1)
            if page.next_cursor else None,
            button("Export CSV", EXPORT_CSV, value=_value(state)) if can_export and page.total else None,
            button("Share in channel", SHARE, value=_value(state)) if page.items else None,
            button("Open Product", OPEN_PRODUCT, url=product_url) if product_url else None,
        ))
    text = f"{title}: {count} {noun}" + (f" ({filters})" if filters else "")
    return message(text, blocks)



def _value(state: PageState) -> str:
    """The state of the first page of this query (for export and share)."""
    return encode_state(PageState(command=state.command, query=state.query, after=state.after,
                                  before=state.before, page_no=state.page_no))


def customer_card(detail: CustomerDetail, *, show_finance: bool, product_url: str, tz: tzinfo) -> Message:
    """One customer: status, seats and history, dates, finance totals (finance users), mailto and product buttons."""
    c = detail.customer
    fields = [f"*Status*\n{status_label(c.status)}", f"*Seats*\n{c.seats:,}", f"*Created*\n{day(c.created_at, tz)}",
              f"*Canceled*\n{day(c.canceled_at, tz)}" if c.canceled_at else None,
              f"*Email*\n<mailto:{quote(c.email, safe='@.+-_')}|{escape(clip(c.email, 200))}>",
              f"*Platform id*\n`{escape(c.external_id)}`" if c.external_id else None]
    blocks: list[Block | None] = [
        header(c.organization),
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields if f]},
    ]
    if detail.seat_history:
        lines = [f"• {h.old_seats:,} → {h.new_seats:,} seats · {day(h.at, tz)}" for h in detail.seat_history[:10]]
        blocks.append(section("*Seat history*\n" + "\n".join(lines)))
    if show_finance:
        if detail.totals:
            lines = [f"• {t.currency}: paid {format_money(t.paid, t.currency)}, refunded "
                     f"{format_money(t.refunded, t.currency)} over {t.payments:,} payments, last "
                     f"{day(t.last_payment_at, tz)}" for t in detail.totals[:20]]
            blocks.append(section("*Finance*\n" + "\n".join(lines)))
        else:
            blocks.append(section("*Finance*\nNo payments yet."))
    blocks.append(actions(
        button("Email", MAILTO, url=f"mailto:{quote(c.email, safe='@.+-_')}"),
        button("Open Product", OPEN_PRODUCT, url=product_url) if product_url else None,
    ))
    return message(f"{c.organization}: {c.status}, {c.seats} seats", blocks)


def customer_matches(customers: list[Customer], *, key: str, tz: tzinfo) -> Message:
    """Several customers matched `show`: list them so the user can pick one."""
    lines = [f"• *{escape(clip(c.organization, 120))}* · {escape(clip(c.email, 120))} · {status_label(c.status)} · "
             f"{c.seats:,} seats · since {day(c.created_at, tz)}" for c in customers[:10]]
    more = " (showing the first 10)" if len(customers) > 10 else ""
    text = f"{len(customers)} customers match {key!r}{more}. Show one with its email: `/customers show EMAIL`."
    return message(text, [section(escape(text)), section("\n".join(lines))])
