"""Iterating a producer in a forked child process, so pure-Python work (parsing, validating) overlaps the writer's."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection
from typing import Any, TypeVar

T = TypeVar("T")
Progress = Callable[[int], None] | None


class ChildFailed(RuntimeError):
    """The child process died without saying why (killed, out of memory)."""


def iterate_forked(produce: Callable[[Progress], Iterable[T]], progress: Progress = None) -> Iterator[T]:
    """Yield what `produce(progress)` yields, computed in a child process; its exceptions are raised here.

    The child is forked (it inherits `produce` and its inputs without pickling) and sends items as they come; the
    pipe's buffer is the back-pressure. The child touches nothing but its inputs, and ends without running exit
    handlers, so the parent's open database connections are left alone. Without fork the producer runs inline.
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        yield from produce(progress)
        return
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_send_all, args=(produce, receiver, sender, progress is not None), daemon=True,
                            name="import-validator")
    child.start()
    sender.close()
    try:
        while True:
            try:
                kind, payload = receiver.recv()
            except EOFError:
                child.join(timeout=5)
                raise ChildFailed(f"the validating process ended unexpectedly (exit code {child.exitcode})") from None
            if kind == "item":
                yield payload
            elif kind == "progress" and progress is not None:
                progress(payload)
            elif kind == "error":
                raise payload
            elif kind == "done":
                return
    finally:
        receiver.close()
        if child.is_alive():
            child.terminate()  # the parent stopped early (an error of its own): nobody reads the rest
        child.join()


def _send_all(
    produce: Callable[[Progress], Iterable[Any]], receiver: Connection, sender: Connection, report: bool
) -> None:
    """The child's side: send every item, progress counts, then "done" (or the exception)."""
    receiver.close()  # the parent's end: with it closed here, a parent that dies breaks the pipe and ends this child
    try:
        for item in produce((lambda rows: sender.send(("progress", rows))) if report else None):
            sender.send(("item", item))
        sender.send(("done", None))
    except BaseException as exc:  # re-raised in the parent
        sender.send(("error", exc))
    finally:
        sender.close()
