"""Exactly once on PostgreSQL: concurrent `digest run-due` processes and side-by-side schedulers post one digest."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from bot.app import make_client
from bot.scheduler import start_scheduler
from storage.db import make_engine, session_scope
from storage.digests import subscribe
from tests.conftest import _truncate_pg
from tests.handlers.digests.test_posting import ADMIN, DigestSlack, make_deps

ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney")


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    _truncate_pg(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def slack() -> Iterator[DigestSlack]:
    with DigestSlack() as double:
        yield double


def subscribe_due_now(engine: Engine) -> list[str]:
    """One subscription per zone whose time was a minute ago, made yesterday: all due right now."""
    now = datetime.now(UTC)
    channels = []
    with session_scope(engine, write=True) as session:
        for i, zone in enumerate(ZONES):
            local = (now - timedelta(minutes=1)).astimezone(ZoneInfo(zone))
            subscribe(session=session, channel_id=f"C{i}", team_id="T1", local_time=f"{local:%H:%M}", timezone=zone,
                      quiet_skip=False, user_id=ADMIN, at=now - timedelta(days=1))
            channels.append(f"C{i}")
    return channels


def _command() -> list[str]:
    script = Path(sys.executable).with_name("customers-bot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def test_three_run_due_processes_started_together_post_one_digest_per_subscription(
    pg_engine: Engine, pg_url: str, slack: DigestSlack, tmp_path: Path
) -> None:
    channels = subscribe_due_now(pg_engine)
    env = os.environ | {"DATABASE_URL": pg_url, "SLACK_API_URL": slack.api_url, "SLACK_BOT_TOKEN": "xoxb-test",
                        "LOG_LEVEL": "WARNING"}
    procs = [subprocess.Popen([*_command(), "digest", "run-due"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    assert [code for code, _, _ in results] == [0, 0, 0], results
    assert Counter(c.params["channel"] for c in slack.posts()) == dict.fromkeys(channels, 1)
    printed = "".join(out for _, out, _ in results)
    assert sorted(line.split()[1] for line in printed.splitlines() if line.startswith("posted ")) == channels


def test_three_schedulers_side_by_side_post_one_digest_per_subscription(
    pg_engine: Engine, pg_url: str, slack: DigestSlack
) -> None:
    channels = subscribe_due_now(pg_engine)
    engines = [make_engine(pg_url) for _ in range(3)]
    schedulers = []
    try:
        for engine in engines:
            deps = make_deps(engine, slack)
            schedulers.append(start_scheduler(deps, make_client(deps), interval_seconds=0.05))
        deadline = time.monotonic() + 10
        while len(slack.posts()) < len(channels) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # keep ticking: nothing more may be posted
    finally:
        for scheduler in schedulers:
            scheduler.shutdown(wait=True)
        for engine in engines:
            engine.dispose()
    assert Counter(c.params["channel"] for c in slack.posts()) == dict.fromkeys(channels, 1)
