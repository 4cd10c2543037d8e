"""CLI commands for data: demo data, CSV imports and exports."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from bot.cli.common import deps_or_exit, err, fail
from bot.deps import Deps
from storage.bulk.csv_io import export_customers
from storage.bulk.csv_read import ImportRejected
from storage.bulk.demo import fill_demo_data, has_customers
from storage.bulk.import_finance import import_payments, import_payouts
from storage.bulk.importer import ImportResult, import_customers
from storage.db import session_scope
from storage.movements_csv import export_movements
from storage.query import Domain, Query, QueryError, parse_query
from storage.writes import record_audit

import_cli = typer.Typer(help="Import customers, payments or payouts from CSV (all or nothing).", no_args_is_help=True)
export_cli = typer.Typer(help="Export data as CSV.", no_args_is_help=True)
PROGRESS_MIN_BYTES = 5_000_000
FileArg = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV file (UTF-8)")]


def demo_data(
    customers: Annotated[int, typer.Option(min=1, max=5_000_000, help="How many customers")] = 500,
    seed: Annotated[int, typer.Option(help="Seed: the same seed on the same day gives the same data")] = 1,
) -> None:
    """Fill an empty store with realistic, deterministic demo customers, payments and payouts."""
    deps = deps_or_exit()
    if has_customers(engine=deps.engine):
        fail("the store already has customers; demo data only fills an empty store")
    summary = fill_demo_data(engine=deps.engine, customers=customers, seed=seed, now=deps.clock())
    typer.echo(f"demo data: {summary.customers:,} customers, {summary.payments:,} payments, "
               f"{summary.payouts:,} payouts, {summary.seat_changes:,} seat changes, "
               f"{summary.movements:,} MRR movements")


@contextmanager
def _progress(path: Path) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr for large files read from a terminal; nothing otherwise."""
    if path.stat().st_size < PROGRESS_MIN_BYTES or not sys.stderr.isatty():
        yield None
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err) as bar:
        task = bar.add_task(f"reading {path.name}", total=None)
        yield lambda rows: bar.update(task, description=f"reading {path.name}: {rows:,} rows")


def _run_import(path: Path, action: Callable[[TextIO, Callable[[int], None] | None], ImportResult]) -> None:
    """Open the file (BOM tolerated), run the import and report; list every problem and exit 1 when rejected."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as source, _progress(path) as progress:
            result = action(source, progress)
    except UnicodeDecodeError as exc:
        fail(f"{path.name} is not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV and try again")
    except ImportRejected as rejected:
        for problem in rejected.problems:
            err.print(f"{path.name}: {problem}", highlight=False, markup=False)
        fail(f"{path.name} was not imported: {len(rejected.problems)} problem(s); nothing was written")
    typer.echo(f"{result.kind}: {result.rows:,} rows: {result.inserted:,} new, {result.updated:,} updated, "
               f"{result.unchanged:,} unchanged")


@import_cli.command("customers")
def import_customers_cmd(file: FileArg) -> None:
    """Import customers: the export format, or the admin panel's Organization,Email,Seats,Status,Created At."""
    deps = deps_or_exit()
    _run_import(file, lambda src, progress: import_customers(
        engine=deps.engine, source=src, name=file.name, actor="cli", now=deps.clock(), progress=progress))


@import_cli.command("payments")
def import_payments_cmd(file: FileArg) -> None:
    """Import payments: id,customer,amount,currency,fee,created_at,refunded_amount,refunded_at (major units)."""
    deps = deps_or_exit()
    _run_import(file, lambda src, progress: import_payments(
        engine=deps.engine, source=src, name=file.name, actor="cli", progress=progress))


@import_cli.command("payouts")
def import_payouts_cmd(file: FileArg) -> None:
    """Import payouts: id,amount,currency,status,created_at,arrival_date (major units)."""
    deps = deps_or_exit()
    _run_import(file, lambda src, progress: import_payouts(
        engine=deps.engine, source=src, name=file.name, actor="cli", progress=progress))


@export_cli.command("customers")
def export_customers_cmd(
    filters: Annotated[list[str] | None, typer.Argument(help="Search text and filters, e.g. status:canceled")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to this file (default stdout)")] = None,
) -> None:
    """Export customers matching the filters as CSV (streams; memory stays flat)."""
    deps = deps_or_exit()
    text = " ".join(filters or [])
    try:
        query = parse_query(text, now=deps.clock(), tz=deps.settings.timezone)
    except QueryError as exc:
        fail(str(exc), code=2)
    _export(deps, "customers", query, output, lambda out: export_customers(engine=deps.engine, query=query, out=out))


@export_cli.command("movements")
def export_movements_cmd(
    filters: Annotated[list[str] | None, typer.Argument(
        help="Words (organization or email), since:/until:/created: on the movement's time, currency:eur")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to this file (default stdout)")] = None,
) -> None:
    """Export MRR movements as organization,email,at,kind,currency,old_mrr,new_mrr,delta (major units, oldest first)."""
    deps = deps_or_exit()
    try:
        query = parse_query(" ".join(filters or []), now=deps.clock(), domain=Domain.payments,
                            tz=deps.settings.timezone)
    except QueryError as exc:
        fail(str(exc), code=2)
    if any(word.lower().startswith("sort:") for word in " ".join(filters or []).split()):
        fail("movements are exported oldest first; leave out sort:", code=2)
    _export(deps, "movements", query, output, lambda out: export_movements(engine=deps.engine, query=query, out=out))


def _export(deps: Deps, kind: str, query: Query, output: Path | None, write: Callable[[TextIO], int]) -> None:
    """Write to stdout, or to `output` through a .partial file renamed when complete; audit the export."""
    if output is None:
        rows = write(sys.stdout)
    else:
        partial = output.with_name(output.name + ".partial")
        with partial.open("w", encoding="utf-8", newline="") as out:
            rows = write(out)
        partial.replace(output)  # never leave a half-written file under the real name
        err.print(f"{rows:,} {kind} written to {output}", highlight=False)
    with session_scope(deps.engine, write=True) as session:
        record_audit(session=session, actor="cli", action="export",
                     details={"kind": kind, "filters": query.summary, "rows": rows,
                              "file": output.name if output else "-"})
