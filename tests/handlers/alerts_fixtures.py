"""The real server with platform events and the Slack double, a clock tests move, and helpers for alert tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.deps import Deps
from bot.server import create_server
from handlers.alerts_posting import Outcome, run_due
from handlers.webhooks.signatures import sign_platform
from tests.conftest import NOW
from tests.e2e_bot import ADMIN, CHANNEL, FINANCE, HTTP, SECRET, e2e_settings, serving, validate_everything
from tests.slack_double import RecordedCall, SlackDouble, block_action_body, slash_command_body

PLATFORM_SECRET = "plat_alerts_secret_0123456789"
__all__ = ["ADMIN", "CHANNEL", "FINANCE", "Clock", "Served", "alerts_in"]


class Clock:
    """A clock the test moves (the server, its signature checks and the poster all read it)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        """The current test instant."""
        return self.now

    def tick(self, seconds: float = 1.0) -> datetime:
        """Move on and return the new instant."""
        self.now += timedelta(seconds=seconds)
        return self.now


@dataclass
class Served:
    """A running server, its deps and clock, and a plain Web API client for the poster (no built-in retries)."""

    url: str
    slack: SlackDouble
    engine: Engine
    deps: Deps
    clock: Clock
    client: WebClient

    def event(self, event_id: str, kind: str, data: dict[str, Any], *, at: datetime | None = None) -> httpx.Response:
        """POST one signed platform event."""
        created = (at or self.clock() - timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
        body = json.dumps({"id": event_id, "type": kind, "created_at": created, "data": data}).encode()
        headers = {"X-Platform-Signature": sign_platform(body, PLATFORM_SECRET, int(self.clock().timestamp())),
                   "content-type": "application/json"}
        return HTTP.post(f"{self.url}/platform/events", content=body, headers=headers, timeout=10)

    def command(self, text: str, *, user: str = ADMIN, name: str = "r1", channel: str = CHANNEL) -> Any:
        """A signed `/customers <text>`; returns the ephemeral answer."""
        body = slash_command_body("/customers", text, user_id=user, channel_id=channel,
                                  response_url=self.slack.response_url(name))
        self._slack_post(body)
        return self.slack.wait_for_response(name)

    def click(self, action_id: str, value: str, *, user: str = ADMIN, name: str = "c1",
              message_ts: str | None = None) -> None:
        """A signed click on a button of a channel message."""
        self._slack_post(block_action_body(action_id, value, user_id=user, channel_id=CHANNEL,
                                           response_url=self.slack.response_url(name), message_ts=message_ts))

    def _slack_post(self, body: bytes) -> None:
        """POST to /slack/events, signed now."""
        from tests.slack_double import sign_slack_request

        kind = "application/json" if body.startswith(b"{") else "application/x-www-form-urlencoded"
        response = HTTP.post(f"{self.url}/slack/events", content=body,
                              headers={**sign_slack_request(body, SECRET), "Content-Type": kind}, timeout=10)
        assert response.status_code == 200

    def post_due(self) -> list[Outcome]:
        """One poster pass at the test's now."""
        return run_due(self.deps, self.client, now=self.clock(), worker="test")

    def posts(self, channel: str = CHANNEL) -> list[RecordedCall]:
        """The alert messages posted in a channel."""
        return [c for c in self.slack.calls_to("chat.postMessage")
                if c.params.get("channel") == channel and c.ok and "metadata" in c.params]


def alerts_in(call: RecordedCall) -> int:
    """How many alerts one posted message carries: a grouped header starts with the count, a card is one."""
    head = call.params["blocks"][0]["text"]["text"]
    number = head.split(" ", 1)[0].replace(",", "")
    return int(number) if number.isdigit() else 1


@pytest.fixture(name="served")
def served_fixture(engine: Engine, slack_double: SlackDouble) -> Iterator[Served]:
    """The real server (both engines) with platform events on, a movable clock, and no scheduler (tests tick)."""
    clock = Clock(NOW)
    settings = e2e_settings(slack_double, engine).model_copy(
        update={"platform_webhook_secret": SecretStr(PLATFORM_SECRET)})
    deps = Deps(settings=settings, engine=engine, clock=clock)
    client = WebClient(token="xoxb-test", base_url=slack_double.api_url)
    with serving(create_server(deps)) as url:
        yield Served(url=url, slack=slack_double, engine=engine, deps=deps, clock=clock, client=client)
    validate_everything(slack_double)
