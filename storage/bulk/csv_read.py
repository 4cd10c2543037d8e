"""Reading CSV files for import: header mapping, per-cell parsing and problems listed by line and column."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TextIO

from storage.bulk.csv_io import InstantOutOfRange, parse_instant, restore
from storage.rules import AMOUNT_MAX, currency_exponent, has_control, is_amount

__all__ = ["Cells", "ImportRejected", "Problem", "currency_exponent", "read_records", "read_rows", "wrong_width"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, where it is and what to do."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        """`line 3, column seats: ...` (line 1 is the header)."""
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


class ImportRejected(Exception):
    """The file was rejected whole; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


@dataclass
class Cells:
    """One data row's cells by canonical column name, collecting problems as cells are read."""

    line: int
    values: dict[str, str]
    problems: list[Problem] = field(default_factory=list)

    def text(self, name: str, *, required: bool = True, limit: int = 500) -> str | None:
        """A trimmed text cell (formula neutralisation undone)."""
        value = restore(self.values.get(name, "").strip())
        if not value:
            if required:
                self.problem(name, "is empty; a value is required")
            return None
        if len(value) > limit:
            self.problem(name, f"is {len(value)} characters long; at most {limit} are allowed")
            return None
        if has_control(value):
            self.problem(name, "holds a control character (such as NUL); remove it")
            return None
        return value

    def integer(self, name: str, *, maximum: int, required: bool = True) -> int | None:
        """A whole number from 0 to `maximum`."""
        raw = self.text(name, required=required, limit=20)
        if raw is None:
            return None
        if not (raw.isascii() and raw.isdigit()):
            self.problem(name, f"{raw!r} is not a whole number >= 0")
            return None
        if int(raw) > maximum:
            self.problem(name, f"{raw} is too large; at most {maximum:,}")
            return None
        return int(raw)

    def instant(self, name: str, *, required: bool = False) -> datetime | None:
        """An ISO 8601 date or date-time (naive means UTC)."""
        raw = self.text(name, required=required, limit=40)
        if raw is None:
            return None
        try:
            return parse_instant(raw)
        except InstantOutOfRange as exc:
            self.problem(name, f"{raw!r} {exc}")
        except ValueError:
            self.problem(name, f"{raw!r} is not a date; use ISO 8601 like 2026-11-24 or 2026-11-24T09:30:00Z")
        return None

    def money(self, name: str, currency: str | None, *, required: bool = True) -> int | None:
        """Major units like `49.00` as integer minor units of the currency, refusing extra decimals."""
        raw = self.text(name, required=required, limit=30)
        if raw is None:
            return None if required else 0
        try:
            amount = Decimal(raw)
        except InvalidOperation:
            self.problem(name, f"{raw!r} is not an amount; write major units like 49.00")
            return None
        if not amount.is_finite() or amount < 0:
            self.problem(name, f"{raw!r} must be a positive amount or 0")
            return None
        exponent = currency_exponent(currency or "USD")
        minor = amount.scaleb(exponent)
        if minor != minor.to_integral_value():
            self.problem(name, f"{raw!r} has more decimals than {currency or 'the currency'} allows ({exponent})")
            return None
        if not is_amount(int(minor)):  # so that per-currency running totals stay exact
            largest = f"{AMOUNT_MAX // 10**exponent:,}" + (f".{'0' * exponent}" if exponent else "")
            self.problem(name, f"{raw!r} is too large; at most {largest} {currency or ''}".rstrip())
            return None
        return int(minor)

    def problem(self, column: str, message: str) -> None:
        """Record a problem with a cell of this row."""
        self.problems.append(Problem(self.line, column, message))


def read_records(
    source: TextIO, *, aliases: dict[str, str], required: set[str], optional: set[str],
    progress: Callable[[int], None] | None = None,
) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The canonical column names and an iterator of (line, cells) for each non-blank data row.

    Raises ImportRejected at once for a bad header, and from the iterator for a file that stops being CSV.
    """
    reader = csv.reader(source)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRejected([Problem(1, "", "the file is empty; the first line must be the header")]) from None
    except csv.Error as exc:
        raise ImportRejected([Problem(1, "", f"not readable as CSV: {exc}")]) from None
    names: list[str] = []
    problems = []
    for raw in header:
        key = raw.strip().lstrip("\ufeff").strip().lower().replace(" ", "_")
        name = aliases.get(key, key)
        if name not in required | optional:
            expected = ", ".join(sorted(required | optional))
            problems.append(Problem(1, raw.strip(), f"unknown column; the columns are {expected}"))
        elif name in names:
            problems.append(Problem(1, raw.strip(), "appears twice"))
        names.append(name)
    problems += [Problem(1, name, "is missing from the header") for name in sorted(required - set(names))]
    if problems:
        raise ImportRejected(problems)
    return names, _records(reader, progress)


def _records(reader: Any, progress: Callable[[int], None] | None) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) for each data row that is not blank; the line is where the row starts."""
    previous_end = reader.line_num
    try:
        for count, row in enumerate(reader, start=1):
            number, previous_end = previous_end + 1, reader.line_num  # a quoted cell may span lines
            if progress is not None and count % 10_000 == 0:
                progress(count)
            if not "".join(row).strip():
                continue
            yield number, row
    except csv.Error as exc:
        raise ImportRejected([Problem(reader.line_num, "", f"not readable as CSV: {exc}")]) from None


def wrong_width(line: int, row: list[str], names: list[str]) -> Problem:
    """The problem with a row that has more or fewer cells than the header."""
    return Problem(line, "", f"has {len(row)} cells; the header has {len(names)}")


def read_rows(
    source: TextIO, *, aliases: dict[str, str], required: set[str], optional: set[str],
    progress: Callable[[int], None] | None = None,
) -> Iterator[Cells]:
    """Yield each data row as Cells keyed by canonical column names; raise ImportRejected on a bad header."""
    names, records = read_records(source, aliases=aliases, required=required, optional=optional, progress=progress)
    for number, row in records:
        if len(row) != len(names):
            yield Cells(number, {}, [wrong_width(number, row, names)])
            continue
        yield Cells(number, dict(zip(names, row, strict=True)))
