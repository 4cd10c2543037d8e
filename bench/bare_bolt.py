"""The floor Bolt itself sets: the same server stack (uvicorn + Starlette + Bolt dispatch), a handler that only acks."""

from __future__ import annotations

import os
import re
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk import WebClient
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def asgi_app() -> Starlette:
    """A Bolt App whose slash commands only ack, served exactly like bot.server."""
    client = WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = App(signing_secret=os.environ["SLACK_SIGNING_SECRET"], client=client, token_verification_enabled=False)

    @app.command(re.compile(r"^/"))  # every slash command the load sends
    def ack_only(ack: Any) -> None:
        ack()

    async def events(request: Request) -> Response:
        body = await request.body()
        return to_starlette_response(await run_in_threadpool(app.dispatch, to_bolt_request(request, body)))

    return Starlette(routes=[Route("/slack/events", events, methods=["POST"])])
