"""Alerts end to end: platform events over HTTP into the real server, the poster, the Slack double (both engines)."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlmodel import select

from bot.deps import Deps
from bot.server import create_server
from handlers.alerts_posting import run_due
from storage.alert_outbox import STALE_AFTER, claim_channel, outbox_counts
from storage.alerts import live_rules
from storage.db import session_scope
from storage.models import AlertOutbox
from storage.types import utcnow
from tests.e2e_bot import serving
from tests.handlers.alerts_fixtures import ADMIN, CHANNEL, Clock, Served, alerts_in, served_fixture

__all__ = ["served_fixture"]


def org(served: Served, cid: str, seats: int, name: str | None = None) -> None:
    """A customer created over HTTP, a while ago."""
    response = served.event(f"evt_new_{cid}", "customer.created",
                            {"id": cid, "organization": name or f"Org {cid}", "email": f"{cid}@org.example",
                             "seats": seats}, at=served.clock() - timedelta(hours=1))
    assert response.status_code == 200, response.text


def cancel(served: Served, cid: str, *, event_id: str | None = None) -> dict[str, object]:
    """customer.canceled over HTTP; the JSON answer."""
    response = served.event(event_id or f"evt_cancel_{cid}", "customer.canceled", {"customer": cid})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_40_seat_churn_posts_one_card_and_a_3_seat_churn_none(served: Served) -> None:
    served.command("alert add churn seats:>=20")
    org(served, "big", 40, name="Quokka Robotics")
    org(served, "small", 3)
    cancel(served, "big")
    cancel(served, "small")
    served.post_due()
    (post,) = served.posts()
    text = str(post.params["blocks"])
    assert "Quokka Robotics" in post.params["text"]
    assert "40 → 40" in text
    assert "active → canceled" in text
    assert "Open Product" in text
    assert "Show customer" in text
    assert "@" not in text
    served.clock.tick(5)
    assert served.post_due() == []


def test_a_replayed_or_stale_event_posts_nothing_more(served: Served) -> None:
    served.command("alert add churn")
    org(served, "c", 5)
    assert cancel(served, "c", event_id="evt_x")["duplicate"] is False
    assert cancel(served, "c", event_id="evt_x")["duplicate"] is True
    stale = served.event("evt_old", "customer.updated", {"id": "c", "status": "active"},
                         at=served.clock() - timedelta(minutes=30))
    assert stale.json()["outcome"] == "stale"
    served.post_due()
    served.clock.tick(5)
    served.post_due()
    assert [alerts_in(p) for p in served.posts()] == [1]


def test_a_burst_is_grouped_loses_nothing_and_posts_at_most_once_a_second_per_channel(served: Served) -> None:
    served.command("alert add churn")
    served.command("alert add signup", channel="C0SIGNUPS", name="r2")
    burst = 60  # 60 signups and 60 cancellations: 120 events over HTTP
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda i: org(served, f"b{i}", 2), range(burst)))
    seconds = 0
    for start in range(0, burst, 30):  # cancellations keep arriving while the poster runs
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda i: cancel(served, f"b{i}"), range(start, start + 30)))
        served.post_due()
        served.post_due()  # a second pass in the same second finds the channel's slot taken
        served.clock.tick(1)
        seconds += 1
    while served.post_due():
        served.clock.tick(1)
        seconds += 1
    churns, signups = served.posts(), served.posts("C0SIGNUPS")
    assert sum(alerts_in(p) for p in churns) == burst
    assert sum(alerts_in(p) for p in signups) == burst
    assert len(churns) <= seconds
    assert len(signups) <= 2  # every signup arrived before the first pass: one message, or two at the batch cap
    assert max(alerts_in(p) for p in churns) > 1
    grouped = next(p for p in churns if alerts_in(p) > 1)
    assert "customers churned in the last minute" in grouped.params["text"]
    assert "more" in str(grouped.params["blocks"])


def test_a_channel_the_bot_left_marks_the_rule_broken_and_tells_its_creator(served: Served) -> None:
    served.command("alert add signup")
    served.slack.not_in_channel(CHANNEL)
    org(served, "n", 1)
    (outcome,) = served.post_due()
    assert outcome.status == "broken"
    dm = served.slack.wait_for(lambda c: c.method == "chat.postMessage" and c.params.get("channel") == ADMIN)
    assert "has stopped" in dm.params["text"]
    with session_scope(served.engine) as session:
        (rule,) = live_rules(session=session)
        assert rule.broken_reason == "not_in_channel"
    org(served, "m", 1)  # a broken rule fires nothing until resumed
    served.clock.tick(2)
    assert served.post_due() == []
    listing = served.command("alert list", name="r3")
    assert "broken: not_in_channel" in str(listing["blocks"])


def test_rate_limits_and_server_errors_are_retried_later(served: Served) -> None:
    served.command("alert add signup")
    served.slack.fail_next("chat.postMessage", status=429, retry_after=3)
    org(served, "r", 1)
    assert [o.status for o in served.post_due()] == ["failed"]
    served.clock.tick(2)
    assert served.post_due() == []  # Retry-After is honoured
    served.slack.fail_next("chat.postMessage", status=503)
    served.clock.tick(1)
    assert [o.status for o in served.post_due()] == ["failed"]
    served.clock.tick(10)
    assert [o.status for o in served.post_due()] == ["posted"]
    assert len(served.posts()) == 1


def test_racing_posters_post_each_alert_once(served: Served) -> None:
    served.command("alert add signup")
    for i in range(30):
        org(served, f"p{i}", 1)
    barrier = threading.Barrier(3)

    def poster(name: str) -> None:
        for second in range(5):
            barrier.wait()
            run_due(served.deps, served.client, now=served.clock() + timedelta(seconds=second), worker=name)

    threads = [threading.Thread(target=poster, args=(f"replica{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(alerts_in(p) for p in served.posts()) == 30
    with session_scope(served.engine) as session:
        assert outbox_counts(session=session) == {"posted": 30}
        sources = Counter(r.source for r in session.exec(select(AlertOutbox)))
    assert set(sources.values()) == {1}


def test_a_crash_between_commit_and_post_posts_later_once(served: Served) -> None:
    served.command("alert add churn")
    org(served, "z", 30)
    cancel(served, "z")
    with session_scope(served.engine, write=True) as session:  # a poster claims it, then dies before posting
        assert claim_channel(session=session, channel_id=CHANNEL, now=served.clock(), worker="dead") is not None
    served.clock.tick(5)
    assert served.post_due() == []  # the claim is not stale yet
    served.clock.tick(STALE_AFTER.total_seconds())
    assert [o.status for o in served.post_due()] == ["posted"]
    served.clock.tick(STALE_AFTER.total_seconds() * 2)
    assert served.post_due() == []
    assert len(served.posts()) == 1


def test_quiet_hours_hold_alerts_and_post_them_grouped_when_the_window_ends(served: Served) -> None:
    hour = served.clock().hour
    window = f"{hour:02d}:00-{(hour + 1) % 24:02d}:00"
    served.command(f"alert add signup quiet:{window} tz:UTC")
    for i in range(3):
        org(served, f"q{i}", 1)
    assert served.post_due() == []
    served.clock.tick(3600)
    (outcome,) = served.post_due()
    assert outcome.alerts == 3
    assert alerts_in(served.posts()[0]) == 3


def test_the_scheduler_posts_an_alert_within_five_seconds_of_the_events_answer(served: Served) -> None:
    served.command("alert add signup")
    deps = Deps(settings=served.deps.settings, engine=served.engine, clock=utcnow)
    with serving(create_server(deps, scheduler=True)) as url:
        live = Served(url=url, slack=served.slack, engine=served.engine, deps=deps, clock=Clock(utcnow()),
                      client=served.client)
        assert live.event("evt_live", "customer.created", {"id": "live", "organization": "Live Org",
                                                           "email": "l@live.example", "seats": 2}).status_code == 200
        served.slack.wait_for(lambda c: c.method == "chat.postMessage" and "Live Org" in str(c.params.get("text")),
                              timeout=5)
