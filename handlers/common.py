"""What every handler shares: turning failures into an apology with an error id, and the 'now' and zone."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from slack_bolt import Respond

from bot.blocks.common import Message, apology, error_message
from bot.deps import Deps
from storage.paging import CursorError
from storage.query import QueryError

log = logging.getLogger("customers_bot")


class UserError(Exception):
    """Something the user can fix; the message is shown to them as is."""


def ephemeral(respond: Respond, msg: Message, *, replace: bool = False) -> None:
    """Answer only the person who asked (replacing the message they clicked when `replace`)."""
    respond(text=msg["text"], blocks=msg["blocks"], response_type="ephemeral", replace_original=replace)


@contextmanager
def answering(respond: Respond, *, what: str, replace: bool = False) -> Iterator[None]:
    """Show user mistakes as a specific ephemeral message, and anything else as an apology with a logged id."""
    try:
        yield
    except (QueryError, CursorError, UserError) as exc:
        ephemeral(respond, error_message(str(exc)), replace=False)
    except Exception:
        error_id = uuid.uuid4().hex[:8]
        log.exception("error_id=%s while handling %s", error_id, what)
        ephemeral(respond, apology(error_id), replace=replace)


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


def tz_of(deps: Deps) -> Any:
    """The zone dates are shown and parsed in."""
    return deps.settings.timezone


