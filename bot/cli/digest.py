"""`customers-bot digest run-due`: post whatever digests are due now and exit (for an external cron)."""

from __future__ import annotations

import typer

from bot.cli.common import deps_or_exit, fail

digest_cli = typer.Typer(help="Daily digests of new signups and churn.", no_args_is_help=True)


@digest_cli.command("run-due")
def run_due_command() -> None:
    """Post every digest that is due now (at most once per channel and day, even with other replicas running)."""
    from bot.app import make_client
    from handlers.digests.posting import run_due

    deps = deps_or_exit()
    try:
        outcomes = run_due(deps, make_client(deps))
    except Exception as exc:
        fail(f"digest run failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    for outcome in outcomes:
        typer.echo(str(outcome))
    if not outcomes:
        typer.echo("nothing due")
