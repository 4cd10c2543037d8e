"""Importing payments and payouts from CSV (major units in the file, minor units in the store)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TextIO

from sqlalchemy import Connection, Engine, Table, bindparam, insert, select, update
from sqlmodel import col

from storage.bulk.csv_read import Cells, ImportRejected, Problem, read_rows
from storage.bulk.importer import BATCH, ImportResult
from storage.db import session_scope
from storage.models import Customer, Payment, Payout, PayoutStatus
from storage.rules import EMAIL_MAX, EXTERNAL_ID_MAX, is_currency
from storage.writes import record_audit

PAYMENT_COLUMNS = ({"id", "customer", "amount", "currency", "created_at"}, {"fee", "refunded_amount", "refunded_at"})
PAYOUT_COLUMNS = ({"id", "amount", "currency", "status", "created_at"}, {"arrival_date"})
_PAYOUT_STATUSES = {s.value for s in PayoutStatus}


def _currency(cells: Cells) -> str | None:
    """An ISO 4217 code in use, upper-cased."""
    raw = cells.text("currency", limit=10)
    if raw is not None and not is_currency(raw):
        cells.problem("currency", f"{raw!r} is not an ISO 4217 currency code like USD or EUR")
        return None
    return raw.upper() if raw else None


def _payment(cells: Cells, customers: dict[str, int]) -> dict[str, Any] | None:
    """Validate one payment row against the known customers."""
    external_id = cells.text("id", limit=EXTERNAL_ID_MAX)
    key = cells.text("customer", limit=max(EXTERNAL_ID_MAX, EMAIL_MAX))
    customer_id = customers.get(key) if key else None
    if key and customer_id is None:
        customer_id = customers.get(key.lower())
    if key and customer_id is None:
        cells.problem("customer", f"{key!r} is not a known customer id or email; import the customers first")
    currency = _currency(cells)
    amount = cells.money("amount", currency)
    fee = cells.money("fee", currency, required=False)
    refunded = cells.money("refunded_amount", currency, required=False)
    created_at = cells.instant("created_at", required=True)
    refunded_at = cells.instant("refunded_at")
    if amount is not None and refunded is not None and refunded > amount:
        cells.problem("refunded_amount", "is larger than the amount")
    if refunded and refunded_at is None:
        cells.problem("refunded_at", "is required when refunded_amount is not 0")
    if cells.problems:
        return None
    return {"external_id": external_id, "customer_id": customer_id, "amount": amount, "currency": currency,
            "fee": fee or 0, "created_at": created_at, "refunded_amount": refunded or 0, "refunded_at": refunded_at}


def _payout(cells: Cells) -> dict[str, Any] | None:
    """Validate one payout row."""
    external_id = cells.text("id", limit=EXTERNAL_ID_MAX)
    currency = _currency(cells)
    amount = cells.money("amount", currency)
    status = (cells.text("status", limit=20) or "").lower()
    if status and status not in _PAYOUT_STATUSES:
        cells.problem("status", f"{status!r} is not a payout status; use one of {', '.join(sorted(_PAYOUT_STATUSES))}")
    created_at = cells.instant("created_at", required=True)
    arrival = cells.instant("arrival_date")
    if cells.problems:
        return None
    return {"external_id": external_id, "amount": amount, "currency": currency, "status": status,
            "created_at": created_at, "arrival_date": arrival}


def import_payments(
    *, engine: Engine, source: TextIO, name: str, actor: str, progress: Callable[[int], None] | None = None
) -> ImportResult:
    """Upsert payments by id; `customer` is a customer's external id or email."""
    with session_scope(engine) as session:
        customers: dict[str, int] = {}
        for cid, ext, email_key in session.connection().execute(
                select(col(Customer.id), col(Customer.external_id), col(Customer.email_key))):
            customers[str(email_key)] = int(cid or 0)
            if ext:
                customers[str(ext)] = int(cid or 0)
    required, optional = PAYMENT_COLUMNS
    rows = _validate(read_rows(source, aliases={}, required=required, optional=optional, progress=progress),
                     lambda cells: _payment(cells, customers))
    return _write(engine, Payment.__table__, rows, kind="payments", name=name, actor=actor)  # type: ignore[attr-defined]


def import_payouts(
    *, engine: Engine, source: TextIO, name: str, actor: str, progress: Callable[[int], None] | None = None
) -> ImportResult:
    """Upsert payouts by id."""
    required, optional = PAYOUT_COLUMNS
    rows = _validate(read_rows(source, aliases={}, required=required, optional=optional, progress=progress), _payout)
    return _write(engine, Payout.__table__, rows, kind="payouts", name=name, actor=actor)  # type: ignore[attr-defined]


def _validate(cells_iter: Any, parse: Callable[[Cells], dict[str, Any] | None]) -> list[dict[str, Any]]:
    """Parse every row, refusing duplicate ids; raise ImportRejected listing every problem."""
    rows: list[dict[str, Any]] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for cells in cells_iter:
        row = parse(cells)
        if row is not None and row["external_id"] in seen:
            cells.problem("id", f"{row['external_id']!r} already appears on line {seen[row['external_id']]}")
        elif row is not None:
            seen[row["external_id"]] = cells.line
        problems += cells.problems
        if row is not None and not cells.problems:
            rows.append(row)
    if problems:
        raise ImportRejected(problems)
    return rows


def _write(
    engine: Engine, table: Table, rows: list[dict[str, Any]], *, kind: str, name: str, actor: str
) -> ImportResult:
    """Insert new ids, update changed ones, leave equal ones alone; one transaction with an audit event."""
    with session_scope(engine, write=True) as session:
        conn = session.connection()
        inserted, updated = _upsert_by_external_id(conn, table, rows)
        record_audit(session=session, actor=actor, action="import",
                     details={"kind": kind, "file": name, "rows": len(rows), "inserted": inserted,
                              "updated": updated, "unchanged": len(rows) - inserted - updated})
    return ImportResult(kind=kind, rows=len(rows), inserted=inserted, updated=updated,
                        unchanged=len(rows) - inserted - updated)


def _upsert_by_external_id(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> tuple[int, int]:
    """Compare against what is stored and write only the differences."""
    names = [c for c in rows[0] if c != "external_id"] if rows else []
    existing = {r[1]: r for r in conn.execute(select(table.c.id, table.c.external_id, *(table.c[n] for n in names)))}
    inserts, updates = [], []
    for row in rows:
        current = existing.get(row["external_id"])
        if current is None:
            inserts.append(row)
        elif tuple(current[2:]) != tuple(row[n] for n in names):
            updates.append({"b_id": current[0], **row})
    for start in range(0, len(inserts), BATCH):
        conn.execute(insert(table), inserts[start:start + BATCH])
    if updates:
        conn.execute(update(table).where(table.c.id == bindparam("b_id")), updates)
    return len(inserts), len(updates)
