"""Digest scheduling with time travel against the Slack double: daily, DST, catch-up, changes, failures, crashes."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.app import make_client
from bot.deps import Deps
from bot.settings import Settings
from handlers.digests.posting import EVENT_TYPE, run_due
from storage.db import session_scope
from storage.digests import Run, claim_run, run_for, subscribe, subscription_for_channel, unsubscribe
from tests.factories import add_customer
from tests.slack_double import RecordedCall, SlackDouble

BERLIN = ZoneInfo("Europe/Berlin")
ADMIN = "UADMIN"
SUBSCRIBED_AT = datetime(2026, 1, 1, tzinfo=UTC)


class DigestSlack(SlackDouble):
    """The shared double plus conversations.history (with message metadata), and ts from the travelling clock."""

    def __init__(self) -> None:
        super().__init__(message_ts=self._travelling_ts)
        self.history: dict[str, list[dict[str, Any]]] = {}
        self._last_ts = 0.0

    def _travelling_ts(self) -> str:
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    def _api(self, method: str, params: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if method == "conversations.history":
            channel, oldest = str(params.get("channel")), float(params.get("oldest") or 0)
            keep_metadata = str(params.get("include_all_metadata")).lower() in ("1", "true")
            messages = [{k: v for k, v in m.items() if keep_metadata or k != "metadata"}
                        for m in self.history.get(channel, []) if float(m["ts"]) > oldest]
            self._calls.append(RecordedCall(method, params, headers))
            body = {"ok": True, "messages": messages, "has_more": False}
            return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()
        status, extra, payload = super()._api(method, params, headers)
        data = json.loads(payload)
        if method == "chat.postMessage" and data.get("ok"):
            self.history.setdefault(data["channel"], []).insert(0, data["message"])
        return status, extra, payload

    def posts(self, channel: str | None = None) -> list[RecordedCall]:
        """Successful chat.postMessage calls (to one channel)."""
        return [c for c in self.calls_to("chat.postMessage") if c.ok and channel in (None, c.params["channel"])]


@pytest.fixture
def slack() -> Iterator[DigestSlack]:
    with DigestSlack() as double:
        yield double


def make_deps(engine: Engine, slack: SlackDouble, **settings: Any) -> Deps:
    values: dict[str, Any] = {"slack_api_url": slack.api_url, "slack_bot_token": "xoxb-test",
                              "admin_user_ids": frozenset({ADMIN}), "digest_catchup_hours": 6} | settings
    return Deps(settings=Settings(**values), engine=engine)


@pytest.fixture
def deps(sqlite_engine: Engine, slack: DigestSlack) -> Deps:
    return make_deps(sqlite_engine, slack)


@pytest.fixture
def client(deps: Deps) -> WebClient:
    return make_client(deps)


def add_subscription(deps: Deps, channel: str = "C1", local_time: str = "09:00", zone: str = "Europe/Berlin", *,
                     at: datetime = SUBSCRIBED_AT, quiet_skip: bool = False) -> int:
    with session_scope(deps.engine, write=True) as session:
        sub, _ = subscribe(session=session, channel_id=channel, team_id="T1", local_time=local_time, timezone=zone,
                           quiet_skip=quiet_skip, user_id=ADMIN, at=at)
    return sub.id


def run_of(deps: Deps, sub_id: int, day: date) -> Run | None:
    with session_scope(deps.engine) as session:
        return run_for(session=session, subscription_id=sub_id, local_day=day)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=BERLIN)


def tick_at(deps: Deps, client: WebClient, at: datetime) -> None:
    with time_machine.travel(at, tick=False):
        run_due(deps, client)


def post_times(slack: DigestSlack, channel: str = "C1") -> list[datetime]:
    """When each digest was posted, in Berlin time (the double's ts follow the travelling clock)."""
    return [datetime.fromtimestamp(float(m["ts"]), BERLIN) for m in reversed(slack.history.get(channel, []))]


def test_a_digest_is_posted_once_each_day_at_its_local_time(deps: Deps, client: WebClient,
                                                            slack: DigestSlack) -> None:
    sub_id = add_subscription(deps)
    for day in (23, 24, 25):
        for hour, minute in ((8, 59), (9, 0), (9, 0), (9, 30), (23, 0)):
            tick_at(deps, client, berlin(2026, 11, day, hour, minute))
    assert [t.strftime("%d %H:%M") for t in post_times(slack)] == ["23 09:00", "24 09:00", "25 09:00"]
    posted = slack.posts("C1")[1]
    assert posted.params["metadata"] == {"event_type": EVENT_TYPE,
                                         "event_payload": {"subscription_id": sub_id, "local_day": "2026-11-24"}}
    run = run_of(deps, sub_id, date(2026, 11, 24))
    assert run is not None
    assert (run.status, run.message_ts) == ("posted", slack.history["C1"][1]["ts"])


def test_the_digest_shows_the_day_and_has_no_emails(deps: Deps, client: WebClient, slack: DigestSlack) -> None:
    with session_scope(deps.engine, write=True) as session:
        add_customer(session, "Fresh Org", email="boss@fresh.example", seats=5,
                     created_at=datetime(2026, 11, 24, 6, tzinfo=UTC))
    add_subscription(deps)
    tick_at(deps, client, berlin(2026, 11, 24, 9, 0))
    [post] = slack.posts("C1")
    body = json.dumps(post.params["blocks"], ensure_ascii=False)
    assert "Daily digest · Tuesday 24 November 2026" in body
    assert "Fresh Org" in body
    assert "@" not in body


@pytest.mark.parametrize("days", [(28, 29, 30), (24, 25, 26)], ids=["spring-forward", "fall-back"])
def test_nine_o_clock_berlin_is_posted_at_nine_on_both_sides_of_a_dst_switch(
    deps: Deps, client: WebClient, slack: DigestSlack, days: tuple[int, int, int]
) -> None:
    month = 3 if days[0] == 28 else 10
    add_subscription(deps)
    for day in days:
        for hour, minute in ((8, 59), (9, 0), (9, 1), (12, 0)):
            tick_at(deps, client, berlin(2026, month, day, hour, minute))
    assert [(t.day, t.hour, t.minute) for t in post_times(slack)] == [(d, 9, 0) for d in days]


def _every(start: datetime, end: datetime, step: timedelta) -> Iterator[datetime]:
    at = start
    while at <= end:
        yield at
        at += step


def test_a_time_skipped_by_spring_forward_posts_once_at_the_first_valid_instant(
    deps: Deps, client: WebClient, slack: DigestSlack
) -> None:
    add_subscription(deps, local_time="02:30")
    start = datetime(2026, 3, 28, 22, tzinfo=UTC)  # 23:00 CET on the 28th
    for at in _every(start, start + timedelta(hours=8), timedelta(minutes=15)):
        tick_at(deps, client, at)
    assert [t.strftime("%Y-%m-%d %H:%M %Z") for t in post_times(slack)] == ["2026-03-29 03:00 CEST"]


def test_a_time_repeated_by_fall_back_posts_once_at_its_first_occurrence(
    deps: Deps, client: WebClient, slack: DigestSlack
) -> None:
    add_subscription(deps, local_time="02:30")
    start = datetime(2026, 10, 24, 22, tzinfo=UTC)  # midnight CEST on the 25th
    for at in _every(start, start + timedelta(hours=8), timedelta(minutes=15)):
        tick_at(deps, client, at)
    assert [t.strftime("%Y-%m-%d %H:%M %Z") for t in post_times(slack)] == ["2026-10-25 02:30 CEST"]


def test_a_digest_missed_while_down_is_posted_on_start_inside_the_catch_up_window(
    deps: Deps, client: WebClient, slack: DigestSlack
) -> None:
    sub_id = add_subscription(deps)
    tick_at(deps, client, berlin(2026, 11, 24, 14, 59))  # every replica was down from 08:00 until now
    assert len(slack.posts("C1")) == 1
    run = run_of(deps, sub_id, date(2026, 11, 24))
    assert run is not None
    assert run.status == "posted"


def test_a_digest_missed_by_more_than_the_window_is_skipped_and_logged_not_posted(
    deps: Deps, client: WebClient, slack: DigestSlack, caplog: pytest.LogCaptureFixture
) -> None:
    sub_id = add_subscription(deps)
    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        tick_at(deps, client, berlin(2026, 11, 24, 15, 1))
        tick_at(deps, client, berlin(2026, 11, 24, 15, 2))
    assert slack.posts() == []
    run = run_of(deps, sub_id, date(2026, 11, 24))
    assert run is not None
    assert run.status == "skipped"
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == 1
    assert "6.0h late, beyond DIGEST_CATCHUP_HOURS=6" in skipped[0]
    tick_at(deps, client, berlin(2026, 11, 25, 9, 0))  # the next day is back to normal
    assert len(slack.posts("C1")) == 1


def test_only_the_latest_missed_day_is_considered_never_a_burst(
    sqlite_engine: Engine, slack: DigestSlack
) -> None:
    deps = make_deps(sqlite_engine, slack, digest_catchup_hours=72)
    add_subscription(deps)
    tick_at(deps, make_client(deps), berlin(2026, 11, 24, 8, 0))  # down since the 20th
    assert [t.strftime("%d %H:%M") for t in post_times(slack)] == ["24 08:00"]
    assert len(slack.posts()) == 1


def test_subscriptions_made_changed_or_removed_elsewhere_are_picked_up_by_the_next_tick(
    deps: Deps, client: WebClient, slack: DigestSlack
) -> None:
    tick_at(deps, client, berlin(2026, 11, 24, 8, 0))
    add_subscription(deps, "C1", "09:00", at=berlin(2026, 11, 24, 8, 0))  # "another replica" writes the DB
    add_subscription(deps, "C2", "09:00", at=berlin(2026, 11, 24, 8, 0))
    add_subscription(deps, "C2", "10:00", at=berlin(2026, 11, 24, 8, 30))  # changed before it was due
    tick_at(deps, client, berlin(2026, 11, 24, 9, 0))
    assert [c.params["channel"] for c in slack.posts()] == ["C1"]
    tick_at(deps, client, berlin(2026, 11, 24, 10, 0))
    assert [c.params["channel"] for c in slack.posts()] == ["C1", "C2"]
    with session_scope(deps.engine, write=True) as session:
        unsubscribe(session=session, channel_id="C1", user_id=ADMIN, at=berlin(2026, 11, 24, 12, 0))
    for day in (25, 26):
        tick_at(deps, client, berlin(2026, 11, day, 9, 0))
        tick_at(deps, client, berlin(2026, 11, day, 10, 0))
    assert [c.params["channel"] for c in slack.posts()] == ["C1", "C2", "C2", "C2"]


def test_a_subscription_made_after_todays_time_starts_tomorrow(deps: Deps, client: WebClient,
                                                               slack: DigestSlack) -> None:
    add_subscription(deps, at=berlin(2026, 11, 24, 9, 30))
    tick_at(deps, client, berlin(2026, 11, 24, 9, 31))
    assert slack.posts() == []
    tick_at(deps, client, berlin(2026, 11, 25, 9, 0))
    assert len(slack.posts()) == 1


def test_a_quiet_day_posts_one_line_unless_quiet_skip(deps: Deps, client: WebClient, slack: DigestSlack) -> None:
    add_subscription(deps, "C1")
    skip_id = add_subscription(deps, "C2", quiet_skip=True)
    tick_at(deps, client, berlin(2026, 11, 24, 9, 0))
    [post] = slack.posts()
    assert post.params["channel"] == "C1"
    assert len(post.params["blocks"]) == 1
    assert "no new signups and no churn" in post.params["text"]
    run = run_of(deps, skip_id, date(2026, 11, 24))
    assert run is not None
    assert run.status == "skipped"


def test_a_broken_channel_marks_the_subscription_tells_its_creator_once_and_stops(
    deps: Deps, client: WebClient, slack: DigestSlack
) -> None:
    add_subscription(deps, "C1")
    add_subscription(deps, "C2")
    slack.not_in_channel("C1")
    for minute in (0, 1, 30):
        tick_at(deps, client, berlin(2026, 11, 24, 9, minute))
    tick_at(deps, client, berlin(2026, 11, 25, 9, 0))
    attempts = [c for c in slack.calls_to("chat.postMessage") if c.params["channel"] == "C1"]
    assert [c.error for c in attempts] == ["not_in_channel"]
    [dm] = slack.posts(ADMIN)
    assert "/invite @Customers" in dm.params["text"] + json.dumps(dm.params["blocks"])
    assert len(slack.posts("C2")) == 2
    with session_scope(deps.engine) as session:
        sub = subscription_for_channel(session=session, channel_id="C1")
    assert sub is not None
    assert (sub.broken_reason, sub.broken_at) == ("not_in_channel",
                                                                      berlin(2026, 11, 24, 9, 0))


def test_fixing_a_broken_channel_and_resubscribing_posts_the_days_digest(
    deps: Deps, client: WebClient, slack: DigestSlack
) -> None:
    add_subscription(deps, "C1")
    slack.not_in_channel("C1")
    tick_at(deps, client, berlin(2026, 11, 24, 9, 0))
    client.conversations_join(channel="C1")  # someone invites the bot
    add_subscription(deps, "C1", at=berlin(2026, 11, 24, 9, 20))
    tick_at(deps, client, berlin(2026, 11, 24, 9, 21))
    tick_at(deps, client, berlin(2026, 11, 24, 9, 22))
    assert len(slack.posts("C1")) == 1


@pytest.mark.parametrize("error", ["channel_not_found", "is_archived"])
def test_other_broken_channel_errors_also_stop_the_subscription(
    deps: Deps, client: WebClient, slack: DigestSlack, error: str
) -> None:
    add_subscription(deps)
    slack.fail_next("chat.postMessage", error=error)
    tick_at(deps, client, berlin(2026, 11, 24, 9, 0))
    with session_scope(deps.engine) as session:
        sub = subscription_for_channel(session=session, channel_id="C1")
    assert sub is not None
    assert sub.broken_reason == error
    assert len(slack.posts(ADMIN)) == 1


def test_a_rate_limited_post_is_retried_and_posted_once(deps: Deps, client: WebClient, slack: DigestSlack) -> None:
    sub_id = add_subscription(deps)
    slack.fail_next("chat.postMessage", status=429, retry_after=0)
    tick_at(deps, client, berlin(2026, 11, 24, 9, 0))
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [429, 200]
    run = run_of(deps, sub_id, date(2026, 11, 24))
    assert run is not None
    assert run.status == "posted"


def test_when_slack_keeps_failing_the_run_is_retried_later_with_backoff(
    deps: Deps, client: WebClient, slack: DigestSlack
) -> None:
    sub_id = add_subscription(deps)
    slack.fail_next("chat.postMessage", status=500, times=3)  # the client's own two retries are used up
    tick_at(deps, client, berlin(2026, 11, 24, 9, 0))
    run = run_of(deps, sub_id, date(2026, 11, 24))
    assert run is not None
    assert (run.status, run.attempts) == ("failed", 1)
    tick_at(deps, client, berlin(2026, 11, 24, 9, 0, 30))  # before the retry time
    assert slack.posts() == []
    tick_at(deps, client, berlin(2026, 11, 24, 9, 1))
    assert len(slack.posts("C1")) == 1
    run = run_of(deps, sub_id, date(2026, 11, 24))
    assert run is not None
    assert (run.status, run.attempts) == ("posted", 2)


def _stale_claim(deps: Deps, sub_id: int, at: datetime) -> None:
    """What a replica that crashed right after claiming leaves behind."""
    with session_scope(deps.engine, write=True) as session:
        claim = claim_run(session=session, subscription_id=sub_id, local_day=at.astimezone(BERLIN).date(),
                          scheduled_for=at, now=at, worker="crashed-host:1", stale_after=timedelta(minutes=10))
    assert claim is not None


def test_a_crash_before_posting_is_recovered_after_the_claim_timeout_with_one_post(
    deps: Deps, client: WebClient, slack: DigestSlack
) -> None:
    sub_id = add_subscription(deps)
    _stale_claim(deps, sub_id, berlin(2026, 11, 24, 9, 0))
    tick_at(deps, client, berlin(2026, 11, 24, 9, 5))  # the claim is still fresh: someone may be posting
    assert slack.posts() == []
    tick_at(deps, client, berlin(2026, 11, 24, 9, 11))
    tick_at(deps, client, berlin(2026, 11, 24, 9, 30))
    assert len(slack.posts("C1")) == 1
    assert slack.calls_to("conversations.history")  # it looked before posting
    run = run_of(deps, sub_id, date(2026, 11, 24))
    assert run is not None
    assert (run.status, run.attempts) == ("posted", 2)


def test_a_crash_after_posting_is_recovered_by_recording_the_earlier_post_not_reposting(
    deps: Deps, client: WebClient, slack: DigestSlack
) -> None:
    sub_id = add_subscription(deps)
    _stale_claim(deps, sub_id, berlin(2026, 11, 24, 9, 0))
    with time_machine.travel(berlin(2026, 11, 24, 9, 0, 2), tick=False):  # the crashed replica did post
        earlier = client.chat_postMessage(channel="C1", text="digest", metadata={
            "event_type": EVENT_TYPE, "event_payload": {"subscription_id": sub_id, "local_day": "2026-11-24"}})
        client.chat_postMessage(channel="C1", text="someone chatting")
    tick_at(deps, client, berlin(2026, 11, 24, 9, 11))
    tick_at(deps, client, berlin(2026, 11, 24, 9, 30))
    assert len(slack.posts("C1")) == 2  # the crashed replica's digest and the chat; no repost
    run = run_of(deps, sub_id, date(2026, 11, 24))
    assert run is not None
    assert (run.status, run.message_ts) == ("posted", earlier["ts"])
