"""The `customers-bot` command line: one Typer app, assembled here at import from thin commands per domain."""

from __future__ import annotations

import typer

from bot.cli import alerts, data, digest, run
from bot.cli.common import deps_or_exit

cli = typer.Typer(
    name="customers-bot",
    help="Customers Bot: customers, churn and money for AI-agent workspace operators, from Slack.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_cli = typer.Typer(help="Database schema.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.command("demo-data")(data.demo_data)
cli.add_typer(data.import_cli, name="import")
cli.add_typer(data.export_cli, name="export")
cli.command("run")(run.run)
cli.command("serve")(run.serve)
cli.command("shell")(run.shell)
cli.add_typer(digest.digest_cli, name="digest")
cli.add_typer(alerts.alerts_cli, name="alerts")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (safe when several processes start at once)."""
    deps = deps_or_exit(migrate=True)
    typer.echo(f"database at revision head ({deps.engine.url.get_backend_name()})")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="customers-bot")


if __name__ == "__main__":
    main()

