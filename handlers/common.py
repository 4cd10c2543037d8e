"""What every handler shares: turning failures into an apology with an error id, and the 'now' and zone."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from slack_bolt import BoltResponse, Respond
from slack_sdk import WebClient

from bot.deps import Deps
from handlers.blocks.common import Message, apology, error_message
from storage.db import session_scope
from storage.deliveries import claim_delivery as record_delivery
from storage.paging import CursorError
from storage.query import QueryError

log = logging.getLogger("customers_bot")


class UserError(Exception):
    """Something the user can fix; the message is shown to them as is."""


def ephemeral(respond: Respond, msg: Message, *, replace: bool = False) -> None:
    """Answer only the person who asked (replacing the message they clicked when `replace`)."""
    respond(text=msg["text"], blocks=msg["blocks"], response_type="ephemeral", replace_original=replace)


def log_request(user_id: str, what: str, text: str = "") -> None:
    """One line per command or click: who and what, without the text when it holds an address."""
    shown = "<text with an address>" if "@" in text else text[:200]
    log.info("request user=%s %s %s", user_id, what, shown)


def log_failure(error: BaseException, *, what: str) -> str:
    """Log an unexpected failure with a short id (redacted traceback) and return the id to show the user."""
    error_id = uuid.uuid4().hex[:8]
    # The process's log formatter (bot.logs) masks emails and tokens in the message and the traceback.
    log.error("error_id=%s while handling %s: %s", error_id, what, type(error).__name__, exc_info=error)
    return error_id


def reply(respond: Respond, render: Callable[[], Message], *, what: str, replace: bool = False) -> None:
    """Answer ephemerally with `render()`, on the listener's thread after the ack; mistakes and failures as usual."""
    with answering(respond, what=what, replace=replace):
        ephemeral(respond, render(), replace=replace)


def out_of_date(respond: Respond) -> None:
    """What a click on a button whose value we cannot read gets: run the command again (never an apology)."""
    ephemeral(respond, error_message(OUT_OF_DATE))


OUT_OF_DATE = "This button is out of date. Run the command again to get fresh buttons."


@contextmanager
def answering(respond: Respond, *, what: str, replace: bool = False) -> Iterator[None]:
    """Show user mistakes as a specific ephemeral message, and anything else as an apology with a logged id."""
    try:
        yield
    except CursorError:
        ephemeral(respond, error_message(OUT_OF_DATE), replace=False)
    except (QueryError, UserError) as exc:
        ephemeral(respond, error_message(str(exc)), replace=False)
    except Exception as exc:
        ephemeral(respond, apology(log_failure(exc, what=what)), replace=replace)


def delivery_key(body: dict[str, Any]) -> str | None:
    """What identifies one delivery across Slack's retries: the event id, else the trigger id, else the body."""
    if body.get("type") == "event_callback":
        return f"event:{body['event_id']}" if body.get("event_id") else None
    if body.get("trigger_id"):
        return f"trigger:{body['trigger_id']}"
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    return f"body:{digest}"


def claim_delivery(deps: Deps, key: str | None) -> bool:
    """True when this delivery may act: the first time its key is seen anywhere (no key: always)."""
    if key is None:
        return True
    with session_scope(deps.engine, write=True) as session:
        return record_delivery(session=session, key=key, now=deps.clock())


def split_subcommand(text: str) -> tuple[str, str]:
    """`search acme status:x` -> ('search', 'acme status:x'), case-insensitive subcommand."""
    head, _, rest = (text or "").strip().partition(" ")
    return head.lower(), rest.strip()


def user_of(body: dict[str, Any]) -> str:
    """The Slack user id of whoever typed or clicked."""
    return str(body.get("user_id") or (body.get("user") or {}).get("id") or "")


def channel_of(body: dict[str, Any]) -> str:
    """The channel a command or action came from."""
    return str(body.get("channel_id") or (body.get("channel") or {}).get("id") or "")


def tell_failure(body: dict[str, Any], client: WebClient, respond: Respond | None, error_id: str) -> None:
    """Apologise where the person will see it: the response_url, the mention's thread, or a DM (App Home)."""
    msg = apology(error_id)
    event = body.get("event") or {}
    if respond is not None and body.get("response_url"):
        ephemeral(respond, msg)
    elif event.get("type") == "app_mention" and event.get("channel"):
        client.chat_postMessage(channel=event["channel"], thread_ts=event.get("thread_ts") or event.get("ts"),
                                text=msg["text"], blocks=msg["blocks"])
    elif body.get("type") == "block_actions" and user_of(body):
        client.chat_postMessage(channel=user_of(body), text=msg["text"], blocks=msg["blocks"])


# Buttons whose value we read: a click on one without a string value was not made by us.
VALUE_ACTIONS = frozenset({"page_next", "page_prev", "export_csv", "share_channel", "digest_export_new",
                           "digest_export_churned"})


def malformed(body: Any) -> str | None:
    """Why a signed payload cannot be one Slack sends (what we would trip over), or None when it is well formed."""
    if not isinstance(body, dict):
        return "a body that is not an object"
    if "actions" in body or body.get("type") == "block_actions":
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions:
            return "block_actions without actions"
        for action in actions:
            if not isinstance(action, dict) or not isinstance(action.get("action_id"), str):
                return "an action without an action_id"
            if action["action_id"] in VALUE_ACTIONS and not isinstance(action.get("value"), str):
                return f"{action['action_id']} without a string value"
        if not user_of(body):
            return "block_actions without a user"
    for key in ("user", "channel", "team", "enterprise"):  # Slack sends these as objects, ids, or null
        if key in body and body[key] is not None and not isinstance(body[key], dict | str):
            return f"{key} is neither an object nor text"
    for key in ("event", "view", "message", "container", "authorizations"):  # never null when present
        if key in body and not isinstance(body[key], list if key == "authorizations" else dict):
            return f"{key} is not an object"
    if "event" in body or body.get("type") == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "event_callback without an event"
        if event["type"] == "app_home_opened" and not isinstance(event.get("user"), str):
            return "app_home_opened without a user"
        if event["type"] == "app_mention" and not (isinstance(event.get("channel"), str) and event["channel"]):
            return "app_mention without a channel"
    if not all(isinstance(body.get(key, ""), str) for key in ("type", "command", "text", "user_id", "channel_id",
                                                              "team_id", "response_url", "trigger_id")):
        return "a field that should be text is not"
    return None


def screen_requests(deps: Deps) -> Callable[..., BoltResponse]:
    """Global middleware: malformed payloads and Slack's redeliveries of an event are acknowledged and dropped."""
    def middleware(body: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse:  # Bolt names it `next`
        reason = malformed(body)
        if reason is not None:
            log.warning("ignored a malformed request: %s", reason)
            return BoltResponse(status=200, body="")
        if body.get("type") == "event_callback" and not claim_delivery(deps, delivery_key(body)):
            log.info("ignored a redelivered event")
            return BoltResponse(status=200, body="")
        return next()

    return middleware
