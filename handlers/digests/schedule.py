"""When each digest is due: local times (DST-safe), the latest due instant, and the next post (pure date maths)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from storage.digests import Subscription


def scheduled_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of local `at` on `day`: a time skipped by DST moves to the first valid instant after it,
    a time that occurs twice is its first occurrence."""
    wall = datetime.combine(day, at)
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first  # exists (fold=0 is the earlier of two occurrences)
    # In a gap: fold=1 reads the wall time with the offset after the switch, landing before the gap; the switch
    # instant (the first valid one after `wall`) lies between the two readings.
    low, high = wall.replace(tzinfo=zone, fold=1).astimezone(UTC), first
    if low > high:
        low, high = high, low
    while high - low > timedelta(seconds=1):
        mid = low + (high - low) / 2
        if mid.astimezone(zone).replace(tzinfo=None) >= wall:
            high = mid
        else:
            low = mid
    return high.replace(microsecond=0)


def latest_due(now: datetime, at: time, zone: ZoneInfo) -> tuple[date, datetime]:
    """The local day and UTC instant of the most recent scheduled time at or before `now`."""
    today = now.astimezone(zone).date()
    for day in (today, today - timedelta(days=1), today - timedelta(days=2)):
        instant = scheduled_instant(day, at, zone)
        if instant <= now:
            return day, instant
    raise AssertionError("a daily time always falls within two days")  # pragma: no cover


def next_post(sub: Subscription, *, now: datetime, taken: set[date], catchup_hours: int) -> datetime:
    """When the subscription's next digest goes out: `now` if one is due, else the next free scheduled instant."""
    at, zone = time.fromisoformat(sub.local_time), ZoneInfo(sub.timezone)
    day, instant = latest_due(now, at, zone)
    if instant >= sub.created_at and day not in taken and now - instant <= timedelta(hours=catchup_hours):
        return now
    while True:
        day += timedelta(days=1)
        instant = scheduled_instant(day, at, zone)
        if instant > now and day not in taken:
            return instant
