"""The App Home tab: the customer base at a glance, the last 7 days, the balance, and the common workflows."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from handlers.blocks.alert_form import alert_form_button
from handlers.blocks.common import (
    Block,
    actions,
    button,
    context,
    day,
    fields,
    format_money,
    header,
    line_sections,
    plural,
    section,
)
from handlers.blocks.customers import STATUS_MARKERS, status_label
from handlers.blocks.limits import FIELDS, VIEW_BLOCKS
from handlers.blocks.modals import digest_form_button, home_search_input
from handlers.blocks.nav import HOME_CHURNED, HOME_EXPORT, HOME_NEW, HOME_ONE_SEAT, PageState, encode_state
from storage.finance import Balance

CURRENCIES_SHOWN = 60


def home_view(
    *, counts: dict[str, int], new_7d: int, churned_7d: int, total_seats: int, balances: list[Balance] | None,
    is_admin: bool, tz: tzinfo, trend: list[Block] | None = None, more: list[list[Block]] | None = None,
) -> dict[str, Any]:
    """Customers by status, new and churned in 7 days, seats, the balance (finance users) and workflow buttons."""
    total = sum(counts.values())
    order = {s: i for i, s in enumerate(STATUS_MARKERS)}
    ordered = sorted((s for s, n in counts.items() if n), key=lambda s: (order.get(s, len(order)), s))
    by_status = [f"*{status_label(s)}*\n{counts[s]:,}" for s in ordered][:FIELDS]
    blocks: list[Block | None] = [
        header("Customers"),
        context(f"{plural(total, 'customer')} · {plural(total_seats, 'seat')} in use"),
        fields(*by_status) if by_status else section("No customers yet."),
        {"type": "divider"},
        fields(f"*New signups*\n{new_7d:,}", f"*Churned*\n{churned_7d:,}", f"*Net*\n{new_7d - churned_7d:+,}",
               text="*Last 7 days*"),
        actions(
            button("New signups · 7d", HOME_NEW, value=encode_state(PageState("new", "7d"))),
            button("Churned · 7d", HOME_CHURNED, value=encode_state(PageState("churned", "7d"))),
            button("1-seat orgs", HOME_ONE_SEAT, value=encode_state(PageState("list", "seats:1"))),
            button("Export all (CSV)", HOME_EXPORT, value=encode_state(PageState("list", ""))) if is_admin else None,
            digest_form_button() if is_admin else None,
            alert_form_button() if is_admin else None,
        ),
        home_search_input(),  # handlers.home_search shows the matches under it, beside these figures
        *([{"type": "divider"}, *trend] if trend else []),
    ]
    if balances is not None:
        blocks += [{"type": "divider"}, header("Balance"), *_balance(balances, tz)]
    for part in more or []:  # the caller's further sections (MRR for finance users, alert rules for admins)
        blocks += [{"type": "divider"}, *part]
    blocks.append(context("Type `/customers help`" + (" or `/finance help`" if balances is not None else "")
                          + " in any channel for everything else."))
    present = [b for b in blocks if b is not None]
    return {"type": "home", "blocks": present[:VIEW_BLOCKS]}


def _balance(balances: list[Balance], tz: tzinfo) -> list[Block]:
    """One line per currency: available (flagged when negative), pending and the next clearing."""
    if not balances:
        return [section("No payments yet.")]
    lines = []
    for b in balances[:CURRENCIES_SHOWN]:
        available = format_money(b.available, b.currency)
        line = f"*{b.currency}* · available {':warning: ' if b.available < 0 else ''}{available}"
        line += f" · pending {format_money(b.pending, b.currency)}"
        if b.next_clearing_at is not None:
            line += f" · next {format_money(b.next_clearing_amount, b.currency)} on {day(b.next_clearing_at, tz)}"
        lines.append(line)
    if len(balances) > CURRENCIES_SHOWN:
        lines.append(f"and {plural(len(balances) - CURRENCIES_SHOWN, 'more currency', 'more currencies')}; "
                     "`/finance balance` shows them all")
    return line_sections(lines)
