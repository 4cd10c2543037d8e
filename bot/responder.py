"""Answers to response_url over kept-alive connections: one TCP and TLS handshake per thread and host, not per answer.

Bolt's `respond` opens a new connection for every post (slack_sdk's WebhookClient on urllib); under load that was a
fifth of an answer's CPU. This keeps Bolt's `Respond` interface and message building and only changes the transport.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from slack_bolt import BoltContext, BoltResponse, Respond
from slack_bolt.context.respond.internals import _build_message
from slack_sdk.models.attachments import Attachment
from slack_sdk.models.blocks import Block
from slack_sdk.version import __version__ as slack_sdk_version
from slack_sdk.webhook import WebhookResponse

TIMEOUT_S = 10.0
# A kept-alive connection the server already closed fails like this on reuse; then one fresh connection is tried.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


class KeptAlivePoster:
    """Posts JSON over one persistent connection per (thread, scheme, host), reconnecting once when one went stale."""

    def __init__(self, *, timeout_s: float = TIMEOUT_S, ssl_context: ssl.SSLContext | None = None) -> None:
        self.timeout_s = timeout_s
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.headers = {"Content-Type": "application/json;charset=utf-8",
                        "User-Agent": f"customers-bot slack_sdk/{slack_sdk_version}"}
        self._local = threading.local()

    def post_json(self, url: str, payload: dict[str, Any]) -> WebhookResponse:
        """POST `payload` as JSON to `url`."""
        return self.post(url, json.dumps(payload).encode())

    def post(self, url: str, body: bytes) -> WebhookResponse:
        """POST an encoded JSON body to `url` and read the whole reply (so the connection can be reused)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {parts.scheme}://{parts.hostname}")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conns: dict[tuple[str, str], http.client.HTTPConnection] = self._local.__dict__.setdefault("conns", {})
        where = (parts.scheme, parts.netloc)
        for attempt in (1, 2):
            conn = conns.get(where)
            reused = conn is not None
            if conn is None:
                conn = conns[where] = self._connect(parts.scheme, parts.netloc)
            try:
                conn.request("POST", path, body=body, headers=self.headers)
                reply = conn.getresponse()
                text = reply.read().decode(reply.headers.get_content_charset() or "utf-8", "replace")
            except _STALE:
                conn.close()
                del conns[where]
                if reused and attempt == 1:
                    continue
                raise
            except BaseException:
                conn.close()
                del conns[where]
                raise
            if reply.will_close:
                conn.close()
                del conns[where]
            return WebhookResponse(url=url, status_code=reply.status, body=text, headers=dict(reply.headers))
        raise AssertionError("unreachable")  # pragma: no cover

    def _connect(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        """A new connection (not yet opened: http.client opens it on the first request)."""
        if scheme == "https":
            return http.client.HTTPSConnection(netloc, timeout=self.timeout_s, context=self.ssl_context)
        return http.client.HTTPConnection(netloc, timeout=self.timeout_s)


class KeptAliveRespond(Respond):
    """Bolt's `respond`, posting through a shared KeptAlivePoster."""

    def __init__(self, *, response_url: str, poster: KeptAlivePoster) -> None:
        super().__init__(response_url=response_url)
        self.poster = poster

    def __call__(  # the same parameters as Respond's
        self,
        text: str | dict[str, Any] = "",
        blocks: Sequence[dict[str, Any] | Block] | None = None,
        attachments: Sequence[dict[str, Any] | Attachment] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> WebhookResponse:
        """Post a message to the response_url, as Respond does."""
        assert self.response_url is not None
        if isinstance(text, dict):
            return self.poster.post_json(self.response_url, _build_message(**text))
        return self.poster.post_json(self.response_url, _build_message(
            text=text, blocks=blocks, attachments=attachments, response_type=response_type,
            replace_original=replace_original, delete_original=delete_original, unfurl_links=unfurl_links,
            unfurl_media=unfurl_media, thread_ts=thread_ts, metadata=metadata))

    def post_encoded(self, body: bytes) -> WebhookResponse:
        """Post a message already encoded as JSON (cached answers keep theirs)."""
        assert self.response_url is not None
        return self.poster.post(self.response_url, body)


def kept_alive_respond(poster: KeptAlivePoster) -> Callable[..., BoltResponse]:
    """A global middleware giving every request that has a response_url the kept-alive `respond`."""
    def middleware(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:
        if context.response_url:
            context["respond"] = KeptAliveRespond(response_url=context.response_url, poster=poster)
        return next()

    return middleware
