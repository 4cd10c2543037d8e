"""The field rules every source shares: emails, stored text, currencies, amounts, instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from storage.rules import (
    AMOUNT_MAX,
    CURRENCY_EXPONENTS,
    currency_exponent,
    has_control,
    is_amount,
    is_currency,
    is_email,
    known_zone,
    utc_instant,
    zone_hint,
)


@pytest.mark.parametrize("value", ["a@b", "ops@acme.example", "é@ü.example", "a@b@c", "x" * 315 + "@b.cd"])
def test_addresses_with_an_at_sign_and_no_space_are_emails(value: str) -> None:
    assert is_email(value)


@pytest.mark.parametrize("value", ["nobody", "two words@x.example", "a\tb@c", "@x", "x@", "", "a\x00@b.c",
                                   "a\u00a0b@c", "a\ud800@b", "x" * 316 + "@b.cd"])
def test_anything_else_is_not_an_email(value: str) -> None:
    assert not is_email(value)


@pytest.mark.parametrize("text", ["Acme\x00", "bell\x07", "esc\x1b", "del\x7f", "c1\x85", "lone\udc80"])
def test_controls_and_lone_surrogates_are_flagged(text: str) -> None:
    assert has_control(text)


@pytest.mark.parametrize("text", ["Acme Inc.", "Café ✨ 株式会社", "👩‍💻 zero-width joined", "tab\tand\r\nlines"])
def test_ordinary_unicode_text_is_not_flagged(text: str) -> None:
    assert not has_control(text)


def test_currencies_are_iso_4217_codes_in_use_with_their_exponents() -> None:
    assert all(map(is_currency, ["usd", "EUR", "JPY", "XCG"]))
    assert not any(map(is_currency, ["ZZZ", "XAU", "XTS", "EURO", "", "HRK"]))
    assert (currency_exponent("usd"), currency_exponent("JPY"), currency_exponent("KWD"), currency_exponent("CLF")) \
        == (2, 0, 3, 4)
    assert all(len(code) == 3 and code.isascii() and code.isupper() for code in CURRENCY_EXPONENTS)


def test_the_amount_bound_keeps_millions_of_maximal_payments_exact_in_64_bits() -> None:
    assert [is_amount(n) for n in (0, AMOUNT_MAX, AMOUNT_MAX + 1, -1)] == [True, True, False, False]
    assert AMOUNT_MAX * 9_000_000 <= 2**63 - 1


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_instants_outside_years_1_to_9999_in_utc_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="out of range"):
        utc_instant(datetime.fromisoformat(text))


def test_instants_are_normalised_to_utc_and_must_have_a_zone() -> None:
    assert utc_instant(datetime(2026, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))) == datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="no time zone"):
        utc_instant(datetime(2026, 1, 1))


def test_a_time_zone_is_known_in_any_letter_case_and_comes_back_spelled_canonically() -> None:
    assert known_zone("europe/berlin") == "Europe/Berlin"
    assert known_zone("UTC") == "UTC"
    assert known_zone("Mars/Olympus") is None
    assert known_zone("../etc/passwd") is None


def test_a_bare_city_hints_at_its_zone_only_when_one_zone_has_it() -> None:
    assert zone_hint("berlin") == " (did you mean Europe/Berlin?)"
    assert zone_hint("Olympus") == ""
