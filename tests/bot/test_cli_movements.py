"""`customers-bot export movements [FILTERS...] [-o FILE]`: the MRR movements as CSV in major units, on both engines."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from bot.cli import cli
from storage.db import session_scope
from storage.movements import apply_mrr
from storage.writes import find_customer, recent_audit
from tests.factories import add_customer

runner = CliRunner()
HEADER = "organization,email,at,kind,currency,old_mrr,new_mrr,delta"


@pytest.fixture
def store(engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """A store with movements in EUR and JPY, the CLI pointed at it (both engines)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", db_url)
    plan = [("=HYPERLINK(\"x\")", "ops@formula.example", "EUR", [(datetime(2026, 1, 10, 8, tzinfo=UTC), 12_050),
                                                                 (datetime(2026, 2, 3, tzinfo=UTC), 9_000)]),
            ("Yamada KK", "kk@yamada.example", "JPY", [(datetime(2026, 1, 20, tzinfo=UTC), 30_000),
                                                       (datetime(2026, 3, 1, tzinfo=UTC), 0)])]
    with session_scope(engine, write=True) as session:
        for organization, email, currency, changes in plan:
            add_customer(session, organization, email=email, created_at=datetime(2026, 1, 1, tzinfo=UTC))
            for at, mrr in changes:
                customer = find_customer(session=session, external_id=None, email=email, lock=True)
                assert customer is not None
                apply_mrr(session=session, customer=customer, mrr=mrr, currency=currency, at=at)
    return engine


def _rows(output: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(output)))


def test_every_movement_oldest_first_in_major_units_with_cells_neutralised(store: Engine) -> None:
    result = runner.invoke(cli, ["export", "movements"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == HEADER
    assert _rows(result.output)[1:] == [
        ["'=HYPERLINK(\"x\")", "ops@formula.example", "2026-01-10T08:00:00.000000Z", "new", "EUR", "0.00", "120.50",
         "120.50"],
        ["Yamada KK", "kk@yamada.example", "2026-01-20T00:00:00.000000Z", "new", "JPY", "0", "30000", "30000"],
        ["'=HYPERLINK(\"x\")", "ops@formula.example", "2026-02-03T00:00:00.000000Z", "contraction", "EUR", "120.50",
         "90.00", "-30.50"],
        ["Yamada KK", "kk@yamada.example", "2026-03-01T00:00:00.000000Z", "churn", "JPY", "30000", "0", "-30000"],
    ]


def test_filters_pick_the_window_the_currency_and_the_customer(store: Engine) -> None:
    january = runner.invoke(cli, ["export", "movements", "created:2026-01-01..2026-01-31"])
    assert [r[3] for r in _rows(january.output)[1:]] == ["new", "new"]
    yen = runner.invoke(cli, ["export", "movements", "currency:jpy"])
    assert {r[4] for r in _rows(yen.output)[1:]} == {"JPY"}
    yamada = runner.invoke(cli, ["export", "movements", "yamada", "since:2026-02-01"])
    assert [(r[0], r[3]) for r in _rows(yamada.output)[1:]] == [("Yamada KK", "churn")]


def test_to_a_file_is_audited(store: Engine, tmp_path: Path) -> None:
    out = tmp_path / "movements.csv"
    result = runner.invoke(cli, ["export", "movements", "currency:eur", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 movements written to" in result.output
    assert out.read_text().splitlines()[0] == HEADER
    assert len(out.read_text().splitlines()) == 3
    assert not out.with_name("movements.csv.partial").exists()
    with session_scope(store) as session:
        [audit] = recent_audit(session=session, action="export")
    assert (audit.details["kind"], audit.details["rows"], audit.details["file"]) == ("movements", 2, "movements.csv")


@pytest.mark.parametrize(("args", "message"), [
    (["seats:>3"], "seats:"), (["sort:-created"], "leave out sort:"), (["currency:euro"], "currency")])
def test_a_filter_that_does_not_apply_is_refused_with_exit_2(store: Engine, args: list[str], message: str) -> None:
    result = runner.invoke(cli, ["export", "movements", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
