"""App Home search: what someone types in the Home tab's box, answered as matches beside the day's figures."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.deps import Deps
from handlers.blocks.modals import HOME_SEARCH, LISTED, with_search
from handlers.common import log_request, user_of
from handlers.home import build_home
from storage.db import read_scope
from storage.lookup import suggest_customers


def search_home(deps: Deps, user_id: str, typed: str) -> dict[str, Any]:
    """The user's Home view with the search box showing `typed` and what it found."""
    with read_scope(deps.engine) as session:
        found = suggest_customers(session=session, typed=typed, limit=LISTED + 1)
    return with_search(build_home(deps, user_id), typed, found)


def register(app: App, deps: Deps) -> None:
    """Register the Home search box (Enter dispatches it: `dispatch_action`)."""

    @app.action(HOME_SEARCH)
    def home_search(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        user_id = user_of(body)
        log_request(user_id, HOME_SEARCH)  # not the text: it may be an address
        client.views_publish(user_id=user_id, view=search_home(deps, user_id, str(action.get("value") or "")))
