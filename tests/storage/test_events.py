"""Live-sync storage on both engines: once per event id, per-field ordering, seat history, cancels, conflicts."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, func
from sqlmodel import select

from storage.customers import count_by_status, seat_totals
from storage.db import make_engine, session_scope
from storage.event_types import CustomerChange, EventConflict, PaymentChange, PayoutChange, SyncEvent
from storage.events import count_events, process_event, recent_events
from storage.models import Customer, Payment, PaymentTotal, Payout, ProcessedEvent, SeatChange
from storage.writes import CustomerFields, PaymentFields, PayoutFields, find_customer
from tests.conftest import NOW
from tests.factories import add_customer

T0 = NOW - timedelta(hours=3)
_n = iter(range(1, 1_000_000))


def event(change: CustomerChange | PaymentChange | PayoutChange | None, *, at: datetime = T0,
          event_id: str | None = None, source: str = "platform", kind: str = "test.event") -> SyncEvent:
    """An event with a fresh id unless one is given."""
    object_id = change.external_id if change is not None else None
    return SyncEvent(source=source, event_id=event_id or f"evt_{next(_n)}", type=kind, created_at=at,
                     object_id=object_id, change=change)


def created(external_id: str = "c_1", *, seats: int = 3, email: str = "owner@acme.example",
            organization: str = "Acme") -> CustomerChange:
    """A customer.created change."""
    return CustomerChange(external_id=external_id, email=email, defaults=CustomerFields(),
                          fields=CustomerFields(organization=organization, email=email, seats=seats))


def update(external_id: str = "c_1", **fields: object) -> CustomerChange:
    """A change of some fields of a known customer."""
    return CustomerChange(external_id=external_id, fields=CustomerFields(**fields))  # type: ignore[arg-type]


def run(engine: Engine, ev: SyncEvent) -> str:
    """Process and return the outcome (or 'duplicate')."""
    result = process_event(engine=engine, event=ev, received_at=NOW)
    return "duplicate" if result.duplicate else result.outcome


def customer(engine: Engine, external_id: str = "c_1") -> Customer:
    """The stored customer."""
    with session_scope(engine) as session:
        found = find_customer(session=session, external_id=external_id, email=None)
        assert found is not None
        session.expunge(found)
        return found


def seat_history(engine: Engine) -> list[tuple[int, int, datetime]]:
    """All seat changes, oldest first."""
    with session_scope(engine) as session:
        rows = session.exec(select(SeatChange).order_by(SeatChange.at)).all()  # type: ignore[arg-type]
        return [(r.old_seats, r.new_seats, r.at) for r in rows]


def test_an_event_is_applied_once_and_a_redelivery_changes_nothing(engine: Engine) -> None:
    first = event(created(seats=3))
    assert run(engine, first) == "applied"
    assert run(engine, event(update(seats=5), event_id="evt_seats", at=T0 + timedelta(minutes=1))) == "applied"
    assert run(engine, event(update(seats=5), event_id="evt_seats", at=T0 + timedelta(minutes=1))) == "duplicate"
    assert run(engine, first) == "duplicate"
    assert customer(engine).seats == 5
    assert len(seat_history(engine)) == 1
    with session_scope(engine) as session:
        assert count_events(session=session) == 2
        logged = recent_events(session=session)
        assert [(e.event_id, e.outcome, e.source) for e in logged][-1] == (first.event_id, "applied", "platform")
        assert logged[0].received_at == NOW
        assert logged[0].event_created_at == T0 + timedelta(minutes=1)


def test_the_same_event_id_from_another_source_is_a_different_event(engine: Engine) -> None:
    assert run(engine, event(created(), event_id="evt_1")) == "applied"
    assert run(engine, event(update(seats=9), event_id="evt_1", source="stripe")) == "applied"
    assert customer(engine).seats == 9


def test_an_older_event_does_not_overwrite_newer_state_and_is_recorded_stale(engine: Engine) -> None:
    run(engine, event(created(seats=3), at=T0))
    assert run(engine, event(update(seats=10), at=T0 + timedelta(hours=2))) == "applied"
    late = event(update(seats=4), at=T0 + timedelta(hours=1))
    assert run(engine, late) == "stale"
    assert customer(engine).seats == 10
    assert [(old, new) for old, new, _ in seat_history(engine)] == [(3, 10)]
    with session_scope(engine) as session:
        row = session.exec(select(ProcessedEvent).where(ProcessedEvent.event_id == late.event_id)).one()
        assert (row.outcome, row.detail) == ("stale", "newer state already stored")


def test_a_late_event_still_sets_the_fields_no_newer_event_touched(engine: Engine) -> None:
    run(engine, event(created(seats=3), at=T0))
    run(engine, event(update(seats=10), at=T0 + timedelta(hours=2)))
    assert run(engine, event(update(organization="Acme Renamed", seats=7), at=T0 + timedelta(hours=1))) == "applied"
    stored = customer(engine)
    assert (stored.organization, stored.seats) == ("Acme Renamed", 10)


def test_seat_changes_write_history_dated_at_the_event_time(engine: Engine) -> None:
    run(engine, event(created(seats=1), at=T0))
    run(engine, event(update(seats=4), at=T0 + timedelta(minutes=5)))
    run(engine, event(update(seats=4), at=T0 + timedelta(minutes=6)))  # same count: no history row
    run(engine, event(update(seats=2), at=T0 + timedelta(minutes=7)))
    assert seat_history(engine) == [(1, 4, T0 + timedelta(minutes=5)), (4, 2, T0 + timedelta(minutes=7))]


def test_a_cancel_sets_canceled_at_and_a_reactivation_clears_it(engine: Engine) -> None:
    run(engine, event(created(), at=T0))
    run(engine, event(update(status="canceled"), at=T0 + timedelta(minutes=1)))
    assert customer(engine).canceled_at == T0 + timedelta(minutes=1)
    stated = T0 + timedelta(seconds=30)
    run(engine, event(update(status="canceled", canceled_at=stated), at=T0 + timedelta(minutes=2)))
    assert customer(engine).canceled_at == stated
    run(engine, event(update(status="active"), at=T0 + timedelta(minutes=3)))
    back = customer(engine)
    assert (back.status, back.canceled_at) == ("active", None)


def test_an_unknown_customer_is_a_conflict_and_nothing_is_recorded(engine: Engine) -> None:
    ev = event(update("c_nobody", seats=2))
    with pytest.raises(EventConflict, match="'c_nobody' is not known yet"):
        process_event(engine=engine, event=ev, received_at=NOW)
    with session_scope(engine) as session:
        assert count_events(session=session) == 0
    run(engine, event(created("c_nobody", seats=1)))
    assert run(engine, ev) == "applied"  # the sender's retry succeeds once the customer exists


def test_events_without_a_change_are_recorded_as_ignored(engine: Engine) -> None:
    ev = SyncEvent(source="platform", event_id="evt_x", type="workspace.renamed", created_at=T0, object_id=None,
                   change=None, note="event type is not synced")
    assert run(engine, ev) == "ignored"
    assert run(engine, ev) == "duplicate"
    with session_scope(engine) as session:
        assert count_events(session=session, outcome="ignored") == 1


def test_a_customer_known_only_by_email_adopts_the_external_id(engine: Engine) -> None:
    with session_scope(engine, write=True) as session:
        add_customer(session, "Imported", email="Boss@Imported.example", seats=2)
    change = CustomerChange(external_id="c_imp", email="boss@imported.example", fields=CustomerFields(seats=6))
    assert run(engine, event(change)) == "applied"
    stored = customer(engine, "c_imp")
    assert (stored.organization, stored.seats) == ("Imported", 6)


def test_an_email_owned_by_another_customer_is_a_conflict(engine: Engine) -> None:
    run(engine, event(created("c_1", email="one@x.example")))
    run(engine, event(created("c_2", email="two@x.example")))
    with pytest.raises(EventConflict, match="belongs to another customer"):
        process_event(engine=engine, event=event(update("c_2", email="ONE@x.example")), received_at=NOW)
    with pytest.raises(EventConflict, match="belongs to customer 'c_1'"):
        process_event(engine=engine, event=event(created("c_3", email="one@x.example")), received_at=NOW)
    assert customer(engine, "c_2").email == "two@x.example"


def test_a_new_customer_needs_an_organization_and_an_email(engine: Engine) -> None:
    change = CustomerChange(external_id="c_9", defaults=CustomerFields(), fields=CustomerFields(seats=3))
    with pytest.raises(EventConflict, match="not known yet"):
        process_event(engine=engine, event=event(change), received_at=NOW)


def payment(external_id: str = "pay_1", customer_ref: str | None = "c_1", **fields: object) -> PaymentChange:
    """A payment change referring to a customer by external id."""
    ref = CustomerChange(external_id=customer_ref) if customer_ref else None
    return PaymentChange(external_id=external_id, customer=ref, fields=PaymentFields(**fields))  # type: ignore[arg-type]


def stored_payment(engine: Engine, external_id: str = "pay_1") -> Payment:
    """The stored payment."""
    with session_scope(engine) as session:
        row = session.exec(select(Payment).where(Payment.external_id == external_id)).one()
        session.expunge(row)
        return row


def test_a_refund_that_arrives_before_the_payment_is_kept(engine: Engine) -> None:
    run(engine, event(created(), at=T0))
    refund = payment(amount=5000, currency="EUR", refunded_amount=2000, refunded_at=T0 + timedelta(hours=2))
    assert run(engine, event(refund, at=T0 + timedelta(hours=2))) == "applied"
    assert run(engine, event(payment(amount=5000, currency="EUR", fee=150, refunded_amount=0),
                             at=T0 + timedelta(hours=1))) == "applied"  # the fee is news; the refund is older
    row = stored_payment(engine)
    assert (row.amount, row.fee, row.refunded_amount, row.refunded_at) == (5000, 150, 2000, T0 + timedelta(hours=2))


def test_a_refund_without_a_time_is_dated_at_the_event(engine: Engine) -> None:
    run(engine, event(created(), at=T0))
    run(engine, event(payment(amount=900, currency="USD"), at=T0))
    run(engine, event(payment(customer_ref=None, refunded_amount=900), at=T0 + timedelta(days=1)))
    row = stored_payment(engine)
    assert (row.refunded_amount, row.refunded_at, row.created_at) == (900, T0 + timedelta(days=1), T0)


def test_a_refund_of_an_unknown_payment_without_its_amount_is_a_conflict(engine: Engine) -> None:
    with pytest.raises(EventConflict, match="payment 'pay_1' is not known yet"):
        process_event(engine=engine, event=event(payment(customer_ref=None, refunded_amount=1)), received_at=NOW)


def test_payouts_follow_their_latest_status(engine: Engine) -> None:
    change = PayoutChange(external_id="po_1", fields=PayoutFields(amount=700, currency="USD", status="pending"))
    assert run(engine, event(change, at=T0)) == "applied"
    paid = PayoutChange(external_id="po_1", fields=PayoutFields(status="paid", arrival_date=NOW))
    assert run(engine, event(paid, at=T0 + timedelta(days=2))) == "applied"
    transit = PayoutChange(external_id="po_1", fields=PayoutFields(status="in_transit"))
    assert run(engine, event(transit, at=T0 + timedelta(days=1))) == "stale"
    with session_scope(engine) as session:
        row = session.exec(select(Payout)).one()
        assert (row.status, row.arrival_date, row.created_at, row.amount) == ("paid", NOW, T0, 700)


def test_concurrent_deliveries_of_one_event_apply_it_once(db_url: str) -> None:
    engines = [make_engine(db_url) for _ in range(2)]
    run(engines[0], event(created(seats=1)))
    outcomes: list[str] = []
    for round_no in range(10):
        ev = event(update(seats=10 + round_no), event_id=f"evt_race_{round_no}", at=T0 + timedelta(minutes=round_no))
        barrier = threading.Barrier(4)

        def deliver(engine: Engine, ev: SyncEvent = ev, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            outcomes.append(run(engine, ev))

        threads = [threading.Thread(target=deliver, args=(engines[i % 2],)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(outcomes) == ["applied"] * 10 + ["duplicate"] * 30
    assert len(seat_history(engines[0])) == 10
    for e in engines:
        e.dispose()


def test_concurrent_first_events_of_one_new_customer_create_it_once(db_url: str) -> None:
    engines = [make_engine(db_url) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    changes = [created("c_new", seats=2), CustomerChange(external_id="c_new", fields=CustomerFields(seats=5),
                                                          defaults=CustomerFields(organization="New",
                                                                                  email="new@new.example"))]

    def deliver(i: int) -> None:
        barrier.wait()
        outcomes.append(run(engines[i], event(changes[i], at=T0 + timedelta(seconds=i))))

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes == ["applied", "applied"]
    assert customer(engines[0], "c_new").seats == 5
    with session_scope(engines[0]) as session:
        assert len(session.exec(select(Customer)).all()) == 1
    for e in engines:
        e.dispose()


def test_running_totals_follow_what_events_change(engine: Engine) -> None:
    run(engine, event(created("c_1", seats=3, email="a@x.example"), at=T0))
    run(engine, event(created("c_2", seats=4, email="b@x.example"), at=T0))
    run(engine, event(update("c_1", seats=9), at=T0 + timedelta(minutes=1)))
    run(engine, event(update("c_2", status="canceled"), at=T0 + timedelta(minutes=1)))
    run(engine, event(payment(amount=1000, currency="USD", fee=30), at=T0))
    run(engine, event(payment(customer_ref=None, refunded_amount=400), at=T0 + timedelta(minutes=2)))
    with session_scope(engine) as session:
        assert {k: v for k, v in count_by_status(session=session).items() if v} == {"active": 1, "canceled": 1}
        assert {k: v for k, v in seat_totals(session=session).items() if v} == {"active": 9, "canceled": 4}
        total = session.exec(select(PaymentTotal)).one()
        assert (total.currency, total.amount, total.fee, total.refunded, total.count) == ("USD", 1000, 30, 400, 1)
        assert session.exec(select(func.sum(Payment.refunded_amount))).one() == 400
