"""Sending chart messages: where Slack refuses the chart and data table blocks, the same message without them.

Slack rolls new blocks out gradually: a workspace that answers `invalid_blocks` (`ok: false` from the Web API, a 4xx
from a response_url) gets the text and table version at once, and for a day after that, remembered in the database
so every replica skips the refused attempt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.deps import Deps
from handlers.blocks.charts import has_charts, without_charts
from handlers.blocks.common import Message
from storage.chart_fallbacks import charts_refused, remember_refusal
from storage.db import session_scope

log = logging.getLogger("customers_bot")
REFUSED = frozenset({"invalid_blocks", "invalid_blocks_format"})
REMEMBER = timedelta(days=1)


def team_of(body: dict[str, Any]) -> str:
    """The workspace a request came from ('' when the payload does not say)."""
    return str(body.get("team_id") or (body.get("team") or {}).get("id") or "")


def _prepared(deps: Deps, team_id: str, msg: Message, plain: Message | None) -> Message:
    """The message as this workspace can take it: without charts while it is remembered as refusing them."""
    if not has_charts(msg):
        return msg
    with session_scope(deps.engine) as session:
        refused = charts_refused(session=session, team_id=team_id, now=deps.clock())
    return (plain or without_charts(msg)) if refused else msg


def _remember(deps: Deps, team_id: str, where: str) -> None:
    """Slack refused the chart blocks: note it for a day."""
    log.warning("Slack refused chart blocks for team %s (%s); sending without them for a day", team_id or "?", where)
    with session_scope(deps.engine, write=True) as session:
        remember_refusal(session=session, team_id=team_id, until=deps.clock() + REMEMBER)


def post_message(deps: Deps, client: WebClient, *, team_id: str, channel: str, msg: Message,
                 plain: Message | None = None, **extra: Any) -> SlackResponse:
    """chat.postMessage, sent again without chart blocks (`plain`, or derived) when Slack answers invalid_blocks."""
    msg = _prepared(deps, team_id, msg, plain)
    try:
        return client.chat_postMessage(channel=channel, text=msg["text"], blocks=msg["blocks"], **extra)
    except SlackApiError as exc:
        if exc.response.get("error") not in REFUSED or not has_charts(msg):
            raise
    _remember(deps, team_id, "chat.postMessage")
    plain = plain or without_charts(msg)
    return client.chat_postMessage(channel=channel, text=plain["text"], blocks=plain["blocks"], **extra)


def respond_message(deps: Deps, respond: Respond, *, team_id: str, msg: Message, replace: bool = False,
                    plain: Message | None = None) -> None:
    """An ephemeral answer to a response_url, sent again without chart blocks (`plain`, or derived) on a 4xx.

    `plain` is the renderer's own chart-free version, for answers whose table holds more than their charts do.
    """
    msg = _prepared(deps, team_id, msg, plain)
    reply = respond(text=msg["text"], blocks=msg["blocks"], response_type="ephemeral", replace_original=replace)
    status = getattr(reply, "status_code", 200)
    if not has_charts(msg) or not 400 <= status < 500:
        return
    if "invalid_blocks" in str(getattr(reply, "body", "")):  # an expired response_url says so differently
        _remember(deps, team_id, f"response_url {status}")
    plain = plain or without_charts(msg)
    respond(text=plain["text"], blocks=plain["blocks"], response_type="ephemeral", replace_original=replace)


def publish_view(deps: Deps, client: WebClient, *, team_id: str, user_id: str,
                 build: Callable[[bool], dict[str, Any]]) -> None:
    """views.publish of `build(tables)`, published again without data tables when the workspace refuses them."""
    with session_scope(deps.engine) as session:
        refused = charts_refused(session=session, team_id=team_id, now=deps.clock())
    try:
        client.views_publish(user_id=user_id, view=build(not refused))
    except SlackApiError as exc:
        if refused or exc.response.get("error") not in REFUSED:
            raise
        _remember(deps, team_id, "views.publish")
        client.views_publish(user_id=user_id, view=build(False))
