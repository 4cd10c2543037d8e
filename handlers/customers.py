"""/customers: search, list, show, new, churned, export; page, share and export buttons; @mention exports."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.deps import Deps
from handlers.blocks.common import Message, error_message, notice, refusal
from handlers.blocks.customers import customer_card, customer_matches, customers_page
from handlers.blocks.exports import export_on_its_way
from handlers.blocks.help import customers_usage
from handlers.blocks.nav import EXPORT_CSV, MAILTO, OPEN_PRODUCT, SHARE, PageState, read_state
from handlers.common import (
    UserError,
    answering,
    channel_of,
    claim_delivery,
    delivery_key,
    ephemeral,
    log_request,
    out_of_date,
    reply,
    split_subcommand,
    user_of,
)
from handlers.exports import Exports, telling_not_in_channel
from handlers.revenue import mrr_refusal, with_revenue
from handlers.trends import reply_trend
from storage.customers import customer_detail, find_customers, list_customers
from storage.db import read_scope
from storage.paging import PageRequest
from storage.query import Query, QueryError, Sort, parse_query, parse_window

CUSTOMER_COMMANDS = ("list", "search", "new", "churned")
DEFAULT_WINDOW = "7d"
KNOWN = ("", "help", *CUSTOMER_COMMANDS, "show", "export", "trend")
_DAY = "[0-9]{4}-[0-9]{2}-[0-9]{2}"  # ASCII digits only: `\d` would take any script's digits
_WINDOW = re.compile(rf"^([0-9]{{1,4}}[hdwmy]|today|yesterday|{_DAY}(\.\.({_DAY})?)?)$", re.I)


def build_query(deps: Deps, command: str, text: str) -> tuple[Query, str]:
    """The query and title a subcommand stands for (shared by the command and its page buttons)."""
    now, tz = deps.clock(), deps.settings.timezone
    if command in ("new", "churned"):
        first, _, rest = text.strip().partition(" ")
        window = first if first and _WINDOW.match(first) else ""
        parse_window(window or DEFAULT_WINDOW, now=now)  # a bad window gets the message that names `new`'s forms
        key = "created" if command == "new" else "canceled"
        # The window becomes an ordinary created:/canceled: filter, so pages and exports read it the same way.
        query = parse_query(f"{key}:{window or DEFAULT_WINDOW} {rest if window else text}", now=now, tz=tz)
        label = window or DEFAULT_WINDOW
        span = f"last {label}" if label[:1].isdigit() and ".." not in label and "-" not in label else label
        if command == "churned" and not any(t.startswith("sort:") for t in query.tokens):
            query = replace(query, sort=Sort(key="canceled", descending=True))
        return query, f"{'New signups' if command == 'new' else 'Churned'} · {span}"
    query = parse_query(text, now=now, tz=tz)
    if command == "search":
        if not query.terms:
            raise UserError("search needs some text; try `/customers search acme` or `/customers list status:active`")
        return query, f"Search: {' '.join(query.terms)}"[:150]
    return query, "Customers"


def shown_filters(query: Query, command: str) -> str:
    """The filters for a page's header: what the title does not already say."""
    tokens = query.tokens[1:] if command in ("new", "churned") else query.tokens
    return " ".join(t for t in tokens if command != "search" or t.strip('"') not in query.terms)


def export_filters(deps: Deps, state: PageState) -> str:
    """The filter text that exports exactly the rows a page stands for (windows included)."""
    query, _title = build_query(deps, state.command, state.query)
    return " ".join(query.tokens)


def render_page(deps: Deps, state: PageState, user_id: str, *, shared_by: str | None = None) -> Message:
    """Run the query a page state stands for and render that page."""
    query, title = build_query(deps, state.command, state.query)
    refused = mrr_refusal(deps, query, user_id)  # MRR is a finance figure, in filters and sorts too
    if refused is not None:
        return refused
    with read_scope(deps.engine) as session:
        known = None if state.total is None else (state.total, state.capped)
        page = list_customers(session=session, query=query, page=PageRequest(after=state.after, before=state.before),
                              known_total=known)
    return customers_page(page, state=state, title=title, filters=shown_filters(query, state.command),
                          product_url=deps.settings.product_url, tz=deps.settings.timezone,
                          can_export=deps.settings.is_admin(user_id), shared_by=shared_by)


def _show(deps: Deps, key: str, user_id: str) -> Message:
    """The customer card, the list of matches, or a hint when nothing matches."""
    if not key:
        raise UserError("show needs an organization or email; try `/customers show acme.example`")
    with read_scope(deps.engine) as session:
        found = find_customers(session=session, key=key, limit=11)
        if len(found) == 1:
            detail = customer_detail(session=session, customer=found[0])
            finance = deps.settings.is_finance(user_id)
            card = customer_card(detail, show_finance=finance, product_url=deps.settings.product_url,
                                 tz=deps.settings.timezone)
            return with_revenue(card, session=session, customer=found[0], tz=deps.settings.timezone) if finance \
                else card
    if not found:
        return notice(f"No customer matches {key!r}. Try `/customers search {key.split('@')[0][:30]}`.")
    return customer_matches(found, key=key, tz=deps.settings.timezone)


def start_export(
    deps: Deps, exports: Exports, client: WebClient, respond: Respond, *, text: str, channel_id: str, user_id: str,
    delivery: str | None,
) -> None:
    """Admins only: say it is on its way, then post the parent message and upload the CSV into its thread."""
    if not deps.settings.is_admin(user_id):
        ephemeral(respond, refusal(needs="admin (exports)", granters=deps.settings.access_granters()))
        return
    query = parse_query(text, now=deps.clock(), tz=deps.settings.timezone)  # fail fast on typos, before the notice
    if not claim_delivery(deps, delivery):
        return  # Slack retried this request: the first delivery already started the export
    ephemeral(respond, export_on_its_way(filters=query.summary))
    exports.start(client=client, query_text=text, channel_id=channel_id, thread_ts=None, user_id=user_id,
                  tell=lambda msg: ephemeral(respond, msg))


def answer(deps: Deps, sub: str, rest: str, user_id: str) -> Message:
    """The answer to `/customers <sub> <rest>` for this user (lists, windows, searches, show, help)."""
    if sub in ("", "help"):
        return customers_usage()
    if sub in CUSTOMER_COMMANDS:
        return render_page(deps, PageState(command=sub, query=rest), user_id)
    if sub == "show":
        return _show(deps, rest, user_id)
    usage = customers_usage()
    lead = f"`{sub}` is not a /customers subcommand. Here is what it can do:"
    return {"text": lead, "blocks": [error_message(lead)["blocks"][0], *usage["blocks"]]}


def register(app: App, deps: Deps, exports: Exports) -> None:
    """Register /customers, its share and export buttons and @mention exports."""

    @app.command("/customers")
    def customers_command(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        sub, rest = split_subcommand(body.get("text", ""))
        user_id = user_of(body)
        log_request(user_id, f"/customers {sub}" if sub in KNOWN else "/customers ?", rest)
        if sub == "export":
            with answering(respond, what="/customers export"):
                start_export(deps, exports, client, respond, text=rest, channel_id=channel_of(body),
                             user_id=user_id, delivery=delivery_key(body))
            return
        if sub == "trend":  # charts: sent again without them where the workspace refuses them
            reply_trend(deps, respond, body, rest)
            return
        reply(respond, lambda: answer(deps, sub, rest, user_id), what=f"/customers {sub}")

    @app.action(SHARE)
    def share_click(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                    client: WebClient) -> None:
        ack()
        user_id, channel_id = user_of(body), channel_of(body)
        log_request(user_id, SHARE)
        state = read_state(action)
        if state is None or state.command not in CUSTOMER_COMMANDS:
            out_of_date(respond)
            return
        with answering(respond, what="share"):
            msg = render_page(deps, state, user_id, shared_by=user_id)
            if not claim_delivery(deps, delivery_key(body)):
                return  # Slack retried this click: the first delivery already shared it
            with telling_not_in_channel(respond, channel_id):
                client.chat_postMessage(channel=channel_id, text=msg["text"], blocks=msg["blocks"])

    @app.action(EXPORT_CSV)
    def export_click(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                     client: WebClient) -> None:
        ack()
        user_id = user_of(body)
        log_request(user_id, EXPORT_CSV)
        if not deps.settings.is_admin(user_id):  # who clicks decides, before anything they sent is read
            ephemeral(respond, refusal(needs="admin (exports)", granters=deps.settings.access_granters()))
            return
        state = read_state(action)
        if state is None or state.command not in CUSTOMER_COMMANDS:
            out_of_date(respond)
            return
        with answering(respond, what="export button"):
            start_export(deps, exports, client, respond, text=export_filters(deps, state),
                         channel_id=channel_of(body), user_id=user_id, delivery=delivery_key(body))

    @app.action(re.compile(f"^({OPEN_PRODUCT}|{MAILTO})$"))
    def link_click(ack: Ack) -> None:
        ack()  # URL buttons open in the browser; Slack still tells us, and wants an ack

    @app.event("app_mention")
    def mention(event: dict[str, Any], body: dict[str, Any], client: WebClient, say: Any) -> None:
        text = re.sub(r"<@[A-Z0-9]+>", "", str(event.get("text") or "")).strip()
        sub, rest = split_subcommand(text)
        thread = event.get("thread_ts") or event.get("ts")
        user_id, channel_id = str(event.get("user", "")), str(event.get("channel", ""))
        log_request(user_id, f"app_mention {sub if sub == 'export' else '?'}", rest)
        if sub != "export":
            say(text="Mention me with `export` and filters in a thread, e.g. `@Customers export status:canceled`, "
                     "and I'll upload the CSV there. For everything else use `/customers help`.", thread_ts=thread)
            return
        if not deps.settings.is_admin(user_id):
            say(text=refusal(needs="admin (exports)", granters=deps.settings.access_granters())["text"],
                thread_ts=thread)
            return
        try:
            parse_query(rest, now=deps.clock(), tz=deps.settings.timezone)
        except QueryError as exc:
            say(text=str(exc), thread_ts=thread)
            return

        def tell(msg: Message) -> None:
            client.chat_postMessage(channel=channel_id, thread_ts=thread, text=msg["text"], blocks=msg["blocks"])

        exports.start(client=client, query_text=rest, channel_id=channel_id, thread_ts=event.get("thread_ts"),
                      user_id=user_id, tell=tell)
