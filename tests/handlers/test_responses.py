"""Answers posted to the response_url through one kept-alive client (handlers.responses)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from slack_sdk.models.blocks import DividerBlock

from handlers.responses import KeptRespond

URL = "https://hooks.slack.example/actions/T1/1/abc"


def recording(posted: list[dict[str, Any]], *, drop_first: bool = False) -> httpx.Client:
    """A client whose transport records each posted message (and drops the first connection when asked)."""
    dropped = [not drop_first]

    def handle(request: httpx.Request) -> httpx.Response:
        if not dropped[0]:
            dropped[0] = True
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        posted.append(json.loads(request.content))
        return httpx.Response(200, text="ok")

    return httpx.Client(transport=httpx.MockTransport(handle))


def test_an_answer_posts_the_message_slack_reads_and_returns_bolts_response() -> None:
    posted: list[dict[str, Any]] = []
    respond = KeptRespond(response_url=URL, http=recording(posted))
    reply = respond(text="Hi", blocks=[DividerBlock(), {"type": "divider"}], response_type="ephemeral",
                    replace_original=False)
    assert posted == [{"text": "Hi", "blocks": [{"type": "divider"}, {"type": "divider"}],
                       "response_type": "ephemeral", "replace_original": False}]
    assert (reply.status_code, reply.body, reply.api_url) == (200, "ok", URL)


def test_a_dict_is_the_whole_message() -> None:
    posted: list[dict[str, Any]] = []
    KeptRespond(response_url=URL, http=recording(posted))({"text": "Bye", "delete_original": True})
    assert posted == [{"text": "Bye", "delete_original": True}]


def test_a_connection_the_other_end_closed_is_posted_again_once() -> None:
    posted: list[dict[str, Any]] = []
    KeptRespond(response_url=URL, http=recording(posted, drop_first=True))(text="Again")
    assert posted == [{"text": "Again"}]


def test_without_a_response_url_there_is_nothing_to_answer() -> None:
    with pytest.raises(ValueError, match="no response_url"):
        KeptRespond(response_url=None, http=recording([]))(text="x")


@pytest.fixture
def keep_alive_server() -> Iterator[tuple[str, list[int]]]:
    """An HTTP/1.1 server that keeps connections open and records each post's client port."""
    ports: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            ports.append(self.client_address[1])
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/response/r1", ports
    server.shutdown()
    server.server_close()


def test_answers_to_several_requests_share_one_connection(keep_alive_server: tuple[str, list[int]]) -> None:
    url, ports = keep_alive_server
    with httpx.Client() as http:
        for n in range(3):  # three requests, each with its own respond, one pool
            assert KeptRespond(response_url=url, http=http)(text=f"answer {n}").status_code == 200
    assert len(ports) == 3
    assert len(set(ports)) == 1
