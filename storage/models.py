"""The tables. They are created only by the Alembic migrations in storage/migrations; this is the ORM view."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Column, Date, ForeignKey, Index, Integer, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.columns import MovementKind as MovementKind
from storage.columns import PayoutStatus as PayoutStatus
from storage.columns import Status as Status
from storage.columns import bigint as _bigint
from storage.columns import ts as _ts
from storage.types import UTCDateTime, utcnow


class Customer(SQLModel, table=True):
    """An organization that subscribed to an AI-agent workspace."""
    __tablename__ = "customer"
    __table_args__ = (
        Index("ix_customer_created", "created_at", "id"),
        Index("ix_customer_status_created", "status", "created_at", "id"),
        Index("ix_customer_seats", "seats", "id"),
        Index("ix_customer_org", "organization", "id"),
        Index("ix_customer_canceled", "canceled_at"),
        Index("ix_customer_status_seats", "status", "seats", "created_at", "id"),
        Index("ix_customer_seats_created", "seats", "created_at", "id"),
        Index("ix_customer_status_canceled", "status", "canceled_at", "id"),
        Index("ix_customer_mrr", "mrr", "id"),  # mrr: filters and sort:mrr (migration 0015)
        # Unique indexes, not constraints: a bulk load drops and rebuilds them with the others (migration 0018).
        Index("ux_customer_external_id", "external_id", unique=True),
        Index("ux_customer_email_key", "email_key", unique=True),
    )
    id: int | None = Field(default=None, primary_key=True)
    external_id: str | None = Field(default=None, max_length=255)
    organization: str = Field(max_length=500)
    email: str = Field(max_length=320)
    email_key: str = Field(max_length=320)
    seats: int = Field(default=0, ge=0)
    status: str = Field(default=Status.active.value, max_length=20)
    created_at: datetime = _ts()
    canceled_at: datetime | None = _ts(nullable=True)
    updated_at: datetime = _ts()
    mrr: int = _bigint()  # monthly recurring revenue in minor units of `currency`; 0 while not paying
    currency: str | None = Field(default=None, max_length=3)


class SeatChange(SQLModel, table=True):
    """One change of a customer's seat count, so growth can be answered."""
    __tablename__ = "seat_change"
    __table_args__ = (Index("ix_seat_change_at", "at"), Index("ix_seat_change_customer", "customer_id", "at"))
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", ondelete="CASCADE")
    old_seats: int
    new_seats: int
    at: datetime = _ts()


class Payment(SQLModel, table=True):
    """A customer's payment; money in integer minor units of `currency`."""
    __tablename__ = "payment"
    __table_args__ = (
        Index("ix_payment_customer", "customer_id", "created_at"),
        # Covers the balance query over the refund window without touching the table, and orders payment lists.
        Index("ix_payment_clearing", "created_at", "currency", "amount", "fee", "refunded_amount"),
    )
    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(unique=True, max_length=255)
    customer_id: int = Field(foreign_key="customer.id", ondelete="CASCADE")
    amount: int = _bigint(default=None)
    currency: str = Field(max_length=3)
    fee: int = _bigint()
    created_at: datetime = _ts()
    refunded_amount: int = _bigint()
    refunded_at: datetime | None = _ts(nullable=True)


class Payout(SQLModel, table=True):
    """A transfer of available earnings to the operator's bank account."""
    __tablename__ = "payout"
    __table_args__ = (Index("ix_payout_created", "created_at", "id"), Index("ix_payout_status", "status", "currency"))
    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(unique=True, max_length=255)
    amount: int = _bigint(default=None)
    currency: str = Field(max_length=3)
    status: str = Field(max_length=20)
    created_at: datetime = _ts()
    arrival_date: datetime | None = _ts(nullable=True)


class PaymentTotal(SQLModel, table=True):
    """Running sums per currency, kept by triggers, so the balance never scans every payment."""
    __tablename__ = "payment_total"
    currency: str = Field(primary_key=True, max_length=3)
    amount: int = _bigint()
    fee: int = _bigint()
    refunded: int = _bigint()
    count: int = _bigint()


class PaymentDaily(SQLModel, table=True):
    """Net earnings per currency and UTC day, kept by triggers, so the refund window sums days, not payments."""
    __tablename__ = "payment_daily"
    currency: str = Field(primary_key=True, max_length=3)
    day: str = Field(primary_key=True, max_length=10)
    net: int = _bigint()
    count: int = _bigint()


class StatusCount(SQLModel, table=True):
    """Customers and seats per status, kept by triggers, for instant counts and totals."""
    __tablename__ = "status_count"
    status: str = Field(primary_key=True, max_length=20)
    customers: int = _bigint()
    seats: int = _bigint()


class SeatCount(SQLModel, table=True):
    """Customers per status and seat count, kept by triggers, so status and seat filters count without a scan."""
    __tablename__ = "seat_count"
    __table_args__ = (Index("ix_seat_count_seats", "seats", "customers"),)
    status: str = Field(primary_key=True, max_length=20)
    seats: int = Field(primary_key=True)
    customers: int = _bigint()


class CustomerHour(SQLModel, table=True):
    """Signups and cancellations per UTC hour ('YYYY-MM-DD HH'), kept by triggers, so windows count without a scan."""
    __tablename__ = "customer_hour"
    hour: str = Field(primary_key=True, max_length=13)
    signups: int = _bigint()
    cancellations: int = _bigint()


class MrrMovement(SQLModel, table=True):
    """One change of a customer's MRR (append-only), so revenue can be answered over any window."""
    __tablename__ = "mrr_movement"
    __table_args__ = (
        Index("ix_mrr_movement_at", "at"),
        Index("ix_mrr_movement_customer", "customer_id", "at"),
        # The largest expansions and churns of a window walk this (largest, then latest first) instead of sorting.
        Index("ix_mrr_movement_rank", "currency", "kind", text("abs(delta)"), "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", ondelete="CASCADE")
    at: datetime = _ts()
    currency: str = Field(max_length=3)
    old_mrr: int = _bigint(default=None)
    new_mrr: int = _bigint(default=None)
    delta: int = _bigint(default=None)  # new_mrr - old_mrr, stored so the rank index can order by it
    kind: str = Field(max_length=16)
    source_event: str | None = Field(default=None, max_length=255)


class MrrHour(SQLModel, table=True):
    """MRR movements per UTC hour, currency and kind (signed sum and count), kept by triggers: windows sum hours."""
    __tablename__ = "mrr_hour"
    hour: str = Field(primary_key=True, max_length=13)
    currency: str = Field(primary_key=True, max_length=3)
    kind: str = Field(primary_key=True, max_length=16)
    amount: int = _bigint()
    count: int = _bigint()


class MrrDay(SQLModel, table=True):
    """MRR movements per UTC day ('YYYY-MM-DD'), currency and kind, kept by triggers: long windows sum days."""
    __tablename__ = "mrr_day"
    day: str = Field(primary_key=True, max_length=10)
    currency: str = Field(primary_key=True, max_length=3)
    kind: str = Field(primary_key=True, max_length=16)
    amount: int = _bigint()
    count: int = _bigint()


class MrrTotal(SQLModel, table=True):
    """MRR and paying customers per currency as of now, kept by triggers on the customers."""
    __tablename__ = "mrr_total"
    currency: str = Field(primary_key=True, max_length=3)
    mrr: int = _bigint()
    paying: int = _bigint()


class AuditEvent(SQLModel, table=True):
    """Who did what and when: exports, imports, digest changes."""
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_at", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class SlackDelivery(SQLModel, table=True):
    """A Slack delivery (event id, or a click's or command's trigger) already acted on: retries do nothing twice."""
    __tablename__ = "slack_delivery"
    __table_args__ = (Index("ix_slack_delivery_at", "received_at"),)
    key: str = Field(primary_key=True, max_length=200)
    received_at: datetime = _ts()


class CustomerDay(SQLModel, table=True):
    """Signups and cancellations per UTC day, status and seats, kept by triggers: filtered trends sum days."""
    __tablename__ = "customer_day"
    day: str = Field(primary_key=True, max_length=10)
    status: str = Field(primary_key=True, max_length=20)
    seats: int = Field(primary_key=True)
    signups: int = _bigint()
    cancellations: int = _bigint()


class ChartFallback(SQLModel, table=True):
    """A workspace whose Slack refused chart or data table blocks: until then, it gets the text and table instead."""
    __tablename__ = "chart_fallback"
    team_id: str = Field(primary_key=True, max_length=32)
    until: datetime = _ts()


class DigestSubscription(SQLModel, table=True):
    """A channel's daily digest: local time, zone, quiet-day choice, who made it and its health."""
    __tablename__ = "digest_subscription"
    __table_args__ = (
        Index("uq_digest_subscription_channel", "channel_id", unique=True,
              sqlite_where=text("active"), postgresql_where=text("active")),
    )
    id: int | None = Field(default=None, primary_key=True)
    channel_id: str = Field(max_length=32)
    team_id: str | None = Field(default=None, max_length=32)
    local_time: str = Field(max_length=5)
    timezone: str = Field(max_length=64)
    quiet_skip: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false")))
    revenue: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false")))
    created_by: str = Field(max_length=32)
    created_at: datetime = _ts()
    updated_by: str = Field(max_length=32)
    updated_at: datetime = _ts()
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, server_default=text("true")))
    deleted_by: str | None = Field(default=None, max_length=32)
    deleted_at: datetime | None = _ts(nullable=True)
    broken_reason: str | None = Field(default=None, max_length=64)
    broken_at: datetime | None = _ts(nullable=True)
    last_sent_at: datetime | None = _ts(nullable=True)


class DigestRun(SQLModel, table=True):
    """One subscription's digest for one local day; the unique key is what makes posting happen once."""
    __tablename__ = "digest_run"
    __table_args__ = (UniqueConstraint("subscription_id", "local_day", name="uq_digest_run_day"),)
    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(
        sa_column=Column(Integer, ForeignKey("digest_subscription.id", ondelete="CASCADE"), nullable=False))
    local_day: date = Field(sa_column=Column(Date, nullable=False))
    scheduled_for: datetime = _ts()
    status: str = Field(max_length=16)
    claimed_at: datetime = _ts()
    claimed_by: str = Field(max_length=128)
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    retry_at: datetime | None = _ts(nullable=True)
    message_ts: str | None = Field(default=None, max_length=32)
    posted_at: datetime | None = _ts(nullable=True)
    error: str | None = Field(default=None, max_length=200)


class ProcessedEvent(SQLModel, table=True):
    """One received event: the unique (source, event_id) is what makes applying it happen once."""
    __tablename__ = "processed_event"
    __table_args__ = (
        UniqueConstraint("source", "event_id", name="uq_processed_event_source_id"),
        Index("ix_processed_event_received", "received_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=16)
    event_id: str = Field(max_length=255)
    type: str = Field(max_length=100)
    object_id: str | None = Field(default=None, max_length=255)
    event_created_at: datetime = _ts()
    received_at: datetime = _ts()
    outcome: str = Field(max_length=16)
    detail: str | None = Field(default=None, max_length=200)


class SyncClock(SQLModel, table=True):
    """When the event that last set one field of one row was created (rows without clocks accept any event)."""
    __tablename__ = "sync_clock"
    kind: str = Field(primary_key=True, max_length=16)
    row_id: int = Field(primary_key=True)
    field: str = Field(primary_key=True, max_length=32)
    at: datetime = _ts()


class AlertRule(SQLModel, table=True):
    """A channel's real-time alert: what fires it (kind and filters), who made it, its quiet hours and its health."""
    __tablename__ = "alert_rule"
    __table_args__ = (Index("ix_alert_rule_live", "active", "paused"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    filters: str = Field(default="", max_length=500)
    channel_id: str = Field(max_length=32)
    team_id: str | None = Field(default=None, max_length=32)
    created_by: str = Field(max_length=32)
    created_at: datetime = _ts()
    show_mrr: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false")))
    quiet_start: str | None = Field(default=None, max_length=5)
    quiet_end: str | None = Field(default=None, max_length=5)
    timezone: str = Field(max_length=64)
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, server_default=text("true")))
    paused: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false")))
    removed_by: str | None = Field(default=None, max_length=32)
    removed_at: datetime | None = _ts(nullable=True)
    broken_reason: str | None = Field(default=None, max_length=64)
    broken_at: datetime | None = _ts(nullable=True)
    last_fired_at: datetime | None = _ts(nullable=True)


class AlertOutbox(SQLModel, table=True):
    """One alert to post, written in the transaction that made the change; claimed by one poster (`batch`)."""
    __tablename__ = "alert_outbox"
    __table_args__ = (
        Index("ix_alert_outbox_due", "status", "due_at"),
        Index("ix_alert_outbox_channel", "channel_id", "status", "id"),
        Index("ix_alert_outbox_batch", "batch"),
    )
    id: int | None = Field(default=None, primary_key=True)
    rule_id: int = Field(sa_column=Column(Integer, ForeignKey("alert_rule.id", ondelete="CASCADE"), nullable=False))
    channel_id: str = Field(max_length=32)
    kind: str = Field(max_length=16)
    source: str | None = Field(default=None, max_length=255)
    created_at: datetime = _ts()
    due_at: datetime = _ts()
    status: str = Field(default="pending", max_length=16)  # pending | claimed | posted | failed
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    batch: str | None = Field(default=None, max_length=32)
    claimed_at: datetime | None = _ts(nullable=True)
    claimed_by: str | None = Field(default=None, max_length=128)
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    message_ts: str | None = Field(default=None, max_length=32)
    posted_at: datetime | None = _ts(nullable=True)
    error: str | None = Field(default=None, max_length=200)


class AlertChannel(SQLModel, table=True):
    """When a channel may get its next alert message: Slack allows about one a second per channel."""
    __tablename__ = "alert_channel"
    channel_id: str = Field(primary_key=True, max_length=32)
    next_at: datetime = _ts()
