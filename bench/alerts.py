"""What matching alert rules adds to applying one live event: process_event with 0 rules and with 100, interleaved.

Usage: python -m bench.alerts DATABASE_URL [--events 400]
The store needs customers (e.g. a 1M bench store); the alert tables are created if the store predates them, and the
rules and outbox rows this writes are removed at the end.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, text
from sqlmodel import SQLModel

from storage.alert_filters import parse_rule
from storage.alerts import add_rule
from storage.db import make_engine, session_scope
from storage.event_types import CustomerChange, SyncEvent
from storage.events import process_event
from storage.models import AlertChannel, AlertOutbox, AlertRule
from storage.writes import CustomerFields

RULES = ["churn", "churn seats:>=20", "churn seats:>=5 status:active", "signup", "signup seats:>=10",
         "expansion", "expansion seats:>=50", "contraction", "contraction seats:>=3", "reactivation"]


KINDS = ["churn", "signup", "expansion", "contraction", "reactivation"]
SELECTIVE = False  # --selective: each rule asks for its own seat band, so about one rule matches an event


def _rules(engine: Engine, count: int) -> None:
    """`count` rules over 10 channels, cycling through the kinds and filters above (or one seat band each)."""
    now = datetime.now(UTC)
    with session_scope(engine, write=True) as session:
        for i in range(count):
            text = f"{KINDS[i % 5]} seats:{i // 5 * 3}..{i // 5 * 3 + 2}" if SELECTIVE else RULES[i % len(RULES)]
            add_rule(session=session, spec=parse_rule(text, now=now), channel_id=f"CBENCH{i % 10}",
                     team_id=None, user_id="UBENCH", show_mrr=i % 2 == 0, timezone="UTC", at=now)


def _clear(engine: Engine) -> None:
    """Remove the bench's rules and outbox rows."""
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM alert_outbox"))
        conn.execute(text("DELETE FROM alert_channel"))
        conn.execute(text("DELETE FROM alert_rule WHERE created_by = 'UBENCH'"))


def _events(engine: Engine, n: int, seed: int) -> list[SyncEvent]:
    """Seat changes, cancellations and reactivations of random existing customers (all applied: newest time)."""
    rng = random.Random(seed)
    with engine.connect() as conn:
        top = int(conn.execute(text("SELECT max(id) FROM customer")).scalar_one())
        rows: list[Any] = []
        while len(rows) < n:
            ids = [rng.randint(1, top) for _ in range(n)]
            found = conn.execute(text(f"SELECT email, status, seats FROM customer WHERE id IN ({','.join(map(str, ids))})"))
            rows += list(found)
    at = datetime.now(UTC) + timedelta(days=3650)  # newer than anything stored, so every event applies
    events = []
    for i, (email, status, seats) in enumerate(rows[:n]):
        if i % 3 == 0:
            fields = CustomerFields(status="active" if status == "canceled" else "canceled")
        else:
            fields = CustomerFields(seats=max(0, seats + rng.choice((-2, -1, 1, 5))))
        events.append(SyncEvent(source="platform", event_id=f"bench-{seed}-{i}-{time.time_ns()}", type="customer.updated",
                                created_at=at + timedelta(seconds=i), object_id=None,
                                change=CustomerChange(email=email, fields=fields)))
    return events


def _time(engine: Engine, events: list[SyncEvent]) -> list[float]:
    """Milliseconds per process_event."""
    out = []
    for event in events:
        start = time.perf_counter()
        process_event(engine=engine, event=event, received_at=datetime.now(UTC))
        out.append((time.perf_counter() - start) * 1000)
    return out


def _parts(engine: Engine, events: list[SyncEvent]) -> tuple[list[float], list[float], list[float]]:
    """Milliseconds per event spent in watch + record_alerts alone (the apply between them is not counted).

    The customer's row is read first, as the apply would: otherwise watch pays the cold read the apply then skips.
    """
    from storage.alerts import record_alerts, watch
    from storage.events import _apply, _claim
    from storage.writes import find_customer

    watching, recording, cpu = [], [], []
    for event in events:
        with session_scope(engine, write=True) as session:
            _claim(session, event, datetime.now(UTC))
            change = event.change
            assert isinstance(change, CustomerChange)
            find_customer(session=session, external_id=None, email=change.email)
            start, cpu_start = time.perf_counter(), time.thread_time()
            watched = watch(session=session, event=event)
            middle, cpu_middle = time.perf_counter(), time.thread_time()
            _apply(session, event)
            resumed, cpu_resumed = time.perf_counter(), time.thread_time()
            record_alerts(session=session, before=watched, event=event, now=datetime.now(UTC))
            session.flush()
            watching.append((middle - start) * 1000)
            recording.append((time.perf_counter() - resumed) * 1000)
            cpu.append((cpu_middle - cpu_start + time.thread_time() - cpu_resumed) * 1000)
    return watching, recording, cpu


def _p(values: list[float], q: float) -> float:
    """The q-quantile."""
    return statistics.quantiles(values, n=100)[int(q * 100) - 1]


def main() -> None:
    """Run the comparison and print p50/p95 for both."""
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--selective", action="store_true")
    args = parser.parse_args()
    global SELECTIVE
    SELECTIVE = args.selective
    engine = make_engine(args.url)
    tables = [SQLModel.metadata.tables[t.__tablename__] for t in (AlertRule, AlertOutbox, AlertChannel)]
    SQLModel.metadata.create_all(engine, tables=tables)
    _clear(engine)
    base: list[float] = []
    ruled: list[float] = []
    outbox = 0
    try:
        for round_ in range(4):  # interleaved, so drift on a shared machine hits both alike
            _time(engine, _events(engine, 20, seed=1000 + round_))  # warm the pages this round touches
            base += _time(engine, _events(engine, args.events // 4, seed=round_))
            _rules(engine, 100)
            ruled += _time(engine, _events(engine, args.events // 4, seed=100 + round_))
            with engine.connect() as conn:
                outbox += int(conn.execute(text("SELECT count(*) FROM alert_outbox")).scalar_one())
            _clear(engine)
    finally:
        _clear(engine)
    print(f"{engine.dialect.name} events={len(base)}+{len(ruled)} outbox rows written={outbox}")
    print(f"0 rules:   p50 {_p(base, .5):.2f} ms  p95 {_p(base, .95):.2f} ms")
    print(f"100 rules: p50 {_p(ruled, .5):.2f} ms  p95 {_p(ruled, .95):.2f} ms")
    _rules(engine, 100)
    try:
        watching, recording, cpu = _parts(engine, _events(engine, args.events, seed=7))
        with engine.connect() as conn:
            written = int(conn.execute(text("SELECT count(*) FROM alert_outbox")).scalar_one())
    finally:
        _clear(engine)
    both = [a + b for a, b in zip(watching, recording, strict=True)]
    for name, values in (("watch", watching), ("record_alerts", recording), ("both", both), ("both (CPU)", cpu)):
        print(f"{name} alone, 100 rules: p50 {_p(values, .5):.3f} ms  p95 {_p(values, .95):.3f} ms  "
              f"max {max(values):.3f} ms")
    print(f"outbox rows per event: {written / len(both):.1f}")
    print(f"added:     p50 {_p(ruled, .5) - _p(base, .5):+.2f} ms  p95 {_p(ruled, .95) - _p(base, .95):+.2f} ms")


if __name__ == "__main__":
    main()
