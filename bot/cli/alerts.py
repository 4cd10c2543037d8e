"""`customers-bot alerts run-due`: post whatever alerts are due now and exit (for an external cron)."""

from __future__ import annotations

import typer

from bot.cli.common import deps_or_exit, fail

alerts_cli = typer.Typer(help="Real-time alerts to channels.", no_args_is_help=True)


@alerts_cli.command("run-due")
def run_due_command() -> None:
    """Post every alert that is due now (each once, even with other replicas posting too)."""
    from bot.app import make_client
    from handlers.alerts_posting import run_due

    deps = deps_or_exit()
    try:
        outcomes = run_due(deps, make_client(deps))
    except Exception as exc:
        fail(f"alert run failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    for outcome in outcomes:
        typer.echo(str(outcome))
    if not outcomes:
        typer.echo("nothing due")
