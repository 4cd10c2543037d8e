"""The local shell drives the real App: commands, clicks, Home, mentions, users, uploads saved to disk."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import Engine
from sqlmodel import Session

from bot.deps import Deps
from bot.local.shell import DEFAULT_USER, Shell
from bot.settings import Settings
from tests.conftest import NOW
from tests.factories import add_customer


@pytest.fixture
def shell(sqlite_engine: Engine) -> Iterator[Shell]:
    """A shell on a store of twelve customers, acting as the default (admin) user, printing to a recording console."""
    with Session(sqlite_engine) as session:
        for i in range(12):
            add_customer(session, f"Harbor {i:02d}", email=f"ops{i}@harbor{i}.example", seats=1 + i % 4,
                         created_at=NOW - timedelta(days=i + 1))
    settings = Settings(database_url=str(sqlite_engine.url))
    console = Console(record=True, width=160, color_system=None)
    local = Shell(settings=settings, deps=Deps(settings=settings, engine=sqlite_engine, clock=lambda: NOW),
                  user_id=None, console=console)
    yield local
    local.close()


def _output(shell: Shell) -> str:
    """What the shell printed since the last call."""
    return shell.console.export_text(clear=True)


def test_a_command_prints_the_table_and_next_turns_the_page(shell: Shell) -> None:
    shell.run_line("/customers list")
    first = _output(shell)
    assert "Organization" in first
    assert "Harbor 00" in first
    assert "[ Next ▶ ]" in first
    shell.run_line("click Next")
    second = _output(shell)
    assert "page 2" in second
    assert "Harbor 11" in second
    assert not shell.failed


def test_the_default_user_is_an_admin_who_sees_finance(shell: Shell) -> None:
    assert shell.user_id == DEFAULT_USER
    shell.run_line("/finance balance")
    assert "Balance" in _output(shell)
    assert not shell.failed


def test_export_csv_uploads_a_file_the_shell_saves_and_describes(shell: Shell) -> None:
    shell.run_line("/customers list seats:1")
    _output(shell)
    shell.run_line("click Export CSV")
    printed = _output(shell)
    assert "CSV export: 3 customers, seats:1" in printed
    saved = Path(printed.split("saved to ")[1].split()[0])
    assert "(3 rows)" in printed
    assert saved.read_bytes().startswith(b"organization,email,seats,status,created_at,canceled_at\r\n")


def test_home_shows_the_snapshot_and_its_buttons_answer_by_dm(shell: Shell) -> None:
    shell.run_line("home")
    home = _output(shell)
    assert "App Home" in home
    assert "12 customers" in home
    shell.run_line("click New signups")
    assert "New signups" in _output(shell)
    assert not shell.failed


def test_switching_users_changes_what_the_bot_allows(shell: Shell) -> None:
    shell.run_line("as U0MEMBER")
    assert "now acting as U0MEMBER" in _output(shell)
    shell.run_line("/finance balance")
    assert "finance" in _output(shell).lower()
    assert shell.failed


def test_a_mention_in_a_thread_uploads_there(shell: Shell) -> None:
    shell.run_line("mention export seats:2")
    printed = _output(shell)
    assert "(3 rows) uploaded into thread 1732430000.000001" in printed


def test_mistakes_are_reported_and_mark_the_session_failed(shell: Shell) -> None:
    shell.run_line("click Next")
    assert "no button 'Next'" in _output(shell)
    assert shell.failed
    shell.failed = False
    shell.run_line("/customers list seats:lots")
    assert "seats:lots is not a number" in _output(shell)
    assert shell.failed
    shell.run_line("frobnicate")
    assert "unknown input 'frobnicate'" in _output(shell)
    assert shell.run_line("quit") is False


def test_the_console_script_runs_one_command_on_demo_data_and_exits(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}", "COLUMNS": "160"}
    env.pop("LOG_LEVEL", None)
    result = subprocess.run([sys.executable, "-m", "bot.cli", "shell", "--demo", "-c", "/customers list"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "Organization" in result.stdout
    assert "500 customers" in result.stdout
    assert "INFO" not in result.stdout + result.stderr  # a console: no server logs between the answers
