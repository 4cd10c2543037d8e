"""Reading customer rows from an import file: a careful path that names every problem, and a fast one for clean data.

The careful path (`careful_customer_row`) is the definition. The fast one (`clean_batch`) checks a whole batch a
column at a time and answers only for batches the careful path accepts whole, with the same rows (property-tested);
any other batch goes to the careful path, row by row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any, NamedTuple, TextIO

from storage.bulk.csv_read import Cells, ImportRejected, Problem, read_records, wrong_width
from storage.bulk.load import db_ts
from storage.models import Status
from storage.movements import paying_mrr
from storage.query import STATUS_ALIASES
from storage.rules import (
    EMAIL_MAX,
    EMAIL_PATTERN,
    EXTERNAL_ID_MAX,
    ORGANIZATION_MAX,
    SEATS_MAX,
    has_control,
    is_currency,
    is_email,
)

CUSTOMER_ALIASES = {"external_id": "id", "created": "created_at", "canceled": "canceled_at",
                    "cancelled_at": "canceled_at", "org": "organization"}
CUSTOMER_REQUIRED = {"organization", "email", "seats", "status"}
CUSTOMER_OPTIONAL = {"id", "created_at", "canceled_at", "mrr", "currency"}  # mrr in major units, with its currency
BATCH = 20_000
STATUSES = frozenset(s.value for s in Status)
_CANCELED = Status.canceled.value
# An instant as our exports write it (ASCII digits only: \d would take other scripts' digits too).
_EXPORTED_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
_SEATS_DIGITS = len(str(SEATS_MAX))
Progress = Callable[[int], None] | None
Record = tuple[int, list[str]]


class CustomerRow(NamedTuple):
    """A validated customer row (a tuple: a batch of them is built in one C-level call)."""

    line: int
    external_id: str | None
    organization: str
    email: str
    seats: int
    status: str
    created_at: datetime | None
    canceled_at: datetime | None
    mrr: int | None = None  # minor units, 0 while the status pays nothing; None: not stated
    currency: str | None = None  # of the mrr


def stated_cancel(row: CustomerRow, current: tuple[Any, ...] | None, now: datetime) -> datetime | None:
    """Canceled rows keep the stated or known cancel time (else now); other statuses have none."""
    if row.status != _CANCELED:
        return None
    return row.canceled_at or (current[7] if current is not None else None) or now


def careful_customer_row(cells: Cells) -> CustomerRow | None:
    """Validate one row; problems are collected on `cells`."""
    organization = cells.text("organization", limit=ORGANIZATION_MAX)
    email = cells.text("email", limit=EMAIL_MAX)
    if email is not None and not is_email(email):
        cells.problem("email", f"{email!r} is not an email address")
    seats = cells.integer("seats", maximum=SEATS_MAX)
    raw_status = (cells.text("status", limit=30) or "").lower()
    status = STATUS_ALIASES.get(raw_status, raw_status)
    if raw_status and status not in STATUSES:
        cells.problem("status", f"{raw_status!r} is not a status; use one of {', '.join(sorted(STATUSES))}")
    created_at = cells.instant("created_at")
    canceled = cells.instant("canceled_at")
    if canceled is not None and status != _CANCELED and status in STATUSES:
        cells.problem("canceled_at", f"is set but the status is {status}; leave it empty or set status canceled")
    external_id = cells.text("id", required=False, limit=EXTERNAL_ID_MAX)
    mrr, currency = _mrr(cells)
    if cells.problems or organization is None or email is None or seats is None:
        return None
    mrr = None if mrr is None else paying_mrr(status, mrr)  # trialing, paused, canceled... pay nothing
    return CustomerRow(cells.line, external_id, organization, email, seats, status, created_at, canceled, mrr, currency)


def _mrr(cells: Cells) -> tuple[int | None, str | None]:
    """The optional mrr (major units of its currency) and currency; an mrr needs a currency and the reverse."""
    currency = cells.text("currency", required=False, limit=10)
    if currency is not None and not is_currency(currency):
        cells.problem("currency", f"{currency!r} is not an ISO 4217 currency code like USD or EUR")
        currency = None
    currency = currency.upper() if currency else None
    stated = bool(cells.values.get("mrr", "").strip())
    if not stated:
        if currency is not None:
            cells.problem("mrr", "is empty but a currency is set; state the MRR in major units (0 if not paying)")
        return None, currency
    mrr = cells.money("mrr", currency)
    if mrr is not None and currency is None and not any(p.column == "currency" for p in cells.problems):
        cells.problem("currency", "is empty; an mrr needs its currency, like USD or EUR")
    return mrr, currency


@dataclass
class _Seen:
    """External ids and emails met so far in a file, with the line each first appeared on."""

    ids: dict[str, int] = field(default_factory=dict)
    emails: dict[str, int] = field(default_factory=dict)

    def check(self, row: CustomerRow, cells: Cells) -> None:
        """Note a row's id and email, recording a problem on `cells` for a repeat."""
        key = row.email.lower()
        if row.external_id and row.external_id in self.ids:
            cells.problem("id", f"{row.external_id!r} already appears on line {self.ids[row.external_id]}")
        if key in self.emails:
            cells.problem("email", f"already appears on line {self.emails[key]}")
        if row.external_id:
            self.ids.setdefault(row.external_id, row.line)
        self.emails.setdefault(key, row.line)

    def take_all(self, lines: list[int], ids: list[str], keys: list[str]) -> bool:
        """Note a whole batch when nothing in it repeats (within it or before it); False, noting nothing, otherwise."""
        stated = [(i, line) for i, line in zip(ids, lines, strict=True) if i]
        if len(set(keys)) != len(keys) or not self.emails.keys().isdisjoint(keys) \
                or len({i for i, _ in stated}) != len(stated) or not self.ids.keys().isdisjoint(i for i, _ in stated):
            return False
        self.emails.update(zip(keys, lines, strict=True))
        self.ids.update(stated)
        return True


def careful_batch(names: list[str], batch: list[Record], seen: _Seen) -> tuple[list[CustomerRow], list[Problem]]:
    """Validate a batch row by row: its good rows and every problem in it."""
    rows: list[CustomerRow] = []
    problems: list[Problem] = []
    for line, raw in batch:
        if len(raw) != len(names):
            problems.append(wrong_width(line, raw, names))
            continue
        cells = Cells(line, dict(zip(names, raw, strict=True)))
        row = careful_customer_row(cells)
        if row is not None:
            seen.check(row, cells)
        problems += cells.problems
        if row is not None and not cells.problems:
            rows.append(row)
    return rows, problems


def clean_batch(names: list[str], batch: list[Record], seen: _Seen) -> list[CustomerRow] | None:
    """A clean batch's rows, checked a column at a time in C-level loops; None sends it to the careful path.

    Answers only for batches the careful path accepts whole, with instants as our exports write them.
    """
    if not batch or any(len(raw) != len(names) for _, raw in batch):
        return None
    if any(raw[i].strip() for i, name in enumerate(names) if name in ("mrr", "currency") for _, raw in batch):
        return None  # MRR cells are read carefully (amounts in the currency's own exponent)
    lines = [line for line, _ in batch]
    columns = dict(zip(names, zip(*(raw for _, raw in batch), strict=True), strict=True))
    blank = ("",) * len(batch)
    orgs, emails, seats, ids, created, canceled = (
        list(map(str.strip, columns.get(name, blank)))
        for name in ("organization", "email", "seats", "id", "created_at", "canceled_at"))
    statuses = [STATUS_ALIASES.get(s, s) for s in map(str.lower, map(str.strip, columns["status"]))]
    if not (all(orgs) and all(emails) and all(seats) and STATUSES.issuperset(statuses)) \
            or max(map(len, orgs)) > ORGANIZATION_MAX or max(map(len, emails)) > EMAIL_MAX \
            or max(map(len, ids)) > EXTERNAL_ID_MAX or max(map(len, seats)) > _SEATS_DIGITS \
            or not (all(map(str.isascii, seats)) and all(map(str.isdigit, seats))) \
            or not all(map(EMAIL_PATTERN.fullmatch, emails)) \
            or has_control("".join(orgs)) or has_control("".join(ids)) \
            or any(value[:1] == "'" for value in (*orgs, *emails, *ids)):  # neutralised cells: restored carefully
        return None
    numbers = list(map(int, seats))
    if max(numbers) > SEATS_MAX:
        return None
    created_at, canceled_at = _exported_instants(created), _exported_instants(canceled)
    if created_at is None or canceled_at is None \
            or any(c and s != _CANCELED for c, s in zip(canceled, statuses, strict=True)):
        return None
    if not seen.take_all(lines, ids, list(map(str.lower, emails))):
        return None
    nothing = [None] * len(batch)
    return list(map(CustomerRow._make, zip(lines, [i or None for i in ids], orgs, emails, numbers, statuses,
                                           created_at, canceled_at, nothing, nothing, strict=True)))


def _exported_instants(cells: list[str]) -> list[datetime | None] | None:
    """Cells written as our exports write instants, as aware UTC datetimes ('' is None); None for any other form."""
    stated = [cell for cell in cells if cell]
    if not all(map(_EXPORTED_INSTANT.fullmatch, stated)):
        return None
    try:
        parsed = iter(list(map(datetime.fromisoformat, stated)))  # rejects impossible dates such as 2026-02-30
    except ValueError:
        return None
    return [next(parsed) if cell else None for cell in cells]


def validated_batches(source: TextIO, progress: Progress) -> Iterator[tuple[list[CustomerRow], list[Problem]]]:
    """The file's valid rows and its problems, BATCH rows at a time (repeats are caught across the whole file).

    Raises ImportRejected at once for a bad header.
    """
    names, records = read_records(source, aliases=CUSTOMER_ALIASES, required=CUSTOMER_REQUIRED,
                                  optional=CUSTOMER_OPTIONAL, progress=progress)
    seen = _Seen()
    for batch in iter(lambda: list(islice(records, BATCH)), []):
        clean = clean_batch(names, batch, seen)
        yield (clean, []) if clean is not None else careful_batch(names, batch, seen)


def validated(source: TextIO, progress: Progress) -> list[CustomerRow]:
    """Every row of a valid file; ImportRejected listing every problem otherwise."""
    rows: list[CustomerRow] = []
    problems: list[Problem] = []
    for batch, batch_problems in validated_batches(source, progress):
        rows += batch
        problems += batch_problems
    if problems:
        raise ImportRejected(problems)
    return rows


def insert_rows(rows: list[CustomerRow], *, now: datetime, sqlite: bool) -> list[tuple[Any, ...]]:
    """New customers' rows as the store takes them (the importer's INSERT_COLUMNS order): unstated times are `now`."""
    stamp = db_ts(now, sqlite)
    return [(external_id, organization, email, email.lower(), seats, status,
             db_ts(created, sqlite) if created else stamp,
             (db_ts(canceled, sqlite) if canceled else stamp) if status == _CANCELED else None, stamp, mrr or 0,
             currency)
            for _line, external_id, organization, email, seats, status, created, canceled, mrr, currency in rows]
