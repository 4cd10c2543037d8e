"""Signed slash commands against a `customers-bot serve` process: start it, build requests, read answer arrivals.

`bench.mix` asks each question once through these; Slack is `bench.slack_sink` in its own process, and each request
has its own response_url, so we know when its answer arrived.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.local.slack_double import sign_slack_request, slash_command_body

SECRET = "bench-signing-secret"
USER = "UBENCH"
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _up(port: int) -> bool:
    """True once something accepts connections on the port."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def process(argv: list[str], *, env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server process until the block ends, yielding it once its port accepts connections."""
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(argv, env={**os.environ, **env}, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=errors)
        deadline = time.monotonic() + 90
        while not _up(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                errors.seek(0)
                raise RuntimeError(f"{' '.join(argv[:5])} did not start: {errors.read().decode()[-2000:]}")
            time.sleep(0.2)
        time.sleep(1.0 if "--workers" in argv else 0.3)  # the second worker finishes starting
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def _request(port: int, command: str, text: str, response_url: str) -> bytes:
    """One signed slash-command request, as raw HTTP/1.1 bytes."""
    body = slash_command_body(command, text, user_id=USER, channel_id="CBENCH", response_url=response_url)
    signed = sign_slack_request(body, SECRET)
    head = (f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"X-Slack-Request-Timestamp: {signed['X-Slack-Request-Timestamp']}\r\n"
            f"X-Slack-Signature: {signed['X-Slack-Signature']}\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


def _one_arrival(sink: str, name: str) -> dict[str, float]:
    """{name: when} once that answer arrived, else {}."""
    with urllib.request.urlopen(f"{sink}/arrivals/{name}", timeout=10) as response:
        found: dict[str, float] = json.loads(response.read())
    return found
