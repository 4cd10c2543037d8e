"""Answers to response_url go over kept-alive connections, and a connection the server closed is replaced."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bot.responder import KeptAlivePoster, KeptAliveRespond


class _Recorder(ThreadingHTTPServer):
    """A response_url stand-in speaking HTTP/1.1, remembering bodies and the client ports they came from."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.bodies: list[Any] = []
        self.ports: list[int] = []
        self.close_after_reply = False  # drop the connection silently, as an idle timeout would


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Recorder

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.bodies.append(json.loads(body))
        self.server.ports.append(self.client_address[1])
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
        self.close_connection = self.server.close_after_reply

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture(name="recorder")
def recorder_fixture() -> Iterator[_Recorder]:
    """The stand-in, serving in a thread."""
    server = _Recorder()
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _url(server: _Recorder, path: str = "/response/1") -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def test_answers_from_one_thread_share_one_connection(recorder: _Recorder) -> None:
    poster = KeptAlivePoster()
    for i in range(3):
        reply = poster.post_json(_url(recorder), {"text": f"answer {i}"})
        assert (reply.status_code, reply.body) == (200, "ok")
    assert [b["text"] for b in recorder.bodies] == ["answer 0", "answer 1", "answer 2"]
    assert len(set(recorder.ports)) == 1


def test_a_connection_the_server_dropped_is_replaced_without_losing_the_answer(recorder: _Recorder) -> None:
    poster = KeptAlivePoster()
    recorder.close_after_reply = True
    for i in range(3):
        assert poster.post_json(_url(recorder), {"text": f"answer {i}"}).status_code == 200
    assert [b["text"] for b in recorder.bodies] == ["answer 0", "answer 1", "answer 2"]
    assert len(set(recorder.ports)) == 3


def test_an_unreachable_response_url_raises_instead_of_hanging() -> None:
    poster = KeptAlivePoster(timeout_s=2)
    with pytest.raises(ConnectionRefusedError):
        poster.post_json("http://127.0.0.1:9/response/1", {"text": "x"})  # the discard port: nobody listens
    with pytest.raises(ValueError, match="not an http"):
        poster.post_json("file:///etc/passwd", {"text": "x"})


def test_respond_posts_the_message_bolt_would_build(recorder: _Recorder) -> None:
    respond = KeptAliveRespond(response_url=_url(recorder), poster=KeptAlivePoster())
    respond(text="hi", blocks=[{"type": "divider"}], response_type="ephemeral", replace_original=True)
    respond({"text": "whole", "response_type": "in_channel"})
    respond.post_encoded(b'{"text": "pre-encoded"}')
    assert recorder.bodies == [
        {"text": "hi", "blocks": [{"type": "divider"}], "response_type": "ephemeral", "replace_original": True},
        {"text": "whole", "response_type": "in_channel"},
        {"text": "pre-encoded"},
    ]
