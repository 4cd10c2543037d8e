"""A minimal Slack stand-in for load runs, in its own process: `python -m bench.slack_sink PORT`.

Answers every Web API call with `{"ok": true}` and every response_url post with `ok`, and remembers when each
`/response/<id>` post arrived (CLOCK_MONOTONIC, comparable across processes), so the load generator can tell how long
each answer took. `GET /arrivals` returns them as JSON, `GET /arrivals/<id>` just one, `GET /busy`
the ids answered with the bot's "busy, try again" message. Kept apart from the load generator so serving the bot's
answers does not steal the generator's time.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

ARRIVALS: dict[str, float] = {}
BUSY: set[str] = set()  # answers that were the bot's "too busy, try again" message, not a real answer
BUSY_TEXT = b"answering a lot of requests"


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Serve one connection (keep-alive aware) until the client closes it."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
            length = int(headers.get("content-length", "0"))
            data = await reader.readexactly(length) if length else b""
            if path.startswith("/response/"):
                ARRIVALS.setdefault(path.rsplit("/", 1)[1], time.monotonic())
                if BUSY_TEXT in data:
                    BUSY.add(path.rsplit("/", 1)[1])
                body, kind = b"ok", b"text/plain"
            elif method == "GET" and path == "/busy":
                body, kind = json.dumps(sorted(BUSY)).encode(), b"application/json"
            elif method == "GET" and path == "/arrivals":
                body, kind = json.dumps(ARRIVALS).encode(), b"application/json"
            elif method == "GET" and path.startswith("/arrivals/"):  # one id: cheap enough to poll
                name = path.rsplit("/", 1)[1]
                body, kind = json.dumps({name: ARRIVALS[name]} if name in ARRIVALS else {}).encode(), b"application/json"
            else:
                body, kind = b'{"ok": true}', b"application/json"
            close = headers.get("connection", "").lower() == "close"
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: " + kind + b"\r\nContent-Length: "
                         + str(len(body)).encode() + (b"\r\nConnection: close" if close else b"") + b"\r\n\r\n" + body)
            await writer.drain()
            if close:
                break
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def main(port: int) -> None:
    """Listen on 127.0.0.1:PORT until killed."""
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
