"""The App Home tab."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from bot.blocks.common import Block, actions, button, context, format_money, header, section
from bot.blocks.customers import status_label
from bot.blocks.nav import HOME_CHURNED, HOME_EXPORT, HOME_NEW, HOME_ONE_SEAT
from storage.finance import Balance


def home_view(
    *, counts: dict[str, int], new_7d: int, churned_7d: int, total_seats: int, balances: list[Balance] | None,
    is_admin: bool, tz: tzinfo,
) -> dict[str, Any]:
    """Customers by status, the last 7 days, seats, the balance (finance users) and the common workflows."""
    total = sum(counts.values())
    by_status = [f"*{status_label(s)}*\n{n:,}" for s, n in counts.items() if n][:10]
    blocks: list[Block | None] = [
        header("Customers"),
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in by_status]} if by_status
        else section("No customers yet."),
        context(f"{total:,} customers · {total_seats:,} seats in use"),
        section(f"*Last 7 days:* {new_7d:,} new signups · {churned_7d:,} churned · net {new_7d - churned_7d:+,}"),
        actions(button("New signups", HOME_NEW, value="7d"), button("Churned", HOME_CHURNED, value="7d"),
                button("1-seat orgs", HOME_ONE_SEAT, value="seats:1"),
                button("Export all (CSV)", HOME_EXPORT, value="") if is_admin else None),
    ]
    if balances is not None:
        blocks.append({"type": "divider"})
        blocks.append(header("Balance"))
        lines = [f"*{b.currency}* · available {format_money(b.available, b.currency)} · pending "
                 f"{format_money(b.pending, b.currency)} · in transit {format_money(b.in_transit, b.currency)}"
                 for b in balances[:20]]
        blocks.append(section("\n".join(lines) if lines else "No payments yet."))
    return {"type": "home", "blocks": [b for b in blocks if b is not None][:100]}
