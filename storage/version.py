"""A cheap token that changes whenever any process commits to the store, so cached answers know they are stale."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from sqlalchemy import Engine


class StoreVersion:
    """Reads the store's change token: equal tokens mean no commit happened in between (any process, any table).

    SQLite: `PRAGMA data_version` on a connection of our own that never writes; it changes whenever another
    connection (or process) commits. PostgreSQL: the current snapshot (`xmin:xmax:in-progress ids`), which moves
    when any writing transaction starts or ends and never returns to an earlier value. Neither costs writers anything.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self._lock = threading.Lock()
        self._watcher: Any = None  # a detached connection of our own that only reads the token

    def current(self) -> str | None:
        """The token now, or None when the store cannot say (an in-memory SQLite database): then never cache."""
        if self.sqlite and (self.engine.url.database or ":memory:") == ":memory:":
            return None
        with self._lock:  # one connection, shared by the listener threads: a pool checkout costs more than this
            for attempt in (1, 2):
                try:
                    return self._read()
                except self.engine.dialect.loaded_dbapi.Error:
                    self._drop()  # the server restarted or the connection broke: one fresh try
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _read(self) -> str:
        """Ask the watching connection (opening it first if needed)."""
        if self._watcher is None:
            watcher = self.engine.raw_connection()
            watcher.detach()  # ours for good: on SQLite a pooled connection's counter would be another's
            if not self.sqlite:
                watcher.dbapi_connection.autocommit = True  # type: ignore[union-attr]  # psycopg 3
            self._watcher = watcher
        cursor = self._watcher.cursor()
        try:
            cursor.execute("PRAGMA data_version" if self.sqlite else "SELECT pg_current_snapshot()::text")
            return f"{self.engine.dialect.name}:{cursor.fetchone()[0]}"
        finally:
            cursor.close()

    def _drop(self) -> None:
        """Forget the watching connection."""
        if self._watcher is not None:
            with contextlib.suppress(self.engine.dialect.loaded_dbapi.Error):  # already broken
                self._watcher.close()
            self._watcher = None

    def close(self) -> None:
        """Close the watching connection (tests and shutdown)."""
        with self._lock:
            self._drop()
