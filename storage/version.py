"""A cheap token that changes whenever any process commits to the store, so cached answers know they are stale."""

from __future__ import annotations

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
        self._watcher: Any = None  # SQLite: the detached, read-only connection that watches for commits

    def current(self) -> str | None:
        """The token now, or None when the store cannot say (an in-memory SQLite database): then never cache."""
        if not self.sqlite:
            with self.engine.connect() as conn:
                return str(conn.exec_driver_sql("SELECT pg_current_snapshot()::text").scalar_one())
        if (self.engine.url.database or ":memory:") == ":memory:":
            return None
        with self._lock:  # one connection, shared by the listener threads
            if self._watcher is None:
                self._watcher = self.engine.raw_connection()
                self._watcher.detach()  # ours for good: a pooled connection's counter would be another's
            row = self._watcher.execute("PRAGMA data_version").fetchone()
        return f"sqlite:{row[0]}"

    def close(self) -> None:
        """Close the watching connection (tests and shutdown)."""
        with self._lock:
            if self._watcher is not None:
                self._watcher.close()
                self._watcher = None
