"""Shortcuts: "Find a customer" (a typeahead modal that shows and posts a card) and "Look up customers" on a message.

Also the Show card buttons those answers carry, and the App Home search box. Every click and submission is checked
against the permissions of whoever makes it (finance figures only for finance users).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from handlers import alert_form, home_search
from handlers.blocks.common import Message, notice
from handlers.blocks.customers import customer_card
from handlers.blocks.modals import (
    FIND_SELECT,
    FIND_SHORTCUT,
    FIND_VIEW,
    LISTED,
    LOOKUP_SHORTCUT,
    POST_BLOCK,
    POST_SELECT,
    SHOW_CUSTOMER,
    channel_card,
    customer_modal,
    customer_option,
    customer_options,
    find_modal,
    lookup_results,
    notice_modal,
)
from handlers.common import answering, ephemeral, log_request, user_of
from handlers.digests import form as digest_form
from handlers.exports import CANNOT_POST
from handlers.message_keys import MessageKeys, message_keys
from storage.customers import customer_detail
from storage.db import read_scope
from storage.lookup import Found, customers_at_domain, customers_by_email, customers_named, suggest_customers
from storage.models import Customer

log = logging.getLogger("customers_bot")
GONE = "That customer is no longer in the store."
CANNOT_POST_HERE = ("I can't post there yet: invite me with /invite @Customers in that channel, or pick another one "
                    "I'm in.")


def suggestions(deps: Deps, typed: str) -> list[dict[str, Any]]:
    """The typeahead's options for what was typed (the typed text is never logged: it may be an address)."""
    with read_scope(deps.engine) as session:
        return customer_options(suggest_customers(session=session, typed=typed))


def card_for(deps: Deps, customer_id: int, user_id: str, *, show_finance: bool | None = None) -> Message | None:
    """The customer card as this user may see it (finance figures for finance users), or None when it is gone."""
    with read_scope(deps.engine) as session:
        customer = session.get(Customer, customer_id)
        if customer is None:
            return None
        detail = customer_detail(session=session, customer=customer)
    finance = deps.settings.is_finance(user_id) if show_finance is None else show_finance
    return customer_card(detail, show_finance=finance, product_url=deps.settings.product_url,
                         tz=deps.settings.timezone)


def _found(deps: Deps, customer_id: int) -> Found | None:
    """The short form of one customer (for the typeahead's chosen option)."""
    with read_scope(deps.engine) as session:
        c = session.get(Customer, customer_id)
        return None if c is None else Found(c.id or 0, c.organization, c.email, c.email_key, c.seats, c.status)


def look_up(deps: Deps, keys: MessageKeys) -> list[Found]:
    """The customers a message names: by address, then domain, then organization name; each once, in that order."""
    found: dict[int, Found] = {}
    with read_scope(deps.engine) as session:
        by_email = customers_by_email(session=session, emails=keys.emails)
        for email in keys.emails:
            if (c := by_email.get(email.lower())) is not None:
                found.setdefault(c.id, c)
        for domain in keys.domains:
            for c in customers_at_domain(session=session, domain=domain, limit=LISTED + 1):
                found.setdefault(c.id, c)
        for name in keys.names:
            for c in customers_named(session=session, name=name, limit=LISTED + 1):
                found.setdefault(c.id, c)
    return list(found.values())


def message_text(message: dict[str, Any]) -> str:
    """The text of a message and of its attachments (a forwarded email arrives as one)."""
    parts = [str(message.get("text") or "")]
    for attachment in message.get("attachments") or []:
        if isinstance(attachment, dict):
            parts += [str(attachment.get(k) or "") for k in ("pretext", "title", "text", "fallback", "author_name")]
    return "\n".join(p for p in parts if p)


def _chosen_id(value: object) -> int | None:
    """A customer id from an option or button value we made; None for anything else."""
    text = str(value or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


def register(app: App, deps: Deps) -> None:
    """Register both shortcuts, the typeahead's options, the card modal's submission and the Show card buttons."""

    @app.shortcut(FIND_SHORTCUT)
    def open_find(ack: Ack, shortcut: dict[str, Any], client: WebClient) -> None:
        ack()
        log_request(user_of(shortcut), f"shortcut {FIND_SHORTCUT}")
        client.views_open(trigger_id=shortcut["trigger_id"], view=find_modal())

    @app.options(FIND_SELECT)
    def find_options(ack: Ack, payload: dict[str, Any]) -> None:
        ack(options=suggestions(deps, str(payload.get("value") or "")))

    @app.action(FIND_SELECT)
    def customer_chosen(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        user_id, view = user_of(body), body.get("view") or {}
        log_request(user_id, FIND_SELECT)
        customer_id = _chosen_id((action.get("selected_option") or {}).get("value"))
        card = card_for(deps, customer_id, user_id) if customer_id is not None else None
        found = _found(deps, customer_id) if customer_id is not None else None
        if card is None or found is None or customer_id is None:
            client.views_update(view_id=view["id"], view=notice_modal("Find a customer", notice(GONE)))
            return
        try:
            client.views_update(view_id=view["id"], hash=view.get("hash"),
                                view=customer_modal(card, chosen=customer_option(found), customer_id=customer_id,
                                                    channel_id=None))
        except SlackApiError as exc:
            if exc.response.get("error") != "hash_conflict":
                raise
            # A later choice already updated the modal (quick successive picks): the newer card stays.

    @app.action(POST_SELECT)
    def channel_picked(ack: Ack) -> None:
        ack()  # the picker only dispatches when Slack is asked to; the submission reads it

    @app.view(FIND_VIEW)
    def post_card(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        user_id = user_of(body)
        log_request(user_id, f"{FIND_VIEW} post")
        state = (view.get("state") or {}).get("values") or {}
        channel_id = str((state.get(POST_BLOCK) or {}).get(POST_SELECT, {}).get("selected_conversation") or "")
        customer_id = _chosen_id(view.get("private_metadata"))
        if not channel_id:
            ack(response_action="errors", errors={POST_BLOCK: "Pick a channel to post the card in."})
            return
        # Channel copies never carry finance figures: whoever reads the channel may not be a finance user.
        card = card_for(deps, customer_id, user_id, show_finance=False) if customer_id is not None else None
        if card is None:
            ack(response_action="errors", errors={POST_BLOCK: GONE})
            return
        shared = channel_card(card, shared_by=user_id)
        try:
            client.chat_postMessage(channel=channel_id, text=shared["text"], blocks=shared["blocks"])
        except SlackApiError as exc:
            if exc.response.get("error") not in CANNOT_POST:
                raise
            ack(response_action="errors", errors={POST_BLOCK: CANNOT_POST_HERE})
            return
        ack()

    @app.shortcut(LOOKUP_SHORTCUT)
    def lookup_message(ack: Ack, shortcut: dict[str, Any], respond: Respond) -> None:
        ack()
        log_request(user_of(shortcut), f"shortcut {LOOKUP_SHORTCUT}")
        with answering(respond, what=LOOKUP_SHORTCUT):
            keys = message_keys(message_text(shortcut.get("message") or {}))
            found = look_up(deps, keys) if not keys.empty else []
            ephemeral(respond, lookup_results(keys, found, product_url=deps.settings.product_url))

    @app.action(SHOW_CUSTOMER)
    def show_card(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                  client: WebClient) -> None:
        ack()
        user_id = user_of(body)
        log_request(user_id, SHOW_CUSTOMER)
        customer_id = _chosen_id(action.get("value"))
        card = card_for(deps, customer_id, user_id) if customer_id is not None else None
        found = _found(deps, customer_id) if customer_id is not None else None
        if body.get("response_url"):  # a message (the look-up's ephemeral answer): answer there
            ephemeral(respond, card or notice(GONE))
            return
        # App Home (or a modal): open the find modal on this customer, where the card can also be posted
        if card is None or found is None or customer_id is None:
            client.views_open(trigger_id=body["trigger_id"], view=notice_modal("Find a customer", notice(GONE)))
            return
        client.views_open(trigger_id=body["trigger_id"],
                          view=customer_modal(card, chosen=customer_option(found), customer_id=customer_id,
                                              channel_id=None))

    home_search.register(app, deps)  # the App Home search box and the digest form come with the shortcuts
    digest_form.register(app, deps)
    alert_form.register(app, deps)  # hands submissions to handlers.alerts.create_rule once alerts exist
