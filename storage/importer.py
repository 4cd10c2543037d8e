"""Importing customers from CSV: validate the whole file first, then upsert in bulk in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from sqlalchemy import Connection, Engine, bindparam, insert, select, update
from sqlmodel import col

from storage.bulk import bulk_insert, bulk_mode, db_ts
from storage.csv_read import Cells, ImportRejected, Problem, read_rows
from storage.db import session_scope
from storage.forked import iterate_forked
from storage.models import Customer, SeatChange, Status
from storage.query import STATUS_ALIASES
from storage.writes import record_audit

CUSTOMER_ALIASES = {"external_id": "id", "created": "created_at", "canceled": "canceled_at",
                    "cancelled_at": "canceled_at", "org": "organization"}
CUSTOMER_REQUIRED = {"organization", "email", "seats", "status"}
CUSTOMER_OPTIONAL = {"id", "created_at", "canceled_at"}
BATCH = 20_000
BULK_MIN_ROWS = 50_000
_INSERT_COLUMNS = ("external_id", "organization", "email", "email_key", "seats", "status", "created_at",
                   "canceled_at", "updated_at")
_STATUSES = {s.value for s in Status}


@dataclass(frozen=True)
class ImportResult:
    """What an import did."""

    kind: str
    rows: int
    inserted: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class _Row:
    """A validated customer row."""

    line: int
    external_id: str | None
    organization: str
    email: str
    seats: int
    status: str
    created_at: datetime | None
    canceled_at: datetime | None


def _fast_instant(raw: str) -> tuple[bool, datetime | None]:
    """(True, aware UTC or None when empty) for a plain ISO 8601 cell; (False, None) lets the careful path judge."""
    if not raw:
        return True, None
    if len(raw) > 40 or raw[0] == "'":
        return False, None
    try:
        parsed = datetime.fromisoformat(raw)  # Python 3.11 reads the Z of our exports itself
    except ValueError:
        return False, None
    return True, (parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC))


def _fast_customer_row(line: int, values: dict[str, str]) -> _Row | None:
    """The common, clean row without per-cell bookkeeping; None sends the row to `_customer_row` (same rules)."""
    get = values.get
    organization, email = get("organization", "").strip(), get("email", "").strip()
    seats, status = get("seats", "").strip(), get("status", "").strip().lower()
    external_id = get("id", "").strip() or None
    if not (organization and email and 0 < len(seats) <= 20 and seats.isascii() and seats.isdigit()) \
            or len(organization) > 500 or len(email) > 320 or "@" not in email or " " in email \
            or "'" in (organization[0], email[0]) \
            or (external_id is not None and (len(external_id) > 255 or external_id[0] == "'")):
        return None
    status = STATUS_ALIASES.get(status, status)
    created_ok, created_at = _fast_instant(get("created_at", "").strip())
    canceled_ok, canceled_at = _fast_instant(get("canceled_at", "").strip())
    if status not in _STATUSES or not (created_ok and canceled_ok) \
            or (canceled_at is not None and status != Status.canceled.value):
        return None
    return _Row(line, external_id, organization, email, int(seats), status, created_at, canceled_at)


def _customer_row(cells: Cells) -> _Row | None:
    """Validate one row; problems are collected on `cells`."""
    organization = cells.text("organization")
    email = cells.text("email", limit=320)
    if email is not None and ("@" not in email or " " in email):
        cells.problem("email", f"{email!r} is not an email address")
    seats = cells.integer("seats")
    raw_status = (cells.text("status", limit=30) or "").lower()
    status = STATUS_ALIASES.get(raw_status, raw_status)
    if raw_status and status not in _STATUSES:
        cells.problem("status", f"{raw_status!r} is not a status; use one of {', '.join(sorted(_STATUSES))}")
    created_at = cells.instant("created_at")
    canceled_at = cells.instant("canceled_at")
    if canceled_at is not None and status != Status.canceled.value and status in _STATUSES:
        cells.problem("canceled_at", f"is set but the status is {status}; leave it empty or set status canceled")
    external_id = cells.text("id", required=False, limit=255)
    if cells.problems or organization is None or email is None or seats is None:
        return None
    return _Row(cells.line, external_id, organization, email, seats, status, created_at, canceled_at)


def import_customers(
    *, engine: Engine, source: TextIO, name: str, actor: str, now: datetime,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Upsert customers by external id, else by email; reject the whole file on any problem.

    Into an empty store every row is new: a child process validates the file while this one loads the rows it has
    passed. Otherwise the whole file is validated first (before taking the write lock), then matched and written.
    """
    rows = None if _store_is_empty(engine) else _validated(source, progress)
    with session_scope(engine, write=True) as session:
        conn = session.connection()
        if rows is None and not _store_is_empty(conn):  # customers arrived since the first look
            rows = _validated(source, progress)
        result = _load_into_empty(conn, source, now, progress) if rows is None else _upsert(conn, rows, now=now)
        record_audit(session=session, actor=actor, action="import",
                     details={"kind": "customers", "file": name, "rows": result.rows, "inserted": result.inserted,
                              "updated": result.updated, "unchanged": result.unchanged})
    return result


def _store_is_empty(bind: Engine | Connection) -> bool:
    """True when there is no customer yet."""
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return _store_is_empty(conn)
    return bind.execute(select(col(Customer.id)).limit(1)).first() is None


def _validated_batches(
    source: TextIO, progress: Callable[[int], None] | None
) -> Iterator[tuple[list[_Row], list[Problem]]]:
    """The file's valid rows and its problems, a batch at a time (duplicates are caught across the whole file)."""
    rows: list[_Row] = []
    problems: list[Problem] = []
    seen_ids: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    for cells in read_rows(source, aliases=CUSTOMER_ALIASES, required=CUSTOMER_REQUIRED,
                           optional=CUSTOMER_OPTIONAL, progress=progress):
        row = None if cells.problems else _fast_customer_row(cells.line, cells.values)
        row = row or _customer_row(cells)
        if row is not None:
            if row.external_id and row.external_id in seen_ids:
                cells.problem("id", f"{row.external_id!r} already appears on line {seen_ids[row.external_id]}")
            if row.email.lower() in seen_emails:
                cells.problem("email", f"already appears on line {seen_emails[row.email.lower()]}")
            if row.external_id:
                seen_ids.setdefault(row.external_id, row.line)
            seen_emails.setdefault(row.email.lower(), row.line)
        problems += cells.problems
        if row is not None and not cells.problems:
            rows.append(row)
        if len(rows) >= BATCH:
            yield rows, problems
            rows, problems = [], []
    yield rows, problems


def _validated(source: TextIO, progress: Callable[[int], None] | None) -> list[_Row]:
    """Every row of a valid file; ImportRejected listing every problem otherwise."""
    rows: list[_Row] = []
    problems: list[Problem] = []
    for batch, batch_problems in _validated_batches(source, progress):
        rows += batch
        problems += batch_problems
    if problems:
        raise ImportRejected(problems)
    return rows


def _load_into_empty(
    conn: Connection, source: TextIO, now: datetime, progress: Callable[[int], None] | None
) -> ImportResult:
    """Insert every row in bulk as a child process validates them; on any problem raise (the caller rolls back)."""
    sqlite = conn.dialect.name == "sqlite"
    stamp = db_ts(now, sqlite)

    def insert_rows(progress: Callable[[int], None] | None) -> Iterator[tuple[list[tuple[Any, ...]], list[Problem]]]:
        for rows, problems in _validated_batches(source, progress):
            yield [(r.external_id, r.organization, r.email, r.email.lower(), r.seats, r.status,
                    db_ts(r.created_at or now, sqlite), db_ts(_canceled_at(r, None, now), sqlite), stamp)
                   for r in rows], problems

    inserted = 0

    def load() -> None:
        nonlocal inserted
        problems: list[Problem] = []
        for rows, batch_problems in iterate_forked(insert_rows, progress):
            problems += batch_problems
            if not problems:  # after the first problem only the rest of the problems matter
                bulk_insert(conn, "customer", _INSERT_COLUMNS, rows)
                inserted += len(rows)
        if problems:
            raise ImportRejected(problems)

    bulk_mode(conn, load)
    return ImportResult(kind="customers", rows=inserted, inserted=inserted, updated=0, unchanged=0)


_EXISTING = (col(Customer.id), col(Customer.external_id), col(Customer.organization), col(Customer.email),
             col(Customer.seats), col(Customer.status), col(Customer.created_at), col(Customer.canceled_at))


def _upsert(conn: Connection, rows: list[_Row], *, now: datetime) -> ImportResult:
    """Match rows to existing customers, then insert, update and write seat history in batches."""
    by_id: dict[str, tuple[Any, ...]] = {}
    by_email: dict[str, tuple[Any, ...]] = {}
    for existing in conn.execute(select(*_EXISTING)):
        if existing.external_id:
            by_id[existing.external_id] = tuple(existing)
        by_email[existing.email.lower()] = tuple(existing)
    inserts: list[tuple[Any, ...]] = []  # in _INSERT_COLUMNS order: a million dicts cost seconds
    updates: list[dict[str, Any]] = []
    seat_changes: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for row in rows:
        current = by_id.get(row.external_id or "") or by_email.get(row.email.lower())
        canceled_at = _canceled_at(row, current, now)
        if current is None:
            inserts.append((row.external_id, row.organization, row.email, row.email.lower(), row.seats, row.status,
                            row.created_at or now, canceled_at))
            continue
        cid, ext, org, email, seats, status, created_at, old_canceled = current
        owner = by_email.get(row.email.lower())
        if owner is not None and owner[0] != cid:
            problems.append(Problem(row.line, "email", "belongs to another customer (a different id)"))
            continue
        if row.external_id and ext and ext != row.external_id:
            problems.append(Problem(row.line, "id", f"the customer with this email has id {ext!r}"))
            continue
        new = (row.external_id or ext, row.organization, row.email, row.seats, row.status,
               row.created_at or created_at, canceled_at)
        if new == (ext, org, email, seats, status, created_at, old_canceled):
            continue
        updates.append({"b_id": cid, "external_id": new[0], "organization": row.organization, "email": row.email,
                        "email_key": row.email.lower(), "seats": row.seats, "status": row.status,
                        "created_at": new[5], "canceled_at": canceled_at, "updated_at": now})
        if row.seats != seats:
            seat_changes.append({"customer_id": cid, "old_seats": seats, "new_seats": row.seats, "at": now})
    if problems:
        raise ImportRejected(problems)
    def write() -> None:
        table = Customer.__table__  # type: ignore[attr-defined]
        if bulk:
            sqlite = conn.dialect.name == "sqlite"
            stamp = db_ts(now, sqlite)
            bulk_insert(conn, "customer", _INSERT_COLUMNS, (
                (*head, db_ts(created, sqlite), canceled and db_ts(canceled, sqlite), stamp)
                for *head, created, canceled in inserts))
        else:
            for start in range(0, len(inserts), BATCH):
                conn.execute(insert(table), [dict(zip(_INSERT_COLUMNS, (*r, now), strict=True))
                                             for r in inserts[start:start + BATCH]])
        if updates:
            stmt = update(table).where(table.c.id == bindparam("b_id"))
            for start in range(0, len(updates), BATCH):
                conn.execute(stmt, updates[start:start + BATCH])
        if seat_changes:
            conn.execute(insert(SeatChange.__table__), seat_changes)  # type: ignore[attr-defined]

    # A backfill at least as large as the store: load with indexes and triggers off, rebuild them once.
    bulk = len(inserts) >= max(BULK_MIN_ROWS, len(by_email))
    if bulk:
        bulk_mode(conn, write)
    else:
        write()
    return ImportResult(kind="customers", rows=len(rows), inserted=len(inserts), updated=len(updates),
                        unchanged=len(rows) - len(inserts) - len(updates))


def _canceled_at(row: _Row, current: tuple[Any, ...] | None, now: datetime) -> datetime | None:
    """Canceled rows keep the stated or known cancel time (else now); other statuses have none."""
    if row.status != Status.canceled.value:
        return None
    return row.canceled_at or (current[7] if current is not None else None) or now
