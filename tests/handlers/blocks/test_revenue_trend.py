"""`/finance trend` renderers stay inside the chart limits in every worst case, and keep their figures in words."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest

from handlers.blocks.charts import has_charts
from handlers.blocks.limits import validate_message
from handlers.blocks.revenue_trend import major, pick_currency, revenue_trend_message, revenue_trend_plain
from storage.revenue_trend import CurrencyTrend, Period, RevenueTrend
from storage.rules import CURRENCY_EXPONENTS
from storage.trends import bucket_edges

NOW = datetime(2026, 11, 24, 12, 34, tzinfo=UTC)
HUGE = 10**12  # the largest amount a source may state, summed over many customers below
KINDS = ("new", "expansion", "reactivation", "contraction", "churn")


def _currency(code: str, edges: list[datetime], *, mrr: int, moved: int, earnings: int) -> CurrencyTrend:
    """Every bucket with every kind moving `moved` (losses negative) and MRR growing by their sum."""
    net = moved * 3 - moved * 2
    periods = [Period(start=a, end=b, mrr=mrr + net * (i + 1), paying=10 + i,
                      moved={k: (moved if k in KINDS[:3] else -moved) for k in KINDS} if moved else {},
                      earnings=earnings) for i, (a, b) in enumerate(pairwise(edges))]
    return CurrencyTrend(currency=code, periods=periods, mrr_start=mrr, paying_start=10)


def _trend(days: int, codes: list[str], *, mrr: int = 5_000_000, moved: int = 120_000,
           earnings: int = 4_000_000) -> RevenueTrend:
    unit, step, edges = bucket_edges(NOW - timedelta(days=days), NOW)
    return RevenueTrend(unit=unit, step=step, edges=edges,
                        currencies=[_currency(c, edges, mrr=mrr, moved=moved, earnings=earnings) for c in codes])


def _charts(msg: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in msg["blocks"] if b["type"] == "data_visualization"]


def _both(trend: RevenueTrend, currency: str, window: str = "12m") -> tuple[dict[str, Any], dict[str, Any]]:
    """The chart message and its chart-free version, both validated as Slack would."""
    title = f"MRR trend · {currency} · last {window}"
    msg = revenue_trend_message(trend, currency, title=title, window=window)
    plain = revenue_trend_plain(trend, currency, title=title, window=window)
    validate_message(msg)
    validate_message(plain)
    assert not has_charts(plain)
    assert plain["text"] == msg["text"]
    return msg, plain


@pytest.mark.parametrize("days", [1, 7, 31, 32, 90, 182, 183, 365, 730, 5 * 365])
def test_every_window_has_a_line_and_bars_within_the_limits(days: int) -> None:
    trend = _trend(days, ["USD", "EUR"])
    msg, plain = _both(trend, "USD")
    line, bars = _charts(msg)
    assert (line["chart"]["type"], bars["chart"]["type"]) == ("line", "bar")
    assert [s["name"] for s in bars["chart"]["series"]] == ["New", "Expansion", "Reactivation", "Contraction",
                                                            "Churn"]
    assert len(line["chart"]["axis_config"]["categories"]) == len(trend.edges) - 1 <= 20
    assert line["chart"]["series"][0]["data"][0]["value"] == 51_200.0  # major units: $50,000.00 + $1,200.00
    table = next(b for b in plain["blocks"] if b["type"] == "table")
    assert len(table["rows"]) == len(trend.edges)  # a header and one row per bucket
    assert "Earnings" in str(table["rows"][0])


def test_losses_are_bars_below_zero_and_figures_are_in_words() -> None:
    msg, _ = _both(_trend(365, ["USD"]), "USD")
    bars = _charts(msg)[1]["chart"]["series"]
    assert all(p["value"] == -1200.0 for s in bars[3:] for p in s["data"])
    assert all(p["value"] == 1200.0 for s in bars[:3] for p in s["data"])
    words = " ".join(e["text"] for b in msg["blocks"] if b["type"] == "context" for e in b["elements"])
    assert "USD per month from Nov 2025 to Nov 2026: MRR $51,200.00, $52,400.00" in words
    assert "earnings $40,000.00, $40,000.00" in words
    assert msg["text"].startswith("MRR trend · USD · last 12m: MRR $50,000.00 → $65,600.00, net new +$15,600.00 "
                                  "(new +$15,600.00, expansion +$15,600.00")
    assert "earnings $520,000.00" in msg["text"]


def test_huge_amounts_many_currencies_and_every_exponent_stay_valid() -> None:
    codes = sorted(CURRENCY_EXPONENTS)
    trend = _trend(730, codes, mrr=HUGE * 1000, moved=HUGE * 100, earnings=-HUGE * 50)  # refunds beyond payments
    for code in (codes[0], "JPY", "KWD", codes[-1]):
        msg, _ = _both(trend, code, window="24m")
        others = str(msg["blocks"][-1])
        assert "other currencies" in others or "Also" in others


def test_zero_data_and_an_absent_currency_say_so_without_charts() -> None:
    empty = _trend(365, [])
    msg, _ = _both(empty, "USD")
    assert not _charts(msg)
    assert "No MRR, MRR movements or earnings in the 12m window yet." in msg["text"]
    flat = _trend(365, ["EUR"], mrr=0, moved=0, earnings=0)
    msg, _ = _both(flat, "EUR")
    assert [s["data"][0]["value"] for c in _charts(msg) for s in c["chart"]["series"]] == [0, 0, 0, 0, 0, 0]
    msg, _ = _both(flat, "GBP")
    assert "No GBP MRR, movements or earnings" in msg["text"]
    assert "currency:eur" in str(msg["blocks"])


def test_the_default_currency_has_the_most_paying_customers_then_the_largest_mrr() -> None:
    unit, step, edges = bucket_edges(NOW - timedelta(days=90), NOW)

    def trend(*currencies: CurrencyTrend) -> RevenueTrend:
        return RevenueTrend(unit=unit, step=step, edges=edges, currencies=list(currencies))

    def one(code: str, mrr: int, paying: int, earnings: int = 0) -> CurrencyTrend:
        ct = _currency(code, edges, mrr=mrr, moved=0, earnings=earnings)
        return CurrencyTrend(currency=code, mrr_start=mrr, paying_start=paying,
                             periods=[replace(p, paying=paying) for p in ct.periods])

    # ¥300M is more yen than $33M is dollars: amounts do not compare across currencies, customers do
    assert pick_currency(trend(one("JPY", 300_000_000, 50), one("USD", 3_300_000_000, 550))) == "USD"
    assert pick_currency(trend(one("EUR", 900_00, 5), one("GBP", 1_000_00, 5))) == "GBP"  # then MRR (major units)
    assert pick_currency(trend(one("EUR", 0, 0, earnings=5_00), one("USD", 0, 0, earnings=4_00))) == "EUR"
    assert pick_currency(trend()) is None
    assert (major(12345, "USD"), major(12345, "JPY"), major(12345, "KWD")) == (123.45, 12345, 12.345)
