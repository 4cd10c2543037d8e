"""When a digest is due: local time across daylight-saving changes, the latest due instant, the next post."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.digests.schedule import latest_due, next_post, scheduled_instant
from storage.digests import Subscription

BERLIN = ZoneInfo("Europe/Berlin")
SPRING = date(2026, 3, 29)  # 02:00 -> 03:00 in Berlin
AUTUMN = date(2026, 10, 25)  # 03:00 -> 02:00 in Berlin


@pytest.mark.parametrize("day", [SPRING - timedelta(days=1), SPRING, SPRING + timedelta(days=1),
                                 AUTUMN - timedelta(days=1), AUTUMN, AUTUMN + timedelta(days=1)])
def test_nine_o_clock_berlin_stays_nine_o_clock_on_both_sides_of_each_switch(day: date) -> None:
    local = scheduled_instant(day, time(9, 0), BERLIN).astimezone(BERLIN)
    assert (local.date(), local.hour, local.minute) == (day, 9, 0)


def test_the_utc_hour_moves_with_the_switch() -> None:
    assert scheduled_instant(SPRING - timedelta(days=1), time(9), BERLIN).hour == 8
    assert scheduled_instant(SPRING, time(9), BERLIN).hour == 7
    assert scheduled_instant(AUTUMN - timedelta(days=1), time(9), BERLIN).hour == 7
    assert scheduled_instant(AUTUMN, time(9), BERLIN).hour == 8


def test_a_time_skipped_by_the_spring_switch_moves_to_the_first_valid_instant_after_it() -> None:
    instant = scheduled_instant(SPRING, time(2, 30), BERLIN)
    assert instant == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert instant.astimezone(BERLIN).strftime("%H:%M %Z") == "03:00 CEST"


def test_a_time_that_happens_twice_in_autumn_is_its_first_occurrence() -> None:
    instant = scheduled_instant(AUTUMN, time(2, 30), BERLIN)
    assert instant == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert instant.astimezone(BERLIN).strftime("%H:%M %Z") == "02:30 CEST"


def test_half_hour_dst_zones_are_handled_too() -> None:
    lord_howe = ZoneInfo("Australia/Lord_Howe")  # 02:00 -> 02:30 on 2026-10-04
    assert scheduled_instant(date(2026, 10, 4), time(2, 10), lord_howe).astimezone(lord_howe).time() == time(2, 30)


def test_latest_due_is_today_once_the_time_has_passed_and_yesterday_before() -> None:
    at = time(9, 0)
    before = datetime(2026, 11, 24, 7, 59, tzinfo=UTC)  # 08:59 Berlin
    after = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert latest_due(before, at, BERLIN) == (date(2026, 11, 23), datetime(2026, 11, 23, 8, tzinfo=UTC))
    assert latest_due(after, at, BERLIN) == (date(2026, 11, 24), after)


def test_latest_due_on_the_autumn_day_gives_one_instant_for_the_repeated_hour() -> None:
    at = time(2, 30)
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 again, an hour later
    assert latest_due(first, at, BERLIN) == (AUTUMN, first)
    assert latest_due(second, at, BERLIN) == (AUTUMN, first)


def _sub(local_time: str = "09:00", created_at: datetime | None = None) -> Subscription:
    return Subscription(id=1, channel_id="C1", local_time=local_time, timezone="Europe/Berlin", quiet_skip=False,
                        created_by="U1", created_at=created_at or datetime(2026, 1, 1, tzinfo=UTC),
                        broken_reason=None, broken_at=None, last_sent_at=None)


def test_next_post_is_later_today_tomorrow_or_now() -> None:
    now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # 10:00 Berlin
    assert next_post(_sub("17:30"), now=now, taken=set(), catchup_hours=6) == datetime(2026, 11, 24, 16, 30,
                                                                                        tzinfo=UTC)
    assert next_post(_sub("09:00"), now=now, taken={date(2026, 11, 24)}, catchup_hours=6) == datetime(
        2026, 11, 25, 8, 0, tzinfo=UTC)
    assert next_post(_sub("09:00"), now=now, taken=set(), catchup_hours=6) == now
    assert next_post(_sub("09:00", created_at=now), now=now, taken=set(), catchup_hours=6) == datetime(
        2026, 11, 25, 8, 0, tzinfo=UTC)
