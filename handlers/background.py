"""Answers computed after the ack on a small pool of their own, so slow queries never delay an ack."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from slack_bolt import BoltContext, BoltResponse, Respond

from bot.responder import KeptAliveRespond
from handlers.answer_cache import AnswerCache
from handlers.blocks.common import Message, error_message
from handlers.common import answering, ephemeral, log_failure, log_request, user_of
from storage.db import run_read

# Queries are CPU-bound on a few cores: a few threads answer as fast as many, with less lock and GIL contention,
# and Bolt's listener threads stay free to ack the next request within Slack's 3 seconds.
ANSWER_THREADS = 3
# Answers queued beyond the running ones. When the queue is full the ack waits for room (back-pressure, so a flood
# slows down instead of piling up answers nobody will wait for), but never longer than ROOM_WAIT_S: then the user is
# told the bot is busy, well inside Slack's 3 seconds.
MAX_WAITING = 12
ROOM_WAIT_S = 2.0
# Cached answers only need a POST to the response_url, from a pool of their own. Two threads keep up with one
# worker's acks against a nearby response_url; more cost a worker ~10% of its throughput in GIL handoffs (0.46x of
# bare Bolt with eight against 0.49-0.54x). Slack is ~100 ms away, so two post ~20 answers/s per process: beyond
# POST_BACKLOG waiting posts the ack waits up to POST_ROOM_WAIT_S for room (back-pressure), then carries the answer
# itself. A flood slows the asking down instead of answers arriving seconds late (unbounded, two workers fell
# 1-2.5 s behind at 2,400/s); the wait is short because it holds a request thread that others queue behind.
POST_THREADS = 2
POST_BACKLOG = 64
POST_ROOM_WAIT_S = 0.2


@dataclass(frozen=True)
class Question:
    """A slash command whose answer can be cached: what to log, what it depends on, and how to render it."""

    what: str  # `/customers search`: the log line and failure messages name it
    text: str  # the rest of the command, for the log line
    asked: tuple[Hashable, ...]  # everything the answer depends on besides the store and the clock
    render: Callable[[], Message]


ANSWER_KEY = "answer_cache_key"  # where the middleware leaves a missed question's cache key for the listener
# Reads a slash command's payload: the Question it asks, or None when it is not a cacheable answer for this user.
QuestionOf = Callable[[dict[str, Any]], Question | None]


class Answers:
    """Runs answer jobs on a bounded pool (inline when the app processes before responding, as the shell does)."""

    def __init__(self, *, inline: bool, cache: AnswerCache | None = None, threads: int = ANSWER_THREADS,
                 max_waiting: int = MAX_WAITING, room_wait_s: float = ROOM_WAIT_S, post_threads: int = POST_THREADS,
                 post_backlog: int = POST_BACKLOG) -> None:
        self.pool = None if inline else ThreadPoolExecutor(max_workers=threads, thread_name_prefix="answer")
        # Cached answers only need posting: a pool of their own, so they never queue behind slow queries.
        self.posting = None if inline else ThreadPoolExecutor(max_workers=post_threads,
                                                               thread_name_prefix="cached-answer")
        self.post_room = threading.BoundedSemaphore(post_threads + post_backlog)
        self.cache = cache
        self.limit = threads + max_waiting
        self.room_wait_s = room_wait_s
        self.pending = 0  # running or queued
        self.room = threading.Condition()
        self.questions: dict[str, QuestionOf] = {}

    def ask(self, command: str, question_of: QuestionOf) -> None:
        """Declare how a slash command's payload reads as a Question, so cache hits skip the listener entirely."""
        self.questions[command] = question_of

    def answer_from_cache(self, body: dict[str, Any], context: BoltContext,
                          next: Callable[[], BoltResponse]) -> BoltResponse:  # Bolt names it `next`
        """Global middleware: a repeated question on an unchanged store is answered here, before listener dispatch.

        A hit needs no query, so it skips Bolt's listener matching and its hop to a listener thread (which polls for
        the ack every 10 ms): the empty 200 acks at once and a small pool posts the cached answer to the response_url.
        Misses, other commands, every other request and any failure to look the question up go on to the listeners.
        """
        question_of = self.questions.get(str(body.get("command") or ""))
        respond = context.get("respond")
        if self.cache is None or question_of is None or not isinstance(respond, KeptAliveRespond):
            return next()
        try:
            question = question_of(body)
            key = self.cache.key(*question.asked) if question is not None else None
        except Exception as exc:  # the store's change token could not be read: the listener answers and explains
            log_failure(exc, what="answer cache lookup")
            return next()
        cached = self.cache.get(key)
        if question is None or cached is None:
            if key is not None:
                context[ANSWER_KEY] = key  # the listener's reply stores under it without reading the token again
            return next()
        log_request(user_of(body), question.what, question.text)
        encoded = cached.encoded(replace=False)

        def post() -> None:
            try:
                respond.post_encoded(encoded)
            except Exception as exc:  # Slack's response_url failed; the ack already went, so only the log can say
                log_failure(exc, what=f"{question.what} (cached)")

        if self.posting is None:
            post()
            return BoltResponse(status=200, body="")
        def in_the_ack() -> BoltResponse:
            """Flooded (or shutting down): Slack shows a slash command's ack body as the reply, nothing to post."""
            return BoltResponse(status=200, body=encoded.decode(), headers={"content-type": "application/json"})

        if not self.post_room.acquire(timeout=POST_ROOM_WAIT_S):
            return in_the_ack()

        def post_then_make_room() -> None:
            try:
                post()
            finally:
                self.post_room.release()

        try:
            self.posting.submit(post_then_make_room)  # never wait on Slack before acking
        except RuntimeError:  # the pool is shutting down with the process
            self.post_room.release()
            return in_the_ack()
        return BoltResponse(status=200, body="")

    def reply_to(self, respond: Respond, question: Question, context: BoltContext) -> None:
        """Answer a slash command's Question (from the cache when the middleware did not already)."""
        self.reply(respond, question.what, question.render, asked=question.asked, key=context.get(ANSWER_KEY))

    def reply(self, respond: Respond, what: str, render: Callable[[], Message], *,
              asked: tuple[Hashable, ...] | None = None, replace: bool = False, key: Hashable | None = None) -> None:
        """Answer ephemerally with `render()` after the ack, showing user mistakes and failures the usual way.

        `asked` is everything the answer depends on besides the store and the clock (command, text, the asker's
        role); when given, the same question on an unchanged store is answered from the cache, on this thread.
        `key` is its cache key when the middleware already made it.
        """
        cache = self.cache if asked is not None else None
        with answering(respond, what=what, replace=replace):
            if key is None and cache is not None and asked is not None:
                key = cache.key(*asked)
            if cache is not None and (cached := cache.get(key)) is not None:
                if isinstance(respond, KeptAliveRespond):
                    respond.post_encoded(cached.encoded(replace=replace))
                else:
                    ephemeral(respond, cached.message, replace=replace)
                return

            def answer() -> None:
                with answering(respond, what=what, replace=replace):
                    message = run_read(render)
                    if cache is not None:
                        cache.put(key, message)
                    ephemeral(respond, message, replace=replace)

            self.run(answer, busy=lambda: ephemeral(respond, busy_message()), what=what)

    def run(self, job: Callable[[], None], *, busy: Callable[[], None], what: str) -> None:
        """Run `job` soon, waiting a little for room; when none comes, call `busy` instead (it tells the user)."""
        if self.pool is None:
            job()
            return
        with self.room:
            full = not self.room.wait_for(lambda: self.pending < self.limit, timeout=self.room_wait_s)
            if not full:
                self.pending += 1
        if full:
            busy()
            return

        def guarded() -> None:
            try:
                job()
            except Exception as exc:  # jobs answer their own errors; this is the last resort
                log_failure(exc, what=what)
            finally:
                self._done()

        try:
            self.pool.submit(guarded)
        except RuntimeError:  # the pool is shutting down with the process
            self._done()
            busy()

    def _done(self) -> None:
        """One answer finished: make room for a waiting ack."""
        with self.room:
            self.pending -= 1
            self.room.notify()


def busy_message() -> Message:
    """What a user sees when the bot is flooded: no silent drop, a clear retry."""
    return error_message("I'm answering a lot of requests right now. Please try again in a few seconds.")
