"""The one place that wires the Bolt App: client, handlers, error handling. Nothing is built at import time."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from slack_bolt import App, Respond
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.deps import Deps
from handlers.common import log_failure, screen_requests, tell_failure
from handlers.exports import Exports
from handlers.responses import kept_alive_responses

log = logging.getLogger("customers_bot")
LISTENER_THREADS = 12
RESPONSE_TIMEOUT_S = 30.0  # an answer's post to the response_url (Bolt's own waits as long)


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


def create_app(deps: Deps, *, process_before_response: bool = False) -> App:
    """Build the Bolt App with signature verification on and every domain's handlers registered.

    `process_before_response` finishes each listener before answering (the local shell and FaaS want that).
    """
    from handlers import alerts, customers, digests, finance, home, pages, revenue, shortcuts, trends

    app = App(
        client=make_client(deps),
        signing_secret=deps.settings.slack_signing_secret.get_secret_value() or "unset",
        token_verification_enabled=False,
        request_verification_enabled=True,
        process_before_response=process_before_response,
        # Listeners ack, then answer on these threads; exports have a pool of their own, so acks never queue.
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="bolt-listener"),
    )
    app.use(screen_requests(deps))
    app.use(kept_alive_responses(httpx.Client(timeout=RESPONSE_TIMEOUT_S)))
    exports = Exports(deps, inline=process_before_response)
    digests.register(app, deps, exports)  # before customers: it claims `/customers digest ...`
    alerts.register(app, deps)  # before customers: it claims `/customers alert ...`
    customers.register(app, deps, exports)
    finance.register(app, deps)
    revenue.register(app, deps)  # /finance mrr's Share and Export buttons
    pages.register(app, deps)
    trends.register(app, deps)
    home.register(app, deps, exports)
    shortcuts.register(app, deps)  # both shortcuts, the typeahead, the Home search box and the digest form

    @app.error
    def on_error(error: Exception, body: dict[str, Any], client: WebClient, respond: Respond | None = None) -> None:
        """Last resort: log with an id (no emails, no tokens) and tell the user briefly; never show a trace."""
        error_id = log_failure(error, what=_what(body))
        try:
            tell_failure(body, client, respond, error_id)
        except Exception as exc:  # Slack itself is failing; the log already has the id
            log.warning("error_id=%s could not tell the user: %s", error_id, type(exc).__name__)

    return app


def _what(body: dict[str, Any]) -> str:
    """A short, email-free description of a request for the log: the command, action or event type."""
    if body.get("command"):
        return f"{body['command']} {str(body.get('text') or '').partition(' ')[0][:20]}".strip()
    actions = body.get("actions") or [{}]
    return str(actions[0].get("action_id") or (body.get("event") or {}).get("type") or body.get("type") or "?")
