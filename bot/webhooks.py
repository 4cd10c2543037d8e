"""Live sync over HTTP: signed platform events and Stripe webhooks, applied once, in order, after commit.

Every request: size limit (413), signature (401), JSON and schema (400), then the store in a worker thread;
the 2xx is sent only after the transaction committed. Logs name the event id, type and outcome, never secrets
or emails.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Callable
from datetime import timedelta

import stripe
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.deps import Deps
from bot.stripe_map import MAX_SEATS, Reader, map_stripe_event
from storage.event_types import (
    Change,
    CustomerChange,
    EventConflict,
    EventInvalid,
    PaymentChange,
    PayoutChange,
    SyncEvent,
)
from storage.events import process_event
from storage.models import PayoutStatus, Status
from storage.query import STATUS_ALIASES
from storage.writes import CustomerFields, PaymentFields, PayoutFields

MAX_BODY = 1024 * 1024
TOLERANCE_SECONDS = 300
SIGNATURE_HEADER = "X-Platform-Signature"
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


def sign_platform(body: bytes, secret: str, timestamp: int) -> str:
    """The X-Platform-Signature value for a body: `t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_platform(*, header: str | None, body: bytes, secret: str, now: float) -> bool:
    """True for a well-formed header whose v1 matches and whose t is within 5 minutes of now (either way)."""
    stamp, candidates = None, []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            stamp = value
        elif key == "v1":
            candidates.append(value)
    if stamp is None or not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12 or not candidates:
        return False
    if abs(now - int(stamp)) > TOLERANCE_SECONDS:
        return False
    expected = sign_platform(body, secret, int(stamp)).split("v1=", 1)[1].encode()
    return any(hmac.compare_digest(expected, candidate.encode()) for candidate in candidates)


async def _platform(deps: Deps, request: Request) -> JSONResponse:
    """Verify, validate and apply a platform event."""
    secret = deps.settings.platform_webhook_secret.get_secret_value()
    if not secret:
        return _error(503, "platform events are not configured on this server (PLATFORM_WEBHOOK_SECRET)", "platform")
    body = await _read_body(request)
    if body is None:
        return _error(413, "body is larger than 1 MB", "platform")
    if not verify_platform(header=request.headers.get(SIGNATURE_HEADER), body=body, secret=secret,
                           now=deps.clock().timestamp()):
        return _error(401, f"missing, malformed, wrong or stale {SIGNATURE_HEADER} header", "platform")
    try:
        event = parse_platform_event(json.loads(body))
    except EventInvalid as exc:
        return _error(400, str(exc), "platform")
    except ValueError as exc:
        return _error(400, f"body is not valid JSON: {exc}", "platform")
    if event.created_at > deps.clock() + timedelta(seconds=TOLERANCE_SECONDS):
        return _error(400, "created_at is in the future; check the sender's clock", "platform")
    return await _apply(deps, event)


async def _stripe(deps: Deps, request: Request) -> JSONResponse:
    """Verify with the stripe library, map and apply a Stripe event."""
    secret = deps.settings.stripe_webhook_secret.get_secret_value()
    if not secret:
        return _error(503, "Stripe webhooks are not configured on this server (STRIPE_WEBHOOK_SECRET)", "stripe")
    body = await _read_body(request)
    if body is None:
        return _error(413, "body is larger than 1 MB", "stripe")
    try:
        verified = stripe.Webhook.construct_event(body, request.headers.get("stripe-signature"), secret,
                                                  tolerance=TOLERANCE_SECONDS)
        payload = verified.to_dict()
    except stripe.SignatureVerificationError:
        return _error(401, "missing, malformed, wrong or stale Stripe-Signature header", "stripe")
    except Exception:  # the body passed the signature but is not JSON / not an event object
        return _error(400, "body is not a JSON Stripe event", "stripe")
    try:
        event = map_stripe_event(payload)
    except EventInvalid as exc:
        return _error(400, str(exc), "stripe")
    return await _apply(deps, event)


async def _read_body(request: Request) -> bytes | None:
    """The raw body, or None once it is known to exceed MAX_BODY (declared length or streamed bytes)."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
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


# --- platform event schema -----------------------------------------------------------------------------------------

_STATUSES = {s.value for s in Status}
_PAYOUT_STATUSES = {s.value for s in PayoutStatus}


def parse_platform_event(payload: object) -> SyncEvent:
    """Validate a platform event; unknown types are accepted (and ignored) once the envelope is valid."""
    envelope = Reader(payload)
    event_id, kind = envelope.text("id"), envelope.text("type", limit=100)
    created = envelope.opt_iso("created_at")
    if created is None:
        raise EventInvalid("created_at is required")
    parser = _PARSERS.get(kind)
    if parser is None:
        return SyncEvent(source="platform", event_id=event_id, type=kind, created_at=created, object_id=None,
                         change=None, note="event type is not synced")
    data = envelope.obj("data")
    change = parser(data)
    return SyncEvent(source="platform", event_id=event_id, type=kind, created_at=created,
                     object_id=change.external_id, change=change)


def _ref(data: Reader) -> tuple[str | None, str | None]:
    """The customer's (external id, email): `id`, or `customer` (an email when it contains @)."""
    external_id = data.opt_text("id")
    given = data.opt_text("customer", limit=320)
    if external_id is None and given is None:
        raise EventInvalid("data.id or data.customer is required")
    if external_id is None and given is not None and "@" in given:
        return None, given
    return external_id or given, None


def _email(data: Reader) -> str | None:
    """An email address, or None."""
    email = data.opt_text("email", limit=320)
    if email is not None and ("@" not in email or any(c.isspace() for c in email)):
        raise EventInvalid("data.email must be an email address")
    return email


def _status(data: Reader) -> str | None:
    """A customer status (Stripe's names; `cancelled` and `trial` are understood)."""
    raw = data.opt_text("status", limit=30)
    status = STATUS_ALIASES.get(raw.lower(), raw.lower()) if raw else None
    if status is not None and status not in _STATUSES:
        raise EventInvalid(f"data.status must be one of {', '.join(sorted(_STATUSES))}")
    return status


def _customer_fields(data: Reader) -> CustomerFields:
    """The customer fields an event may state."""
    return CustomerFields(organization=data.opt_text("organization", limit=500), email=_email(data),
                          seats=data.opt_int("seats", maximum=MAX_SEATS), status=_status(data),
                          created_at=data.opt_iso("created_at"), canceled_at=data.opt_iso("canceled_at"))


def _customer_created(data: Reader) -> Change:
    """customer.created: id, organization and email required."""
    external_id, email = data.text("id"), _email(data)
    data.text("organization", limit=500)
    if email is None:
        raise EventInvalid("data.email is required")
    return CustomerChange(external_id=external_id, email=email, fields=_customer_fields(data),
                          defaults=CustomerFields())


def _customer_updated(data: Reader) -> Change:
    """customer.updated: the customer plus any of organization, email, seats, status, canceled_at."""
    external_id, by_email = _ref(data)
    fields = _customer_fields(data)
    if all(v is None for v in (fields.organization, fields.email, fields.seats, fields.status, fields.canceled_at)):
        raise EventInvalid("data must state at least one of organization, email, seats, status, canceled_at")
    return CustomerChange(external_id=external_id, email=by_email or fields.email, fields=fields,
                          defaults=CustomerFields())


def _customer_canceled(data: Reader) -> Change:
    """customer.canceled: the customer, optionally canceled_at (default: the event's time)."""
    external_id, by_email = _ref(data)
    return CustomerChange(external_id=external_id, email=by_email,
                          fields=CustomerFields(status="canceled", canceled_at=data.opt_iso("canceled_at")))


def _seats_changed(data: Reader) -> Change:
    """seats.changed: the customer and the new seat count."""
    external_id, by_email = _ref(data)
    seats = data.integer("seats", maximum=MAX_SEATS)
    return CustomerChange(external_id=external_id, email=by_email, fields=CustomerFields(seats=seats))


def _payment(data: Reader, *, refund: bool) -> Change:
    """payment.succeeded (customer, amount, currency required) or payment.refunded (refunded_amount required)."""
    given = data.opt_text("customer", limit=320)
    if given is None and not refund:
        raise EventInvalid("data.customer is required")
    customer = None if given is None else (
        CustomerChange(email=given) if "@" in given else CustomerChange(external_id=given))
    fields = PaymentFields(
        amount=data.opt_int("amount") if refund else data.integer("amount"),
        currency=data.opt_currency() if refund else data.currency(), fee=data.opt_int("fee"),
        created_at=data.opt_iso("created_at"),
        refunded_amount=data.integer("refunded_amount") if refund else data.opt_int("refunded_amount"),
        refunded_at=data.opt_iso("refunded_at"))
    if fields.amount is not None and fields.refunded_amount is not None and fields.refunded_amount > fields.amount:
        raise EventInvalid("data.refunded_amount must not exceed data.amount")
    return PaymentChange(external_id=data.text("id"), customer=customer, fields=fields)


def _payout(data: Reader, *, created: bool) -> Change:
    """payout.created (amount, currency, status required) or payout.updated (any of them)."""
    status = data.opt_text("status", limit=20)
    if status is not None and status.lower() not in _PAYOUT_STATUSES:
        raise EventInvalid(f"data.status must be one of {', '.join(sorted(_PAYOUT_STATUSES))}")
    if created and status is None:
        raise EventInvalid("data.status is required")
    fields = PayoutFields(amount=data.integer("amount") if created else data.opt_int("amount"),
                          currency=data.currency() if created else data.opt_currency(),
                          status=status.lower() if status else None, created_at=data.opt_iso("created_at"),
                          arrival_date=data.opt_iso("arrival_date"))
    return PayoutChange(external_id=data.text("id"), fields=fields)


_PARSERS: dict[str, Callable[[Reader], Change]] = {
    "customer.created": _customer_created,
    "customer.updated": _customer_updated,
    "customer.canceled": _customer_canceled,
    "seats.changed": _seats_changed,
    "payment.succeeded": lambda data: _payment(data, refund=False),
    "payment.refunded": lambda data: _payment(data, refund=True),
    "payout.created": lambda data: _payout(data, created=True),
    "payout.updated": lambda data: _payout(data, created=False),
}
