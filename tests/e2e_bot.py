"""The real HTTP server on a free port, talking to the Slack double: the fixtures end-to-end tests share."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import SecretStr
from sqlalchemy import Engine
from starlette.applications import Starlette

from bot.deps import Deps
from bot.server import create_server
from bot.settings import Settings
from handlers.blocks.limits import validate_message, validate_view
from storage.db import session_scope
from storage.writes import recent_audit
from tests.conftest import NOW
from tests.factories import add_customer, add_payment
from tests.slack_double import SlackDouble, block_action_body, sign_slack_request, slash_command_body

SECRET = "e2e-signing-secret"
# One client for every request the tests send to the bot: building one loads the CA bundle, tens of ms each time.
HTTP = httpx.Client(timeout=10)
ADMIN, FINANCE, MEMBER = "UADMIN", "UFIN", "UMEMBER"
CHANNEL = "C0GROWTH"


@dataclass
class Bot:
    """A running server and how to talk to it."""

    url: str
    slack: SlackDouble
    engine: Engine

    def post(
        self, body: bytes, *, headers: dict[str, str] | None = None, content_type: str | None = None
    ) -> httpx.Response:
        """POST a body to /slack/events, signed unless headers are given."""
        signed = sign_slack_request(body, SECRET) if headers is None else headers
        kind = content_type or ("application/json" if body.startswith(b"{") else "application/x-www-form-urlencoded")
        return HTTP.post(f"{self.url}/slack/events", content=body, headers={**signed, "Content-Type": kind},
                          timeout=10)

    def command(self, command: str, text: str, *, user: str = ADMIN, name: str = "r1") -> httpx.Response:
        """A signed slash command whose response_url is `name` on the double."""
        return self.post(slash_command_body(command, text, user_id=user, channel_id=CHANNEL,
                                            response_url=self.slack.response_url(name)))

    def click(self, button: dict[str, Any], *, user: str = ADMIN, name: str = "c1") -> httpx.Response:
        """A signed click on a button taken from a message."""
        return self.post(block_action_body(button["action_id"], button.get("value", ""), user_id=user,
                                           channel_id=CHANNEL, response_url=self.slack.response_url(name)))


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Server(uvicorn.Server):
    """uvicorn's server, stopped as soon as it is told to instead of at its next tick (a tenth of a second)."""

    loop: asyncio.AbstractEventLoop | None = None
    wake: asyncio.Event | None = None

    async def main_loop(self) -> None:
        """Wait for the stop signal, ticking as uvicorn does meanwhile (its Date header)."""
        self.loop, self.wake = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        while not self.should_exit and not await self.on_tick(counter):
            counter += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), 0.1)

    def stop(self) -> None:
        """Ask the server to stop, from any thread."""
        self.should_exit = True
        if self.loop is not None and self.wake is not None:
            self.loop.call_soon_threadsafe(self.wake.set)


@contextmanager
def serving(app: Starlette) -> Iterator[str]:
    """Run an ASGI app under a real uvicorn server on a free port; yields its base URL."""
    port = free_port()
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.002)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        # Not joined: uvicorn's shutdown sleeps a tenth of a second before closing connections, and nothing a test
        # asserts waits on it (each server has its own port, store and double).
        server.stop()


def e2e_settings(slack: SlackDouble, engine: Engine) -> Settings:
    """Settings aimed at the Slack double, with one admin and one finance user."""
    return Settings(slack_api_url=slack.api_url, slack_signing_secret=SecretStr(SECRET),
                    slack_bot_token=SecretStr("xoxb-test"), admin_user_ids=frozenset({ADMIN}),
                    finance_user_ids=frozenset({FINANCE}), product_url="https://app.example/admin",
                    database_url=str(engine.url))


def validate_everything(slack: SlackDouble) -> None:
    """Every message and view the bot sent stays inside Block Kit's limits (as Slack would check)."""
    for call in slack.calls:
        if call.method in ("chat.postMessage", "chat.postEphemeral", "chat.update"):
            validate_message(call.params)
        elif call.method == "views.publish":
            validate_view(call.params["view"])
    for name in slack.response_names():
        for reply in slack.responses(name):
            validate_message(reply)


@pytest.fixture(name="bot")
def bot_fixture(sqlite_engine: Engine, slack_double: SlackDouble) -> Iterator[Bot]:
    """The real Starlette + Bolt server on a free port, talking to the Slack double."""
    deps = Deps(settings=e2e_settings(slack_double, sqlite_engine), engine=sqlite_engine, clock=lambda: NOW)
    with serving(create_server(deps)) as url:
        yield Bot(url=url, slack=slack_double, engine=sqlite_engine)
    validate_everything(slack_double)


@pytest.fixture(name="customers")
def customers_fixture(sqlite_engine: Engine) -> None:
    """Fifteen customers, a canceled one with a hostile name, and a payment."""
    from sqlmodel import Session

    with Session(sqlite_engine) as session:
        for i in range(15):
            add_customer(session, f"Acme {i:02d}", email=f"owner{i}@acme{i}.example", seats=i % 3,
                         created_at=NOW - timedelta(days=i + 1))
        gone = add_customer(session, "=HYPERLINK(\"x\")", email="gone@evil.example", seats=1, status="canceled",
                            created_at=NOW - timedelta(days=40), canceled_at=NOW - timedelta(days=2))
        add_payment(session, gone, amount=4900, fee=490, created_at=NOW - timedelta(days=20))


def wait_for_audit(engine: Engine, timeout: float = 5.0) -> list[Any]:
    """The export audit events, once the background export has written one."""
    deadline = time.monotonic() + timeout
    while True:
        with session_scope(engine) as session:
            events = recent_audit(session=session, action="export")
        if events or time.monotonic() > deadline:
            return events
        time.sleep(0.05)


def button(msg: dict[str, Any], action_id: str) -> dict[str, Any]:
    """The button with this action id."""
    for block in msg["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return dict(element)
    raise AssertionError(f"no {action_id} button in {[b['type'] for b in msg['blocks']]}")
