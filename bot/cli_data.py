"""CLI commands for one domain (to be written)."""

from __future__ import annotations

import typer


def register(cli: typer.Typer) -> None:
    """Add this domain's commands to the CLI."""
