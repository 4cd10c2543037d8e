"""`/finance trend` (pure): one currency's MRR as a line and its movements as bars, with earnings in words and table.

A message holds at most two charts, and currencies are never mixed (nor converted), so a message shows one currency
(`currency:` picks another; the others are named under the charts). Earnings (payments net of fees and refunds) are
in the summary, the compact line of figures and the chart-free version's table.
"""

from __future__ import annotations

from handlers.blocks.charts import chart
from handlers.blocks.common import (
    Block,
    Message,
    clip,
    context,
    escape,
    escape_fallback,
    format_money,
    header,
    message,
    raw_cell,
    section,
    table,
)
from handlers.blocks.limits import TEXT
from handlers.blocks.revenue import KIND_LABELS, signed_money
from storage.revenue import GAINS, LOSSES
from storage.revenue_trend import CurrencyTrend, RevenueTrend
from storage.rules import currency_exponent
from storage.trends import Unit

KINDS_SHOWN = (*GAINS, *LOSSES)  # bars: the gains above zero, then the losses below it
_UNITS = {"day": ("day", "days"), "week": ("week", "weeks"), "month": ("month", "months")}
NOTES = ("MRR per currency, never converted, at the end of each period · movements as `/finance mrr` counts them · "
         "earnings: payments net of fees and refunds, by the day they were paid")


def period_words(unit: Unit, step: int) -> str:
    """`month`, `2 months`: how long one bucket is."""
    one, many = _UNITS[unit]
    return one if step == 1 else f"{step} {many}"


def category(trend: RevenueTrend, i: int) -> str:
    """A bucket's x-axis label: `Nov 24` (days and weeks, by their first day) or `Nov 2026` (months)."""
    start = trend.edges[i]
    return f"{start:%b} {start.year}" if trend.unit == "month" else f"{start:%b} {start.day}"


def major(amount: int, currency: str) -> float | int:
    """Minor units as the number a chart plots: major units (cents become dollars; yen stay yen)."""
    exponent = currency_exponent(currency)
    return amount if exponent == 0 else round(amount / 10**exponent, exponent)


def pick_currency(trend: RevenueTrend) -> str | None:
    """The default currency: the most paying customers at the end, then the largest MRR, then earnings.

    Paying customers first because amounts in different currencies do not compare without exchange rates: ¥300M of
    MRR is more yen than $33M is dollars, yet the smaller business.
    """
    if not trend.currencies:
        return None
    return max(trend.currencies, key=lambda c: (c.paying, c.mrr / 10 ** currency_exponent(c.currency),
                                                c.earnings / 10 ** currency_exponent(c.currency))).currency


def figures_line(trend: RevenueTrend, ct: CurrencyTrend) -> str:
    """The compact line of every bucket's figures, for screen readers and notifications."""
    per = period_words(trend.unit, trend.step)

    def listed(values: list[int], sign: bool = False) -> str:
        return ", ".join(signed_money(v, ct.currency) if sign else format_money(v, ct.currency) for v in values)

    first, last = category(trend, 0), category(trend, len(ct.periods) - 1)
    return (f"{ct.currency} per {per} from {first} to {last}: MRR {listed([p.mrr for p in ct.periods])} · "
            f"net new {listed([p.net_new for p in ct.periods], sign=True)} · "
            f"earnings {listed([p.earnings for p in ct.periods])}")


def summary(ct: CurrencyTrend) -> str:
    """The whole window in one mrkdwn line: MRR from start to end, each kind, paying customers and earnings."""
    def money(amount: int) -> str:
        return format_money(amount, ct.currency)

    kinds = " · ".join(f"{KIND_LABELS[k].lower()} {signed_money(ct.moved(k), ct.currency)}"
                       for k in KINDS_SHOWN if ct.moved(k))
    return (f"MRR *{money(ct.mrr_start)}* → *{money(ct.mrr)}* (net new *{signed_money(ct.net_new, ct.currency)}*)"
            + (f"\n{kinds}" if kinds else "")
            + f"\nPaying customers *{ct.paying_start:,}* → *{ct.paying:,}* · earnings *{money(ct.earnings)}*")


def fallback_text(ct: CurrencyTrend, title: str) -> str:
    """The `text` of the message: the title and the window's figures in words."""
    kinds = ", ".join(f"{k} {signed_money(ct.moved(k), ct.currency)}" for k in KINDS_SHOWN if ct.moved(k))
    return (f"{title}: MRR {format_money(ct.mrr_start, ct.currency)} → {format_money(ct.mrr, ct.currency)}, "
            f"net new {signed_money(ct.net_new, ct.currency)}" + (f" ({kinds})" if kinds else "")
            + f"; earnings {format_money(ct.earnings, ct.currency)}")


def _others(trend: RevenueTrend, currency: str, window: str) -> str:
    """Which other currencies the window has, and how to ask for one."""
    others = [c.currency for c in trend.currencies if c.currency != currency]
    if not others:
        return ""
    return (f"Also {', '.join(others)}: `/finance trend {window} currency:{others[0].lower()}`" if len(others) < 30
            else f"{len(others):,} other currencies, e.g. `/finance trend {window} currency:{others[0].lower()}`")


def revenue_trend_message(trend: RevenueTrend, currency: str, *, title: str, window: str) -> Message:
    """One currency's MRR line, its movements as bars, the summary and every bucket's figures in words."""
    ct = trend.of(currency)
    if ct is None:
        return _empty(trend, currency, title=title, window=window)
    per = period_words(trend.unit, trend.step)
    cats = [category(trend, i) for i in range(len(ct.periods))]
    end_words = f"end of each {per}" if trend.step == 1 else f"end of every {per}"
    code = clip(currency, 10)
    blocks: list[Block | None] = [
        header(title),
        section(summary(ct)),
        chart(f"{code} MRR, {end_words}", "line", cats,
              {"MRR": [major(p.mrr, currency) for p in ct.periods]},
              x_label=f"{per.capitalize()} starting (UTC)", y_label=f"MRR ({code})"),
        chart(f"{code} MRR movements per {per}", "bar", cats,
              {KIND_LABELS[k]: [major(p.kind(k), currency) for p in ct.periods]
               for k in KINDS_SHOWN},
              x_label=f"{per.capitalize()} starting (UTC)", y_label=f"MRR moved ({code})"),
        context(escape(clip(figures_line(trend, ct), TEXT))),
        context(*[p for p in (f"Whole {_UNITS[trend.unit][1]} (UTC) since {trend.edges[0]:%a %-d %b %Y}", NOTES,
                              _others(trend, currency, window)) if p]),
    ]
    return message(escape_fallback(fallback_text(ct, title)), blocks)


def revenue_trend_plain(trend: RevenueTrend, currency: str, *, title: str, window: str) -> Message:
    """The same answer without chart blocks (where Slack refuses them): every bucket's figures in one table."""
    ct = trend.of(currency)
    if ct is None:
        return _empty(trend, currency, title=title, window=window)
    per = period_words(trend.unit, trend.step)
    head = [f"{per.capitalize()} of", "MRR", *(KIND_LABELS[k] for k in KINDS_SHOWN), "Earnings"]
    rows = [[raw_cell(category(trend, i)), raw_cell(format_money(p.mrr, currency)),
             *(raw_cell(signed_money(p.kind(k), currency)) for k in KINDS_SHOWN),
             raw_cell(format_money(p.earnings, currency))] for i, p in enumerate(ct.periods)]
    blocks: list[Block | None] = [
        header(title),
        section(summary(ct)),
        table(head, rows, [None, *[{"align": "right"}] * (len(head) - 1)]),
        context(*[p for p in (f"Whole {_UNITS[trend.unit][1]} (UTC) since {trend.edges[0]:%a %-d %b %Y}", NOTES,
                              _others(trend, currency, window)) if p]),
    ]
    return message(escape_fallback(fallback_text(ct, title)), blocks)


def _empty(trend: RevenueTrend, currency: str, *, title: str, window: str) -> Message:
    """Nothing to draw: no currency at all, or not the one asked for (the others are named)."""
    if not trend.currencies:
        lead = f"No MRR, MRR movements or earnings in the {window} window yet."
    else:
        lead = f"No {escape(clip(currency, 10))} MRR, movements or earnings in the {window} window."
    return message(f"{title}: {lead}", [header(title), section(lead),
                                         context(_others(trend, currency, window) or NOTES)])
