"""The answers pool: acks never wait long, a flood is slowed down, and a full pool says busy instead of hanging."""

from __future__ import annotations

import threading
import time

from handlers.background import Answers

release = threading.Event()


def hold() -> None:
    """A job that runs until the test releases it."""
    release.wait(5)


def test_inline_pool_runs_the_job_before_returning() -> None:
    ran: list[str] = []
    Answers(inline=True).run(lambda: ran.append("job"), busy=lambda: ran.append("busy"), what="t")
    assert ran == ["job"]


def test_jobs_run_off_the_calling_thread() -> None:
    answers = Answers(inline=False, threads=2)
    done = threading.Event()
    names: list[str] = []

    def job() -> None:
        names.append(threading.current_thread().name)
        done.set()

    answers.run(job, busy=lambda: None, what="t")
    assert done.wait(5)
    assert names[0].startswith("answer")


def test_a_full_pool_waits_for_room_then_says_busy_within_the_wait() -> None:
    answers = Answers(inline=False, threads=1, max_waiting=1, room_wait_s=0.3)
    release.clear()
    busy: list[int] = []
    for _ in range(2):  # one running, one queued: the pool is full
        answers.run(hold, busy=lambda: busy.append(1), what="t")
    start = time.monotonic()
    answers.run(lambda: None, busy=lambda: busy.append(1), what="t")
    waited = time.monotonic() - start
    release.set()
    assert busy == [1]
    assert 0.25 <= waited < 2


def test_room_freed_by_a_finished_job_lets_the_waiting_ack_through() -> None:
    answers = Answers(inline=False, threads=1, max_waiting=0, room_wait_s=5)
    release.clear()
    ran = threading.Event()
    answers.run(hold, busy=lambda: None, what="t")
    threading.Timer(0.2, release.set).start()
    busy: list[int] = []
    answers.run(ran.set, busy=lambda: busy.append(1), what="t")
    assert ran.wait(5)
    assert busy == []


def test_a_failing_job_frees_its_slot() -> None:
    answers = Answers(inline=False, threads=1, max_waiting=0, room_wait_s=2)

    def boom() -> None:
        raise RuntimeError("database went away")

    answers.run(boom, busy=lambda: None, what="t")
    ran = threading.Event()
    answers.run(ran.set, busy=lambda: None, what="t")
    assert ran.wait(5)
