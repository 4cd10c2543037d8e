"""Previous / Next on every list: the button carries the command, the query and a keyset cursor."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.deps import Deps
from handlers import customers, finance
from handlers.blocks.common import refusal
from handlers.blocks.nav import PAGE_NEXT, PAGE_PREV, read_state
from handlers.common import ephemeral, log_request, out_of_date, reply, user_of


def register(app: App, deps: Deps) -> None:
    """Register the page buttons of customer, payment and payout lists."""

    @app.action(re.compile(f"^({PAGE_NEXT}|{PAGE_PREV})$"))
    def page_click(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        user_id = user_of(body)
        log_request(user_id, str(action["action_id"]))
        state = read_state(action)
        if state is None:
            out_of_date(respond)
        elif state.command in finance.FINANCE_COMMANDS:
            if not deps.settings.is_finance(user_id):  # buttons can be forwarded: the clicker decides
                ephemeral(respond, refusal(needs="finance", granters=deps.settings.access_granters()))
                return
            reply(respond, lambda: finance.render_page(deps, state), what="finance page", replace=True)
        elif state.command in customers.CUSTOMER_COMMANDS:
            reply(respond, lambda: customers.render_page(deps, state, user_id), what="customers page", replace=True)
        else:
            out_of_date(respond)
