"""CSV: streaming export of customers, and the cell codecs shared with the importer."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from sqlalchemy import Engine, String, and_, case, func, literal, or_, select, type_coerce
from sqlmodel import col

from storage.customers import customer_conditions, sort_columns
from storage.db import session_scope
from storage.models import Customer
from storage.query import Query
from storage.rules import utc_instant
from storage.types import UTCDateTime

EXPORT_HEADER = ["organization", "email", "seats", "status", "created_at", "canceled_at"]
# OWASP CSV injection: a spreadsheet runs cells that start with these as formulas.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_UTC_TYPE = UTCDateTime()
_PG_ISO = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'  # ISO 8601 in UTC with microseconds and a Z, as SQLite's rows get


def neutralise(value: str) -> str:
    """Prefix a formula-looking cell with `'`; an existing `'` before a trigger is doubled so decoding is exact."""
    if value.startswith(FORMULA_TRIGGERS) or (value.startswith("'") and value.lstrip("'").startswith(FORMULA_TRIGGERS)):
        return "'" + value
    return value


def restore(value: str) -> str:
    """Undo `neutralise`: drop the one quote it added."""
    if value.startswith("'") and value.lstrip("'").startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


def parse_instant(value: str) -> datetime:
    """Parse ISO 8601 (date or date-time, Z or offset; naive means UTC) into aware UTC.

    ValueError for text that is not such a date, InstantOutOfRange for one outside years 1-9999 once in UTC.
    """
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    try:
        return utc_instant(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))
    except ValueError as exc:
        raise InstantOutOfRange(str(exc)) from None


class InstantOutOfRange(ValueError):
    """A well-formed date that leaves years 1-9999 once moved to UTC (0001-01-01T00:00:00+01:00)."""


def export_customers(*, engine: Engine, query: Query, out: TextIO, batch: int = 5000) -> int:
    """Stream the customers a query matches as CSV in its sort order; returns the number of rows written."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_HEADER)
    sqlite = engine.dialect.name == "sqlite"
    stamps: tuple[Any, Any] = (col(Customer.created_at), col(Customer.canceled_at))
    # Instants leave the database as ISO 8601 UTC text with a Z, so the hot loop below only copies strings.
    stamps = (_iso_text(stamps[0], sqlite), _iso_text(stamps[1], sqlite))
    columns = (neutralised(col(Customer.organization), sqlite=sqlite), neutralised(col(Customer.email), sqlite=sqlite),
               col(Customer.seats), col(Customer.status), *stamps)
    rows = 0
    with session_scope(engine) as session:
        stmt = select(*columns).where(*customer_conditions(session, query)).order_by(*sort_columns(query))
        if sqlite:  # sqlite3 cursors fetch lazily: read the driver's cursor directly, no Row objects
            cursor = session.connection().execute(stmt).cursor
            chunks: Iterable[Sequence[Any]] = iter(lambda: cursor.fetchmany(batch), [])
        else:  # PostgreSQL needs a server-side cursor to keep memory flat
            result = session.connection().execution_options(stream_results=True, yield_per=batch).execute(stmt)
            chunks = result.partitions(batch)
        for chunk in chunks:  # every cell is final text from the database: the csv module's C loop writes it
            writer.writerows(chunk)
            rows += len(chunk)
    return rows


def neutralised(text: Any, *, sqlite: bool) -> Any:
    """`neutralise` of a text column, done by the database (SQLite and PostgreSQL share substr and ltrim)."""
    first = func.substr(text, 1, 1)
    quoted_trigger = and_(first == "'", func.substr(func.ltrim(text, "'"), 1, 1).in_(FORMULA_TRIGGERS))
    risky = or_(first.in_(FORMULA_TRIGGERS), quoted_trigger)
    if sqlite:  # every trigger and the quote sort before "A" in SQLite's byte order: most cells skip the calls
        risky = and_(text < "A", risky)
    return case((risky, literal("'") + text), else_=text)


def _iso_text(stamp: Any, sqlite: bool) -> Any:
    """An instant column as 'YYYY-MM-DDTHH:MM:SS.ffffffZ' (empty when NULL), formatted by the database."""
    if sqlite:  # SQLite keeps UTC as 'YYYY-MM-DD HH:MM:SS.ffffff': re-punctuate the text, never parse it
        return func.coalesce(func.replace(type_coerce(stamp, String), " ", "T") + "Z", "")
    return func.coalesce(func.to_char(func.timezone("UTC", stamp), _PG_ISO), "")
