"""The filter language shared by Slack and the CLI: `acme status:canceled seats:>10 since:7d sort:-seats`."""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from storage.models import PayoutStatus, Status

MAX_TOKENS = 30
MAX_TERM = 200
MAX_NUMBER = 1_000_000_000


class QueryError(ValueError):
    """Input the user can fix; the message names the token and shows a valid form."""


class Domain(StrEnum):
    """What a query is about; decides which filters and sorts are allowed."""

    customers = "customers"
    payments = "payments"
    payouts = "payouts"


@dataclass(frozen=True)
class Window:
    """A half-open time range [since, until); either end may be open."""

    since: datetime | None = None
    until: datetime | None = None

    def __bool__(self) -> bool:
        """True when either end is set."""
        return self.since is not None or self.until is not None


@dataclass(frozen=True)
class Sort:
    """A sort key and direction; every list also orders by id so pages are stable."""

    key: str = "created"
    descending: bool = True


@dataclass(frozen=True)
class Query:
    """A parsed query: search terms plus filters, all optional."""

    domain: Domain = Domain.customers
    terms: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    seats_min: int | None = None
    seats_max: int | None = None
    mrr_min: int | None = None  # MRR in whole major units of each customer's own currency (finance users only)
    mrr_max: int | None = None
    mrr_strict: tuple[bool, bool] = (False, False)  # `>` and `<` exclude the bound (0.60 KWD is > 0, not >= 1)
    created: Window = field(default_factory=Window)
    canceled: Window = field(default_factory=Window)
    currency: str | None = None
    sort: Sort = field(default_factory=Sort)
    tokens: tuple[str, ...] = ()

    @property
    def summary(self) -> str:
        """The filters as typed (normalised), for headers like 'status:canceled seats:1'."""
        return " ".join(self.tokens)

    def with_window(self, *, created: Window | None = None, canceled: Window | None = None) -> Query:
        """A copy with a window replaced (used by `new 7d` and `churned 30d`)."""
        return replace(self, created=created or self.created, canceled=canceled or self.canceled)


SORT_KEYS: dict[Domain, dict[str, str]] = {
    Domain.customers: {
        "created": "created", "seats": "seats", "name": "organization", "org": "organization",
        "organization": "organization", "canceled": "canceled", "mrr": "mrr",
    },
    Domain.payments: {"created": "created", "amount": "amount"},
    Domain.payouts: {"created": "created", "amount": "amount", "arrival": "arrival"},
}
FILTER_KEYS: dict[Domain, tuple[str, ...]] = {
    Domain.customers: ("status", "seats", "since", "until", "created", "canceled", "mrr", "sort"),
    Domain.payments: ("since", "until", "created", "currency", "sort"),
    Domain.payouts: ("status", "since", "until", "created", "currency", "sort"),
}
STATUS_ALIASES = {"cancelled": "canceled", "past-due": "past_due", "pastdue": "past_due", "trial": "trialing"}
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2018": "'", "\u2019": "'"})
_SLACK_LINK = re.compile(r"<(?:mailto:)?[^<>|]*\|([^<>]*)>|<mailto:([^<>|]*)>")
_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
# ASCII digits only: `\d` also matches other scripts' digits, which int() would quietly read as numbers.
_RELATIVE = re.compile(r"^([0-9]{1,4})(h|d|w|m|y)$")
_SEATS = re.compile(r"^(?:(>=|<=|>|<)?([0-9]+)|([0-9]+)?\.\.([0-9]+)?)$")
_MAX_DIGITS = len(str(MAX_NUMBER))


def parse_query(
    text: str, *, now: datetime, domain: Domain = Domain.customers, tz: tzinfo = UTC
) -> Query:
    """Parse a query string; raise QueryError with a specific, fixable message on bad input."""
    text = _unslack(text)
    reject_control(text)
    if text.count('"') % 2:
        raise QueryError('a quote is not closed; write a phrase as "acme corp"')
    matches = list(_TOKEN.finditer(text))
    if len(matches) > MAX_TOKENS:
        raise QueryError(f"that is {len(matches)} words and filters; use at most {MAX_TOKENS}")
    query = Query(domain=domain)
    for match in matches:
        phrase, token = match.group(1), match.group(2)
        if phrase is not None:
            query = _add_term(query, phrase.strip(), quoted=True)
            continue
        key, sep, value = token.partition(":")
        lowered = key.lower()
        if not sep or not re.fullmatch(r"[a-z_]+", lowered) or "@" in token:
            query = _add_term(query, token, quoted=False)
        elif lowered in FILTER_KEYS[domain]:
            query = _apply(query, lowered, value, now=now, tz=tz)
            query = replace(query, tokens=(*query.tokens, f"{lowered}:{value}"))
        else:
            raise QueryError(f"{token} is not a filter for {domain.value}; try one of {_known(domain)}")
    return query


def _unslack(text: str) -> str:
    """Undo Slack's escaping: `&amp;` entities, `<mailto:a@b|a@b>` links, curly quotes."""
    text = _SLACK_LINK.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), text)
    return html.unescape(text).translate(_QUOTES).strip()


def reject_control(text: str) -> None:
    """Refuse control characters (NUL breaks both engines' search) and lone surrogates (no engine can store them)."""
    for char in text:
        if char not in "\t\n\r" and unicodedata.category(char) in ("Cc", "Cs"):
            raise QueryError(f"the text holds a control character ({char!a}); type the search without it")


def _known(domain: Domain) -> str:
    """The filters a domain accepts, for error messages."""
    return ", ".join(f"{key}:" for key in FILTER_KEYS[domain])


def _add_term(query: Query, term: str, *, quoted: bool) -> Query:
    """Add one search term (a word or a quoted phrase)."""
    if not term:
        return query
    if len(term) > MAX_TERM:
        raise QueryError(f"a search term can be at most {MAX_TERM} characters")
    shown = f'"{term}"' if quoted or " " in term else term
    return replace(query, terms=(*query.terms, term), tokens=(*query.tokens, shown))


def _apply(query: Query, key: str, value: str, *, now: datetime, tz: tzinfo) -> Query:
    """Apply one `key:value` filter to the query."""
    if not value:
        raise QueryError(f"{key}: needs a value; {_EXAMPLES[key]}")
    if key == "status":
        return replace(query, statuses=_statuses(value, query.domain))
    if key == "seats":
        low, high = _seats(value)
        return replace(query, seats_min=low, seats_max=high)
    if key == "mrr":
        low, high, above, below = _mrr(value)
        return replace(query, mrr_min=low, mrr_max=high, mrr_strict=(above, below))
    if key == "since":
        return replace(query, created=replace(query.created, since=_instant(key, value, now=now, tz=tz)))
    if key == "until":
        end = _instant(key, value, now=now, tz=tz, end_of_day=True)
        return replace(query, created=replace(query.created, until=end))
    if key in ("created", "canceled"):
        window = _window(key, value, now=now, tz=tz)
        return replace(query, created=window) if key == "created" else replace(query, canceled=window)
    if key == "currency":
        if not re.fullmatch(r"[A-Za-z]{3}", value):
            raise QueryError(f"currency:{value} is not an ISO 4217 code; try currency:usd or currency:eur")
        return replace(query, currency=value.upper())
    return replace(query, sort=_sort(value, query.domain))


_EXAMPLES = {
    "status": "try status:canceled or status:active,trialing",
    "seats": "try seats:1, seats:>10 or seats:5..20",
    "mrr": "try mrr:>=500, mrr:0 or mrr:100..1000 (whole major units)",
    "since": "try since:7d, since:24h or since:2026-11-01",
    "until": "try until:2026-11-30 or until:1d",
    "created": "try created:7d or created:2026-11-01..2026-11-30",
    "canceled": "try canceled:30d or canceled:2026-11-01..2026-11-30",
    "currency": "try currency:usd",
    "sort": "try sort:created, sort:-seats or sort:name",
}


def _statuses(value: str, domain: Domain) -> tuple[str, ...]:
    """`active,trialing` -> ('active', 'trialing'), rejecting unknown states by name."""
    allowed = [s.value for s in (PayoutStatus if domain is Domain.payouts else Status)]
    picked: set[str] = set()
    for raw in value.lower().split(","):
        name = STATUS_ALIASES.get(raw.strip(), raw.strip())
        if name not in allowed:
            raise QueryError(
                f"status:{value} has an unknown status {raw!r}; try status:{allowed[0]} or "
                f"status:{allowed[0]},{allowed[1]} (one of {', '.join(allowed)})"
            )
        picked.add(name)
    return tuple(sorted(picked))


def _seats(value: str) -> tuple[int | None, int | None]:
    """Parse `1`, `>10`, `>=5`, `<3`, `5..20`, `5..` or `..20` into an inclusive range."""
    match = _SEATS.match(value.replace(" ", ""))
    if not match:
        raise QueryError(f"seats:{value} is not a number; try seats:1, seats:>10 or seats:5..20")
    op, number, low, high = match.groups()
    if number is not None:
        n = _bounded(number, f"seats:{value}")
        bounds = {None: (n, n), ">": (n + 1, None), ">=": (n, None), "<": (None, n - 1), "<=": (None, n)}
        lo, hi = bounds[op]
        if hi is not None and hi < 0:
            raise QueryError(f"seats:{value} matches nothing: seats are never negative; try seats:0")
        return lo, hi
    if low is None and high is None:
        raise QueryError(f"seats:{value} needs a number on at least one side; try seats:5..20")
    lo = _bounded(low, f"seats:{value}") if low is not None else None
    hi = _bounded(high, f"seats:{value}") if high is not None else None
    if lo is not None and hi is not None and lo > hi:
        raise QueryError(f"seats:{value} is an empty range; write the smaller number first, like seats:5..20")
    return lo, hi


def _mrr(value: str) -> tuple[int | None, int | None, bool, bool]:
    """`mrr:>=500`, `mrr:0`, `mrr:<50`, `mrr:100..1000` in whole major units: (low, high, low excluded, high excl.)."""
    shown = value if len(value) <= 40 else value[:40] + "…"
    match = _SEATS.match(value.replace(" ", ""))
    if not match:
        raise QueryError(f"mrr:{shown} is not an amount; {_EXAMPLES['mrr']}")

    def bounded(digits: str) -> int:
        significant = digits.lstrip("0") or "0"
        if len(significant) > _MAX_DIGITS or int(significant) > MAX_NUMBER:
            raise QueryError(f"mrr:{shown} is too large; MRR filters go up to {MAX_NUMBER:,}")
        return int(significant)

    op, number, low, high = match.groups()
    if number is not None:
        n = bounded(number)
        if op == "<" and n == 0:
            raise QueryError(f"mrr:{shown} matches nothing: MRR is never negative; try mrr:0")
        return {None: (n, n, False, False), ">": (n, None, True, False), ">=": (n, None, False, False),
                "<": (None, n, False, True), "<=": (None, n, False, False)}[op]
    if low is None and high is None:
        raise QueryError(f"mrr:{shown} needs a number on at least one side; {_EXAMPLES['mrr']}")
    lo, hi = (bounded(low) if low else None), (bounded(high) if high else None)
    if lo is not None and hi is not None and lo > hi:
        raise QueryError(f"mrr:{shown} is an empty range; write the smaller number first, like mrr:100..1000")
    return lo, hi, False, False


def _bounded(digits: str, token: str) -> int:
    """Keep numbers within what every engine stores (checked on the digits: int() refuses over 4,300 of them)."""
    significant = digits.lstrip("0") or "0"
    if len(significant) > _MAX_DIGITS or int(significant) > MAX_NUMBER:
        shown = token if len(token) <= 40 else token[:40] + "…"
        raise QueryError(f"{shown} is too large; seat counts go up to {MAX_NUMBER:,}")
    return int(significant)


def _instant(key: str, value: str, *, now: datetime, tz: tzinfo, end_of_day: bool = False) -> datetime:
    """A relative age (`7d`, `24h`, `2w`, `3m`, `1y`), `today`, `yesterday`, a date or an ISO instant."""
    lowered = value.lower()
    if lowered in ("today", "yesterday"):
        day = now.astimezone(tz).date() - timedelta(days=1 if lowered == "yesterday" else 0)
        return _day_start(day + timedelta(days=1 if end_of_day else 0), tz)
    relative = _RELATIVE.match(lowered)
    if relative:
        return _ago(now, int(relative.group(1)), relative.group(2))
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return _day_start(day + timedelta(days=1 if end_of_day else 0), tz)
        parsed = datetime.fromisoformat(value)
    except (ValueError, OverflowError):
        raise QueryError(f"{key}:{value} is not a date or an age; {_EXAMPLES[key]}") from None
    if not 1970 <= parsed.year <= 2200:
        raise QueryError(f"{key}:{value} is out of range; {_EXAMPLES[key]}")
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).astimezone(UTC)


def _window(key: str, value: str, *, now: datetime, tz: tzinfo) -> Window:
    """`30d` (the last 30 days), `2026-11-01..2026-11-30` (inclusive days) or an open-ended range."""
    if ".." not in value:
        return Window(since=_instant(key, value, now=now, tz=tz))
    start, _, end = value.partition("..")
    if not start and not end:
        raise QueryError(f"{key}:{value} needs a date on at least one side; {_EXAMPLES[key]}")
    window = Window(
        since=_instant(key, start, now=now, tz=tz) if start else None,
        until=_instant(key, end, now=now, tz=tz, end_of_day=True) if end else None,
    )
    if window.since and window.until and window.since >= window.until:
        raise QueryError(f"{key}:{value} ends before it starts; write the earlier date first")
    return window


def _day_start(day: date, tz: tzinfo) -> datetime:
    """Midnight of a local day, as UTC."""
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def _ago(now: datetime, amount: int, unit: str) -> datetime:
    """`now` minus an amount of hours, days, weeks, calendar months or years."""
    if unit in ("h", "d", "w"):
        return now - timedelta(**{{"h": "hours", "d": "days", "w": "weeks"}[unit]: amount})
    months = amount * (12 if unit == "y" else 1)
    year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
    if year < 1970:
        raise QueryError(f"{amount}{unit} reaches back before 1970; pick a shorter age like 3m")
    day = min(now.day, _days_in_month(year, month + 1))
    return now.replace(year=year, month=month + 1, day=day)


def _days_in_month(year: int, month: int) -> int:
    """Days in a month, for clamping 31 March minus one month to 28/29 February."""
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def _sort(value: str, domain: Domain) -> Sort:
    """`created` (oldest first), `-created` (newest first), `seats`, `-seats`, `name`, ..."""
    descending = value.startswith("-")
    name = value.lstrip("+-").lower()
    keys = SORT_KEYS[domain]
    if name not in keys:
        choices = ", ".join(sorted(set(keys) - {"org", "organization"} | ({"name"} & set(keys))))
        raise QueryError(f"sort:{value} is not a sort; try sort:-created, sort:-seats or sort:name ({choices})")
    return Sort(key=keys[name], descending=descending)


def parse_window(value: str, *, now: datetime, default: str = "7d") -> Window:
    """The `[window]` argument of `new` and `churned`: `7d`, `30d`, `24h`, or a date range."""
    try:
        return _window("since", value or default, now=now, tz=UTC)
    except QueryError:
        raise QueryError(f"{value} is not a window; try 7d, 30d, 24h or 2026-11-01..2026-11-30") from None
