"""The local shell drives the shortcuts and modals: `shortcut find`, `type quokk`, `pick`, `submit`, look-ups."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rich.console import Console
from sqlalchemy import Engine
from sqlmodel import Session

from bot.deps import Deps
from bot.local.shell import SHELL_CHANNEL, Shell
from bot.settings import Settings
from storage.db import session_scope
from storage.digests import active_subscriptions
from tests.conftest import NOW
from tests.factories import add_customer


@pytest.fixture
def shell(sqlite_engine: Engine) -> Iterator[Shell]:
    """A shell acting as the default (admin) user on a store with Quokka Robotics in it."""
    with Session(sqlite_engine) as session:
        add_customer(session, "Quokka Robotics", email="ops@quokka.example", seats=12)
        add_customer(session, "Initech Labs", email="lumbergh@initech.example", seats=40)
    settings = Settings(database_url=str(sqlite_engine.url))
    local = Shell(settings=settings, deps=Deps(settings=settings, engine=sqlite_engine, clock=lambda: NOW),
                  user_id=None, console=Console(record=True, width=160, color_system=None))
    yield local
    local.close()


def _run(shell: Shell, line: str) -> str:
    """Run one line; what it printed."""
    shell.run_line(line)
    return shell.console.export_text()


def test_find_type_pick_and_post_a_card(shell: Shell) -> None:
    assert "Find a customer" in _run(shell, "shortcut find")
    assert "1. Quokka Robotics — ops@quokka.example · 12 seats · active" in _run(shell, "type quokk")
    assert "Post to channel" in _run(shell, "pick 1")
    posted = _run(shell, "submit")
    assert f"posted in {SHELL_CHANNEL}" in posted
    assert "Shared by @" in posted
    assert not shell.failed


def test_the_message_shortcut_and_its_show_card_button(shell: Shell) -> None:
    found = _run(shell, "shortcut lookup Could someone check on Initech Labs?")
    assert "Initech Labs · lumbergh@initech.example" in found
    assert "Seats" in _run(shell, "click Show card")
    assert "No customer matches “Wonka Industries”." in _run(shell, "shortcut lookup Wonka Industries?")


def test_the_digest_form_shows_field_errors_then_subscribes(shell: Shell, sqlite_engine: Engine) -> None:
    _run(shell, "/customers digest list")
    assert "Time of day" in _run(shell, "click Set up a digest")
    assert "digest_time: 25:00 is not a time" in _run(shell, "submit digest_time=25:00")
    assert shell.failed
    assert "will get the daily digest at 08:30" in _run(shell, "submit digest_time=08:30 digest_options=quiet:skip")
    with session_scope(sqlite_engine) as session:
        [sub] = active_subscriptions(session=session)
    assert (sub.channel_id, sub.local_time, sub.quiet_skip) == (SHELL_CHANNEL, "08:30", True)


def test_typing_without_a_modal_is_a_mistake(shell: Shell) -> None:
    assert "no typeahead open" in _run(shell, "type quokk")
    assert shell.failed
