"""HTTP benchmarks: signed slash commands against `customers-bot serve`, and against a bare Bolt app."""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from bot.local_slack import SlackDouble, sign_slack_request, slash_command_body

SECRET = "bench-signing-secret"
TERMS = ["harbor", "northwindanalytics7", "labs", "priya.chen", "status:canceled seats:1"]


def free_port() -> int:
    """A port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(argv: list[str], *, env: dict[str, str], port: int) -> Iterator[str]:
    """Run a server process until the block ends; yield its base URL once it answers."""
    proc = subprocess.Popen(argv, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.post(f"{url}/slack/events", content=b"", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


async def _hammer(url: str, response_url: str, *, clients: int, seconds: float) -> dict[str, Any]:
    """`clients` concurrent clients sending signed slash commands for `seconds`; latencies of each ack."""
    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds

    async def client(n: int, http: httpx.AsyncClient) -> None:
        nonlocal errors
        i = n
        while time.monotonic() < stop:
            body = slash_command_body("/customers", f"search {TERMS[i % len(TERMS)]}", user_id="UBENCH",
                                      channel_id="CBENCH", response_url=response_url)
            headers = {**sign_slack_request(body, SECRET), "Content-Type": "application/x-www-form-urlencoded"}
            start = time.perf_counter()
            try:
                response = await http.post(f"{url}/slack/events", content=body, headers=headers)
                if response.status_code != 200:
                    errors += 1
            except httpx.HTTPError:
                errors += 1
            latencies.append(time.perf_counter() - start)
            i += clients

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=10, limits=limits) as http:
        await asyncio.gather(*(client(n, http) for n in range(clients)))
    latencies.sort()
    return {"requests": len(latencies), "errors": errors, "rps": round(len(latencies) / seconds, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
            "max_ms": round(latencies[-1] * 1000, 1)}


def bench_http(database_url: str, *, clients: int, seconds: float, e2e_repeat: int) -> dict[str, Any]:
    """Load the real server with 1 and 2 workers and the bare Bolt floor; also single-request search latency."""
    results: dict[str, Any] = {}
    with SlackDouble() as slack:
        env = {"DATABASE_URL": database_url, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack.api_url,
               "SLACK_BOT_TOKEN": "xoxb-bench", "LOG_LEVEL": "WARNING"}
        cli = [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--no-scheduler"]
        for workers in (1, 2):
            port = free_port()
            with server([*cli, "--port", str(port), "--workers", str(workers)], env=env, port=port) as url:
                if workers == 1:
                    results["search_e2e"] = _e2e(url, slack, e2e_repeat)
                results[f"serve_workers_{workers}"] = asyncio.run(
                    _hammer(url, slack.response_url("load"), clients=clients, seconds=seconds))
        port = free_port()
        bare = [sys.executable, "-m", "uvicorn", "--factory", "bench.bare_bolt:asgi_app", "--port", str(port),
                "--log-level", "warning", "--no-access-log"]
        with server(bare, env=env, port=port) as url:
            results["bare_bolt"] = asyncio.run(_hammer(url, slack.response_url("bare"), clients=clients,
                                                       seconds=seconds))
    return results


def _e2e(url: str, slack: SlackDouble, repeat: int) -> dict[str, float]:
    """One signed search at a time: until the ack, and until the answer reached the response_url."""
    acks, answers = [], []
    with httpx.Client(timeout=10) as http:
        for i in range(repeat):
            name = f"e2e{i}"
            body = slash_command_body("/customers", f"search {TERMS[i % 4]}", user_id="UBENCH", channel_id="CBENCH",
                                      response_url=slack.response_url(name))
            headers = {**sign_slack_request(body, SECRET), "Content-Type": "application/x-www-form-urlencoded"}
            start = time.perf_counter()
            http.post(f"{url}/slack/events", content=body, headers=headers)
            acks.append((time.perf_counter() - start) * 1000)
            slack.wait_for_response(name, timeout=10)
            answers.append((time.perf_counter() - start) * 1000)
    acks.sort()
    answers.sort()
    p95 = max(0, int(repeat * 0.95) - 1)
    return {"ack_median_ms": round(statistics.median(acks), 2), "ack_p95_ms": round(acks[p95], 2),
            "answer_median_ms": round(statistics.median(answers), 2), "answer_p95_ms": round(answers[p95], 2)}
