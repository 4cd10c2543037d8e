"""Daily digests: the `/customers digest ...` commands, when each is due, and posting them exactly once."""

from handlers.digests.commands import register

__all__ = ["register"]
