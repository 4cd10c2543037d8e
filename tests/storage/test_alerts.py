"""Alert rules and matching in the store: what fires and what not, outbox claims, import summaries (both engines)."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from storage.alert_filters import AlertKind, AlertRuleError, parse_rule, quiet_until
from storage.alert_match import CustomerState
from storage.alert_outbox import claim_channel, due_channels, outbox_counts, record_failed, record_posted
from storage.alerts import (
    Rule,
    add_rule,
    live_rules,
    mark_broken,
    record_import_alerts,
    remove_rule,
    set_paused,
)
from storage.db import session_scope
from storage.event_types import CustomerChange, PaymentChange, PayoutChange, SyncEvent
from storage.events import process_event
from storage.models import AlertOutbox
from storage.writes import CustomerFields, PaymentFields, PayoutFields
from tests.conftest import NOW

CHANNEL = "C0ALERTS"


def make_rule(engine: Engine, text: str, *, channel: str = CHANNEL, show_mrr: bool = False) -> Rule:
    """Store a rule as `/customers alert add <text>` would."""
    with session_scope(engine, write=True) as session:
        return add_rule(session=session, spec=parse_rule(text, now=NOW), channel_id=channel, team_id="T1",
                        user_id="UADMIN", show_mrr=show_mrr, timezone="UTC", at=NOW)


_seq = iter(range(1, 1_000_000))


def customer_event(external_id: str, *, at: datetime = NOW - timedelta(minutes=5), event_id: str | None = None,
                   **fields: object) -> SyncEvent:
    """A platform customer event stating `fields` (creating the customer when it is new)."""
    stated = CustomerFields(**fields)  # type: ignore[arg-type]
    defaults = CustomerFields(organization=f"Org {external_id}", email=f"{external_id}@org.example", seats=1)
    return SyncEvent(source="platform", event_id=event_id or f"evt_{next(_seq)}", type="customer.updated",
                     created_at=at, object_id=external_id,
                     change=CustomerChange(external_id=external_id, fields=stated, defaults=defaults))


def send(engine: Engine, event: SyncEvent) -> str:
    """Apply an event as the webhook does; returns its outcome (duplicate: 'duplicate')."""
    result = process_event(engine=engine, event=event, received_at=NOW)
    return "duplicate" if result.duplicate else result.outcome


def outbox(engine: Engine) -> list[AlertOutbox]:
    """Every outbox row, oldest first."""
    with session_scope(engine) as session:
        return list(session.exec(select(AlertOutbox).order_by(AlertOutbox.id)))  # type: ignore[arg-type]


def test_a_40_seat_churn_fires_a_churn_rule_and_a_3_seat_one_does_not(engine: Engine) -> None:
    make_rule(engine, "churn seats:>=20")
    send(engine, customer_event("big", seats=40, at=NOW - timedelta(hours=2)))
    send(engine, customer_event("small", seats=3, at=NOW - timedelta(hours=2)))
    send(engine, customer_event("big", status="canceled"))
    send(engine, customer_event("small", status="canceled"))
    rows = outbox(engine)
    assert [(r.kind, r.payload["organization"], r.payload["seats"], r.payload["status"]) for r in rows] == [
        ("churn", "Org big", [40, 40], ["active", "canceled"])]
    assert "email" not in str(rows[0].payload)
    assert "@" not in str(rows[0].payload)


def test_a_replayed_or_stale_event_fires_nothing(engine: Engine) -> None:
    make_rule(engine, "churn")
    send(engine, customer_event("c", seats=5, at=NOW - timedelta(hours=2)))
    cancel = customer_event("c", status="canceled", event_id="evt_cancel")
    assert send(engine, cancel) == "applied"
    assert send(engine, cancel) == "duplicate"
    older = customer_event("c", status="active", at=NOW - timedelta(hours=1))
    assert send(engine, older) == "stale"
    assert len(outbox(engine)) == 1


def test_each_customer_kind_fires_only_its_own_rules(engine: Engine) -> None:
    for kind in ("signup", "expansion", "contraction", "churn", "reactivation"):
        make_rule(engine, kind)
    send(engine, customer_event("k", seats=5, at=NOW - timedelta(minutes=50)))
    send(engine, customer_event("k", seats=8, at=NOW - timedelta(minutes=40)))
    send(engine, customer_event("k", seats=6, at=NOW - timedelta(minutes=30)))
    send(engine, customer_event("k", status="canceled", at=NOW - timedelta(minutes=20)))
    send(engine, customer_event("k", status="active", at=NOW - timedelta(minutes=10)))
    send(engine, customer_event("k", organization="Renamed", at=NOW - timedelta(minutes=5)))
    assert [r.kind for r in outbox(engine)] == ["signup", "expansion", "contraction", "churn", "reactivation"]


def test_paused_broken_and_removed_rules_fire_nothing_and_resuming_fires_again(engine: Engine) -> None:
    paused, broken, removed = make_rule(engine, "signup"), make_rule(engine, "signup"), make_rule(engine, "signup")
    with session_scope(engine, write=True) as session:
        set_paused(session=session, rule_id=paused.id, paused=True)
        assert [r.id for r in mark_broken(session=session, rule_ids=[broken.id], reason="is_archived", at=NOW)] == [
            broken.id]
        assert mark_broken(session=session, rule_ids=[broken.id], reason="is_archived", at=NOW) == []
        remove_rule(session=session, rule_id=removed.id, user_id="UADMIN", at=NOW)
    send(engine, customer_event("a"))
    assert outbox(engine) == []
    with session_scope(engine, write=True) as session:
        set_paused(session=session, rule_id=broken.id, paused=False)
        assert [r.id for r in live_rules(session=session)] == [paused.id, broken.id]
    send(engine, customer_event("b"))
    assert [r.rule_id for r in outbox(engine)] == [broken.id]


def test_refund_and_failed_payout_rules_match_amount_and_currency(engine: Engine) -> None:
    make_rule(engine, "refund amount:>=100 currency:usd")
    make_rule(engine, "payout_failed")
    send(engine, customer_event("payer", seats=2, at=NOW - timedelta(hours=3)))
    payer = CustomerChange(external_id="payer")
    for pid, refunded in (("py_small", 5000), ("py_big", 15000)):
        send(engine, SyncEvent(source="stripe", event_id=f"evt_{pid}", type="charge.succeeded",
                               created_at=NOW - timedelta(hours=2), object_id=pid, change=PaymentChange(
                                   external_id=pid, customer=payer,
                                   fields=PaymentFields(amount=20000, currency="usd", created_at=NOW))))
        send(engine, SyncEvent(source="stripe", event_id=f"evt_r_{pid}", type="charge.refunded",
                               created_at=NOW - timedelta(hours=1), object_id=pid, change=PaymentChange(
                                   external_id=pid, customer=None, fields=PaymentFields(refunded_amount=refunded))))
    send(engine, SyncEvent(source="stripe", event_id="evt_po", type="payout.failed", created_at=NOW,
                           object_id="po_1", change=PayoutChange(external_id="po_1", fields=PayoutFields(
                               amount=990, currency="eur", status="failed", created_at=NOW))))
    rows = outbox(engine)
    assert [(r.kind, r.payload["amount"], r.payload["currency"]) for r in rows] == [
        ("refund", 15000, "usd"), ("payout_failed", 990, "eur")]
    assert rows[0].payload["organization"] == "Org payer"


def test_mrr_is_in_the_payload_only_for_rules_set_up_by_finance_users(engine: Engine) -> None:
    make_rule(engine, "churn", show_mrr=True)
    make_rule(engine, "churn", show_mrr=False)
    send(engine, customer_event("m", seats=4, at=NOW - timedelta(hours=1)))
    send(engine, customer_event("m", status="canceled"))
    with_mrr, without = outbox(engine)
    assert with_mrr.payload["mrr"] == [0, 0]
    assert "mrr" not in without.payload


def test_quiet_hours_hold_non_urgent_alerts_until_the_window_ends_in_the_rules_zone(engine: Engine) -> None:
    night = datetime(2026, 11, 24, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    assert quiet_until(night, ("23:00", "07:00"), "Europe/Berlin") == datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    assert quiet_until(night, ("01:00", "07:00"), "Europe/Berlin") is None
    assert quiet_until(datetime(2026, 11, 25, 1, 0, tzinfo=UTC), ("23:00", "07:00"), "Europe/Berlin") == datetime(
        2026, 11, 25, 6, 0, tzinfo=UTC)
    make_rule(engine, "signup quiet:00:00-23:59 tz:Pacific/Kiritimati")
    send(engine, customer_event("q"))
    (row,) = outbox(engine)
    assert row.due_at > NOW
    with session_scope(engine) as session:
        assert due_channels(session=session, now=NOW) == []
        assert due_channels(session=session, now=row.due_at) == [CHANNEL]


@pytest.mark.parametrize(("text", "message"), [
    ("", "needs a kind"),
    ("chrun", "'chrun' is not an alert kind"),
    ("churn seats:lots", "seats:lots is not a number"),
    ("churn acme", "'acme' is a search word"),
    ("churn created:7d", "created:7d does not apply to alerts"),
    ("churn colour:red", "colour:red is not a filter for customers"),
    ("refund amount:abc", "amount:abc is not an amount"),
    ("refund seats:3", "seats:3 is not a filter for payments"),
    ("signup quiet:25:00-07:00", "quiet:25:00-07:00 is not a window"),
    ("signup tz:Mars/Base", "tz:Mars/Base is not a time zone"),
    ("signup tz:Berlin", r"tz:Berlin is not a time zone; .* \(did you mean tz:Europe/Berlin\?\)"),
])
def test_a_bad_kind_or_filter_gets_a_specific_message(text: str, message: str) -> None:
    with pytest.raises(AlertRuleError if "filter for" not in message and "not a number" not in message
                       else ValueError, match=message):
        parse_rule(text, now=NOW)


def test_a_rules_zone_is_taken_in_any_letter_case_and_stored_canonically() -> None:
    assert parse_rule("signup tz:europe/berlin", now=NOW).timezone == "Europe/Berlin"


def test_parse_rule_keeps_the_filters_as_typed() -> None:
    spec = parse_rule("churn seats:>=20 status:active quiet:22:00-7:00", now=NOW)
    assert (spec.kind, spec.filters, spec.quiet) == (AlertKind.churn, "seats:>=20 status:active", ("22:00", "07:00"))


def _pending(engine: Engine, count: int, channel: str = CHANNEL) -> Rule:
    """A signup rule and `count` pending alerts of it."""
    rule = make_rule(engine, "signup", channel=channel)
    with Session(engine) as session:
        for i in range(count):
            session.add(AlertOutbox(rule_id=rule.id, channel_id=channel, kind="signup", created_at=NOW, due_at=NOW,
                                    payload={"organization": f"Org {i}"}))
        session.commit()
    return rule


def test_a_channel_is_claimed_once_per_slot_and_a_stale_claim_is_taken_over(engine: Engine) -> None:
    _pending(engine, 3)
    with session_scope(engine, write=True) as session:
        first = claim_channel(session=session, channel_id=CHANNEL, now=NOW, worker="a", limit=2)
    assert first is not None
    assert [a.payload["organization"] for a in first.alerts] == ["Org 0", "Org 1"]
    with session_scope(engine, write=True) as session:
        assert claim_channel(session=session, channel_id=CHANNEL, now=NOW, worker="b") is None  # slot taken
    later = NOW + timedelta(seconds=1)
    with session_scope(engine, write=True) as session:
        second = claim_channel(session=session, channel_id=CHANNEL, now=later, worker="b")
    assert second is not None
    assert [a.payload["organization"] for a in second.alerts] == ["Org 2"]
    with session_scope(engine, write=True) as session:
        record_posted(session=session, claimed=second, ids=[a.id for a in second.alerts], message_ts="1.1", at=later)
    crashed = NOW + timedelta(minutes=5)  # the first poster never finished
    with session_scope(engine, write=True) as session:
        again = claim_channel(session=session, channel_id=CHANNEL, now=crashed, worker="c")
    assert again is not None
    assert again.earlier_batches == {first.batch}
    assert len(again.alerts) == 2
    with session_scope(engine, write=True) as session:
        assert record_posted(session=session, claimed=first, ids=[a.id for a in first.alerts], message_ts="x",
                             at=crashed) == 0  # the crashed poster's late write is fenced off
        record_posted(session=session, claimed=again, ids=[a.id for a in again.alerts], message_ts="2.2", at=crashed)
        assert outbox_counts(session=session) == {"posted": 3}


def test_failed_posts_go_back_to_pending_until_their_attempts_run_out(engine: Engine) -> None:
    _pending(engine, 1)
    now = NOW
    for attempt in range(1, 4):
        with session_scope(engine, write=True) as session:
            claimed = claim_channel(session=session, channel_id=CHANNEL, now=now, worker="a")
            assert claimed is not None
            assert claimed.alerts[0].attempts == attempt
            record_failed(session=session, claimed=claimed, error="ratelimited", retry_at=now + timedelta(seconds=5),
                          max_attempts=3)
        now += timedelta(seconds=5)
    with session_scope(engine) as session:
        assert outbox_counts(session=session) == {"failed": 1}


def test_racing_claimers_take_each_alert_once(engine: Engine) -> None:
    for n in range(4):
        _pending(engine, 5, channel=f"C{n}")
    taken: list[int] = []
    lock = threading.Lock()

    def poster(name: str) -> None:
        for second in range(3):
            now = NOW + timedelta(seconds=second)
            for channel in (f"C{n}" for n in range(4)):
                with session_scope(engine, write=True) as session:
                    claimed = claim_channel(session=session, channel_id=channel, now=now, worker=name)
                if claimed:
                    with lock:
                        taken.extend(a.id for a in claimed.alerts)

    threads = [threading.Thread(target=poster, args=(f"w{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == sorted(set(taken))
    assert len(taken) == 20


def test_an_import_fires_one_summary_per_rule(engine: Engine) -> None:
    churn_big, churn_any = make_rule(engine, "churn seats:>=20"), make_rule(engine, "churn")
    make_rule(engine, "signup status:trialing")
    changes: list[tuple[CustomerState | None, CustomerState]] = [
        (CustomerState(id=i, organization=f"Org {i}", external_id=None, seats=i, status="active"),
         CustomerState(id=i, organization=f"Org {i}", external_id=None, seats=i, status="canceled"))
        for i in range(1, 38)]
    changes.append((None, CustomerState(id=99, organization="New", external_id=None, seats=1, status="active")))
    with engine.begin() as conn:
        assert record_import_alerts(conn=conn, changes=changes, source="import customers.csv", now=NOW) == 2
    rows = outbox(engine)
    assert [(r.rule_id, r.payload["count"], len(r.payload["examples"])) for r in rows] == [
        (churn_big.id, 18, 10), (churn_any.id, 37, 10)]


def test_an_mrr_increase_is_an_expansion_with_mrr_before_and_after_for_finance_made_rules(engine: Engine) -> None:
    make_rule(engine, "expansion", show_mrr=True)
    make_rule(engine, "contraction seats:>=10")
    send(engine, customer_event("r", seats=12, at=NOW - timedelta(hours=3)))
    for at, mrr in ((NOW - timedelta(hours=2), 10000), (NOW - timedelta(hours=1), 15000), (NOW, 9000)):
        event = customer_event("r", at=at, seats=12)
        change = event.change
        assert isinstance(change, CustomerChange)
        send(engine, replace(event, change=replace(change, mrr=mrr, currency="usd")))
    rows = outbox(engine)
    assert [(r.kind, r.payload.get("mrr"), r.payload.get("currency")) for r in rows] == [
        ("expansion", [10000, 15000], "USD"), ("contraction", None, None)]


def test_an_import_of_a_csv_fires_one_summary_per_rule_never_one_per_row(engine: Engine) -> None:
    import io

    from storage.bulk.importer import import_customers

    make_rule(engine, "churn seats:>=20")
    make_rule(engine, "signup")
    send(engine, customer_event("seed", seats=1, at=NOW - timedelta(hours=1)))  # an upsert, not a load into empty
    head = "organization,email,seats,status\r\n"
    before = "".join(f"Org {i},o{i}@org.example,{20 + i},active\r\n" for i in range(37))
    import_customers(engine=engine, source=io.StringIO(head + before, newline=""), name="a.csv", actor="t", now=NOW)
    after = "".join(f"Org {i},o{i}@org.example,{20 + i},canceled\r\n" for i in range(37))
    import_customers(engine=engine, source=io.StringIO(head + after, newline=""), name="b.csv", actor="t", now=NOW)
    rows = outbox(engine)
    assert [(r.kind, r.payload["count"]) for r in rows if r.payload.get("summary")] == [("signup", 37), ("churn", 37)]
    assert len(rows) == 3  # the seed's own signup, then one summary per rule and import
