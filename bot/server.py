"""HTTP mode: Slack's events endpoint, a health check and the live-sync webhooks, on Starlette + uvicorn."""

from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_bolt.request.internals import parse_body
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.app import create_app, make_client
from bot.deps import Deps
from bot.logs import configure_logging
from bot.settings import load_settings
from bot.slack_signature import MAX_SLACK_BODY, verify_slack
from handlers import webhooks
from handlers.common import malformed
from storage.db import check, make_engine, upgrade

log = logging.getLogger("customers_bot.server")
NO_SCHEDULER_ENV = "CUSTOMERS_BOT_NO_SCHEDULER"
FULL_COLLECTION_EVERY = 100  # young-generation collections per full one (CPython's default: 10)


def settle_collector() -> None:
    """Keep Python's full garbage collections out of the answers' way, once start-up is done.

    A full collection walks every long-lived object (what start-up made, and SQLAlchemy's cache of compiled
    statements, which grows as new kinds of question arrive) and pauses whichever answer triggers it. Start-up's
    objects are frozen out of every later collection, and full collections run a tenth as often; young collections
    still reclaim short-lived cycles as before.
    """
    gc.freeze()
    young, middle, _full = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)


def create_server(deps: Deps, *, scheduler: bool = False) -> Starlette:
    """The ASGI app: POST /slack/events (Bolt verifies signatures), GET /healthz, and the webhooks.

    With `scheduler`, the digest scheduler runs while the server does (started and stopped by the lifespan).
    """
    bolt = create_app(deps)

    signing_secret = deps.settings.slack_signing_secret.get_secret_value()

    async def slack_events(request: Request) -> Response:
        """Cap the body, verify Slack's signature on the raw bytes, and only then let Bolt parse and dispatch it."""
        body = await webhooks.read_body(request, MAX_SLACK_BODY)
        if body is None:
            return PlainTextResponse("body too large", status_code=413)
        if not verify_slack(secret=signing_secret, headers=request.headers, body=body, now=time.time()):
            log.info("slack request refused: missing, malformed, wrong or stale signature")
            return PlainTextResponse("invalid signature", status_code=401)
        try:
            parsed = parse_body(body.decode("utf-8"), request.headers.get("content-type"))
        except (ValueError, RecursionError):  # not UTF-8, not JSON, or JSON nested beyond reason
            log.info("slack request refused: signed, but the body is not UTF-8 form or JSON")
            return PlainTextResponse("malformed body", status_code=400)
        reason = malformed(parsed)
        if reason is not None:  # Bolt would trip over it while building the request's context
            log.warning("slack request ignored: %s", reason)
            return PlainTextResponse("", status_code=200)
        try:
            bolt_request = to_bolt_request(request, body)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:  # a shape Bolt's extractors cannot read
            log.warning("slack request refused: signed, but Bolt cannot read it (%s)", type(exc).__name__)
            return PlainTextResponse("malformed body", status_code=400)
        # Bolt's App is synchronous: run it in the thread pool so a slow request never blocks the others.
        bolt_response = await run_in_threadpool(bolt.dispatch, bolt_request)
        return to_starlette_response(bolt_response)

    async def healthz(_request: Request) -> Response:
        try:
            await run_in_threadpool(check, deps.engine)
        except Exception as exc:
            log.warning("health check failed: %s", type(exc).__name__)
            return JSONResponse({"ok": False, "database": "unreachable"}, status_code=503)
        return JSONResponse({"ok": True})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        settle_collector()
        if not scheduler:
            yield
            return
        from bot.scheduler import start_scheduler

        running = start_scheduler(deps, make_client(deps))
        try:
            yield
        finally:
            running.shutdown(wait=False)

    routes = [Route("/slack/events", slack_events, methods=["POST"]), Route("/healthz", healthz, methods=["GET"]),
              *webhooks.routes(deps)]
    return Starlette(routes=routes, lifespan=lifespan)


def asgi_app() -> Starlette:
    """Factory for `uvicorn --factory` (one call per worker process): settings from the environment.

    Every worker runs its own digest scheduler (unless CUSTOMERS_BOT_NO_SCHEDULER is set): the digest runs are
    claimed in the database, so posts stay exactly-once, and no worker is special.
    """
    settings = load_settings()
    configure_logging(settings.log_level)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    deps = Deps(settings=settings, engine=engine)
    return create_server(deps, scheduler=not os.environ.get(NO_SCHEDULER_ENV))
