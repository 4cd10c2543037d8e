"""Reading customer rows from an import file: a careful path that names every problem, and fast paths for clean data.

The careful path (`careful_customer_row`) is the definition; the fast ones answer only for rows it would accept, with
the same result (property-tested), and otherwise hand the row or batch to it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any, TextIO

from storage.bulk.csv_read import Cells, ImportRejected, Problem, read_records, wrong_width
from storage.bulk.load import db_ts
from storage.models import Status
from storage.query import STATUS_ALIASES
from storage.rules import EMAIL_PATTERN, is_email

CUSTOMER_ALIASES = {"external_id": "id", "created": "created_at", "canceled": "canceled_at",
                    "cancelled_at": "canceled_at", "org": "organization"}
CUSTOMER_REQUIRED = {"organization", "email", "seats", "status"}
CUSTOMER_OPTIONAL = {"id", "created_at", "canceled_at"}
BATCH = 20_000
STATUSES = frozenset(s.value for s in Status)
_CANCELED = Status.canceled.value
# An instant as our exports write it (ASCII digits only: \d would take other scripts' digits too).
_EXPORTED_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
Progress = Callable[[int], None] | None
Record = tuple[int, list[str]]


@dataclass(frozen=True)
class CustomerRow:
    """A validated customer row."""

    line: int
    external_id: str | None
    organization: str
    email: str
    seats: int
    status: str
    created_at: datetime | None
    canceled_at: datetime | None


def stated_cancel(row: CustomerRow, current: tuple[Any, ...] | None, now: datetime) -> datetime | None:
    """Canceled rows keep the stated or known cancel time (else now); other statuses have none."""
    if row.status != _CANCELED:
        return None
    return row.canceled_at or (current[7] if current is not None else None) or now


def _fast_instant(raw: str) -> tuple[bool, datetime | None]:
    """(True, aware UTC or None when empty) for a plain ISO 8601 cell; (False, None) lets the careful path judge."""
    if not raw:
        return True, None
    if len(raw) > 40 or raw[0] == "'":
        return False, None
    try:
        parsed = datetime.fromisoformat(raw)  # Python 3.11 reads the Z of our exports itself
    except ValueError:
        return False, None
    return True, (parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC))


def fast_customer_row(line: int, values: dict[str, str]) -> CustomerRow | None:
    """The common, clean row without per-cell bookkeeping; None sends the row to `careful_customer_row`."""
    get = values.get
    organization, email = get("organization", "").strip(), get("email", "").strip()
    seats, status = get("seats", "").strip(), get("status", "").strip().lower()
    external_id = get("id", "").strip() or None
    if not (organization and email and 0 < len(seats) <= 20 and seats.isascii() and seats.isdigit()) \
            or len(organization) > 500 or not is_email(email) \
            or "'" in (organization[0], email[0]) \
            or (external_id is not None and (len(external_id) > 255 or external_id[0] == "'")):
        return None
    status = STATUS_ALIASES.get(status, status)
    created_ok, created_at = _fast_instant(get("created_at", "").strip())
    canceled_ok, canceled = _fast_instant(get("canceled_at", "").strip())
    if status not in STATUSES or not (created_ok and canceled_ok) or (canceled is not None and status != _CANCELED):
        return None
    return CustomerRow(line, external_id, organization, email, int(seats), status, created_at, canceled)


def careful_customer_row(cells: Cells) -> CustomerRow | None:
    """Validate one row; problems are collected on `cells`."""
    organization = cells.text("organization")
    email = cells.text("email", limit=320)
    if email is not None and not is_email(email):
        cells.problem("email", f"{email!r} is not an email address")
    seats = cells.integer("seats")
    raw_status = (cells.text("status", limit=30) or "").lower()
    status = STATUS_ALIASES.get(raw_status, raw_status)
    if raw_status and status not in STATUSES:
        cells.problem("status", f"{raw_status!r} is not a status; use one of {', '.join(sorted(STATUSES))}")
    created_at = cells.instant("created_at")
    canceled = cells.instant("canceled_at")
    if canceled is not None and status != _CANCELED and status in STATUSES:
        cells.problem("canceled_at", f"is set but the status is {status}; leave it empty or set status canceled")
    external_id = cells.text("id", required=False, limit=255)
    if cells.problems or organization is None or email is None or seats is None:
        return None
    return CustomerRow(cells.line, external_id, organization, email, seats, status, created_at, canceled)


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


def _careful_batch(names: list[str], batch: list[Record], seen: _Seen) -> tuple[list[CustomerRow], list[Problem]]:
    """Validate a batch row by row (the fast row reader first): its good rows and every problem in it."""
    rows: list[CustomerRow] = []
    problems: list[Problem] = []
    for line, raw in batch:
        if len(raw) != len(names):
            problems.append(wrong_width(line, raw, names))
            continue
        cells = Cells(line, dict(zip(names, raw, strict=True)))
        row = fast_customer_row(line, cells.values) or careful_customer_row(cells)
        if row is not None:
            seen.check(row, cells)
        problems += cells.problems
        if row is not None and not cells.problems:
            rows.append(row)
    return rows, problems


def _batches(source: TextIO, progress: Progress) -> tuple[list[str], Iterator[list[Record]]]:
    """The file's column names and its data rows, BATCH at a time (ImportRejected for a bad header)."""
    names, records = read_records(source, aliases=CUSTOMER_ALIASES, required=CUSTOMER_REQUIRED,
                                  optional=CUSTOMER_OPTIONAL, progress=progress)
    return names, iter(lambda: list(islice(records, BATCH)), [])


def validated_batches(source: TextIO, progress: Progress) -> Iterator[tuple[list[CustomerRow], list[Problem]]]:
    """The file's valid rows and its problems, a batch at a time (repeats are caught across the whole file)."""
    names, batches = _batches(source, progress)
    seen = _Seen()
    for batch in batches:
        yield _careful_batch(names, batch, seen)


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


def insert_batches(
    source: TextIO, progress: Progress, *, now: datetime, sqlite: bool
) -> Iterator[tuple[list[tuple[Any, ...]], list[Problem]]]:
    """New customers' rows as the store takes them (INSERT_COLUMNS order), and the problems, a batch at a time."""
    names, batches = _batches(source, progress)
    seen = _Seen()
    for batch in batches:
        fast = columnar_insert_rows(names, batch, seen, now=now, sqlite=sqlite)
        if fast is not None:
            yield fast, []
            continue
        rows, problems = _careful_batch(names, batch, seen)
        yield [insert_row(row, now=now, sqlite=sqlite) for row in rows], problems


def insert_row(row: CustomerRow, *, now: datetime, sqlite: bool) -> tuple[Any, ...]:
    """A new customer's row as the store takes it (INSERT_COLUMNS order): unstated times are `now`."""
    return (row.external_id, row.organization, row.email, row.email.lower(), row.seats, row.status,
            db_ts(row.created_at or now, sqlite), db_ts(stated_cancel(row, None, now), sqlite), db_ts(now, sqlite))


def columnar_insert_rows(
    names: list[str], batch: list[Record], seen: _Seen, *, now: datetime, sqlite: bool
) -> list[tuple[Any, ...]] | None:
    """A clean batch's insert rows, checked a column at a time in C-level loops; None sends it to the careful path.

    Answers only for batches the careful path accepts whole, with instants as our exports write them.
    """
    if not batch or any(len(raw) != len(names) for _, raw in batch):
        return None
    lines = [line for line, _ in batch]
    columns = dict(zip(names, zip(*(raw for _, raw in batch), strict=True), strict=True))
    blank = ("",) * len(batch)
    orgs, emails, seats, ids, created, canceled = (
        list(map(str.strip, columns.get(name, blank)))
        for name in ("organization", "email", "seats", "id", "created_at", "canceled_at"))
    statuses = [STATUS_ALIASES.get(s, s) for s in map(str.lower, map(str.strip, columns["status"]))]
    if not (all(orgs) and all(emails) and all(seats) and STATUSES.issuperset(statuses)) \
            or max(map(len, orgs)) > 500 or max(map(len, emails)) > 320 or max(map(len, seats)) > 20 \
            or max(map(len, ids)) > 255 or not (all(map(str.isascii, seats)) and all(map(str.isdigit, seats))) \
            or not all(map(EMAIL_PATTERN.fullmatch, emails)) \
            or any(value[:1] == "'" for value in (*orgs, *emails, *ids)):  # neutralised cells: restored carefully
        return None
    created_at, canceled_at = _stored_instants(created, sqlite), _stored_instants(canceled, sqlite)
    if created_at is None or canceled_at is None \
            or any(c and s != _CANCELED for c, s in zip(canceled, statuses, strict=True)):
        return None
    keys = list(map(str.lower, emails))
    if not seen.take_all(lines, ids, keys):
        return None
    stamp = db_ts(now, sqlite)
    return [(i or None, o, e, k, n, s, c or stamp, (x or stamp) if s == _CANCELED else None, stamp)
            for i, o, e, k, n, s, c, x in zip(ids, orgs, emails, keys, map(int, seats), statuses, created_at,
                                              canceled_at, strict=True)]


def _stored_instants(cells: list[str], sqlite: bool) -> list[Any] | None:
    """Cells written as our exports write instants, as the store keeps them ('' stays ''); None for any other form."""
    stated = [cell for cell in cells if cell]
    if not all(map(_EXPORTED_INSTANT.fullmatch, stated)):
        return None
    try:
        parsed = list(map(datetime.fromisoformat, stated))  # rejects impossible dates such as 2026-02-30
    except ValueError:
        return None
    if not sqlite:
        values = iter(parsed)
        return [next(values) if cell else "" for cell in cells]
    return [f"{cell[:10]} {cell[11:26]}" if cell else "" for cell in cells]
