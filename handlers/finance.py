"""/finance: balance, payments and payouts, for finance users and admins only."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.deps import Deps
from handlers.blocks.common import Message, error_message, refusal
from handlers.blocks.finance import balance_message, payments_page, payouts_page
from handlers.blocks.help import finance_usage
from handlers.blocks.nav import PageState
from handlers.common import ephemeral, log_request, reply, split_subcommand, user_of
from handlers.revenue import render_mrr
from handlers.revenue_trend import render_finance_trend, reply_finance_trend
from storage.db import read_scope
from storage.finance import balance, list_payments, list_payouts
from storage.paging import PageRequest
from storage.query import Domain, parse_query

FINANCE_COMMANDS = ("payments", "payouts")


def render_balance(deps: Deps) -> Message:
    """The balance per currency as of now."""
    with read_scope(deps.engine) as session:
        balances = balance(session=session, now=deps.clock(), refund_window_days=deps.settings.refund_window_days)
    return balance_message(balances, refund_window_days=deps.settings.refund_window_days, tz=deps.settings.timezone)


def render_page(deps: Deps, state: PageState) -> Message:
    """A page of payments or payouts for the query a state carries."""
    domain = Domain.payments if state.command == "payments" else Domain.payouts
    query = parse_query(state.query, now=deps.clock(), domain=domain, tz=deps.settings.timezone)
    request = PageRequest(after=state.after, before=state.before)
    tz = deps.settings.timezone
    with read_scope(deps.engine) as session:
        if domain is Domain.payments:
            return payments_page(list_payments(session=session, query=query, page=request), state=state,
                                 filters=query.summary, tz=tz)
        return payouts_page(list_payouts(session=session, query=query, page=request), state=state,
                            filters=query.summary, tz=tz)


def answer(deps: Deps, sub: str, rest: str, user_id: str = "") -> Message:
    """The answer to `/finance <sub> <rest>` (the caller has checked finance access)."""
    if sub in ("", "help"):
        return finance_usage()
    if sub == "balance":
        return render_balance(deps)
    if sub == "mrr":
        return render_mrr(deps, rest, user_id)
    if sub == "trend":
        return render_finance_trend(deps, rest, user_id)
    if sub in FINANCE_COMMANDS:
        return render_page(deps, PageState(command=sub, query=rest))
    lead = f"`{sub}` is not a /finance subcommand. Here is what it can do:"
    return {"text": lead, "blocks": [error_message(lead)["blocks"][0], *finance_usage()["blocks"]]}


def register(app: App, deps: Deps) -> None:
    """Register /finance (its page buttons are served with the customers' ones, by handlers.pages)."""

    @app.command("/finance")
    def finance_command(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        sub, rest = split_subcommand(body.get("text", ""))
        user_id = user_of(body)
        known = sub in ("", "help", "balance", "mrr", "trend", *FINANCE_COMMANDS)
        log_request(user_id, f"/finance {sub}" if known else "/finance ?", rest)
        if not deps.settings.is_finance(user_id):
            ephemeral(respond, refusal(needs="finance", granters=deps.settings.access_granters()))
            return
        if sub == "trend":  # charts: sent again without them where the workspace refuses them
            reply_finance_trend(deps, respond, body, rest)
            return
        reply(respond, lambda: answer(deps, sub, rest, user_id), what=f"/finance {sub}")
