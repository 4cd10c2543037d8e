"""Usage messages for /customers and /finance, with an example of every subcommand and filter."""

from __future__ import annotations

from handlers.blocks.common import Message, context, header, message, section

FIND = """\
*Find customers*
• `/customers search acme` · organization or email contains “acme”
• `/customers search "blue harbor" status:active` · a quoted phrase, plus filters
• `/customers list status:canceled seats:1` · filters only, newest first
• `/customers show acme.example` · one customer's card, by organization, email or platform id"""

WINDOWS = """\
*New and churned*
• `/customers new` · signups in the last 7 days · `/customers new 24h` · `/customers new 30d seats:0`
• `/customers churned` · cancellations in the last 7 days · `/customers churned 30d` \
· `/customers churned 2026-11-01..2026-11-30`
• `/customers trend` · signups and churn as charts, last 90 days · `/customers trend 12m seats:>10` \
· `/finance trend` (finance users) · MRR, its movements and earnings per month"""

ADMIN = """\
*Exports, digests and alerts (admins)*
• `/customers export status:canceled` · the CSV goes into a thread in this channel; \
or mention `@Customers export status:canceled` inside a thread
• `/customers digest subscribe 09:00 Europe/Berlin` · a daily digest of signups and churn in this channel \
(`quiet:skip` skips days with nothing to report)
• `/customers digest unsubscribe` · `/customers digest list` · `/customers digest preview`
• `/customers alert add churn seats:>=20` · this channel hears at once when such a customer churns \
(kinds: churn, signup, expansion, contraction, reactivation; finance: refund `amount:>=500`, payout_failed; \
`quiet:22:00-07:00` holds them overnight)
• `/customers alert list` · `/customers alert pause 3` · `resume 3` · `remove 3`
• Shortcuts: *Find a customer* (search as you type) and, on any message, *Look up customers*"""

FILTERS = """\
*Filters* (combine any; words without a colon are searched)
• `status:canceled` · `status:active,trialing` · any of active, trialing, past_due, unpaid, paused, \
incomplete, canceled
• `seats:1` · `seats:0` · `seats:>10` · `seats:>=5` · `seats:<3` · `seats:<=3` · `seats:5..20` · `seats:5..`
• `since:7d` · `since:24h` · `since:2w` · `since:3m` · `since:1y` · `since:yesterday` · `since:2026-11-01` \
· `until:2026-11-30` (signup date)
• `created:7d` · `created:2026-11-01..2026-11-30` · `canceled:30d` · `canceled:2026-11-01..`
• `sort:-created` (newest first, the default) · `sort:created` · `sort:-seats` · `sort:seats` · `sort:name` \
· `sort:-canceled`"""

FINANCE = """\
*Money* (finance users and admins)
• `/finance balance` · per currency: available now, pending in the refund window, next clearing, \
in transit, paid out, lifetime earnings
• `/finance payments` · `/finance payments acme` · `/finance payments currency:usd since:30d sort:-amount`
• `/finance payouts` · `/finance payouts status:paid,in_transit since:3m` · `/finance payouts sort:-arrival`
• `/finance mrr` · `/finance mrr 90d` · `/finance mrr 2026-11-01..2026-11-30` · MRR and ARR per currency, \
net new MRR by kind, churn rates, NRR, quick ratio, the largest expansions and churns
• `/finance trend` · `/finance trend 24m` · `/finance trend 90d currency:eur` · one currency's MRR as a line, \
its movements as bars and earnings (net of fees and refunds), per day, week or month"""

FINANCE_FILTERS = """\
*Filters*
• `currency:usd` · `currency:eur` (any ISO 4217 code)
• `since:30d` · `since:2026-11-01` · `until:2026-11-30` · `created:2026-11-01..2026-11-30`
• payouts only: `status:pending` · `status:in_transit` · `status:paid` · `status:failed` · `status:canceled`
• `sort:-created` (default) · `sort:created` · `sort:-amount` · `sort:amount` · payouts: `sort:-arrival`"""


def customers_usage() -> Message:
    """How to use /customers: every subcommand and filter, by example."""
    return message(
        "How to use /customers: search, list, show, new, churned, trend, export, digest, alert",
        [header("/customers"), section(FIND), section(WINDOWS), section(FILTERS), section(ADMIN),
         context("Answers are only visible to you; *Share in channel* posts a copy without email addresses.")],
    )


def finance_usage() -> Message:
    """How to use /finance: balance, payments and payouts, with their filters."""
    return message("How to use /finance: balance, payments, payouts, mrr, trend",
                   [header("/finance"), section(FINANCE), section(FINANCE_FILTERS)])
