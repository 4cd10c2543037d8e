"""Answers posted to Slack's response_url over kept-alive connections (Bolt's `respond`, pooled).

Bolt's own `respond` opens a new HTTPS connection for every answer (slack_sdk's WebhookClient on urllib): a TCP and
TLS handshake with hooks.slack.com before each answer reaches the user. This one posts the same message through one
shared httpx client, whose pool keeps the connection open between answers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import httpx
from slack_bolt import BoltContext, BoltResponse, Respond
from slack_sdk.webhook import WebhookResponse

# A kept-alive connection the other end has closed fails before the request is read: sent again on a new one.
_RESENT = (httpx.ConnectError, httpx.RemoteProtocolError)


class KeptRespond(Respond):
    """`respond()` for one request, posting through the shared client (same arguments and result as Bolt's)."""

    def __init__(self, *, response_url: str | None, http: httpx.Client) -> None:
        super().__init__(response_url=response_url)
        self.http = http

    def __call__(
        self,
        text: str | dict[str, Any] = "",
        blocks: Sequence[Any] | None = None,
        attachments: Sequence[Any] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> WebhookResponse:
        """Post the message to the response_url; a dict as `text` is the whole message, as with Bolt's."""
        if self.response_url is None:
            raise ValueError("respond is unsupported here as there is no response_url")
        fields = text if isinstance(text, dict) else {
            "text": text, "blocks": blocks, "attachments": attachments, "response_type": response_type,
            "replace_original": replace_original, "delete_original": delete_original, "unfurl_links": unfurl_links,
            "unfurl_media": unfurl_media, "thread_ts": thread_ts, "metadata": metadata}
        message = {key: _plain(value) for key, value in fields.items() if value is not None}
        try:
            reply = self.http.post(self.response_url, json=message)
        except _RESENT:
            reply = self.http.post(self.response_url, json=message)
        return WebhookResponse(url=self.response_url, status_code=reply.status_code, body=reply.text,
                               headers=dict(reply.headers))


def _plain(value: Any) -> Any:
    """Blocks and attachments given as slack_sdk objects become the dicts Slack reads."""
    if isinstance(value, (list, tuple)):
        return [item.to_dict() if hasattr(item, "to_dict") else item for item in value]
    return value


def kept_alive_responses(http: httpx.Client) -> Callable[..., BoltResponse]:
    """Global middleware: every listener's `respond` posts through `http` (one pool for the whole app)."""
    def middleware(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:  # Bolt names it `next`
        if context.response_url:
            context["respond"] = KeptRespond(response_url=context.response_url, http=http)
        return next()

    return middleware
