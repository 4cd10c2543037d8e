"""What every CLI command shares: one-line failures, settings and a migrated store."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

from bot.deps import Deps
from bot.logs import configure_logging
from bot.settings import Settings, SettingsError, load_settings
from storage.db import make_engine, upgrade

err = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one clear line to stderr and exit non-zero (never a traceback)."""
    err.print(f"[red]error:[/red] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


def settings_or_exit() -> Settings:
    """Load settings or stop with one line naming the bad variable."""
    try:
        return load_settings()
    except SettingsError as exc:
        fail(str(exc), code=2)


def deps_or_exit(*, migrate: bool = True) -> Deps:
    """Settings plus a migrated engine; commands that touch the database start here."""
    settings = settings_or_exit()
    configure_logging(settings.log_level)
    engine = make_engine(settings.database_url)
    if migrate:
        try:
            upgrade(engine)
        except Exception as exc:  # the database is unreachable or refuses us: say so in one line
            fail(f"cannot prepare the database at {engine.url.render_as_string(hide_password=True)}: "
                 f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    return Deps(settings=settings, engine=engine)
