"""Building SQLite's search index beside a bulk load: on another thread, in a scratch database, then copied in.

A bulk load rebuilds the trigram index from every customer (3-6 s at 1M). SQLite runs one statement at a time per
connection, but a second connection on another thread builds the same index in a scratch database while the load's
connection builds its B-tree indexes (both release the GIL); installing it is then a copy of its shadow tables.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import closing
from typing import Any

from sqlalchemy import Connection

SEARCH_INDEX = "customer_fts"


class SearchIndexBuild:
    """The customer search index, built in the background from a loading connection's rows; `install` puts it in."""

    def __init__(self, conn: Connection) -> None:
        """Start building from every customer `conn` sees (its transaction's own rows included)."""
        raw = _raw(conn)
        self._declaration: str = raw.execute(
            "SELECT sql FROM sqlite_master WHERE name = ?", (SEARCH_INDEX,)).fetchone()[0]
        self._rows: list[tuple[int, str, str]] = raw.execute(
            "SELECT id, organization, email FROM customer").fetchall()
        self._scratch = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._build, name="search-index-build", daemon=True)
        self._thread.start()

    def _build(self) -> None:
        """Fill a copy of the content columns and rebuild the index from them (the same declaration as the store's)."""
        try:
            db = self._scratch
            db.execute("PRAGMA cache_size=-262144")
            db.execute("CREATE TABLE customer (id INTEGER PRIMARY KEY, organization TEXT, email TEXT)")
            db.execute(self._declaration)
            db.execute("BEGIN")
            db.executemany("INSERT INTO customer (id, organization, email) VALUES (?, ?, ?)", self._rows)
            db.execute(f"INSERT INTO {SEARCH_INDEX}({SEARCH_INDEX}) VALUES ('rebuild')")
            db.execute("COMMIT")
        except BaseException as exc:  # re-raised on the loading thread by install()
            self._error = exc
        finally:
            self._rows = []

    def install(self, conn: Connection) -> None:
        """Wait for the build, then replace the store's index with it, in `conn`'s transaction."""
        self._thread.join()
        with closing(self._scratch) as scratch:
            if self._error is not None:
                raise self._error
            raw = _raw(conn)
            # A fresh virtual table: this connection's old one may have cached the previous index's structure.
            raw.execute(f"DROP TABLE {SEARCH_INDEX}")
            raw.execute(self._declaration)
            shadows = [name for (name,) in scratch.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                if name.startswith(f"{SEARCH_INDEX}_")]
            for name in shadows:
                width = len(scratch.execute(f"SELECT * FROM {name} LIMIT 0").description)
                raw.execute(f"DELETE FROM {name}")
                raw.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * width)})",
                                scratch.execute(f"SELECT * FROM {name}"))


    def discard(self) -> None:
        """Stop the build and free it (the load failed)."""
        while self._thread.is_alive():  # an interrupt between two executemany rows is lost: repeat until it lands
            self._scratch.interrupt()
            self._thread.join(0.05)
        self._scratch.close()


def _raw(conn: Connection) -> Any:
    """The sqlite3 connection under a SQLAlchemy connection."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    return raw
