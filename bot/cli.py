"""The `customers-bot` command line: one Typer app; each domain adds its commands in its own module."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer
from rich.console import Console

from bot.deps import Deps
from bot.logs import configure_logging
from bot.settings import Settings, SettingsError, load_settings
from storage.db import make_engine, upgrade

cli = typer.Typer(
    name="customers-bot",
    help="Customers Bot: customers, churn and money for AI-agent workspace operators, from Slack.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_cli = typer.Typer(help="Database schema.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
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


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (safe when several processes start at once)."""
    deps = deps_or_exit(migrate=True)
    typer.echo(f"database at revision head ({deps.engine.url.get_backend_name()})")


def _register_domains() -> None:
    """Let each domain module add its commands."""
    from bot import cli_data, cli_digest, cli_slack

    cli_data.register(cli)
    cli_slack.register(cli)
    cli_digest.register(cli)


def main() -> None:
    """Console-script entry point."""
    _register_domains()
    cli(prog_name="customers-bot")


if __name__ == "__main__":
    main()
    sys.exit(0)
