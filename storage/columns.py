"""The store's enums and column helpers, kept apart so storage/models.py holds only the tables."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column
from sqlmodel import Field

from storage.types import UTCDateTime


class Status(StrEnum):
    """Stripe's subscription states."""

    active = "active"
    trialing = "trialing"
    past_due = "past_due"
    unpaid = "unpaid"
    paused = "paused"
    incomplete = "incomplete"
    canceled = "canceled"


class PayoutStatus(StrEnum):
    """Stripe's payout states."""

    pending = "pending"
    in_transit = "in_transit"
    paid = "paid"
    failed = "failed"
    canceled = "canceled"


class MovementKind(StrEnum):
    """ChartMogul's kinds of MRR movement."""

    new = "new"
    expansion = "expansion"
    contraction = "contraction"
    churn = "churn"
    reactivation = "reactivation"


def bigint(*, default: int | None = 0) -> Any:
    """A 64-bit integer column: money in minor units and running totals outgrow 32 bits."""
    if default is None:
        return Field(sa_column=Column(BigInteger, nullable=False))
    return Field(default=default, sa_column=Column(BigInteger, nullable=False, server_default=str(default)))


def ts(*, nullable: bool = False, index: bool = False) -> Any:
    """A UTC timestamp column."""
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))
