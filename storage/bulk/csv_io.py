"""CSV: streaming export of customers, and the cell codecs shared with the importer."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from sqlalchemy import Engine, String, and_, case, cast, func, literal, or_, select, type_coerce
from sqlmodel import col

from storage.customers import customer_conditions, sort_columns
from storage.db import MMAP_BYTES, session_scope
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
    """Stream the customers a query matches as CSV in its sort order; returns the number of rows written.

    The database writes each row as a finished CSV line (neutralised, quoted and punctuated exactly as `csv.writer`
    writes them), so this loop only joins strings: the export costs little more than reading the rows.
    """
    out.write(",".join(EXPORT_HEADER) + "\r\n")
    sqlite = engine.dialect.name == "sqlite"
    cells = (csv_cell(neutralised(col(Customer.organization), sqlite=sqlite), sqlite=sqlite),
             csv_cell(neutralised(col(Customer.email), sqlite=sqlite), sqlite=sqlite),
             cast(col(Customer.seats), String), col(Customer.status),  # digits; a status name (CHECK constraint)
             _iso_text(col(Customer.created_at), sqlite), _iso_text(col(Customer.canceled_at), sqlite))
    line = cells[0]
    for cell in cells[1:]:
        line = line + literal(",") + cell
    rows = 0
    with session_scope(engine) as session:
        stmt = select(line).where(*customer_conditions(session, query)).order_by(*sort_columns(query))
        conn = session.connection()
        if sqlite:  # sqlite3 cursors fetch lazily: read the driver's cursor directly, no Row objects
            # Every page is read once: through the memory map (storage.db) each would stay in the process's resident
            # memory, growing with the store; read into the page cache, memory stays flat (bench/README).
            conn.exec_driver_sql("PRAGMA mmap_size=0")
            cursor = conn.execute(stmt).cursor
            chunks: Iterable[Sequence[Any]] = iter(lambda: cursor.fetchmany(batch), [])
        else:  # PostgreSQL needs a server-side cursor to keep memory flat
            result = conn.execution_options(stream_results=True, yield_per=batch).execute(stmt)
            chunks = result.partitions(batch)
        try:
            for chunk in chunks:
                out.write("\r\n".join([text for (text,) in chunk]) + "\r\n")
                rows += len(chunk)
        finally:
            if sqlite:
                cursor.close()
                conn.exec_driver_sql(f"PRAGMA mmap_size={MMAP_BYTES}")
    return rows


def csv_cell(text: Any, *, sqlite: bool) -> Any:
    """A text column as `csv.writer` writes the cell: in double quotes, doubled inside, when it holds , " CR or LF."""
    find = func.instr if sqlite else func.strpos
    special = or_(*(find(text, char) > 0 for char in (",", '"', "\n", "\r")))
    return case((special, literal('"') + func.replace(text, '"', '""') + literal('"')), else_=text)


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
