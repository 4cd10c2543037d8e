"""Cached answers: reused only while nothing was committed and while young; keyed by who may see what."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime, timedelta

from slack_bolt import BoltContext, BoltResponse
from sqlalchemy import Engine, create_engine, text
from sqlmodel import Session

from bot.local.slack_double import SlackDouble
from bot.responder import KeptAlivePoster, KeptAliveRespond
from handlers.answer_cache import AnswerCache
from handlers.background import Answers, Question
from storage.db import make_engine
from storage.version import StoreVersion
from tests.conftest import NOW
from tests.factories import add_customer

MESSAGE = {"text": "15 customers", "blocks": [{"type": "divider"}]}


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def test_the_store_token_moves_with_every_commit_and_only_then(engine: Engine) -> None:
    version = StoreVersion(engine)
    before = version.current()
    assert before is not None
    assert version.current() == before
    with Session(engine) as session:
        add_customer(session, "Acme", email="a@acme.example")
    after = version.current()
    assert after != before
    assert version.current() == after
    version.close()


def test_the_sqlite_token_sees_commits_of_other_processes(sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as session:
        add_customer(session, "Acme", email="a@acme.example")
    version = StoreVersion(sqlite_engine)
    before = version.current()
    other = sqlite3.connect(str(sqlite_engine.url.database))  # another process's connection, not our pool's
    other.execute("UPDATE customer SET seats = seats + 1")
    other.commit()
    other.close()
    assert version.current() != before
    version.close()


def test_the_token_survives_a_broken_connection(pg_url: str) -> None:
    pg_engine = make_engine(pg_url)
    version = StoreVersion(pg_engine)
    before = version.current()
    with pg_engine.connect() as conn:  # what a server restart or a proxy's idle timeout does to the watcher
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    assert version.current() == before
    version.close()
    pg_engine.dispose()


def test_an_in_memory_store_is_never_cached() -> None:
    assert StoreVersion(create_engine("sqlite://")).current() is None


def test_an_answer_is_reused_for_the_same_question_on_the_same_store_while_young() -> None:
    clock, token = Clock(), ["v1"]
    cache = AnswerCache(version=lambda: token[0], clock=clock, ttl_s=30)
    key = cache.key("list", "status:active", True)
    assert cache.get(key) is None
    cache.put(key, MESSAGE)
    clock.now += timedelta(seconds=29)
    found = cache.get(cache.key("list", "status:active", True))
    assert found is not None
    assert found.message == MESSAGE
    assert cache.get(cache.key("list", "status:active", False)) is None  # another role: another answer
    token[0] = "v2"
    assert cache.get(cache.key("list", "status:active", True)) is None  # something was committed


def test_answers_age_out_and_do_not_survive_the_clock_going_back() -> None:
    clock = Clock()
    cache = AnswerCache(version=lambda: "v1", clock=clock, ttl_s=30)
    cache.put(cache.key("balance"), MESSAGE)
    clock.now += timedelta(seconds=30)
    assert cache.get(cache.key("balance")) is None
    cache.put(cache.key("balance"), MESSAGE)
    clock.now -= timedelta(seconds=1)
    assert cache.get(cache.key("balance")) is None


def test_caching_is_off_with_a_zero_lifetime_or_an_unknown_store() -> None:
    assert AnswerCache(version=lambda: "v1", clock=Clock(), ttl_s=0).key("balance") is None
    assert AnswerCache(version=lambda: None, clock=Clock(), ttl_s=30).key("balance") is None


def test_the_least_recently_used_answer_is_forgotten_first() -> None:
    cache = AnswerCache(version=lambda: "v1", clock=Clock(), ttl_s=30, max_answers=2)
    for name in ("a", "b"):
        cache.put(cache.key(name), MESSAGE)
    assert cache.get(cache.key("a")) is not None
    cache.put(cache.key("c"), MESSAGE)
    assert [cache.get(cache.key(n)) is not None for n in ("a", "b", "c")] == [True, False, True]


def test_the_encoded_reply_is_what_an_ephemeral_answer_posts() -> None:
    cache = AnswerCache(version=lambda: "v1", clock=Clock(), ttl_s=30)
    cache.put(cache.key("x"), MESSAGE)
    found = cache.get(cache.key("x"))
    assert found is not None
    assert json.loads(found.encoded(replace=True)) == {**MESSAGE, "response_type": "ephemeral",
                                                       "replace_original": True}


def _middleware_answers(version: str = "v1") -> Answers:
    """Answers with a cache and `/customers list` declared cacheable, as the handlers declare it."""
    answers = Answers(inline=True, cache=AnswerCache(version=lambda: version, clock=Clock(), ttl_s=30))
    answers.ask("/customers", lambda body: Question("/customers list", body["text"], ("list", body["text"]),
                                                      lambda: MESSAGE))
    return answers


def _context(slack: SlackDouble, name: str) -> BoltContext:
    """A request context with the kept-alive respond the app's middleware installs."""
    context = BoltContext()
    context["respond"] = KeptAliveRespond(response_url=slack.response_url(name), poster=KeptAlivePoster())
    return context


def _no_listener() -> BoltResponse:
    """`next` for a request that must not reach the listeners."""
    raise AssertionError("a cache hit reached the listeners")


def test_a_cached_answer_is_posted_by_middleware_without_running_a_listener(slack_double: SlackDouble) -> None:
    answers = _middleware_answers()
    assert answers.cache is not None
    answers.cache.put(answers.cache.key("list", "status:active"), MESSAGE)
    body = {"command": "/customers", "text": "status:active", "user_id": "U1"}
    response = answers.answer_from_cache(body, _context(slack_double, "hit"), _no_listener)
    assert (response.status, response.body) == (200, "")
    assert slack_double.responses("hit") == [{**MESSAGE, "response_type": "ephemeral", "replace_original": False}]


def test_misses_and_other_commands_go_on_to_the_listeners(slack_double: SlackDouble) -> None:
    answers = _middleware_answers()
    dispatched: list[str] = []

    def listener() -> BoltResponse:
        dispatched.append("listener")
        return BoltResponse(status=200)

    answers.answer_from_cache({"command": "/customers", "text": "seats:1", "user_id": "U1"},
                              _context(slack_double, "miss"), listener)
    answers.answer_from_cache({"command": "/finance", "text": "balance", "user_id": "U1"},
                              _context(slack_double, "other"), listener)
    assert dispatched == ["listener", "listener"]
    assert slack_double.response_names() == []


def test_a_hit_acks_at_once_and_its_answer_follows_from_the_posting_pool(slack_double: SlackDouble) -> None:
    answers = Answers(inline=False, cache=AnswerCache(version=lambda: "v1", clock=Clock(), ttl_s=30))
    answers.ask("/customers", lambda body: Question("/customers list", body["text"], ("list", body["text"]),
                                                      lambda: MESSAGE))
    assert answers.cache is not None
    answers.cache.put(answers.cache.key("list", "seats:1"), MESSAGE)
    slack_double.delay_next("response/slow", 0.5)  # a slow response_url must not hold the ack back
    started = time.monotonic()
    response = answers.answer_from_cache({"command": "/customers", "text": "seats:1", "user_id": "U1"},
                                         _context(slack_double, "slow"), _no_listener)
    assert response.status == 200
    assert time.monotonic() - started < 0.4
    assert slack_double.wait_for_response("slow")["text"] == MESSAGE["text"]


def test_hits_beyond_the_posting_backlog_wait_a_little_then_carry_the_answer_in_the_ack(
    slack_double: SlackDouble
) -> None:
    answers = Answers(inline=False, cache=AnswerCache(version=lambda: "v1", clock=Clock(), ttl_s=30),
                      post_threads=1, post_backlog=1)
    answers.ask("/customers", lambda body: Question("/customers list", body["text"], ("list", body["text"]),
                                                      lambda: MESSAGE))
    assert answers.cache is not None
    answers.cache.put(answers.cache.key("list", "seats:1"), MESSAGE)
    body = {"command": "/customers", "text": "seats:1", "user_id": "U1"}
    for name in ("first", "second"):  # one posting, one waiting: Slack is slow
        slack_double.delay_next(f"response/{name}", 0.6)
        assert answers.answer_from_cache(body, _context(slack_double, name), _no_listener).body == ""
    started = time.monotonic()
    response = answers.answer_from_cache(body, _context(slack_double, "third"), _no_listener)
    assert 0.2 <= time.monotonic() - started < 0.5  # no room came within POST_ROOM_WAIT_S
    assert (response.status, response.headers["content-type"]) == (200, ["application/json"])
    assert json.loads(response.body) == {**MESSAGE, "response_type": "ephemeral", "replace_original": False}
    assert [slack_double.wait_for_response(n)["text"] for n in ("first", "second")] == [MESSAGE["text"]] * 2
    assert slack_double.responses("third") == []
    assert answers.answer_from_cache(body, _context(slack_double, "fourth"), _no_listener).body == ""  # room again
    assert slack_double.wait_for_response("fourth")["text"] == MESSAGE["text"]


def test_a_store_token_that_cannot_be_read_leaves_the_question_to_the_listeners(slack_double: SlackDouble) -> None:
    def broken() -> str:
        raise RuntimeError("the database is down")

    answers = Answers(inline=True, cache=AnswerCache(version=broken, clock=Clock(), ttl_s=30))
    answers.ask("/customers", lambda body: Question("/customers list", body["text"], ("list", body["text"]),
                                                      lambda: MESSAGE))
    response = answers.answer_from_cache({"command": "/customers", "text": "seats:1", "user_id": "U1"},
                                         _context(slack_double, "down"), lambda: BoltResponse(status=200, body="l"))
    assert (response.status, response.body) == (200, "l")
