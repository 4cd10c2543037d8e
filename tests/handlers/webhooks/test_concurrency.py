"""Live sync under load on real HTTP servers: replicas write each event once; a burst loses none."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import SecretStr
from sqlmodel import select
from starlette.applications import Starlette

from bot.deps import Deps
from bot.settings import Settings
from handlers.webhooks.routes import routes
from handlers.webhooks.signatures import sign_platform
from storage.db import make_engine, session_scope
from storage.events import count_events
from storage.models import Customer, Payout, SeatChange
from tests.conftest import NOW
from tests.e2e_bot import HTTP

pytestmark = pytest.mark.slow
SECRET = "plat_load_secret_42"
# A burst's size: 64 requests in flight exceed the server's worker threads (40) and PostgreSQL pool (30), so requests
# queue and race for the same rows whatever the size: 300 events prove what 1,000 did.
NEW, SEAT_CHANGES, PAYOUTS, HOT = 120, 120, 60, 10


def signed(event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """Body and headers for a platform event signed now."""
    body = json.dumps(event).encode()
    return body, {"X-Platform-Signature": sign_platform(body, SECRET, int(time.time())),
                  "content-type": "application/json"}


def iso(minutes: float) -> str:
    """NOW - 1 day + minutes, as ISO 8601 UTC."""
    return (NOW - timedelta(days=1) + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def free_socket() -> socket.socket:
    """A listening-ready socket on a free local port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture
def two_replicas(db_url: str) -> Iterator[list[str]]:
    """Two uvicorn servers (each with its own engine and pool) on one database."""
    servers, threads, urls, engines = [], [], [], []
    for _ in range(2):
        engine = make_engine(db_url)
        settings = Settings(database_url=db_url, platform_webhook_secret=SecretStr(SECRET))
        app = Starlette(routes=routes(Deps(settings=settings, engine=engine)))
        sock = free_socket()
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        servers.append(server)
        threads.append(thread)
        engines.append(engine)
        urls.append(f"http://127.0.0.1:{sock.getsockname()[1]}")
    deadline = time.monotonic() + 10
    while not all(s.started for s in servers) and time.monotonic() < deadline:
        time.sleep(0.02)
    yield urls
    for server in servers:
        server.should_exit = True
    for thread in threads:
        thread.join(timeout=10)
    for engine in engines:
        engine.dispose()


def test_two_replicas_receiving_the_same_event_at_once_write_it_once(two_replicas: list[str], db_url: str) -> None:
    first = {"id": "evt_c", "type": "customer.created", "created_at": iso(0),
             "data": {"id": "c_1", "organization": "Acme", "email": "o@acme.example", "seats": 1}}
    body, headers = signed(first)
    assert HTTP.post(f"{two_replicas[0]}/platform/events", content=body, headers=headers).status_code == 200
    answers: list[tuple[int, bool]] = []
    lock = threading.Lock()
    for n in range(15):
        body, headers = signed({"id": f"evt_s{n}", "type": "seats.changed", "created_at": iso(n + 1),
                                "data": {"customer": "c_1", "seats": n + 2}})
        barrier = threading.Barrier(4)

        def post(url: str, body: bytes = body, headers: dict[str, str] = headers,
                 barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            response = HTTP.post(f"{url}/platform/events", content=body, headers=headers, timeout=30)
            with lock:
                answers.append((response.status_code, response.json().get("duplicate")))

        threads = [threading.Thread(target=post, args=(two_replicas[i % 2],)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert Counter(answers) == {(200, False): 15, (200, True): 45}
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        assert count_events(session=session) == 16
        assert len(session.exec(select(SeatChange)).all()) == 15
        assert session.exec(select(Customer.seats)).one() == 16
    engine.dispose()


@pytest.fixture
def server_process(db_url: str, tmp_path: Path) -> Iterator[str]:
    """The real `customers-bot serve` process, configured from the environment."""
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = {**os.environ, "DATABASE_URL": db_url, "PLATFORM_WEBHOOK_SECRET": SECRET,
           "SLACK_SIGNING_SECRET": "unused", "SLACK_BOT_TOKEN": "xoxb-unused",
           "LOG_LEVEL": "WARNING"}
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--no-scheduler"], env=env, stdout=log, stderr=subprocess.STDOUT,
                            cwd=Path(__file__).parents[3])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120  # a busy 2-core CI machine can take a while to start the real server
    while True:
        try:
            HTTP.get(url, timeout=1)
            break
        except httpx.TransportError:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, "customers-bot serve did not start within 120 s"
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(timeout=15)
    log.close()


def burst_events() -> list[dict[str, Any]]:
    """New customers, seat changes racing on the HOT customers, and payouts."""
    events: list[dict[str, Any]] = []
    for n in range(NEW):
        events.append({"id": f"evt_new_{n}", "type": "customer.created", "created_at": iso(n / 10),
                       "data": {"id": f"c_new_{n}", "organization": f"Org {n}", "email": f"o{n}@new.example",
                                "seats": n % 7}})
    for n in range(SEAT_CHANGES):
        events.append({"id": f"evt_seat_{n}", "type": "seats.changed", "created_at": iso(NEW + n),
                       "data": {"customer": f"c_hot_{n % HOT}", "seats": n}})
    for n in range(PAYOUTS):
        events.append({"id": f"evt_po_{n}", "type": "payout.created", "created_at": iso(n),
                       "data": {"id": f"po_{n}", "amount": 100 + n, "currency": "USD", "status": "pending"}})
    return events


async def fire(url: str, events: list[dict[str, Any]], concurrency: int) -> list[int]:
    """POST every event with `concurrency` requests in flight; the status codes in order."""
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=120,
                                 limits=httpx.Limits(max_connections=concurrency)) as client:
        async def one(event: dict[str, Any]) -> int:
            body, headers = signed(event)
            async with limit:
                return (await client.post("/platform/events", content=body, headers=headers)).status_code

        return await asyncio.gather(*(one(e) for e in events))


def test_a_burst_of_events_is_absorbed_without_losing_one(server_process: str, db_url: str) -> None:
    hot = [{"id": f"evt_hot_{n}", "type": "customer.created", "created_at": iso(0),
            "data": {"id": f"c_hot_{n}", "organization": f"Hot {n}", "email": f"h{n}@hot.example"}}
           for n in range(HOT)]
    assert set(asyncio.run(fire(server_process, hot, HOT))) == {200}
    events = burst_events()
    order = list(range(len(events)))
    order = order[1::2] + order[::2]  # interleave kinds and deliver seat changes out of order
    statuses = asyncio.run(fire(server_process, [events[i] for i in order], concurrency=64))
    assert Counter(statuses) == {200: len(events)}
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        assert count_events(session=session) == len(events) + HOT
        assert len(session.exec(select(Customer)).all()) == NEW + HOT
        assert len(session.exec(select(Payout)).all()) == PAYOUTS
        hot_seats = dict(session.exec(select(Customer.external_id, Customer.seats)
                                      .where(Customer.email_key.like("%@hot.example"))).all())  # type: ignore[attr-defined]
    engine.dispose()
    # The newest seat change of each hot customer wins, whatever the arrival order.
    assert hot_seats == {f"c_hot_{k}": SEAT_CHANGES - HOT + k for k in range(HOT)}
