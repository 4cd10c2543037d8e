"""HTTP benchmarks: signed slash commands against `customers-bot serve` (1 and 2 workers) and a bare Bolt app.

The load generator is a small asyncio HTTP/1.1 client with keep-alive (cheap per request, so it leaves the two cores
to the server); Slack is `bench.slack_sink` in its own process. Each request has its own response_url, so besides the
ack latency we know when its answer arrived.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.local.slack_double import sign_slack_request, slash_command_body

SECRET = "bench-signing-secret"
USER = "UBENCH"
# What operators type, mostly searches; the user is a finance user so /finance balance answers.
COMMANDS = [("/customers", "search harbor"), ("/customers", "search northwindanalytics7"),
            ("/customers", "search labs"), ("/customers", "search priya.chen"),
            ("/customers", "list status:canceled seats:1"), ("/customers", "list seats:>10 sort:-seats"),
            ("/customers", "new 7d"), ("/customers", "churned 30d"), ("/finance", "balance")]
ROOT = Path(__file__).resolve().parents[1]
SLACK_LIMIT_MS = 3000


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


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its live descendants (uvicorn workers), from /proc."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    family, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in family:
                family.add(child)
                frontier.append(child)
    return sum(cpu.get(p, 0.0) for p in family)


def _request(port: int, command: str, text: str, response_url: str) -> bytes:
    """One signed slash-command request, as raw HTTP/1.1 bytes."""
    body = slash_command_body(command, text, user_id=USER, channel_id="CBENCH", response_url=response_url)
    signed = sign_slack_request(body, SECRET)
    head = (f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"X-Slack-Request-Timestamp: {signed['X-Slack-Request-Timestamp']}\r\n"
            f"X-Slack-Signature: {signed['X-Slack-Signature']}\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    """Send one request on a keep-alive connection and read the whole response; returns the status code."""
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    if length:
        await reader.readexactly(length)
    return int(head[9:12])


async def hammer(port: int, sink: str, *, clients: int, seconds: float, label: str) -> dict[str, Any]:
    """`clients` concurrent keep-alive clients sending signed commands for `seconds`: ack latency of each."""
    started: dict[str, float] = {}
    acks: list[float] = []
    errors = 0
    counter = itertools.count()
    stop = time.monotonic() + seconds

    async def client() -> None:
        nonlocal errors
        conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        while time.monotonic() < stop:
            n = next(counter)
            command, text = COMMANDS[n % len(COMMANDS)]
            request = _request(port, command, text, f"{sink}/response/{label}-{n}")
            start = time.monotonic()
            try:
                if conn is None:
                    conn = await asyncio.open_connection("127.0.0.1", port)
                status = await asyncio.wait_for(_exchange(*conn, request), timeout=30)
                if status != 200:
                    errors += 1
            except (OSError, asyncio.IncompleteReadError, ValueError):  # TimeoutError is an OSError
                errors += 1
                if conn is not None:
                    conn[1].close()
                conn = None
            acks.append((time.monotonic() - start) * 1000)
            started[f"{label}-{n}"] = start
        if conn is not None:
            conn[1].close()

    begin = time.monotonic()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.monotonic() - begin
    acks.sort()
    return {"requests": len(acks), "errors": errors, "seconds": round(elapsed, 1),
            "rps": round(len(acks) / elapsed, 1), **_percentiles("", acks),
            "over_3s": sum(1 for a in acks if a > SLACK_LIMIT_MS), "_started": started}


def _percentiles(prefix: str, values: list[float]) -> dict[str, float]:
    """p50, p99 and max of sorted milliseconds."""
    if not values:
        return {f"{prefix}p50_ms": 0.0, f"{prefix}p99_ms": 0.0, f"{prefix}max_ms": 0.0}
    p99 = values[max(0, -(-len(values) * 99 // 100) - 1)]
    return {f"{prefix}p50_ms": round(statistics.median(values), 1), f"{prefix}p99_ms": round(p99, 1),
            f"{prefix}max_ms": round(values[-1], 1)}


def arrivals(sink: str, expected: set[str], *, wait: float = 60) -> dict[str, float]:
    """When each answer reached the sink, waiting until every expected one came or none came for 5 s."""
    deadline, last_count, last_change = time.monotonic() + wait, -1, time.monotonic()
    while True:
        with urllib.request.urlopen(f"{sink}/arrivals", timeout=10) as response:
            seen: dict[str, float] = json.loads(response.read())
        count = len(expected & seen.keys())
        if count != last_count:
            last_count, last_change = count, time.monotonic()
        if count == len(expected) or time.monotonic() - last_change > 5 or time.monotonic() > deadline:
            return seen
        time.sleep(0.5)


def _one_arrival(sink: str, name: str) -> dict[str, float]:
    """{name: when} once that answer arrived, else {}."""
    with urllib.request.urlopen(f"{sink}/arrivals/{name}", timeout=10) as response:
        found: dict[str, float] = json.loads(response.read())
    return found


def load_run(argv: list[str], *, env: dict[str, str], port: int, sink: str, clients: int, seconds: float,
             label: str, answers: bool, first: Callable[[], None] | None = None) -> dict[str, Any]:
    """Start a server, load it, and measure acks, answers and the server's CPU per request.

    `first`: run against the started server before the load (one start-up fewer than starting it again).
    """
    with process(argv, env=env, port=port) as proc:
        if first is not None:
            first()
        cpu_before, self_before = tree_cpu_seconds(proc.pid), resource.getrusage(resource.RUSAGE_SELF)
        result = asyncio.run(hammer(port, sink, clients=clients, seconds=seconds, label=label))
        cpu = tree_cpu_seconds(proc.pid) - cpu_before
        self_after = resource.getrusage(resource.RUSAGE_SELF)
        started = result.pop("_started")
        if answers:
            seen = arrivals(sink, set(started))
            with urllib.request.urlopen(f"{sink}/busy", timeout=10) as response:
                busy = set(json.loads(response.read())) & started.keys()
            waits = sorted((seen[n] - t) * 1000 for n, t in started.items() if n in seen and n not in busy)
            result.update({"answered": len(waits), "busy": len(busy), **_percentiles("answer_", waits),
                           "unanswered": sorted(n for n in started if n not in seen)[:10]})
            cpu = tree_cpu_seconds(proc.pid) - cpu_before  # the answers' work too
    result["server_cpu_ms_per_request"] = round(cpu * 1000 / max(result["requests"], 1), 2)
    loadgen = (self_after.ru_utime + self_after.ru_stime) - (self_before.ru_utime + self_before.ru_stime)
    result["loadgen_cpu_ms_per_request"] = round(loadgen * 1000 / max(result["requests"], 1), 2)
    return result


def single(port: int, sink: str, *, repeat: int) -> dict[str, float]:
    """One signed search at a time: until the ack, and until its answer reached the response_url."""
    acks, answers = [], []
    with socket.create_connection(("127.0.0.1", port)) as sock:
        stream = sock.makefile("rb")
        for i in range(repeat):
            n = f"single{i}"
            request = _request(port, "/customers", f"search {COMMANDS[i % 4][1].split()[1]}", f"{sink}/response/{n}")
            start = time.monotonic()
            sock.sendall(request)
            length = 0
            while (line := stream.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            stream.read(length)
            acks.append((time.monotonic() - start) * 1000)
            while n not in (seen := _one_arrival(sink, n)) and time.monotonic() - start < 10:
                time.sleep(0.002)
            answers.append((seen.get(n, time.monotonic()) - start) * 1000)
    return {"ack_median_ms": round(statistics.median(acks), 2), "ack_p95_ms": round(sorted(acks)[-(-repeat * 95 // 100) - 1], 2),
            "answer_median_ms": round(statistics.median(answers), 2),
            "answer_p95_ms": round(sorted(answers)[-(-repeat * 95 // 100) - 1], 2)}


def bench_http(database_url: str, *, clients: int, seconds: float, e2e_repeat: int) -> dict[str, Any]:
    """Load `serve` with 1 and 2 workers and the bare Bolt floor; also one-at-a-time search latency."""
    results: dict[str, Any] = {}
    sink_port = free_port()
    sink = f"http://127.0.0.1:{sink_port}"
    env = {"DATABASE_URL": database_url, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": f"{sink}/api/",
           "SLACK_BOT_TOKEN": "xoxb-bench", "FINANCE_USER_IDS": USER, "LOG_LEVEL": "WARNING"}
    with process([sys.executable, "-m", "bench.slack_sink", str(sink_port)], env={}, port=sink_port):
        cli = [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--no-scheduler"]
        for workers in (1, 2):
            port = free_port()
            argv = [*cli, "--port", str(port), "--workers", str(workers)]

            def one_at_a_time(port: int = port) -> None:
                results["search_e2e"] = single(port, sink, repeat=e2e_repeat)

            results[f"serve_workers_{workers}"] = load_run(
                argv, env=env, port=port, sink=sink, clients=clients, seconds=seconds, label=f"w{workers}",
                answers=True, first=one_at_a_time if workers == 1 else None)
        port = free_port()
        bare = [sys.executable, "-m", "uvicorn", "--factory", "bench.bare_bolt:asgi_app", "--host", "127.0.0.1",
                "--port", str(port), "--log-level", "warning", "--no-access-log"]
        results["bare_bolt"] = load_run(bare, env=env, port=port, sink=sink, clients=clients, seconds=seconds,
                                        label="bare", answers=False)
    results["commands"] = [f"{c} {t}" for c, t in COMMANDS]
    return results
