"""The Slack Web API double used by the tests: bot.local.slack_double plus the pytest fixture."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from bot.local.slack_double import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    TEAM_ID,
    VERIFICATION_TOKEN,
    RecordedCall,
    Upload,
    block_action_body,
    event_body,
    sign_slack_request,
    slash_command_body,
    view_action_body,
)
from bot.local.slack_double import SlackDouble as LocalSlack

Reply = tuple[int, dict[str, str], bytes]

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "TEAM_ID",
    "VERIFICATION_TOKEN",
    "RecordedCall",
    "SlackDouble",
    "Upload",
    "block_action_body",
    "event_body",
    "sign_slack_request",
    "slack_double_fixture",
    "slash_command_body",
    "view_action_body",
]



class SlackDouble(LocalSlack):
    """The local Slack, plus a workspace that refuses block types, as Slack does while it rolls new blocks out."""

    refused_blocks: frozenset[str] = frozenset()

    def refuse_blocks(self, *types: str) -> None:
        """Answer invalid_blocks (a 400 from a response_url) for messages and views carrying these block types."""
        with self._cond:
            self.refused_blocks = frozenset(types)

    def reset(self) -> None:
        """Forget recordings, programmed behaviour and refused block types."""
        super().reset()
        self.refused_blocks = frozenset()

    def _refuses(self, payload: Any) -> bool:
        """True when a message or view payload holds a refused block type."""
        blocks = payload.get("blocks") if isinstance(payload, dict) else None
        return isinstance(blocks, list) and any(isinstance(b, dict) and b.get("type") in self.refused_blocks
                                                for b in blocks)

    def _handle(self, path: str, headers: dict[str, str], body: bytes) -> Reply:
        """A response_url POST carrying a refused block is answered 400 `invalid_blocks` and not delivered."""
        if urlsplit(path).path.startswith("/response/"):
            try:
                payload = json.loads(body)
            except ValueError:
                payload = None
            if self._refuses(payload):
                return 400, {"Content-Type": "text/plain"}, b"invalid_blocks"
        return super()._handle(path, headers, body)

    def _api(self, method: str, params: dict[str, Any], headers: dict[str, str]) -> Reply:
        """A Web API call carrying a refused block gets `ok: false, error: invalid_blocks` (recorded)."""
        if not self._refuses(params.get("view") if method == "views.publish" else params):
            return super()._api(method, params, headers)
        data = {"ok": False, "error": "invalid_blocks"}
        self._calls.append(RecordedCall(method, params, headers, 200, "invalid_blocks", data))
        return 200, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(data).encode()


@pytest.fixture(name="slack_double")
def slack_double_fixture() -> Iterator[SlackDouble]:
    """The `slack_double` fixture: a running SlackDouble per test (import this into conftest.py)."""
    with SlackDouble() as double:
        yield double
