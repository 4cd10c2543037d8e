"""First asks: a seeded mix of distinct questions drawn from the store, each asked once through `customers-bot serve`.

`python -m bench.mix --url sqlite:////tmp/store.sqlite3 --seed 7 --questions 160` draws search terms from the store
itself (2-character terms rare and common, 3+ characters rare, common and matching nothing, several words, quoted
full organization names, email local parts and domains, `@domain`), combines them with filters (status one or
several, seats exact, range and open, since:/until:/created:, canceled:) and sorts (created, name, seats, canceled,
both directions), adds `new`/`churned` windows from 1 to 365 days, and asks each question once as a signed slash
command, timing it from the request until its answer reaches the response_url; then clicks each question's Next
button, and Previous on the page after, the same way. Beside it, in the same run: one bare sequential
`LIKE '%term%'` scan of the whole table, and each question's plan and its pages timed in-process.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench import bare_sql
from bench.load import SECRET, USER, _one_arrival, _request, free_port, process
from bench.queries import bench_deps
from bot.local.slack_double import block_action_body, sign_slack_request
from handlers.blocks.nav import PAGE_NEXT, PAGE_PREV, PageState, encode_state
from handlers.customers import build_query
from storage.customers import planned_page
from storage.db import make_engine, read_scope
from storage.paging import PageRequest

STATUSES = ("status:active", "status:canceled", "status:trialing", "status:past_due", "status:paused",
            "status:active,trialing", "status:canceled,paused")
SEATS = ("seats:0", "seats:1", "seats:5", "seats:>10", "seats:>=100", "seats:<3", "seats:5..20", "seats:2..4")
CREATED = ("since:7d", "since:30d", "since:90d", "until:2026-06-30", "created:30d", "created:2026-03-01..2026-04-30",
           "since:1y")
CANCELED = ("canceled:7d", "canceled:30d", "canceled:90d", "canceled:365d")
SORTS = tuple(f"sort:{s}{k}" for k in ("created", "name", "seats", "canceled") for s in ("", "-"))
WINDOWS = ("1d", "2d", "7d", "14d", "30d", "60d", "90d", "180d", "365d")


def draw_terms(url: str, rng: random.Random, *, sample: int = 3000) -> dict[str, list[str]]:
    """Search terms of every class, drawn from a seeded sample of the store's own organizations and emails."""
    engine = make_engine(url)
    with engine.connect() as conn:
        high = int(conn.execute(text("SELECT max(id) FROM customer")).scalar_one())
        ids = sorted(rng.sample(range(1, high + 1), min(sample, high)))
        rows = [(org, email) for org, email in conn.execute(
            text("SELECT organization, email_key FROM customer WHERE id IN (" + ",".join(map(str, ids)) + ")"))]
    engine.dispose()
    bigrams: dict[str, int] = {}
    for org, email in rows:
        for word in (org.lower(), email):
            for i in range(len(word) - 1):
                gram = word[i:i + 2]
                if gram.isalpha():
                    bigrams[gram] = bigrams.get(gram, 0) + 1
    common2 = sorted(bigrams, key=lambda g: -bigrams[g])[:40]
    letters = "abcdefghijklmnopqrstuvwxyz"
    rare2 = [a + b for a in letters for b in letters if a + b not in bigrams]
    words = sorted({w.lower() for org, _ in rows for w in org.split() if len(w) >= 3})
    locals_ = sorted({email.split("@")[0] for _, email in rows})
    domains = sorted({email.split("@")[1] for _, email in rows})
    return {
        "2-char rare": rng.sample(rare2, min(12, len(rare2))), "2-char common": rng.sample(common2, 12),
        "3+ rare": [d.split(".")[0] for d in rng.sample(domains, 12)],
        "3+ common": rng.sample(words, min(12, len(words))),
        "3+ no match": ["".join(rng.choice(letters) for _ in range(rng.randint(4, 8))) + "q" for _ in range(8)],
        "several words": [org for org, _ in rng.sample(rows, 10) if " " in org][:8],
        "quoted org": [f'"{org}"' for org, _ in rng.sample(rows, 8)],
        "email local": rng.sample(locals_, 10), "email domain": [d for d in rng.sample(domains, 8)],
        "@domain": ["@" + d for d in rng.sample(domains, 8)],
    }


def build_mix(terms: dict[str, list[str]], rng: random.Random, *, size: int) -> list[tuple[str, str, str]]:
    """(class, subcommand, text) questions, distinct, every class with filters and sorts."""
    mix: dict[str, tuple[str, str, str]] = {}
    classes = list(terms)
    i = 0
    while len(mix) < size:
        if i % 6 == 5:  # new/churned windows, with and without filters
            command = rng.choice(("new", "churned"))
            extra = rng.choice(("", rng.choice(SEATS), rng.choice(SORTS), rng.choice(STATUSES)))
            question = ("window", command, f"{rng.choice(WINDOWS)} {extra}".strip())
        elif i % 6 == 4:  # lists: filters only
            parts = [rng.choice(group) for group in (STATUSES, SEATS, CREATED, CANCELED, SORTS) if rng.random() < 0.5]
            question = ("list", "list", " ".join(parts) or rng.choice(SORTS))
        else:
            kind = classes[i % len(classes)]
            term = rng.choice(terms[kind])
            parts = [term] + [rng.choice(group) for group in (STATUSES, SEATS, CREATED, CANCELED, SORTS)
                              if rng.random() < 0.25]
            question = (kind, "search", " ".join(parts))
        mix.setdefault(f"{question[1]} {question[2]}", question)
        i += 1
    return list(mix.values())


Ask = tuple[str, str, str]  # ("command", subcommand, text) or ("click", action_id, button value)


def _signed(port: int, ask: Ask, response_url: str) -> bytes:
    """One signed request: a /customers command, or a click on a page button."""
    kind, first, second = ask
    if kind == "command":
        return _request(port, "/customers", f"{first} {second}".strip(), response_url)
    body = block_action_body(first, second, user_id=USER, channel_id="CBENCH", response_url=response_url)
    signed = sign_slack_request(body, SECRET)
    head = (f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"X-Slack-Request-Timestamp: {signed['X-Slack-Request-Timestamp']}\r\n"
            f"X-Slack-Signature: {signed['X-Slack-Signature']}\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


@contextmanager
def serving(url: str) -> Iterator[Callable[[list[Ask]], list[float]]]:
    """Start `serve` (and a Slack sink) once; yield a function sending requests one at a time, each once.

    It returns the milliseconds until each answer reached the response_url. Two warm-up commands go first (start-up,
    not counted); the questions and then their page clicks share the one server.
    """
    sink_port, port = free_port(), free_port()
    sink = f"http://127.0.0.1:{sink_port}"
    env = {"DATABASE_URL": url, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": f"{sink}/api/",
           "SLACK_BOT_TOKEN": "xoxb-bench", "LOG_LEVEL": "WARNING"}
    argv = [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--no-scheduler", "--port", str(port)]
    sent = 0
    with process([sys.executable, "-m", "bench.slack_sink", str(sink_port)], env={}, port=sink_port), \
            process(argv, env=env, port=port), socket.create_connection(("127.0.0.1", port)) as sock:
        stream = sock.makefile("rb")

        def ask(asks: list[Ask]) -> list[float]:
            nonlocal sent
            waits: list[float] = []
            for ask_ in asks:
                name, sent = f"mix{sent}", sent + 1
                start = time.monotonic()
                sock.sendall(_signed(port, ask_, f"{sink}/response/{name}"))
                length = 0
                while (line := stream.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                stream.read(length)
                while name not in (seen := _one_arrival(sink, name)) and time.monotonic() - start < 30:
                    time.sleep(0.001)
                waits.append((seen.get(name, time.monotonic()) - start) * 1000)
            return waits

        ask([("command", "help", ""), ("command", "list", "sort:-created")])
        yield ask


def in_process(url: str, mix: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """Each question's plan, count and first, next and previous page times, in-process (storage only)."""
    engine = make_engine(url)
    deps = bench_deps(engine, datetime.now(UTC))
    out = []
    for _kind, command, rest in mix:
        query, _title = build_query(deps, command, rest)
        start = time.perf_counter()
        with read_scope(engine) as session:
            page, plan = planned_page(session=session, query=query, page=PageRequest())
        first = (time.perf_counter() - start) * 1000
        after = before = None
        clicks: list[Ask] = []
        if page.next_cursor:  # the buttons carry the first page's count, as the bot's own do
            known = (page.total, page.total_capped)
            clicks.append(("click", PAGE_NEXT, encode_state(PageState(
                command, rest, after=page.next_cursor, page_no=2, total=known[0], capped=known[1]))))
            start = time.perf_counter()
            with read_scope(engine) as session:
                second, _ = planned_page(session=session, query=query, page=PageRequest(after=page.next_cursor),
                                         known_total=known)
            after = (time.perf_counter() - start) * 1000
            if second.prev_cursor:
                clicks.append(("click", PAGE_PREV, encode_state(PageState(
                    command, rest, before=second.prev_cursor, total=known[0], capped=known[1]))))
                start = time.perf_counter()
                with read_scope(engine) as session:
                    planned_page(session=session, query=query, page=PageRequest(before=second.prev_cursor),
                                 known_total=known)
                before = (time.perf_counter() - start) * 1000
        out.append({"plan": plan.kind.value, "count": plan.count.value, "why": plan.why,
                    "total": f"{page.total:,}{'+' if page.total_capped else ''}", "first_ms": round(first, 1),
                    "next_ms": None if after is None else round(after, 1),
                    "prev_ms": None if before is None else round(before, 1), "clicks": clicks})
    engine.dispose()
    return out


def bare_scan(url: str, *, repeat: int = 3) -> float:
    """Median milliseconds of one bare LIKE scan of every customer (two letters: no trigram index serves them)."""
    bare = bare_sql.Bare(make_engine(url))
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        bare.rows("SELECT count(*) FROM customer WHERE lower(organization) LIKE ? OR email_key LIKE ?",
                  ["%zq%", "%zq%"])
        times.append((time.perf_counter() - start) * 1000)
    bare.close()
    return statistics.median(times)


def pct(values: list[float], p: int) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * p // 100) - 1)]


def summary(values: list[float]) -> dict[str, float]:
    """p50, p95 and max."""
    return {"p50_ms": round(statistics.median(values), 1), "p95_ms": round(pct(values, 95), 1),
            "max_ms": round(max(values), 1)}


def measure(url: str, *, seed: int, questions: int) -> dict[str, Any]:
    """Draw the mix, ask it through one `serve`, time it in-process too, beside the bare scan of the same run."""
    rng = random.Random(seed)
    mix = build_mix(draw_terms(url, rng), rng, size=questions)
    before = bare_scan(url)
    with serving(url) as ask:
        waits = ask([("command", command, rest) for _kind, command, rest in mix])
        detail = in_process(url, mix)
        clicks = [click for d in detail for click in d.pop("clicks")]
        page_waits = ask(clicks) if clicks else []
    after = bare_scan(url)
    scan = statistics.median([before, after])
    pages = [d[k] for d in detail for k in ("next_ms", "prev_ms") if d[k] is not None]
    return {"url": url.rsplit("/", 1)[-1], "seed": seed, "questions": len(mix),
            "classes": sorted({k for k, _, _ in mix}), "bare_like_scan_ms": round(scan, 1),
            "end_to_end": summary(waits), "in_process_first": summary([d["first_ms"] for d in detail]),
            "in_process_next_prev": summary(pages) if pages else {},
            "next_prev_end_to_end": summary(page_waits) if page_waits else {}, "page_clicks": len(page_waits),
            "asked": [{"class": k, "question": f"{c} {t}", "answer_ms": round(w, 1), **d}
                      for (k, c, t), w, d in zip(mix, waits, detail, strict=True)]}


def report(result: dict[str, Any]) -> list[str]:
    """The figures and the 10 slowest questions with their plans, as printed lines."""
    e2e, scan = result["end_to_end"], result["bare_like_scan_ms"]
    ratio = e2e["max_ms"] / scan
    lines = [f"{result['questions']} questions, {len(result['classes'])} classes; bare LIKE scan {scan:.1f} ms",
             f"end to end: p50 {e2e['p50_ms']} / p95 {e2e['p95_ms']} / max {e2e['max_ms']} ms ({ratio:.2f}x the scan)",
             f"next/previous clicks end to end ({result['page_clicks']}): {result['next_prev_end_to_end']}",
             f"next/previous in-process: {result['in_process_next_prev']}", "10 slowest:"]
    for row in sorted(result["asked"], key=lambda r: -r["answer_ms"])[:10]:
        lines.append(f"  {row['answer_ms']:8.1f} ms  {row['question'][:60]:60} {row['total']:>8}  "
                     f"{row['plan']}/{row['count']}: {row['why']}")
    return lines


def main() -> None:
    """Parse the arguments, measure, print the figures and the 10 slowest, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="DATABASE_URL of a demo store")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--questions", type=int, default=160)
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    result = measure(args.url, seed=args.seed, questions=args.questions)
    print("\n".join(report(result)))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
