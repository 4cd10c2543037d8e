"""MRR movements as CSV (CLI `export movements` and the Export CSV button of `/finance mrr`), in major units."""

from __future__ import annotations

import csv
from typing import TextIO

from sqlalchemy import ColumnElement, Engine, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from storage.bulk.csv_io import neutralise
from storage.customers import window_conditions
from storage.db import session_scope
from storage.models import Customer, MrrMovement
from storage.query import Query
from storage.rules import currency_exponent
from storage.search import customer_term

MOVEMENTS_HEADER = ["organization", "email", "at", "kind", "currency", "old_mrr", "new_mrr", "delta"]


def major_units(amount: int, currency: str) -> str:
    """Integer minor units as a plain decimal in major units (`1234.50`, JPY `500`, `-12.00`), no floats."""
    exponent = currency_exponent(currency)
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**exponent)
    return f"{sign}{whole}" + (f".{fraction:0{exponent}d}" if exponent else "")


def movement_conditions(session: Session, query: Query) -> list[ColumnElement[bool]]:
    """since:/until:/created: bound the movement's time; currency:; words match the customer's name or email."""
    conditions = window_conditions(col(MrrMovement.at), query.created)
    if query.currency:
        conditions.append(col(MrrMovement.currency) == query.currency.upper())
    for term in query.terms:
        conditions.append(col(MrrMovement.customer_id).in_(select(col(Customer.id)).where(
            customer_term(session, term))))
    return conditions


def count_movements(*, session: Session, query: Query) -> int:
    """How many movements a query matches."""
    stmt = select(func.count()).select_from(MrrMovement).where(*movement_conditions(session, query))
    return int(session.exec(stmt).one())


def export_movements(*, engine: Engine, query: Query, out: TextIO, batch: int = 5000) -> int:
    """Stream the movements a query matches as CSV, oldest first; returns the number of rows written."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(MOVEMENTS_HEADER)
    rows = 0
    with session_scope(engine) as session:
        stmt = (sa_select(col(Customer.organization), col(Customer.email), col(MrrMovement.at), col(MrrMovement.kind),
                       col(MrrMovement.currency), col(MrrMovement.old_mrr), col(MrrMovement.new_mrr),
                       col(MrrMovement.delta))
                .join(Customer, col(Customer.id) == MrrMovement.customer_id)
                .where(*movement_conditions(session, query))
                .order_by(col(MrrMovement.at), col(MrrMovement.id)))
        result = session.connection().execution_options(stream_results=True, yield_per=batch).execute(stmt)
        for chunk in result.partitions(batch):
            writer.writerows([
                neutralise(org), neutralise(email), at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), kind, currency,
                major_units(old, currency), major_units(new, currency), major_units(delta, currency),
            ] for org, email, at, kind, currency, old, new, delta in chunk)
            rows += len(chunk)
    return rows
