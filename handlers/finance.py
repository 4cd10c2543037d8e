"""/finance: balance, payments and payouts, for finance users and admins only."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot.deps import Deps
from handlers.background import Answers, Question
from handlers.blocks.common import Message, error_message, refusal
from handlers.blocks.finance import balance_message, payments_page, payouts_page
from handlers.blocks.help import finance_usage
from handlers.blocks.nav import PAGE_NEXT, PAGE_PREV, PageState, decode_state
from handlers.common import answering, ephemeral, log_request, split_subcommand, user_of
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


def question(deps: Deps, body: dict[str, Any]) -> Question | None:
    """The cacheable question a /finance payload asks (balance, payments, payouts) of a finance user, or None."""
    sub, rest = split_subcommand(body.get("text", ""))
    if not deps.settings.is_finance(user_of(body)):
        return None
    if sub == "balance":
        return Question("/finance balance", rest, ("balance",), lambda: render_balance(deps))
    if sub in FINANCE_COMMANDS:
        return Question(f"/finance {sub}", rest, (sub, rest),
                        lambda: render_page(deps, PageState(command=sub, query=rest)))
    return None


def register(app: App, deps: Deps, answers: Answers) -> None:
    """Register /finance and its page buttons."""
    answers.ask("/finance", lambda body: question(deps, body))

    def refuse(respond: Respond) -> None:
        ephemeral(respond, refusal(needs="finance", granters=deps.settings.access_granters()))

    @app.command("/finance")
    def finance_command(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        ack()
        sub, rest = split_subcommand(body.get("text", ""))
        known = sub in ("", "help", "balance", *FINANCE_COMMANDS)
        log_request(user_of(body), f"/finance {sub}" if known else "/finance ?", rest)
        if not deps.settings.is_finance(user_of(body)):
            refuse(respond)
            return
        with answering(respond, what=f"/finance {sub}"):
            if sub in ("", "help"):
                ephemeral(respond, finance_usage())
            elif (asked := question(deps, body)) is not None:
                answers.reply_to(respond, asked, context)
            else:
                lead = f"`{sub}` is not a /finance subcommand. Here is what it can do:"
                usage = finance_usage()
                ephemeral(respond, {"text": lead, "blocks": [error_message(lead)["blocks"][0], *usage["blocks"]]})

    def is_finance_page(body: dict[str, Any]) -> bool:
        try:
            return decode_state(body["actions"][0].get("value", "")).command in FINANCE_COMMANDS
        except (ValueError, KeyError, IndexError):
            return False

    @app.action(re.compile(f"^({PAGE_NEXT}|{PAGE_PREV})$"), matchers=[is_finance_page])
    def page_click(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        log_request(user_of(body), f"finance {body['actions'][0]['action_id']}")
        if not deps.settings.is_finance(user_of(body)):  # buttons can be forwarded: check the clicker
            refuse(respond)
            return
        value = body["actions"][0]["value"]
        answers.reply(respond, "finance page", lambda: render_page(deps, decode_state(value)),
                      asked=("finance page", value), replace=True)
