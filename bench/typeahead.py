"""Find as you type: how fast the "Find a customer" typeahead answers each keystroke, on an existing bench store.

Two measurements per store, over the same keystrokes: the options listener's own work (`suggest_customers` plus
rendering the options, what runs inside Slack's 3-second window), and a signed `block_suggestion` over HTTP to the
real server (uvicorn + Starlette + Bolt) until its options come back. The same-run baseline is the obvious query, a
bare `LIKE '%term%' LIMIT 100` through the driver (no trigram index, no exact-match look-ups).

    .venv/bin/python -m bench.typeahead --url sqlite:////tmp/plans-1m.sqlite3 --url postgresql+psycopg://...
The store is only read.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from pydantic import SecretStr
from sqlalchemy import Engine, text
from starlette.applications import Starlette

from bench.bare_sql import Bare
from bot.deps import Deps
from bot.local.requests import block_suggestion_body, opened_view, sign_slack_request
from bot.local.slack_double import SlackDouble
from bot.server import create_server
from bot.settings import Settings
from handlers.blocks.modals import FIND_SELECT, customer_options, find_modal
from storage.db import make_engine, read_scope
from storage.lookup import suggest_customers

SECRET = "bench-typeahead-secret"
COMMON = ("labs", "inc", "energy", "acme", "legal", "zz-no-match")


@contextmanager
def serving(app: Starlette) -> Iterator[str]:
    """The ASGI app under a real uvicorn server on a free local port; yields its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)


def keystrokes(engine: Engine, targets: int) -> list[str]:
    """What people type: every prefix (3+ letters) of a few organizations and emails spread over the store."""
    with engine.connect() as conn:
        top = int(conn.execute(text("SELECT max(id) FROM customer")).scalar_one())
        picked = [conn.execute(text("SELECT organization, email FROM customer WHERE id >= :id ORDER BY id LIMIT 1"),
                               {"id": max(1, top * i // targets)}).one() for i in range(1, targets + 1)]
    typed: list[str] = []
    for i, (organization, email) in enumerate(picked):
        word = str(organization if i % 2 else email)
        typed += [word[:n].lower() for n in range(3, min(len(word), 16) + 1)]
    return typed + list(COMMON)


def timed(run: Callable[[str], Any], typed: list[str], rounds: int) -> list[float]:
    """Milliseconds per keystroke, each keystroke `rounds` times (after one warm-up pass)."""
    for term in typed:
        run(term)
    out: list[float] = []
    for _ in range(rounds):
        for term in typed:
            start = time.perf_counter()
            run(term)
            out.append((time.perf_counter() - start) * 1000)
    return out


def summary(name: str, ms: list[float]) -> str:
    """`| name | n | p50 | p95 | max |`."""
    q = statistics.quantiles(ms, n=100)
    return f"| {name} | {len(ms):,} | {q[49]:.2f} ms | {q[94]:.2f} ms | {max(ms):.2f} ms |"


def listener(engine: Engine) -> Callable[[str], Any]:
    """What the options listener does for one keystroke."""
    def run(term: str) -> Any:
        with read_scope(engine) as session:
            return customer_options(suggest_customers(session=session, typed=term))
    return run


def bare_like(engine: Engine) -> Callable[[str], Any]:
    """The obvious query: LIKE on organization or email, first 100 rows."""
    bare = Bare(engine)
    sql = ("SELECT id, organization, email, seats, status FROM customer "
           "WHERE lower(organization) LIKE ? OR email_key LIKE ? LIMIT 100")
    return lambda term: bare.rows(sql, [f"%{term}%", f"%{term}%"])


def over_http(engine: Engine, typed: list[str], rounds: int) -> list[float]:
    """Signed block_suggestion requests to the real server, one at a time on a kept-alive connection."""
    view = opened_view(find_modal(), "V0BENCH")
    with SlackDouble() as slack:  # Bolt checks the bot token (auth.test) once; the typeahead itself calls nothing
        settings = Settings(database_url=str(engine.url), slack_signing_secret=SecretStr(SECRET),
                            slack_bot_token=SecretStr("xoxb-bench"), slack_api_url=slack.api_url)
        return _over_http(Deps(settings=settings, engine=engine), view, typed, rounds)


def _over_http(deps: Deps, view: dict[str, Any], typed: list[str], rounds: int) -> list[float]:
    """over_http's requests, against a server built on `deps`."""
    with serving(create_server(deps)) as url, httpx.Client(timeout=10) as client:
        def run(term: str) -> Any:
            body = block_suggestion_body(FIND_SELECT, term, user_id="UBENCH", view=view)
            headers = {**sign_slack_request(body, SECRET), "Content-Type": "application/x-www-form-urlencoded"}
            answer = client.post(f"{url}/slack/events", content=body, headers=headers)
            answer.raise_for_status()
            return answer.json()["options"]
        return timed(run, typed, rounds)


def main() -> None:
    """Measure each store given and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", action="append", required=True, help="a bench store's DATABASE_URL (repeatable)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--targets", type=int, default=12, help="organizations and emails whose prefixes are typed")
    args = parser.parse_args()
    print("| store, what | keystrokes | p50 | p95 | max |\n|---|---:|---:|---:|---:|")
    for url in args.url:
        engine = make_engine(url)
        with engine.connect() as conn:
            size = int(conn.execute(text("SELECT count(*) FROM customer")).scalar_one())
        typed = keystrokes(engine, args.targets)
        label = f"{engine.dialect.name} {size:,}"
        print(summary(f"{label}: options listener (suggest + render)", timed(listener(engine), typed, args.rounds)),
              flush=True)
        print(summary(f"{label}: signed block_suggestion over HTTP", over_http(engine, typed, args.rounds)),
              flush=True)
        print(summary(f"{label}: baseline bare LIKE ... LIMIT 100", timed(bare_like(engine), typed, 1)), flush=True)
        engine.dispose()


if __name__ == "__main__":
    main()
