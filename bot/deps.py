"""The things every handler needs, built once at start-up and passed down (no globals)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from bot.settings import Settings
from storage.types import utcnow


@dataclass(frozen=True)
class Deps:
    """Settings, the database engine and a clock (tests pass a fixed one)."""

    settings: Settings
    engine: Engine
    clock: Callable[[], datetime] = field(default=utcnow)
