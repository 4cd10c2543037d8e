"""What an alert rule says (kind, filters, quiet hours) and whether one change matches it: pure, no SQL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from storage.query import Domain, Query, QueryError, parse_query
from storage.rules import currency_exponent, known_zone, zone_hint


class AlertKind(StrEnum):
    """What a rule listens for: customer movements, or finance events."""

    churn = "churn"
    signup = "signup"
    expansion = "expansion"
    contraction = "contraction"
    reactivation = "reactivation"
    payout_failed = "payout_failed"
    refund = "refund"


CUSTOMER_KINDS = frozenset({AlertKind.churn, AlertKind.signup, AlertKind.expansion, AlertKind.contraction,
                            AlertKind.reactivation})
FINANCE_KINDS = frozenset({AlertKind.payout_failed, AlertKind.refund})
URGENT = frozenset({AlertKind.payout_failed})  # posted even inside a rule's quiet hours
KINDS_HELP = "churn, signup, expansion, contraction, reactivation, payout_failed or refund"
_QUIET = re.compile(r"^([0-9]{1,2}):([0-9]{2})-([0-9]{1,2}):([0-9]{2})$")
_AMOUNT = re.compile(r"^(?:(>=|<=|>|<)?([0-9]{1,12}(?:\.[0-9]{1,3})?)|([0-9]{1,12}(?:\.[0-9]{1,3})?)?\.\."
                     r"([0-9]{1,12}(?:\.[0-9]{1,3})?)?)$")
_AMOUNT_HELP = "try amount:>=100, amount:<50 or amount:100..500 (major units, like 99.50)"
_WHEN_KEYS = ("since", "until", "created", "canceled")


class AlertRuleError(QueryError):
    """A rule the user can fix; the message names the token and shows a valid form."""


@dataclass(frozen=True)
class Conditions:
    """A rule's filters: statuses and seats for customers, amount and currency for payments and payouts."""

    statuses: tuple[str, ...] = ()
    seats_min: int | None = None
    seats_max: int | None = None
    currency: str | None = None
    amount_min: Decimal | None = None  # major units, inclusive
    amount_max: Decimal | None = None
    mrr_min: int | None = None  # whole major units of the customer's own currency, as lists read `mrr:`
    mrr_max: int | None = None
    mrr_strict: tuple[bool, bool] = (False, False)  # `>` and `<` exclude the bound

    def customer(self, seats: int, status: str, mrr: int = 0, currency: str | None = None) -> bool:
        """True when a customer with these seats, status and MRR (minor units of `currency`) passes the filters."""
        if self.statuses and status not in self.statuses:
            return False
        if self.seats_min is not None and seats < self.seats_min:
            return False
        if self.seats_max is not None and seats > self.seats_max:
            return False
        scale = 10 ** currency_exponent(currency) if currency else 1
        (above, below), low, high = self.mrr_strict, self.mrr_min, self.mrr_max
        if low is not None and not (mrr > low * scale if above else mrr >= low * scale):
            return False
        return high is None or (mrr < high * scale if below else mrr <= high * scale)

    @property
    def uses_mrr(self) -> bool:
        """True when the rule filters on MRR (a finance figure: its creator needs finance access)."""
        return self.mrr_min is not None or self.mrr_max is not None

    def money(self, amount_minor: int, currency: str) -> bool:
        """True when an amount (minor units of `currency`) passes the filters."""
        if self.currency is not None and currency.upper() != self.currency:
            return False
        if self.amount_min is None and self.amount_max is None:
            return True
        major = Decimal(amount_minor).scaleb(-currency_exponent(currency))
        if self.amount_min is not None and major < self.amount_min:
            return False
        return self.amount_max is None or major <= self.amount_max


@dataclass(frozen=True)
class RuleSpec:
    """A parsed `alert add`: the kind, the normalised filter text, its conditions, quiet hours and zone."""

    kind: AlertKind
    filters: str
    conditions: Conditions
    quiet: tuple[str, str] | None
    timezone: str | None


def parse_kind(text: str) -> AlertKind:
    """`churn` -> AlertKind.churn; anything else names the kinds there are."""
    try:
        return AlertKind(text.strip().lower().replace("-", "_"))
    except ValueError:
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise AlertRuleError(f"{shown!r} is not an alert kind; use {KINDS_HELP}, "
                             "like `/customers alert add churn seats:>=20`") from None


def parse_rule(text: str, *, now: datetime) -> RuleSpec:
    """`<kind> [filters] [quiet:HH:MM-HH:MM] [tz:Area/City]`; a bad kind or filter gets a specific message."""
    words = text.split()
    if not words:
        raise AlertRuleError(f"alert add needs a kind ({KINDS_HELP}), like `/customers alert add churn seats:>=20`")
    kind = parse_kind(words[0])
    quiet: tuple[str, str] | None = None
    zone: str | None = None
    rest: list[str] = []
    for word in words[1:]:
        key, _, value = word.partition(":")
        if key.lower() == "quiet":
            quiet = parse_quiet(value)
        elif key.lower() == "tz":
            zone = parse_zone(value)
        else:
            rest.append(word)
    filters = " ".join(rest)
    conditions = _finance_filters(kind, rest, now=now) if kind in FINANCE_KINDS else _customer_filters(filters, now)
    return RuleSpec(kind=kind, filters=filters, conditions=conditions, quiet=quiet, timezone=zone)


def _customer_filters(text: str, now: datetime) -> Conditions:
    """status:, seats: and mrr: from the filter language; words and time windows make no sense for a live alert."""
    query = parse_query(text, now=now)
    _refuse_extras(query, "status:, seats: and mrr:")
    return Conditions(statuses=query.statuses, seats_min=query.seats_min, seats_max=query.seats_max,
                      mrr_min=query.mrr_min, mrr_max=query.mrr_max, mrr_strict=query.mrr_strict)


def _finance_filters(kind: AlertKind, words: list[str], *, now: datetime) -> Conditions:
    """amount: (ours, major units) and currency: (the filter language's) for refunds and failed payouts."""
    low = high = None
    others = []
    for word in words:
        key, _, value = word.partition(":")
        if key.lower() == "amount":
            low, high = parse_amount(value)
        else:
            others.append(word)
    domain = Domain.payouts if kind is AlertKind.payout_failed else Domain.payments
    query = parse_query(" ".join(others), now=now, domain=domain)
    _refuse_extras(query, "amount: and currency:")
    if query.statuses:
        raise AlertRuleError("payout_failed alerts are about failed payouts; leave out status:")
    return Conditions(currency=query.currency, amount_min=low, amount_max=high)


def _refuse_extras(query: Query, allowed: str) -> None:
    """Alerts fire on changes as they happen: search words, time windows and sorts do not apply."""
    if query.terms:
        raise AlertRuleError(f"{query.terms[0]!r} is a search word; alerts filter by {allowed}, "
                             "like `/customers alert add churn seats:>=20`")
    for token in query.tokens:
        key = token.partition(":")[0]
        if key in _WHEN_KEYS or key == "sort":
            raise AlertRuleError(f"{token} does not apply to alerts: they fire as changes happen; "
                                 f"filter by {allowed}")


def parse_amount(value: str) -> tuple[Decimal | None, Decimal | None]:
    """`>=100`, `<50`, `100..500`, `..20`: an inclusive range in major units."""
    match = _AMOUNT.match(value.replace(" ", ""))
    if not value or not match:
        raise AlertRuleError(f"amount:{value} is not an amount; {_AMOUNT_HELP}")
    op, number, low, high = match.groups()
    if number is not None:
        n = Decimal(number)
        step = Decimal("0.001")
        return {None: (n, n), ">": (n + step, None), ">=": (n, None), "<": (None, n - step),
                "<=": (None, n)}[op]
    if low is None and high is None:
        raise AlertRuleError(f"amount:{value} needs a number on at least one side; {_AMOUNT_HELP}")
    lo, hi = (Decimal(low) if low else None), (Decimal(high) if high else None)
    if lo is not None and hi is not None and lo > hi:
        raise AlertRuleError(f"amount:{value} is an empty range; write the smaller number first")
    return lo, hi


def parse_quiet(value: str) -> tuple[str, str]:
    """`22:00-07:00` -> ('22:00', '07:00'); the window may cross midnight."""
    match = _QUIET.match(value)
    if not match or int(match.group(1)) > 23 or int(match.group(3)) > 23 or int(match.group(2)) > 59 \
            or int(match.group(4)) > 59:
        raise AlertRuleError(f"quiet:{value} is not a window; try quiet:22:00-07:00 (local times, start-end)")
    start, end = f"{int(match.group(1)):02d}:{match.group(2)}", f"{int(match.group(3)):02d}:{match.group(4)}"
    if start == end:
        raise AlertRuleError(f"quiet:{value} is empty; give different start and end times like quiet:22:00-07:00")
    return start, end


def parse_zone(value: str) -> str:
    """An IANA zone name (any letter case) -> its canonical spelling, such as Europe/Berlin."""
    name = known_zone(value)
    if name is None:
        hint = zone_hint(value).replace("mean ", "mean tz:")
        raise AlertRuleError(f"tz:{value} is not a time zone; use an Area/City name like tz:Europe/Berlin{hint}")
    return name


@lru_cache(maxsize=1024)
def conditions_of(kind: str, filters: str) -> Conditions:
    """A stored rule's conditions, parsed once per process: re-parsing 100 rules on every event would cost more
    than matching them. The filters were valid when stored; time-relative filters are refused, so `now` is moot."""
    return parse_rule(f"{kind} {filters}", now=datetime(2000, 1, 1, tzinfo=UTC)).conditions


def quiet_until(now: datetime, quiet: tuple[str, str] | None, zone: str) -> datetime | None:
    """When the quiet window `now` falls in ends (UTC), or None when `now` is outside it."""
    if quiet is None:
        return None
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    start, end = time.fromisoformat(quiet[0]), time.fromisoformat(quiet[1])
    wall = local.time().replace(tzinfo=None)
    inside = start <= wall < end if start < end else (wall >= start or wall < end)
    if not inside:
        return None
    day = local.date() if wall < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=tz).astimezone(UTC)
