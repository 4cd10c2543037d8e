"""`customers-bot digest run-due`: posts what is due, says what it did, and exits 0."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import cli
from storage.db import make_engine, session_scope
from storage.digests import subscribe
from tests.handlers.digests.test_posting import ADMIN, DigestSlack


@pytest.fixture
def slack() -> Iterator[DigestSlack]:
    with DigestSlack() as double:
        yield double


def test_run_due_posts_what_is_due_then_finds_nothing_more(
    slack: DigestSlack, tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "store.sqlite3"
    path.write_bytes(sqlite_template.read_bytes())
    now = datetime.now(UTC)
    engine = make_engine(f"sqlite:///{path}")
    with session_scope(engine, write=True) as session:
        subscribe(session=session, channel_id="C7", team_id="T1", local_time=f"{now - timedelta(minutes=1):%H:%M}",
                  timezone="UTC", quiet_skip=False, user_id=ADMIN, at=now - timedelta(days=1))
    engine.dispose()
    monkeypatch.chdir(tmp_path)
    env = {"DATABASE_URL": f"sqlite:///{path}", "SLACK_API_URL": slack.api_url, "SLACK_BOT_TOKEN": "xoxb-test"}
    first = CliRunner().invoke(cli, ["digest", "run-due"], env=env)
    second = CliRunner().invoke(cli, ["digest", "run-due"], env=env)

    assert first.exit_code == 0, first.output
    assert first.output.startswith("posted C7 ")
    assert (second.exit_code, second.output) == (0, "nothing due\n")
    assert len(slack.posts("C7")) == 1
