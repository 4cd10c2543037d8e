"""The one place that wires the Bolt App: client, handlers, error handling. Nothing is built at import time."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.deps import Deps


def make_client(deps: Deps) -> WebClient:
    """A WebClient on SLACK_API_URL that retries rate limits and transient server errors."""
    return WebClient(
        token=deps.settings.slack_bot_token.get_secret_value() or None,
        base_url=deps.settings.slack_api_url,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def create_app(deps: Deps) -> App:
    """Build the Bolt App with signature verification on and every domain's handlers registered."""
    from handlers import customers, digests, finance, home

    app = App(
        client=make_client(deps),
        signing_secret=deps.settings.slack_signing_secret.get_secret_value() or "unset",
        token_verification_enabled=False,
        request_verification_enabled=True,
    )
    digests.register(app, deps)  # before customers: it claims `/customers digest ...`
    customers.register(app, deps)
    finance.register(app, deps)
    home.register(app, deps)
    return app
