"""Webhook signatures: the platform's X-Platform-Signature, and Stripe's timestamp checked both ways."""

from __future__ import annotations

import hashlib
import hmac

TOLERANCE_SECONDS = 300
SIGNATURE_HEADER = "X-Platform-Signature"


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


def stripe_stamp_is_current(header: str | None, *, now: float) -> bool:
    """True when the Stripe-Signature's one `t=` is an integer within 5 minutes of now, either way.

    The stripe library rejects old timestamps only; a future one would let a captured signature be replayed later.
    """
    stamps = [part.strip()[2:] for part in (header or "").split(",") if part.strip().startswith("t=")]
    if len(stamps) != 1 or not stamps[0].isascii() or not stamps[0].isdigit() or len(stamps[0]) > 12:
        return False
    return abs(now - int(stamps[0])) <= TOLERANCE_SECONDS
