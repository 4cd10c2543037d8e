"""Live sync in the store: each event applied once (processed_event) and never over newer state (sync_clock).

Ordering is kept per field: every customer, payment and payout field remembers the `created_at` of the event that
last set it, and an event only writes the fields it is not older than. So a late `customer.updated` still renames a
customer whose seats a newer event already changed, but cannot undo that seat change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Engine, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session, SQLModel, col, select

from storage.alerts import record_alerts, watch
from storage.db import session_scope
from storage.event_types import (
    CustomerChange,
    EventConflict,
    PaymentChange,
    PayoutChange,
    Processed,
    SyncEvent,
)
from storage.models import Customer, ProcessedEvent, SyncClock
from storage.movements import MrrInvalid, apply_mrr, paying_mrr
from storage.writes import (
    CustomerFields,
    PaymentFields,
    PayoutFields,
    apply_customer,
    apply_payment,
    apply_payout,
    find_customer,
    find_payment,
    find_payout,
)

_ATTEMPTS = 4  # a lost race to insert the same new row, or a PG deadlock, is retried from the start
_RETRY_SQLSTATES = {"40P01", "40001"}


def process_event(*, engine: Engine, event: SyncEvent, received_at: datetime) -> Processed:
    """Log and apply one event in one transaction; a second delivery (even a concurrent one) changes nothing."""
    for attempt in range(_ATTEMPTS):
        try:
            with session_scope(engine, write=True) as session:
                row_id = _claim(session, event, received_at)
                if row_id is None:
                    return Processed(outcome=_logged_outcome(session, event), duplicate=True)
                watched = watch(session=session, event=event)  # alerts compare the rows before and after
                outcome, detail = _apply(session, event)
                record_alerts(session=session, before=watched, event=event, now=received_at)
                row = session.get(ProcessedEvent, row_id)
                assert row is not None
                row.outcome, row.detail = outcome, detail[:200] if detail else None
                session.add(row)
            return Processed(outcome=outcome, duplicate=False, detail=detail)
        except DBAPIError as exc:
            if attempt == _ATTEMPTS - 1 or not _retryable(exc):
                raise
    raise AssertionError("unreachable")


def _retryable(exc: DBAPIError) -> bool:
    """A race we lost (unique insert, deadlock, serialization) rather than a bug or an outage."""
    return isinstance(exc, IntegrityError) or getattr(exc.orig, "sqlstate", None) in _RETRY_SQLSTATES


def _claim(session: Session, event: SyncEvent, received_at: datetime) -> int | None:
    """Insert the log row first: on PG a concurrent twin waits on the unique key, then finds it taken (None)."""
    table = SQLModel.metadata.tables["processed_event"]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = session.connection().execute(
        dialect.insert(table)
        .values(source=event.source, event_id=event.event_id, type=event.type[:100],
                object_id=event.object_id[:255] if event.object_id else None, event_created_at=event.created_at,
                received_at=received_at, outcome="applied")
        .on_conflict_do_nothing(index_elements=["source", "event_id"])
        .returning(table.c.id)).first()
    return None if inserted is None else int(inserted[0])


def _logged_outcome(session: Session, event: SyncEvent) -> str:
    """The outcome recorded when this event was first processed."""
    stmt = select(ProcessedEvent.outcome).where(ProcessedEvent.source == event.source,
                                                ProcessedEvent.event_id == event.event_id)
    return session.exec(stmt).one()


def _apply(session: Session, event: SyncEvent) -> tuple[str, str | None]:
    """Apply the change; the outcome is 'stale' when every field it states is older than what the store has."""
    change, at = event.change, event.created_at
    if change is None:
        return "ignored", event.note
    if isinstance(change, CustomerChange):
        applied = _sync_customer(session, change, at)[1]
    elif isinstance(change, PaymentChange):
        applied = _sync_payment(session, change, at)
    else:
        applied = _sync_payout(session, change, at)
    return ("applied", None) if applied else ("stale", "newer state already stored")


def _sync_customer(session: Session, change: CustomerChange, at: datetime) -> tuple[Customer, bool]:
    """The customer's fields, then its MRR (a movement), each written only when this event is not older."""
    customer, applied = _sync_fields(session, change, at)
    if change.mrr is None:
        return customer, applied
    fresh = _fresh(session, "customer", _id(customer.id), ["mrr"], at)
    if fresh:
        try:  # a status that pays nothing keeps the MRR at 0 (the status clock decided the status)
            moved = apply_mrr(session=session, customer=customer, mrr=paying_mrr(customer.status, change.mrr),
                              currency=change.currency, at=at)
        except MrrInvalid:
            raise EventConflict(f"customer {_label(change)} has no currency yet; state data.currency") from None
        fresh = [] if moved.stale else fresh
        _advance(session, "customer", _id(customer.id), fresh, at)
    fields_stated = any(v is not None for v in vars(change.fields).values())
    return customer, bool(fresh) or (applied and fields_stated)


def _sync_fields(session: Session, change: CustomerChange, at: datetime) -> tuple[Customer, bool]:
    """Find (locking its row) or create the customer and write the fields this event is not older than."""
    customer = _locate(session, change)
    stated = _stated(change.fields, ("organization", "email", "seats", "created_at"))
    if change.fields.status is not None or change.fields.canceled_at is not None:
        stated.append("status")  # status and canceled_at move together
    if customer is None:
        merged = _overlay(change.defaults, change.fields) if change.defaults is not None else None
        if merged is None or not (merged.organization and merged.email):
            raise EventConflict(f"customer {_label(change)} is not known yet; send customer.created first")
        if _email_owner(session, merged.email) is not None:
            raise EventConflict("data.email belongs to another customer")
        customer, _ = apply_customer(session=session, customer=None,
                                     fields=replace(merged, external_id=change.external_id), at=at)
        _advance(session, "customer", _id(customer.id), stated, at)
        return customer, True
    fresh = _fresh(session, "customer", _id(customer.id), stated, at)
    picked = {name: getattr(change.fields, name) for name in fresh if name != "status"}
    if "status" in fresh:
        picked.update(status=change.fields.status, canceled_at=change.fields.canceled_at)
    if change.external_id and customer.external_id is None:
        picked["external_id"] = change.external_id  # a customer known only by email adopts the source's id
    if picked.get("email") and _email_owner(session, picked["email"]) not in (None, customer.id):
        raise EventConflict("data.email belongs to another customer")
    customer, _ = apply_customer(session=session, customer=customer, fields=CustomerFields(**picked), at=at)
    _advance(session, "customer", _id(customer.id), fresh, at)
    return customer, bool(fresh) or not stated


def _locate(session: Session, change: CustomerChange) -> Customer | None:
    """By external id, else by email; an email owned by a customer with another external id is a conflict."""
    if change.external_id:
        found = find_customer(session=session, external_id=change.external_id, email=None, lock=True)
        if found is not None:
            return found
    if not change.email:
        return None
    found = find_customer(session=session, external_id=None, email=change.email, lock=True)
    if found is not None and change.external_id and found.external_id not in (None, change.external_id):
        raise EventConflict(f"the email of customer {change.external_id!r} belongs to customer "
                            f"{found.external_id!r}")
    return found


def _sync_payment(session: Session, change: PaymentChange, at: datetime) -> bool:
    """Find or create the payment (after its customer, always in that lock order) and write its fresh fields."""
    fields = change.fields
    if change.customer is not None:
        customer, _ = _sync_customer(session, change.customer, at)
        fields = replace(fields, customer_id=customer.id)
    stated = _stated(fields, ("customer_id", "amount", "currency", "fee", "created_at"))
    if fields.refunded_amount is not None or fields.refunded_at is not None:
        stated.append("refund")  # amount and time move together
    payment = find_payment(session=session, external_id=change.external_id, lock=True)
    if payment is None:
        if fields.customer_id is None or fields.amount is None or not fields.currency:
            raise EventConflict(f"payment {change.external_id!r} is not known yet; send payment.succeeded first "
                                "or state customer, amount and currency")
        payment, _ = apply_payment(session=session, payment=None, external_id=change.external_id, fields=fields,
                                   at=at)
        _advance(session, "payment", _id(payment.id), stated, at)
        return True
    fresh = _fresh(session, "payment", _id(payment.id), stated, at)
    picked = {name: getattr(fields, name) for name in fresh if name != "refund"}
    if "refund" in fresh:
        picked.update(refunded_amount=fields.refunded_amount, refunded_at=fields.refunded_at)
    apply_payment(session=session, payment=payment, external_id=change.external_id, fields=PaymentFields(**picked),
                  at=at)
    _advance(session, "payment", _id(payment.id), fresh, at)
    return bool(fresh) or not stated


def _sync_payout(session: Session, change: PayoutChange, at: datetime) -> bool:
    """Find or create the payout and write the fields this event is not older than."""
    fields = change.fields
    stated = _stated(fields, ("amount", "currency", "status", "created_at", "arrival_date"))
    payout = find_payout(session=session, external_id=change.external_id, lock=True)
    if payout is None:
        if fields.amount is None or not fields.currency or not fields.status:
            raise EventConflict(f"payout {change.external_id!r} is not known yet; send payout.created first "
                                "or state amount, currency and status")
        payout, _ = apply_payout(session=session, payout=None, external_id=change.external_id, fields=fields, at=at)
        _advance(session, "payout", _id(payout.id), stated, at)
        return True
    fresh = _fresh(session, "payout", _id(payout.id), stated, at)
    apply_payout(session=session, payout=payout, external_id=change.external_id,
                 fields=PayoutFields(**{name: getattr(fields, name) for name in fresh}), at=at)
    _advance(session, "payout", _id(payout.id), fresh, at)
    return bool(fresh) or not stated


def _stated(fields: object, names: tuple[str, ...]) -> list[str]:
    """The names whose value the event states (not None)."""
    return [name for name in names if getattr(fields, name) is not None]


def _overlay(base: CustomerFields, top: CustomerFields) -> CustomerFields:
    """`top`'s stated values over `base`."""
    return replace(base, **{k: v for k, v in vars(top).items() if v is not None})


def _fresh(session: Session, kind: str, row_id: int, names: Iterable[str], at: datetime) -> list[str]:
    """The fields whose last writer is not newer than `at` (ties go to the later arrival)."""
    stmt = select(SyncClock.field, SyncClock.at).where(SyncClock.kind == kind, SyncClock.row_id == row_id)
    clocks = {name: when for name, when in session.exec(stmt)}
    return [name for name in names if name not in clocks or clocks[name] <= at]


def _advance(session: Session, kind: str, row_id: int, names: Iterable[str], at: datetime) -> None:
    """Record `at` as the time of these fields (callers pass only fields whose clock is not newer)."""
    rows = [{"kind": kind, "row_id": row_id, "field": name, "at": at} for name in names]
    if not rows:
        return
    table = SQLModel.metadata.tables["sync_clock"]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).values(rows)
    session.connection().execute(stmt.on_conflict_do_update(index_elements=["kind", "row_id", "field"],
                                                            set_={"at": stmt.excluded.at}))


def _email_owner(session: Session, email: str) -> int | None:
    """The id of the customer holding this email, if any."""
    return session.exec(select(Customer.id).where(Customer.email_key == email.strip().lower())).first()


def _label(change: CustomerChange) -> str:
    """How to name a customer in a message without showing an email."""
    return repr(change.external_id) if change.external_id else "(given by email)"


def _id(value: int | None) -> int:
    """A flushed row's id."""
    assert value is not None
    return value


def recent_events(*, session: Session, source: str | None = None, limit: int = 50) -> list[ProcessedEvent]:
    """The latest processed events, newest first (optionally of one source)."""
    stmt = select(ProcessedEvent).order_by(col(ProcessedEvent.id).desc()).limit(limit)
    if source:
        stmt = stmt.where(ProcessedEvent.source == source)
    return list(session.exec(stmt))


def count_events(*, session: Session, source: str | None = None, outcome: str | None = None) -> int:
    """How many events were processed (optionally of one source and outcome)."""
    stmt = select(func.count()).select_from(ProcessedEvent)
    if source:
        stmt = stmt.where(ProcessedEvent.source == source)
    if outcome:
        stmt = stmt.where(ProcessedEvent.outcome == outcome)
    return int(session.exec(stmt).one())
