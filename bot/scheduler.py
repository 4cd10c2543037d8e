"""The digest scheduler: APScheduler in the process, ticking handlers.digests.posting every 30 seconds."""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk import WebClient

from bot.deps import Deps
from handlers import alerts_posting
from handlers.digests.posting import TICK_SECONDS, tick


def start_scheduler(deps: Deps, client: WebClient, *, interval_seconds: float = TICK_SECONDS) -> BackgroundScheduler:
    """Start a background scheduler that checks for due digests every `interval_seconds` (and once right away)."""
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(tick, "interval", args=[deps, client], seconds=interval_seconds, id="customers-digests",
                      next_run_time=datetime.now(UTC), coalesce=True, max_instances=1,
                      misfire_grace_time=max(int(interval_seconds), 1))
    scheduler.add_job(alerts_posting.tick, "interval", args=[deps, client], seconds=alerts_posting.TICK_SECONDS,
                      id="customers-alerts", coalesce=True, max_instances=1, misfire_grace_time=5)
    scheduler.start()
    return scheduler
