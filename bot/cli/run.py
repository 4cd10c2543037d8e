"""CLI commands that run the Slack app: Socket Mode, the HTTP server, and the local shell."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from bot.cli.common import deps_or_exit, fail

if TYPE_CHECKING:
    from bot.local.shell import Shell

DEMO_CUSTOMERS = 500
# Idle keep-alive connections stay open longer than load balancers keep theirs (AWS ALB: 60 s), so a balancer or a
# webhook sender never reuses a connection the bot has just closed (uvicorn's default of 5 s loses such requests).
KEEP_ALIVE_S = 75



def run(no_scheduler: Annotated[bool, typer.Option("--no-scheduler", help="Don't post digests")] = False) -> None:
    """Connect to Slack over Socket Mode (SLACK_APP_TOKEN): for development and workspaces without a public URL."""
    deps = deps_or_exit()
    if not deps.settings.slack_app_token.get_secret_value().startswith("xapp-"):
        fail("SLACK_APP_TOKEN must be set to an app-level token (xapp-...) for Socket Mode", code=2)
    if not deps.settings.slack_bot_token.get_secret_value():
        fail("SLACK_BOT_TOKEN must be set (xoxb-...)", code=2)
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.app import create_app, make_client
    from bot.server import settle_collector

    app = create_app(deps)
    if not no_scheduler:
        from bot.scheduler import start_scheduler

        start_scheduler(deps, make_client(deps))
    settle_collector()
    SocketModeHandler(app, deps.settings.slack_app_token.get_secret_value()).start()  # type: ignore[no-untyped-call]


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "0.0.0.0",  # noqa: S104
    port: Annotated[int, typer.Option(help="Port")] = 3000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes")] = 1,
    no_scheduler: Annotated[bool, typer.Option("--no-scheduler", help="Don't post digests")] = False,
) -> None:
    """Serve HTTP for production: POST /slack/events, GET /healthz, POST /platform/events, POST /stripe/webhook."""
    deps = deps_or_exit()  # validates settings and migrates once, before the workers start
    for name, secret in (("SLACK_BOT_TOKEN", deps.settings.slack_bot_token),
                         ("SLACK_SIGNING_SECRET", deps.settings.slack_signing_secret)):
        if not secret.get_secret_value():
            fail(f"{name} must be set to serve Slack over HTTP", code=2)
    deps.engine.dispose()
    import uvicorn

    from bot.server import NO_SCHEDULER_ENV

    if no_scheduler:
        os.environ[NO_SCHEDULER_ENV] = "1"

    uvicorn.run("bot.server:asgi_app", factory=True, host=host, port=port, workers=workers,
                log_level=deps.settings.log_level.lower(), access_log=False, timeout_keep_alive=KEEP_ALIVE_S)


def shell(
    demo: Annotated[bool, typer.Option("--demo", help="Fill an empty store with demo customers first")] = False,
    as_user: Annotated[str | None, typer.Option("--as-user", help="Act as this Slack user id")] = None,
    command: Annotated[str | None, typer.Option("-c", help="Run one command, print the answer, exit")] = None,
) -> None:
    """A local console that sends commands through the same App and renders what Slack would show."""
    # Imported here, not at module level: `customers-bot import ...` should not pay for the Slack stack.
    from bot.local.shell import Shell
    from storage.bulk.demo import fill_demo_data, has_customers

    if "LOG_LEVEL" not in os.environ:  # a console, not a server: only warnings interleave with the answers
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    deps = deps_or_exit()
    console = Console(width=max(Console().width, 120) if command is None else 140)
    if demo and not has_customers(engine=deps.engine):
        summary = fill_demo_data(engine=deps.engine, customers=DEMO_CUSTOMERS, seed=1, now=deps.clock())
        console.print(f"demo data: {summary.customers:,} customers, {summary.payments:,} payments, "
                      f"{summary.payouts:,} payouts", style="dim")
    session = Shell(settings=deps.settings, deps=deps, user_id=as_user, console=console)
    try:
        if command is not None:
            for line in _split_commands(command):
                session.run_line(line)
            raise typer.Exit(1 if session.failed else 0)
        console.print(f"Customers Bot shell, acting as {session.user_id}. Type help, or try:\n"
                      "  /customers list   /customers new 7d   /customers search harbor   /finance balance",
                      style="bold")
        _loop(session, console)
    finally:
        session.close()


def _split_commands(text: str) -> list[str]:
    """`-c` may hold several lines or `;`-separated commands: `/customers list; click Next`."""
    return [part.strip() for line in text.splitlines() for part in line.split(";") if part.strip()]


def _loop(session: Shell, console: Console) -> None:
    """Read commands until quit or end of input."""
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (line editing and history when available)
    while True:
        try:
            line = console.input("[bold green]> [/bold green]") if sys.stdin.isatty() else input()
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if not session.run_line(line):
            return

