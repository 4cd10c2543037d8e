"""What every handler shares: turning failures into an apology with an error id, and the 'now' and zone."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from handlers.blocks.common import Message, apology, error_message
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


@contextmanager
def answering(respond: Respond, *, what: str, replace: bool = False) -> Iterator[None]:
    """Show user mistakes as a specific ephemeral message, and anything else as an apology with a logged id."""
    try:
        yield
    except (QueryError, CursorError, UserError) as exc:
        ephemeral(respond, error_message(str(exc)), replace=False)
    except Exception as exc:
        ephemeral(respond, apology(log_failure(exc, what=what)), replace=replace)


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
