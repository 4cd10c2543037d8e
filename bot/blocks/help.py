"""Usage messages for /customers and /finance, with an example of every subcommand and filter."""

from __future__ import annotations

from bot.blocks.common import Message, context, header, message, section

CUSTOMERS_USAGE = """\
*Find customers*
• `/customers search acme` · organization or email contains "acme"
• `/customers search "blue harbor" status:active` · a quoted phrase plus filters
• `/customers list status:canceled seats:1` · filters only
• `/customers show acme.example` · one customer's card (organization, email or platform id)
*Windows*
• `/customers new` · signups in the last 7 days · `/customers new 24h`, `/customers new 30d`
• `/customers churned 30d` · cancellations in the last 30 days
*Exports (admins)*
• `/customers export status:canceled` · CSV uploaded into a thread · or mention `@Customers export ...` in a thread
*Daily digests (admins)*
• `/customers digest subscribe 09:00 Europe/Berlin` · `/customers digest subscribe 08:30 America/New_York quiet:skip`
• `/customers digest unsubscribe` · `/customers digest list` · `/customers digest preview`"""

FILTERS_USAGE = """\
*Filters*
• `status:canceled` · `status:active,trialing` (active, trialing, past_due, unpaid, paused, incomplete, canceled)
• `seats:1` · `seats:0` · `seats:>10` · `seats:>=5` · `seats:<3` · `seats:5..20`
• `since:7d` · `since:24h` · `since:2w` · `since:3m` · `since:2026-11-01` · `until:2026-11-30` (created)
• `created:2026-11-01..2026-11-30` · `canceled:30d`
• `sort:-created` (default, newest first) · `sort:created` · `sort:-seats` · `sort:name`"""

FINANCE_USAGE = """\
*Money (finance users and admins)*
• `/finance balance` · available, pending in the refund window, next clearing, in transit, paid out, lifetime
• `/finance payments` · `/finance payments acme currency:usd since:30d sort:-amount`
• `/finance payouts` · `/finance payouts status:paid,in_transit since:3m`"""


def customers_usage() -> Message:
    """How to use /customers."""
    return message("How to use /customers: search, list, show, new, churned, export, digest",
                   [header("/customers"), section(CUSTOMERS_USAGE), section(FILTERS_USAGE),
                    context("Answers are only visible to you until you share them.")])


def finance_usage() -> Message:
    """How to use /finance."""
    return message("How to use /finance: balance, payments, payouts", [header("/finance"), section(FINANCE_USAGE)])
