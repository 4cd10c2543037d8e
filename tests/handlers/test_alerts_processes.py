"""Alerts posted by separate `customers-bot alerts run-due` processes racing on one store: each alert posted once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from handlers.alerts_posting import run_due
from storage.alert_outbox import STALE_AFTER, outbox_counts
from storage.db import session_scope
from storage.types import utcnow
from tests.handlers.alerts_fixtures import CHANNEL, Served, alerts_in, served_fixture
from tests.handlers.test_alerts_posting import org

__all__ = ["served_fixture"]


def _poster(served: Served, tmp_path: Path) -> list[str]:
    """The command line of one poster process aimed at this store and the Slack double."""
    script = Path(sys.executable).with_name("customers-bot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def _env(served: Served) -> dict[str, str]:
    """The environment a replica's poster runs in."""
    return os.environ | {"DATABASE_URL": served.engine.url.render_as_string(hide_password=False),
                         "SLACK_API_URL": served.slack.api_url, "SLACK_BOT_TOKEN": "xoxb-test", "LOG_LEVEL": "WARNING"}


def test_three_poster_processes_started_together_post_each_alert_once(served: Served, tmp_path: Path) -> None:
    served.command("alert add signup")
    for i in range(12):
        org(served, f"p{i}", 1)
    command = [*_poster(served, tmp_path), "alerts", "run-due"]
    procs = [subprocess.Popen(command, env=_env(served), cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    assert [code for code, _, _ in results] == [0, 0, 0], results
    assert sum(alerts_in(p) for p in served.posts()) == 12
    with session_scope(served.engine) as session:  # posted rows older than the retention are pruned: none waits
        assert set(outbox_counts(session=session)) <= {"posted"}


CLAIM_THEN_HANG = """
import sys, time
from storage.alert_outbox import claim_channel
from storage.db import make_engine, session_scope
from storage.types import utcnow
with session_scope(make_engine(sys.argv[1]), write=True) as session:
    assert claim_channel(session=session, channel_id=sys.argv[2], now=utcnow(), worker="doomed") is not None
print("claimed", flush=True)
time.sleep(60)
"""


def test_a_poster_killed_after_claiming_leaves_its_alerts_to_the_next_one_once(served: Served) -> None:
    served.command("alert add signup")
    org(served, "k1", 1)
    doomed = subprocess.Popen([sys.executable, "-c", CLAIM_THEN_HANG, _env(served)["DATABASE_URL"], CHANNEL],
                              stdout=subprocess.PIPE, text=True)
    assert doomed.stdout is not None
    assert doomed.stdout.readline().strip() == "claimed"
    doomed.send_signal(signal.SIGKILL)  # between its claim's commit and its post
    doomed.wait(timeout=10)
    assert run_due(served.deps, served.client, now=utcnow(), worker="survivor") == []  # its claim is still fresh
    later = utcnow() + STALE_AFTER * 2
    assert [o.status for o in run_due(served.deps, served.client, now=later, worker="survivor")] == ["posted"]
    assert run_due(served.deps, served.client, now=later + STALE_AFTER * 2, worker="another") == []
    assert sum(alerts_in(p) for p in served.posts()) == 1
