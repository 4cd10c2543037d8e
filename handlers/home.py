"""App Home: a snapshot published on app_home_opened, and buttons for the common workflows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.deps import Deps
from handlers.blocks.alerts import alert_rules_blocks
from handlers.blocks.charts import home_trend_blocks
from handlers.blocks.common import Message, refusal
from handlers.blocks.home import home_view
from handlers.blocks.nav import HOME_CHURNED, HOME_EXPORT, HOME_NEW, HOME_ONE_SEAT, PageState
from handlers.charts_send import publish_view, team_of
from handlers.common import claim_delivery, delivery_key, log_request, user_of
from handlers.customers import render_page
from handlers.exports import Exports
from handlers.revenue import home_revenue
from storage.alerts import live_rules
from storage.customers import count_by_status, seat_totals
from storage.db import read_scope
from storage.finance import balance
from storage.query import Window, parse_query
from storage.signals import churned, new_signups
from storage.trends import customer_trend

# What each Home button shows (as the matching /customers command would); 1-seat orgs are the ones still paying.
TREND_SPAN = timedelta(weeks=11)  # with the current week: twelve weeks
HOME_PAGES = {HOME_NEW: ("new", "7d"), HOME_CHURNED: ("churned", "7d"),
              HOME_ONE_SEAT: ("list", "seats:1 status:active,trialing,past_due")}


def build_home(deps: Deps, user_id: str, *, tables: bool = True) -> dict[str, Any]:
    """The Home view for this user (balance only for finance users); `tables=False` leaves the data table out."""
    now = deps.clock()
    week = Window(since=now - timedelta(days=7), until=None)
    with read_scope(deps.engine) as session:
        trend = customer_trend(session=session, query=parse_query("", now=now), since=now - TREND_SPAN, until=now)
        counts = count_by_status(session=session)
        new_total, _ = new_signups(session=session, window=week, limit=0)
        churned_total, _ = churned(session=session, window=week, limit=0)
        seats = sum(n for s, n in seat_totals(session=session).items() if s != "canceled")
        balances = (balance(session=session, now=now, refund_window_days=deps.settings.refund_window_days)
                    if deps.settings.is_finance(user_id) else None)
        rules = live_rules(session=session) if deps.settings.is_admin(user_id) else None
    more = [home_revenue(deps)] if balances is not None else []
    if rules is not None:  # admins manage the rules
        more.append(alert_rules_blocks(rules, tz=deps.settings.timezone))
    return home_view(counts=counts, new_7d=new_total, churned_7d=churned_total, total_seats=seats,
                     balances=balances, is_admin=deps.settings.is_admin(user_id), tz=deps.settings.timezone,
                     trend=home_trend_blocks(trend, tables=tables), more=more)


def register(app: App, deps: Deps, exports: Exports) -> None:
    """Register the Home tab and its buttons (answers arrive as a DM from the app)."""

    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        user_id = str(event["user"])
        log_request(user_id, "app_home_opened")
        publish_view(deps, client, team_id=team_of(body), user_id=user_id,
                     build=lambda tables: build_home(deps, user_id, tables=tables))

    @app.action(HOME_NEW)
    @app.action(HOME_CHURNED)
    @app.action(HOME_ONE_SEAT)
    def home_workflow(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        user_id = user_of(body)
        log_request(user_id, action["action_id"])
        command, query = HOME_PAGES[action["action_id"]]
        msg = render_page(deps, PageState(command=command, query=query), user_id)
        client.chat_postMessage(channel=user_id, text=msg["text"], blocks=msg["blocks"])

    @app.action(HOME_EXPORT)
    def home_export(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user_id = user_of(body)
        log_request(user_id, HOME_EXPORT)
        if not deps.settings.is_admin(user_id):
            client.chat_postMessage(channel=user_id, **refusal(needs="admin (exports)",
                                                               granters=deps.settings.access_granters()))
            return
        if not claim_delivery(deps, delivery_key(body)):
            return  # Slack retried this click: the first delivery already started the export

        def tell(msg: Message) -> None:
            client.chat_postMessage(channel=user_id, text=msg["text"], blocks=msg["blocks"])

        exports.start(client=client, query_text="", channel_id=user_id, thread_ts=None, user_id=user_id, tell=tell)
