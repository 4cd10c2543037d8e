"""The field rules every source of data shares (CSV import, platform events, Stripe), so what one stores all accept.

Each rule is a predicate or a bound; callers word their own message (a CSV names line and column, a webhook the
JSON field). The bounds match the columns in storage.models, so a value that passes can always be stored.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

ORGANIZATION_MAX = 500  # customer.organization VARCHAR(500)
EMAIL_MAX = 320  # customer.email VARCHAR(320): 64 for the local part, @, 255 for the domain
EXTERNAL_ID_MAX = 255  # external_id VARCHAR(255) of customers, payments and payouts
SEATS_MAX = 2**31 - 1  # customer.seats is a 32-bit INTEGER on PostgreSQL
# Money in minor units, per amount. The per-currency running totals (payment_total, payment_daily) are signed 64-bit:
# with every amount at most 10**12 they stay exact for (2**63 - 1) // 10**12 = 9,223,372 payments at that maximum,
# and for billions of ordinary ones. 10**12 - 1 is the largest amount Stripe takes in any currency (12 digits, IDR).
AMOUNT_MAX = 10**12
# Instants a day inside Python's and PostgreSQL's years 1-9999, so reading them back in any session time zone
# (PostgreSQL converts to it) stays within range.
INSTANT_MIN = datetime(1, 1, 2, tzinfo=UTC)
INSTANT_MAX = datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC)

# ISO 4217 codes in use, with their minor-unit exponents. Codes without a minor unit (metals, XDR, test codes)
# are left out: money here is always an integer count of minor units.
_EXPONENT_0 = ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV",
               "XAF", "XOF", "XPF")
_EXPONENT_3 = ("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND")
_EXPONENT_4 = ("CLF", "UYW")
_EXPONENT_2 = (
    "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BMD", "BND", "BOB",
    "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHE", "CHF", "CHW", "CNY", "COP", "COU", "CRC",
    "CUP", "CVE", "CZK", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP",
    "GMD", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IRR", "JMD", "KES", "KGS", "KHR", "KPW",
    "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR",
    "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "PAB", "PEN", "PGK", "PHP",
    "PKR", "PLN", "QAR", "RON", "RSD", "RUB", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD",
    "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "USD", "USN",
    "UYU", "UZS", "VED", "VES", "WST", "XCD", "XCG", "YER", "ZAR", "ZMW", "ZWG",
    "ANG", "SLL",  # withdrawn in 2024-2025, still sent by payment processors: refusing them would fail forever
)
CURRENCY_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(_EXPONENT_2, 2), **dict.fromkeys(_EXPONENT_0, 0), **dict.fromkeys(_EXPONENT_3, 3),
    **dict.fromkeys(_EXPONENT_4, 4),
}

# C0 and C1 controls (NUL, DEL, escape, ...) and lone surrogates: PostgreSQL refuses NUL in text, UTF-8 cannot encode
# a surrogate, and none belongs in a name. Tab and line breaks are allowed: a CSV cell carries them and the export
# writes them back, so a name holding them still round-trips (emails and currencies refuse all whitespace anyway).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# Something, @, something; no whitespace or control characters anywhere (a quoted local part with spaces is not
# worth the ambiguity). Exported so bulk paths can check a whole column with `map(EMAIL_PATTERN.fullmatch, ...)`.
_NOT_SPACE = "[^\\s\x00-\x1f\x7f-\x9f\ud800-\udfff]"
EMAIL_PATTERN = re.compile(f"{_NOT_SPACE}+@{_NOT_SPACE}+")


def currency_exponent(currency: str) -> int:
    """How many decimals a currency's minor unit has (USD 2, JPY 0, KWD 3); 2 for a code we do not know."""
    return CURRENCY_EXPONENTS.get(currency.upper(), 2)


def is_currency(code: str) -> bool:
    """True for an ISO 4217 code in use (any case), like USD or eur."""
    return code.upper() in CURRENCY_EXPONENTS


def has_control(text: str) -> bool:
    """True when the text holds a control character other than tab and line breaks, or a lone surrogate."""
    return _CONTROL.search(text) is not None


def is_email(value: str) -> bool:
    """The email rule of every source: text@text without whitespace or control characters, at most EMAIL_MAX.

    The lower-cased key is stored too, and lower-casing can lengthen text ('İ' becomes two characters).
    """
    return len(value) <= EMAIL_MAX and EMAIL_PATTERN.fullmatch(value) is not None and len(value.lower()) <= EMAIL_MAX


def is_amount(value: int) -> bool:
    """True for money in minor units within 0..AMOUNT_MAX."""
    return 0 <= value <= AMOUNT_MAX


def utc_instant(value: datetime) -> datetime:
    """An aware instant in UTC; ValueError when it has no zone or falls outside INSTANT_MIN..INSTANT_MAX."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("has no time zone")
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not INSTANT_MIN <= utc <= INSTANT_MAX:
        raise ValueError(f"is out of range ({INSTANT_MIN.date()} to {INSTANT_MAX.date()} in UTC)")
    return utc


@lru_cache(maxsize=1)
def _zones_by_lower_name() -> dict[str, str]:
    """The tz database's names, looked up case-insensitively."""
    return {name.lower(): name for name in available_timezones()}


def known_zone(value: str) -> str | None:
    """An IANA time zone name in any letter case (`europe/berlin`) -> its canonical spelling; None if unknown."""
    name = _zones_by_lower_name().get(value.lower(), value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def zone_hint(value: str) -> str:
    """' (did you mean Europe/Berlin?)' when exactly one zone's city is what was typed (`berlin`), else ''."""
    city = [zone for key, zone in _zones_by_lower_name().items() if key.endswith("/" + value.lower())]
    return f" (did you mean {city[0]}?)" if len(city) == 1 else ""
