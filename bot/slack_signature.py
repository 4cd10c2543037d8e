"""Slack's request signature, checked on the raw bytes before anything parses them."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

# Slack's payloads are a few KB (a block_actions payload carries the clicked message: tens of KB at most).
MAX_SLACK_BODY = 256 * 1024
TOLERANCE_SECONDS = 300


def sign_slack(*, secret: str, timestamp: str, body: bytes) -> str:
    """The X-Slack-Signature value Slack sends for this body: `v0=` + hex HMAC-SHA256 of `v0:<ts>:<body>`."""
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify_slack(*, secret: str, headers: Mapping[str, str], body: bytes, now: float) -> bool:
    """True only for one well-formed timestamp within 5 minutes of now (either way) and one matching signature.

    Never raises: a timestamp like `abc`, `""` or `1e9`, a duplicated header or a non-ASCII signature is False.
    """
    if not secret:
        return False
    getlist = getattr(headers, "getlist", None)
    stamps = getlist("x-slack-request-timestamp") if getlist else [headers.get("x-slack-request-timestamp", "")]
    signatures = getlist("x-slack-signature") if getlist else [headers.get("x-slack-signature", "")]
    if len(stamps) != 1 or len(signatures) != 1:
        return False
    stamp, signature = stamps[0] or "", signatures[0] or ""
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12) or not signature.isascii():
        return False
    if abs(now - int(stamp)) > TOLERANCE_SECONDS:
        return False
    expected = sign_slack(secret=secret, timestamp=stamp, body=body)
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii"))
