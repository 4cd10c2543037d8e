"""The command line: exit codes, line-numbered problems, exports, demo data and the shell, through Typer."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import cli

runner = CliRunner()


@pytest.fixture
def env(cli_store: Path) -> Path:
    """A fresh SQLite store for the CLI."""
    return cli_store


def test_every_command_has_help() -> None:
    for args in (["--help"], ["db", "upgrade", "--help"], ["import", "customers", "--help"], ["demo-data", "--help"],
                 ["export", "customers", "--help"], ["shell", "--help"], ["serve", "--help"], ["run", "--help"]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, (args, result.output)


def test_a_bad_setting_stops_with_one_line_naming_it(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFUND_WINDOW_DAYS", "soon")
    result = runner.invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 2
    assert "REFUND_WINDOW_DAYS" in result.output
    assert "Traceback" not in result.output


def test_import_rejection_lists_problems_by_line_and_exits_non_zero(env: Path) -> None:
    bad = env / "bad.csv"
    bad.write_text("organization,email,seats,status\nAcme,a@acme.example,x,active\nBeta,b@beta.example,1,nope\n")
    result = runner.invoke(cli, ["import", "customers", str(bad)])
    assert result.exit_code == 1
    assert "bad.csv: line 2, column seats: 'x' is not a whole number >= 0" in result.output
    assert "line 3, column status" in result.output
    assert "nothing was written" in result.output
    export = runner.invoke(cli, ["export", "customers"])
    assert export.output.strip() == "organization,email,seats,status,created_at,canceled_at"


def test_a_file_that_is_not_utf8_is_named_with_the_byte_and_nothing_is_written(env: Path) -> None:
    latin = env / "latin.csv"
    latin.write_bytes("organization,email,seats,status\nCafé Müller,m@cafe.example,1,active\n".encode("latin-1"))
    result = runner.invoke(cli, ["import", "customers", str(latin)])
    assert result.exit_code == 1
    assert "latin.csv is not UTF-8 text (byte" in result.output
    assert "Traceback" not in result.output
    export = runner.invoke(cli, ["export", "customers"])
    assert export.output.strip() == "organization,email,seats,status,created_at,canceled_at"


def test_demo_data_then_export_with_filters_to_a_file(env: Path) -> None:
    assert runner.invoke(cli, ["demo-data", "--customers", "200"]).exit_code == 0
    again = runner.invoke(cli, ["demo-data"])
    assert again.exit_code == 1
    assert "already has customers" in again.output
    out = env / "canceled.csv"
    result = runner.invoke(cli, ["export", "customers", "status:canceled", "-o", str(out)])
    assert result.exit_code == 0
    lines = out.read_text().splitlines()
    assert len(lines) > 1
    assert all(",canceled," in line for line in lines[1:])
    typo = runner.invoke(cli, ["export", "customers", "seats:abc"])
    assert typo.exit_code == 2
    assert "seats:abc is not a number" in typo.output


def test_shell_runs_a_command_and_a_click_through_the_app(env: Path) -> None:
    result = runner.invoke(cli, ["shell", "--demo", "-c", "/customers list status:active; click Next"])
    assert result.exit_code == 0, result.output
    assert "Organization" in result.output
    assert "page 2" in result.output


def test_shell_exits_non_zero_when_the_bot_answers_with_an_error(env: Path) -> None:
    result = runner.invoke(cli, ["shell", "-c", "/customers list seats:abc"])
    assert result.exit_code == 1
    assert "seats:abc is not a number" in result.output


def test_shell_refuses_finance_to_a_member(env: Path) -> None:
    result = runner.invoke(cli, ["shell", "--demo", "--as-user", "U0MEMBER", "-c", "/finance balance"])
    assert result.exit_code == 1
    assert "finance" in result.output
