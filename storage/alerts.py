"""Alert rules, and matching one applied change against them: outbox rows written in the change's own transaction.

The webhook path calls `watch` before it applies an event (holding the rows' locks in the order the sync takes
them) and `record_alerts` after, in the same transaction; imports call `record_import_alerts` once per import.
Posting (storage.alert_outbox, handlers.alerts_posting) reads the outbox later, so a crash never loses an alert.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from storage.alert_filters import URGENT, AlertKind, RuleSpec, conditions_of, quiet_until
from storage.alert_match import CustomerState, Watched, customer_kinds, customer_payload, movements
from storage.alert_match import watch as watch
from storage.event_types import SyncEvent
from storage.models import AlertOutbox, AlertRule

SUMMARY_EXAMPLES = 10


@dataclass(frozen=True)
class Rule:
    """A detached copy of a rule row."""

    id: int
    kind: str
    filters: str
    channel_id: str
    created_by: str
    created_at: datetime
    show_mrr: bool
    quiet: tuple[str, str] | None
    timezone: str
    paused: bool
    broken_reason: str | None
    broken_at: datetime | None
    last_fired_at: datetime | None


def _rule(row: AlertRule) -> Rule:
    """Copy the columns listings and matching use."""
    quiet = (row.quiet_start, row.quiet_end) if row.quiet_start and row.quiet_end else None
    return Rule(id=row.id or 0, kind=row.kind, filters=row.filters, channel_id=row.channel_id,
                created_by=row.created_by, created_at=row.created_at, show_mrr=row.show_mrr, quiet=quiet,
                timezone=row.timezone, paused=row.paused, broken_reason=row.broken_reason, broken_at=row.broken_at,
                last_fired_at=row.last_fired_at)


def add_rule(*, session: Session, spec: RuleSpec, channel_id: str, team_id: str | None, user_id: str,
             show_mrr: bool, timezone: str, at: datetime) -> Rule:
    """Store a new rule for a channel."""
    row = AlertRule(kind=spec.kind.value, filters=spec.filters, channel_id=channel_id, team_id=team_id,
                    created_by=user_id, created_at=at, show_mrr=show_mrr,
                    quiet_start=spec.quiet[0] if spec.quiet else None, quiet_end=spec.quiet[1] if spec.quiet else None,
                    timezone=spec.timezone or timezone)
    session.add(row)
    session.flush()
    return _rule(row)


def live_rules(*, session: Session) -> list[Rule]:
    """Every rule not removed (firing, paused or broken), oldest first."""
    return [_rule(r) for r in session.exec(select(AlertRule).where(col(AlertRule.active)).order_by(col(AlertRule.id)))]


def rule_by_id(*, session: Session, rule_id: int) -> Rule | None:
    """A rule that has not been removed."""
    row = session.get(AlertRule, rule_id)
    return _rule(row) if row is not None and row.active else None


def set_paused(*, session: Session, rule_id: int, paused: bool) -> Rule | None:
    """Pause or resume a rule (resuming also clears a broken mark: the admin says the channel is fixed)."""
    row = session.get(AlertRule, rule_id)
    if row is None or not row.active:
        return None
    row.paused = paused
    if not paused:
        row.broken_reason, row.broken_at = None, None
    session.add(row)
    session.flush()
    return _rule(row)


def remove_rule(*, session: Session, rule_id: int, user_id: str, at: datetime) -> Rule | None:
    """Turn a rule off for good (kept for the record); its unposted alerts are dropped."""
    row = session.get(AlertRule, rule_id)
    if row is None or not row.active:
        return None
    row.active, row.removed_by, row.removed_at = False, user_id, at
    session.add(row)
    session.connection().execute(update(AlertOutbox).where(col(AlertOutbox.rule_id) == rule_id,
                                                           col(AlertOutbox.status) == "pending")
                                 .values(status="failed", error="rule removed"))
    session.flush()
    return _rule(row)


def mark_broken(*, session: Session, rule_ids: Iterable[int], reason: str, at: datetime) -> list[Rule]:
    """Mark rules broken; returns those this call changed (so each creator is told once)."""
    changed = session.connection().execute(
        update(AlertRule).where(col(AlertRule.id).in_(list(rule_ids)), col(AlertRule.broken_at).is_(None))
        .values(broken_reason=reason[:64], broken_at=at).returning(col(AlertRule.id))).scalars().all()
    return [_rule(r) for r in session.exec(select(AlertRule).where(col(AlertRule.id).in_(changed)))]


class Firing(NamedTuple):
    """What matching needs of a rule that may fire (a light row: every moving event reads these)."""

    id: int
    kind: str
    filters: str
    channel_id: str
    show_mrr: bool
    quiet_start: str | None
    quiet_end: str | None
    timezone: str


_TABLE = AlertRule.__table__  # type: ignore[attr-defined]
# Built once: constructing the statement cost as much as running it, and every moving event runs it.
_FIRING = (sa_select(*(_TABLE.c[name] for name in Firing._fields))
           .where(_TABLE.c.active, ~_TABLE.c.paused, _TABLE.c.broken_at.is_(None),
                  _TABLE.c.kind.in_(bindparam("kinds", expanding=True)))
           .order_by(_TABLE.c.id))


_INSERT = insert(AlertOutbox.__table__)  # type: ignore[attr-defined]


def firing_rules(*, session: Session, kinds: Iterable[str]) -> list[Firing]:
    """Rules of these kinds that may fire: not removed, paused or broken (read each time: a new rule fires at once)."""
    return [Firing(*row) for row in session.connection().execute(_FIRING, {"kinds": list(kinds)})]


def record_alerts(*, session: Session, before: Watched | None, event: SyncEvent, now: datetime) -> int:
    """Write an outbox row for every firing rule this applied change matches; returns how many."""
    if before is None:
        return 0
    fired = movements(session, before)
    if not fired:
        return 0  # most events (renames, same values, payments) move nothing: no rule is read
    rules = firing_rules(session=session, kinds={f.kind.value for f in fired})
    rows: list[dict[str, Any]] = []
    for rule in rules:
        conditions = conditions_of(rule.kind, rule.filters)
        for f in fired:
            if f.kind.value != rule.kind:
                continue
            if f.after is not None:
                if not conditions.customer(f.seats, f.status, f.mrr, f.mrr_currency):
                    continue
                payload = customer_payload(f.before, f.after, show_mrr=rule.show_mrr)
            else:
                if not conditions.money(f.amount, f.currency):
                    continue
                payload = dict(f.payload or {})
            rows.append(_outbox(rule, f.kind, payload, source=f"{event.source}:{event.event_id}", now=now))
    if rows:
        session.connection().execute(_INSERT, rows)
    return len(rows)


def _outbox(rule: Firing, kind: AlertKind, payload: dict[str, Any], *, source: str, now: datetime) -> dict[str, Any]:
    """An outbox row's values, due now or (non-urgent kinds) when the rule's quiet window ends."""
    quiet = (rule.quiet_start, rule.quiet_end) if rule.quiet_start and rule.quiet_end else None
    held = None if kind in URGENT else quiet_until(now, quiet, rule.timezone)
    return {"rule_id": rule.id, "channel_id": rule.channel_id, "kind": kind.value, "source": source[:255],
            "created_at": now, "due_at": held or now, "status": "pending", "payload": payload, "attempts": 0}


def record_import_alerts(*, conn: Connection, changes: Iterable[tuple[CustomerState | None, CustomerState]],
                         source: str, now: datetime) -> int:
    """One summary outbox row per rule an import's changes match ("37 customers churned in this import").

    The rules are read first: without any, the changes (a generator) are never even built.
    """
    counts: dict[int, int] = {}
    examples: dict[int, list[dict[str, Any]]] = {}
    with Session(bind=conn) as session:
        rules = firing_rules(session=session, kinds=[k.value for k in AlertKind])
    by_kind: dict[str, list[Firing]] = {}
    for rule in rules:
        by_kind.setdefault(rule.kind, []).append(rule)
    if not by_kind:
        return 0
    for before, after in changes:
        for kind in customer_kinds(before, after):
            tested = before if kind is AlertKind.churn and before is not None else after
            for rule in by_kind.get(kind.value, ()):
                if conditions_of(rule.kind, rule.filters).customer(tested.seats, tested.status, tested.mrr,
                                                                   tested.currency):
                    counts[rule.id] = counts.get(rule.id, 0) + 1
                    shown = examples.setdefault(rule.id, [])
                    if len(shown) < SUMMARY_EXAMPLES:
                        shown.append(customer_payload(before, after, show_mrr=rule.show_mrr))
    by_id = {rule.id: rule for rule in rules}
    rows = [_outbox(by_id[rule_id], AlertKind(by_id[rule_id].kind),
                    {"summary": True, "count": count, "examples": examples[rule_id]}, source=source, now=now)
            for rule_id, count in sorted(counts.items())]
    if rows:
        conn.execute(_INSERT, rows)
    return len(rows)


def import_changes(*, inserts: Iterable[tuple[Any, ...]], updates: Iterable[dict[str, Any]],
                   existing: Iterable[tuple[Any, ...]]) -> Iterator[tuple[CustomerState | None, CustomerState]]:
    """An import's customer changes as (before, after) states, from storage.bulk.importer's own rows (lazily).

    `inserts` are in INSERT_COLUMNS order (external_id, organization, email, email_key, seats, status, created_at,
    canceled_at, mrr, currency), `updates` carry `b_id` and the new values, `existing` rows are (id, external_id,
    organization, email, seats, status, created_at, canceled_at, mrr, currency).
    """
    for row in inserts:
        yield None, CustomerState(id=0, organization=row[1], external_id=row[0], seats=row[4], status=row[5],
                                  mrr=_at(row, 8, 0), currency=_at(row, 9, None))
    changed = {u["b_id"]: u for u in updates}
    for row in existing if changed else ():
        new = changed.get(row[0])
        if new is not None:
            before = CustomerState(id=row[0], organization=row[2], external_id=row[1], seats=row[4], status=row[5],
                                   mrr=_at(row, 8, 0), currency=_at(row, 9, None))
            yield before, CustomerState(id=row[0], organization=new["organization"], external_id=new["external_id"],
                                        seats=new["seats"], status=new["status"], mrr=new.get("mrr") or 0,
                                        currency=new.get("currency"))


def _at(row: tuple[Any, ...], index: int, default: Any) -> Any:
    """A tuple's value at `index`, or `default` for rows without it (MRR columns came with revenue)."""
    return row[index] if len(row) > index else default
