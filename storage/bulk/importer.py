"""Importing customers from CSV, all or nothing: into an empty store as a bulk load, otherwise as a matched upsert."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import Connection, Engine, bindparam, insert, select, update
from sqlmodel import col

from storage.alerts import import_changes, record_import_alerts
from storage.bulk.csv_read import ImportRejected, Problem
from storage.bulk.customer_rows import CustomerRow, insert_rows, stated_cancel, validated, validated_batches
from storage.bulk.load import bulk_insert, bulk_mode, collector_paused, db_ts, vacuum_loaded_tables
from storage.db import session_scope
from storage.models import Customer, SeatChange
from storage.movements import paying_mrr, record_first_mrr, write_mrr_changes
from storage.writes import record_audit

BATCH = 20_000
BULK_MIN_ROWS = 50_000
INSERT_COLUMNS = ("external_id", "organization", "email", "email_key", "seats", "status", "created_at",
                  "canceled_at", "updated_at", "mrr", "currency")


@dataclass(frozen=True)
class ImportResult:
    """What an import did."""

    kind: str
    rows: int
    inserted: int
    updated: int
    unchanged: int


def import_customers(
    *, engine: Engine, source: TextIO, name: str, actor: str, now: datetime,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Upsert customers by external id, else by email; reject the whole file on any problem.

    Into an empty store every row is new: each batch is validated, then bulk-loaded, and a problem anywhere rolls the
    whole load back. Otherwise the whole file is validated first (before taking the write lock), then matched and
    written.
    """
    with collector_paused():
        result = _import_customers(engine=engine, source=source, name=name, actor=actor, now=now, progress=progress)
    if result.inserted:
        vacuum_loaded_tables(engine)
    return result


def _import_customers(
    *, engine: Engine, source: TextIO, name: str, actor: str, now: datetime, progress: Callable[[int], None] | None
) -> ImportResult:
    """import_customers, with the collector paused."""
    rows = None if _store_is_empty(engine) else validated(source, progress)
    with session_scope(engine, write=True) as session:
        conn = session.connection()
        if conn.dialect.name == "postgresql":  # SQLite's BEGIN IMMEDIATE already holds the write lock
            # Writers and row lockers (SELECT ... FOR UPDATE) wait until the import commits; plain readers do not.
            # What it matched or found empty stays so, and taken first, before anything else, it cannot deadlock.
            conn.exec_driver_sql("LOCK TABLE customer IN EXCLUSIVE MODE")
        if rows is None and not _store_is_empty(conn):  # customers arrived since the first look
            rows = validated(source, progress)
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


def _load_into_empty(
    conn: Connection, source: TextIO, now: datetime, progress: Callable[[int], None] | None
) -> ImportResult:
    """Validate and bulk-insert every row, a batch at a time; on any problem raise (the caller rolls back)."""
    sqlite = conn.dialect.name == "sqlite"
    inserted = 0

    def load() -> None:
        nonlocal inserted
        problems: list[Problem] = []
        for rows, batch_problems in validated_batches(source, progress):
            problems += batch_problems
            if not problems:  # after the first problem only the rest of the problems matter
                bulk_insert(conn, "customer", INSERT_COLUMNS, insert_rows(rows, now=now, sqlite=sqlite))
                inserted += len(rows)
        if problems:
            raise ImportRejected(problems)
        record_first_mrr(conn, after_id=0)  # the store was empty: every customer is this file's

    bulk_mode(conn, load)
    return ImportResult(kind="customers", rows=inserted, inserted=inserted, updated=0, unchanged=0)


_EXISTING = (col(Customer.id), col(Customer.external_id), col(Customer.organization), col(Customer.email),
             col(Customer.seats), col(Customer.status), col(Customer.created_at), col(Customer.canceled_at),
             col(Customer.mrr), col(Customer.currency))


def _upsert(conn: Connection, rows: list[CustomerRow], *, now: datetime) -> ImportResult:
    """Match rows to existing customers, then insert, update and write seat history in batches."""
    by_id: dict[str, tuple[Any, ...]] = {}
    by_email: dict[str, tuple[Any, ...]] = {}
    for existing in conn.execute(select(*_EXISTING)):
        if existing.external_id:
            by_id[existing.external_id] = tuple(existing)
        by_email[existing.email.lower()] = tuple(existing)
    inserts: list[tuple[Any, ...]] = []  # in INSERT_COLUMNS order: a million dicts cost seconds
    updates: list[dict[str, Any]] = []
    seat_changes: list[dict[str, Any]] = []
    mrr_changes: list[tuple[int, int, str | None, int, str | None]] = []  # id, old mrr and currency, new ones
    problems: list[Problem] = []
    for row in rows:
        current = by_id.get(row.external_id or "") or by_email.get(row.email.lower())
        canceled_at = stated_cancel(row, current, now)
        if current is None:
            inserts.append((row.external_id, row.organization, row.email, row.email.lower(), row.seats, row.status,
                            row.created_at or now, canceled_at, row.mrr or 0, row.currency))
            continue
        cid, ext, org, email, seats, status, created_at, old_canceled, old_mrr, old_currency = current
        owner = by_email.get(row.email.lower())
        if owner is not None and owner[0] != cid:
            problems.append(Problem(row.line, "email", "belongs to another customer (a different id)"))
            continue
        if row.external_id and ext and ext != row.external_id:
            problems.append(Problem(row.line, "id", f"the customer with this email has id {ext!r}"))
            continue
        # Without an mrr cell the MRR stays, unless the new status pays nothing (a churn, as live events do).
        mrr = paying_mrr(row.status, old_mrr if row.mrr is None else row.mrr)
        currency = row.currency or old_currency
        new = (row.external_id or ext, row.organization, row.email, row.seats, row.status,
               row.created_at or created_at, canceled_at, mrr, currency)
        if new == (ext, org, email, seats, status, created_at, old_canceled, old_mrr, old_currency):
            continue
        updates.append({"b_id": cid, "external_id": new[0], "organization": row.organization, "email": row.email,
                        "email_key": row.email.lower(), "seats": row.seats, "status": row.status,
                        "created_at": new[5], "canceled_at": canceled_at, "updated_at": now, "mrr": mrr,
                        "currency": currency})
        if (mrr, currency) != (old_mrr, old_currency):
            mrr_changes.append((cid, old_mrr, old_currency, mrr, currency))
        if row.seats != seats:
            seat_changes.append({"customer_id": cid, "old_seats": seats, "new_seats": row.seats, "at": now})
    if problems:
        raise ImportRejected(problems)
    def write() -> None:
        table = Customer.__table__  # type: ignore[attr-defined]
        if bulk:
            sqlite = conn.dialect.name == "sqlite"
            stamp = db_ts(now, sqlite)
            bulk_insert(conn, "customer", INSERT_COLUMNS, (
                (*head, db_ts(created, sqlite), canceled and db_ts(canceled, sqlite), stamp, mrr, currency)
                for *head, created, canceled, mrr, currency in inserts))
        else:
            for start in range(0, len(inserts), BATCH):
                conn.execute(insert(table), [dict(zip(INSERT_COLUMNS, (*r[:8], now, *r[8:]), strict=True))
                                             for r in inserts[start:start + BATCH]])
        if updates:
            stmt = update(table).where(table.c.id == bindparam("b_id"))
            for start in range(0, len(updates), BATCH):
                conn.execute(stmt, updates[start:start + BATCH])
        if seat_changes:
            conn.execute(insert(SeatChange.__table__), seat_changes)  # type: ignore[attr-defined]
        record_first_mrr(conn, after_id=last_id)
        write_mrr_changes(conn, mrr_changes, at=now)

    last_id = max((row[0] for row in by_email.values()), default=0)  # new customers get higher ids
    # A backfill at least as large as the store: load with indexes and triggers off, rebuild them once.
    bulk = len(inserts) >= max(BULK_MIN_ROWS, len(by_email))
    if bulk:
        bulk_mode(conn, write)
    else:
        write()
    record_import_alerts(conn=conn, changes=import_changes(inserts=inserts, updates=updates,  # one summary per rule
                                                           existing=by_email.values()), source="import", now=now)
    return ImportResult(kind="customers", rows=len(rows), inserted=len(inserts), updated=len(updates),
                        unchanged=len(rows) - len(inserts) - len(updates))


