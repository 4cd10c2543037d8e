"""The HTTP server: health, concurrency (a slow answer blocks nobody), replicas sharing a click, the factory."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from bot.app import LISTENER_THREADS
from bot.deps import Deps
from bot.server import FULL_COLLECTION_EVERY, NO_SCHEDULER_ENV, asgi_app, create_server
from storage.db import make_engine
from tests.conftest import NOW
from tests.e2e_bot import (
    ADMIN,
    CHANNEL,
    HTTP,
    MEMBER,
    SECRET,
    Bot,
    button,
    e2e_settings,
    free_port,
    serving,
)
from tests.slack_double import SlackDouble, sign_slack_request, slash_command_body


def test_health_is_503_when_the_database_is_unreachable(slack_double: SlackDouble, tmp_path: Path) -> None:
    broken = make_engine(f"sqlite:///{tmp_path / 'no-such-dir' / 'store.sqlite3'}")
    deps = Deps(settings=e2e_settings(slack_double, broken), engine=broken)
    with serving(create_server(deps)) as url:
        response = HTTP.get(f"{url}/healthz", timeout=5)
    assert response.status_code == 503
    assert response.json() == {"ok": False, "database": "unreachable"}


def test_a_slow_answer_never_delays_other_requests(bot: Bot, customers: None) -> None:
    bot.command("/customers", "list")
    page = bot.slack.wait_for_response("r1")
    bot.slack.delay_next("chat.postMessage", 60.0)  # Slack hangs on the shared copy until released
    started = time.monotonic()
    share_ack = bot.click(button(page, "share_channel"), name="share")
    assert share_ack.status_code == 200
    assert time.monotonic() - started < 3.0  # acked within Slack's 3 seconds, before the slow work
    bot.command("/customers", "search acme", name="meanwhile")
    bot.slack.wait_for_response("meanwhile", timeout=10)
    assert bot.slack.calls_to("chat.postMessage") == []  # answered while the share is still waiting on Slack
    bot.slack.release_delays()
    bot.slack.wait_for("chat.postMessage", timeout=10)


def test_any_replica_serves_the_next_click(sqlite_engine: Engine, slack_double: SlackDouble, customers: None) -> None:
    replicas = [create_server(Deps(settings=e2e_settings(slack_double, sqlite_engine), engine=sqlite_engine,
                                   clock=lambda: NOW)) for _ in range(2)]
    with serving(replicas[0]) as first, serving(replicas[1]) as second:
        one = Bot(url=first, slack=slack_double, engine=sqlite_engine)
        two = Bot(url=second, slack=slack_double, engine=sqlite_engine)
        one.command("/customers", "list")
        page = slack_double.wait_for_response("r1")
        two.click(button(page, "page_next"), user=MEMBER)
        following = slack_double.wait_for_response("c1")
    assert "page 2" in json.dumps(following)


def test_the_factory_builds_everything_from_the_environment(
    slack_double: SlackDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name, value in {"DATABASE_URL": f"sqlite:///{tmp_path / 'factory.sqlite3'}", "SLACK_SIGNING_SECRET": SECRET,
                        "SLACK_BOT_TOKEN": "xoxb-factory", "SLACK_API_URL": slack_double.api_url,
                        "ADMIN_USER_IDS": ADMIN, "PLATFORM_WEBHOOK_SECRET": "whsec-platform",
                        NO_SCHEDULER_ENV: "1"}.items():
        monkeypatch.setenv(name, value)
    before = _schedulers()
    with serving(asgi_app()) as url:
        assert HTTP.get(f"{url}/healthz", timeout=5).json() == {"ok": True}
        body = slash_command_body("/customers", "list", user_id=ADMIN, channel_id=CHANNEL,
                                  response_url=slack_double.response_url("factory"))
        headers = {**sign_slack_request(body, SECRET), "Content-Type": "application/x-www-form-urlencoded"}
        assert HTTP.post(f"{url}/slack/events", content=body, headers=headers, timeout=5).status_code == 200
        assert HTTP.post(f"{url}/slack/events", content=body, timeout=5).status_code == 401
        assert HTTP.post(f"{url}/platform/events", content=b"{}", timeout=5).status_code == 401  # webhooks mounted
        assert _schedulers() == before
    assert "No customers match" in json.dumps(slack_double.wait_for_response("factory"))


def _schedulers() -> int:
    """How many APScheduler threads are alive."""
    return sum(t.name == "APScheduler" for t in threading.enumerate())


def test_the_scheduler_runs_with_the_server_and_stops_with_it(sqlite_engine: Engine, slack_double: SlackDouble) -> None:
    deps = Deps(settings=e2e_settings(slack_double, sqlite_engine), engine=sqlite_engine)
    before = _schedulers()
    with serving(create_server(deps, scheduler=True)):
        assert _schedulers() == before + 1
    deadline = time.monotonic() + 5
    while _schedulers() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _schedulers() == before


def test_start_up_objects_are_left_out_of_later_garbage_collections_and_full_ones_run_rarely(
        sqlite_engine: Engine, slack_double: SlackDouble) -> None:
    deps = Deps(settings=e2e_settings(slack_double, sqlite_engine), engine=sqlite_engine)
    thresholds = gc.get_threshold()
    gc.unfreeze()
    try:
        with serving(create_server(deps)):
            assert gc.get_freeze_count() > 0  # a full collection no longer walks them while an answer waits
            assert gc.get_threshold()[2] == FULL_COLLECTION_EVERY
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def test_serve_with_two_workers_answers_commands_and_clicks_from_either(
    slack_double: SlackDouble, tmp_path: Path, sqlite_engine: Engine, customers: None
) -> None:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": str(sqlite_engine.url), "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_BOT_TOKEN": "xoxb-serve", "SLACK_API_URL": slack_double.api_url, "ADMIN_USER_IDS": ADMIN,
           "LOG_LEVEL": "WARNING"}
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--workers", "2", "--no-scheduler"], env=env, stdout=log, stderr=subprocess.STDOUT,
                            cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if HTTP.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "serve --workers 2 did not start within 60 s"
            time.sleep(0.1)
        client = Bot(url=url, slack=slack_double, engine=sqlite_engine)
        for n in range(6):  # the OS spreads connections over both workers; every click is served statelessly
            assert client.command("/customers", "list", name=f"list{n}").status_code == 200
            page = slack_double.wait_for_response(f"list{n}")
            assert client.click(button(page, "page_next"), name=f"next{n}").status_code == 200
            assert "page 2" in json.dumps(slack_double.wait_for_response(f"next{n}"))
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()


def test_exports_waiting_on_slack_never_hold_the_threads_that_ack(bot: Bot, customers: None) -> None:
    many = LISTENER_THREADS + 1  # more slow exports than Bolt has listener threads
    bot.slack.delay_next("files.getUploadURLExternal", 30.0, times=many)
    for n in range(many):
        assert bot.command("/customers", "export", name=f"export{n}").status_code == 200
    assert bot.command("/customers", "list", name="meanwhile").status_code == 200
    bot.slack.wait_for_response("meanwhile", timeout=10)
    assert bot.slack.uploads == []  # answered while every export still waits on Slack
    bot.slack.release_delays()
    bot.slack.wait_for("files.completeUploadExternal", count=many, timeout=30)
    assert len(bot.slack.uploads) == many
