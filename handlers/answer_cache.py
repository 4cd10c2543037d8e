"""Recently rendered answers, reused while the store is unchanged: a repeated command costs no query."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime

from handlers.blocks.common import Message

MAX_ANSWERS = 256  # a page of blocks is a few KB: a few MB at most


@dataclass
class CachedAnswer:
    """A rendered answer, also kept as the JSON an ephemeral reply posts: encoding a page costs more than a hit."""

    message: Message
    at: datetime
    _encoded: dict[bool, bytes] = field(default_factory=dict)

    def encoded(self, *, replace: bool) -> bytes:
        """The response_url body for this answer (what `handlers.common.ephemeral` would post)."""
        if replace not in self._encoded:
            self._encoded[replace] = json.dumps({"text": self.message["text"], "blocks": self.message["blocks"],
                                                 "response_type": "ephemeral", "replace_original": replace}).encode()
        return self._encoded[replace]


class AnswerCache:
    """Rendered messages keyed by what was asked, the asker's role and the store's change token.

    A key made while the store changes is never seen again (the token moves), so an answer is only reused while no
    commit happened since it was rendered. Answers also age out after `ttl_s` by the bot's clock, because windows
    like `7d` and the balance's clearing depend on the time, not only on the data.
    """

    def __init__(self, *, version: Callable[[], str | None], clock: Callable[[], datetime], ttl_s: float,
                 max_answers: int = MAX_ANSWERS) -> None:
        self.version = version
        self.clock = clock
        self.ttl_s = ttl_s
        self.max_answers = max_answers
        self._answers: OrderedDict[Hashable, CachedAnswer] = OrderedDict()
        self._lock = threading.Lock()

    def key(self, *asked: Hashable) -> Hashable | None:
        """The key for a question as the store is now; None when answers must not be reused."""
        if self.ttl_s <= 0:
            return None
        token = self.version()
        return None if token is None else (token, *asked)

    def get(self, key: Hashable | None) -> CachedAnswer | None:
        """The answer rendered for this key, if still young enough."""
        if key is None:
            return None
        with self._lock:
            found = self._answers.get(key)
            if found is None:
                return None
            age = (self.clock() - found.at).total_seconds()
            if not 0 <= age < self.ttl_s:  # too old, or the clock went back (tests travel in time)
                del self._answers[key]
                return None
            self._answers.move_to_end(key)
            return found

    def put(self, key: Hashable | None, answer: Message) -> None:
        """Remember an answer, forgetting the least recently used beyond the limit."""
        if key is None:
            return
        with self._lock:
            self._answers[key] = CachedAnswer(message=answer, at=self.clock())
            self._answers.move_to_end(key)
            while len(self._answers) > self.max_answers:
                self._answers.popitem(last=False)
