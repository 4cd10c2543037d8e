"""The filter language: every token form, specific errors, Slack escaping, and properties over any input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.query import Domain, Query, QueryError, Sort, Window, parse_query, parse_window
from tests.conftest import NOW


def q(text: str, **kwargs: Any) -> Query:
    return parse_query(text, now=NOW, **kwargs)


def test_free_words_are_search_terms_and_quoted_phrases_are_one_term() -> None:
    query = q('acme "blue harbor" inc')
    assert query.terms == ("acme", "blue harbor", "inc")


@pytest.mark.parametrize(
    ("text", "statuses"),
    [("status:canceled", ("canceled",)), ("status:active,trialing", ("active", "trialing")),
     ("status:cancelled", ("canceled",)), ("status:PAST_DUE", ("past_due",))],
)
def test_status_takes_one_or_several_states(text: str, statuses: tuple[str, ...]) -> None:
    assert q(text).statuses == statuses


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [("seats:1", 1, 1), ("seats:0", 0, 0), ("seats:>10", 11, None), ("seats:>=5", 5, None),
     ("seats:<3", None, 2), ("seats:<=3", None, 3), ("seats:5..20", 5, 20), ("seats:5..", 5, None),
     ("seats:..20", None, 20)],
)
def test_seats_exact_bounds_and_ranges(text: str, low: int | None, high: int | None) -> None:
    query = q(text)
    assert (query.seats_min, query.seats_max) == (low, high)


def test_seats_that_is_not_a_number_names_the_token_and_valid_forms() -> None:
    with pytest.raises(QueryError) as info:
        q("seats:abc")
    assert str(info.value) == "seats:abc is not a number; try seats:1, seats:>10 or seats:5..20"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("seats:20..5", "seats:20..5"), ("seats:<0", "seats:<0"), ("status:gone", "status:gone"),
     ("since:yesteryear", "since:yesteryear"), ("sort:colour", "sort:colour"), ("colour:red", "colour:red"),
     ('acme "open', "quote"), ("seats:", "seats:"), ("created:2026-11-30..2026-11-01", "ends before")],
)
def test_bad_tokens_get_a_message_naming_them(text: str, fragment: str) -> None:
    with pytest.raises(QueryError, match=None) as info:
        q(text)
    assert fragment in str(info.value)
    assert "try" in str(info.value) or "write" in str(info.value) or "quote" in str(info.value)


@pytest.mark.parametrize(
    ("text", "since"),
    [("since:7d", NOW - timedelta(days=7)), ("since:24h", NOW - timedelta(hours=24)),
     ("since:2w", NOW - timedelta(weeks=2)), ("since:3m", datetime(2026, 8, 24, 12, tzinfo=UTC)),
     ("since:2026-11-01", datetime(2026, 11, 1, tzinfo=UTC)),
     ("since:2026-11-01T08:00:00Z", datetime(2026, 11, 1, 8, tzinfo=UTC))],
)
def test_since_takes_ages_dates_and_instants(text: str, since: datetime) -> None:
    assert q(text).created.since == since


def test_until_a_date_includes_that_whole_day() -> None:
    assert q("until:2026-11-20").created.until == datetime(2026, 11, 21, tzinfo=UTC)


def test_dates_are_whole_days_in_the_given_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    assert q("since:2026-11-01", tz=berlin).created.since == datetime(2026, 10, 31, 23, tzinfo=UTC)
    # the DST switch day in Berlin is 23 hours long
    window = q("created:2026-03-29..2026-03-29", tz=berlin).created
    assert window.until is not None
    assert window.since is not None
    assert window.until - window.since == timedelta(hours=23)


def test_canceled_window_and_created_range() -> None:
    query = q("canceled:30d created:2026-01-01..2026-06-30")
    assert query.canceled == Window(since=NOW - timedelta(days=30))
    assert query.created == Window(since=datetime(2026, 1, 1, tzinfo=UTC), until=datetime(2026, 7, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("text", "sort"),
    [("", Sort("created", True)), ("sort:created", Sort("created", False)), ("sort:-created", Sort("created", True)),
     ("sort:-seats", Sort("seats", True)), ("sort:seats", Sort("seats", False)),
     ("sort:name", Sort("organization", False))],
)
def test_sort_plain_is_ascending_minus_is_descending_default_newest_first(text: str, sort: Sort) -> None:
    assert q(text).sort == sort


def test_slack_escaping_is_undone() -> None:
    query = q("<mailto:bob@acme.example|bob@acme.example> AT&amp;T \u201cblue harbor\u201d")
    assert query.terms == ("bob@acme.example", "AT&T", "blue harbor")


def test_summary_shows_the_filters_as_typed() -> None:
    assert q("acme status:canceled seats:1").summary == "acme status:canceled seats:1"


def test_finance_domains_take_their_own_filters() -> None:
    payments = q("acme currency:eur sort:-amount since:30d", domain=Domain.payments)
    assert payments.currency == "EUR"
    assert payments.sort == Sort("amount", True)
    assert q("status:in_transit,paid", domain=Domain.payouts).statuses == ("in_transit", "paid")
    with pytest.raises(QueryError):
        q("seats:3", domain=Domain.payments)
    with pytest.raises(QueryError):
        q("currency:dollars", domain=Domain.payments)


def test_windows_for_new_and_churned() -> None:
    assert parse_window("", now=NOW) == Window(since=NOW - timedelta(days=7))
    assert parse_window("30d", now=NOW) == Window(since=NOW - timedelta(days=30))
    with pytest.raises(QueryError):
        parse_window("3x", now=NOW)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gives_a_query_or_a_clear_error(text: str) -> None:
    try:
        query = q(text)
    except QueryError as exc:
        message = str(exc)
    else:
        assert len(query.terms) <= 30
        return
    assert message
    assert "\n" not in message


TOKENS = st.sampled_from(["status:", "seats:", "since:", "until:", "sort:", "created:", "canceled:", "currency:", ""])
VALUES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-.:<>=,_ \"'&;TZ+", max_size=25)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(TOKENS, VALUES), max_size=8))
def test_filter_shaped_input_never_raises_anything_but_a_query_error(parts: list[tuple[str, str]]) -> None:
    text = " ".join(key + value for key, value in parts)
    try:
        query = q(text)
    except QueryError:
        return
    assert q(query.summary) == query or query.terms  # a clean query re-parses from its summary


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["status:active", "status:canceled,trialing", "seats:1", "seats:>10", "seats:5..20",
                                 "since:7d", "until:2026-11-30", "sort:-seats", "sort:name", "acme", '"blue harbor"']),
                max_size=6))
def test_valid_queries_round_trip_through_their_summary(tokens: list[str]) -> None:
    query = q(" ".join(tokens))
    assert q(query.summary) == query


@pytest.mark.parametrize("text", ["a\x00b", "search acme\x00", '"blue\x00harbor"', "acme \x07", "acme\ud800"])
def test_control_characters_and_lone_surrogates_are_refused_by_name(text: str) -> None:
    with pytest.raises(QueryError, match="control character") as info:
        q(text)
    assert "\x00" not in str(info.value)


@pytest.mark.parametrize("text", ["seats:" + "9" * 4400, "seats:>" + "1" * 4400, "seats:1.." + "7" * 4400,
                                  "seats:" + "1" * 11])
def test_seat_numbers_with_thousands_of_digits_are_too_large_not_a_crash(text: str) -> None:
    with pytest.raises(QueryError, match="too large") as info:
        q(text)
    assert len(str(info.value)) < 120  # the message shows the start of the token, not all of it


def test_leading_zeros_do_not_count_towards_a_seat_numbers_size() -> None:
    assert q("seats:" + "0" * 4400 + "5").seats_min == 5


@pytest.mark.parametrize(("text", "fragment"), [("seats:\u0661\u0660", "is not a number"),
                                                ("seats:\uff15..\uff12\uff10", "is not a number"),
                                                ("since:\u0661\u0662d", "is not a date or an age"),
                                                ("created:\u0967d", "is not a date or an age")])
def test_digits_of_other_scripts_are_not_read_as_numbers(text: str, fragment: str) -> None:
    with pytest.raises(QueryError, match=fragment):
        q(text)


def test_a_window_in_digits_of_other_scripts_is_not_a_window() -> None:
    with pytest.raises(QueryError, match="is not a window"):
        parse_window("\u0667d", now=NOW)
