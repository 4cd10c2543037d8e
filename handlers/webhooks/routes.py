"""Live sync over HTTP: signed platform events and Stripe webhooks, applied once, in order, after commit.

Every request: size limit (413), signature (401), JSON and schema (400), then the store in a worker thread;
the 2xx is sent only after the transaction committed. Logs name the event id, type and outcome, never secrets
or emails.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import timedelta

import stripe
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.deps import Deps
from handlers.webhooks.platform import parse_platform_event
from handlers.webhooks.signatures import SIGNATURE_HEADER, TOLERANCE_SECONDS, stripe_stamp_is_current, verify_platform
from handlers.webhooks.stripe import map_stripe_event
from storage.event_types import EventConflict, EventInvalid, SyncEvent
from storage.events import process_event

MAX_BODY = 1024 * 1024
log = logging.getLogger(__name__)


def routes(deps: Deps) -> list[Route]:
    """POST /platform/events and POST /stripe/webhook, bound to these deps."""

    async def platform_events(request: Request) -> JSONResponse:
        """Receive one signed platform event."""
        return await _platform(deps, request)

    async def stripe_webhook(request: Request) -> JSONResponse:
        """Receive one Stripe webhook event."""
        return await _stripe(deps, request)

    return [Route("/platform/events", platform_events, methods=["POST"]),
            Route("/stripe/webhook", stripe_webhook, methods=["POST"])]


async def _platform(deps: Deps, request: Request) -> JSONResponse:
    """Verify, validate and apply a platform event."""
    secret = deps.settings.platform_webhook_secret.get_secret_value()
    if not secret:
        return _error(503, "platform events are not configured on this server (PLATFORM_WEBHOOK_SECRET)", "platform")
    body = await read_body(request)
    if body is None:
        return _error(413, "body is larger than 1 MB", "platform")
    if not verify_platform(header=request.headers.get(SIGNATURE_HEADER), body=body, secret=secret,
                           now=deps.clock().timestamp()):
        return _error(401, f"missing, malformed, wrong or stale {SIGNATURE_HEADER} header", "platform")
    try:
        payload = json.loads(body)
    except ValueError as exc:
        return _error(400, f"body is not valid JSON: {exc}", "platform")
    except RecursionError:
        return _error(400, "body is not valid JSON: nested too deeply", "platform")
    try:
        event = parse_platform_event(payload)
    except EventInvalid as exc:
        return _error(400, str(exc), "platform")
    if event.created_at > deps.clock() + timedelta(seconds=TOLERANCE_SECONDS):
        return _error(400, "created_at is in the future; check the sender's clock", "platform")
    return await _apply(deps, event)


async def _stripe(deps: Deps, request: Request) -> JSONResponse:
    """Verify with the stripe library, map and apply a Stripe event."""
    secret = deps.settings.stripe_webhook_secret.get_secret_value()
    if not secret:
        return _error(503, "Stripe webhooks are not configured on this server (STRIPE_WEBHOOK_SECRET)", "stripe")
    body = await read_body(request)
    if body is None:
        return _error(413, "body is larger than 1 MB", "stripe")
    header = request.headers.get("stripe-signature")
    if not stripe_stamp_is_current(header, now=time.time()):  # the stripe library checks the age on this clock
        return _error(401, "missing, malformed, wrong or stale Stripe-Signature header", "stripe")
    try:
        text = body.decode("utf-8")  # Stripe signs the text of the body
    except UnicodeDecodeError:
        return _error(400, "body is not a JSON Stripe event", "stripe")
    try:
        stripe.WebhookSignature.verify_header(text, header, secret, tolerance=TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError:
        return _error(401, "missing, malformed, wrong or stale Stripe-Signature header", "stripe")
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):
        return _error(400, "body is not a JSON Stripe event", "stripe")
    if not isinstance(payload, dict):
        return _error(400, "body is not a JSON Stripe event", "stripe")
    try:
        event = map_stripe_event(payload)
    except EventInvalid as exc:
        return _error(400, str(exc), "stripe")
    return await _apply(deps, event)


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes | None:
    """The raw body, or None once it is known to exceed `limit` (declared length or streamed bytes)."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _apply(deps: Deps, event: SyncEvent) -> JSONResponse:
    """Apply in a worker thread (the store is synchronous); answer only after the commit."""
    try:
        result = await run_in_threadpool(process_event, engine=deps.engine, event=event, received_at=deps.clock())
    except EventConflict as exc:
        log.info("%s event %r type=%r not applied yet (409)", event.source, event.event_id, event.type)
        return JSONResponse({"error": str(exc)}, status_code=409)
    except Exception as exc:
        error_id = uuid.uuid4().hex[:12]
        first_line = str(exc).splitlines()[0][:200] if str(exc) else ""  # SQL parameters follow on later lines
        log.error("%s event %r type=%r failed error_id=%s %s: %s", event.source, event.event_id, event.type,
                  error_id, type(exc).__name__, first_line)
        return JSONResponse({"error": f"internal error (error id {error_id})"}, status_code=500)
    log.info("%s event %r type=%r outcome=%s duplicate=%s", event.source, event.event_id, event.type,
             result.outcome, result.duplicate)
    return JSONResponse({"id": event.event_id, "outcome": result.outcome, "duplicate": result.duplicate})


def _error(status: int, message: str, source: str) -> JSONResponse:
    """A JSON error naming the problem; logged without the body."""
    log.info("%s event rejected with %d: %s", source, status, message)
    return JSONResponse({"error": message}, status_code=status)
