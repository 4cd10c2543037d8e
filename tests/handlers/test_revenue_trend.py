"""`/finance trend` over HTTP: charts for finance users, refusals, arguments, and the table where charts are refused."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from storage.chart_fallbacks import charts_refused
from storage.db import session_scope
from storage.movements import apply_mrr
from tests.conftest import NOW
from tests.e2e_bot import ADMIN, FINANCE, MEMBER, Bot
from tests.factories import add_customer, add_payment
from tests.slack_double import TEAM_ID

CHART_TYPES = ("data_visualization", "data_table")
D = timedelta(days=1)


def _kinds(msg: dict[str, Any]) -> list[str]:
    return [b["type"] for b in msg["blocks"]]


def _text(msg: object) -> str:
    return json.dumps(msg, ensure_ascii=False)


@pytest.fixture
def revenue_history(sqlite_engine: Engine) -> None:
    """USD customers over a year (a new one, an expansion, a churn), a smaller EUR one, and payments."""
    with Session(sqlite_engine) as session:
        grower, leaver, euro = (add_customer(session, name, email=f"billing@{name.lower()}.example",
                                             created_at=NOW - 400 * D) for name in ("Grower", "Leaver", "Euro"))
        for customer, mrr, currency, at in (
            (grower, 10000, "USD", NOW - 300 * D), (leaver, 20000, "USD", NOW - 200 * D),
            (grower, 15000, "USD", NOW - 100 * D), (leaver, 0, "USD", NOW - 40 * D), (euro, 9000, "EUR", NOW - 20 * D),
        ):
            apply_mrr(session=session, customer=customer, mrr=mrr, currency=currency, at=at)
            session.commit()
        add_payment(session, grower, amount=15000, fee=500, refunded_amount=1000, created_at=NOW - 10 * D)
        add_payment(session, euro, amount=9000, fee=300, currency="EUR", created_at=NOW - 5 * D)


@pytest.mark.usefixtures("revenue_history")
def test_finance_users_get_mrr_as_a_line_movements_as_bars_and_earnings_in_words(bot: Bot) -> None:
    bot.command("/finance", "trend", user=FINANCE)
    msg = bot.slack.wait_for_response("r1")
    assert _kinds(msg).count("data_visualization") == 2
    assert msg["text"] == ("MRR trend · USD · last 12m: MRR $0.00 → $150.00, net new +$150.00 (new +$300.00, "
                           "expansion +$50.00, churn -$200.00); earnings $135.00")
    line, bars = (b for b in msg["blocks"] if b["type"] == "data_visualization")
    assert bars["chart"]["series"][4]["data"][-2]["value"] == -200.0  # Leaver's churn, in October
    assert len(line["chart"]["axis_config"]["categories"]) == 13  # months, Nov 2025 .. Nov 2026
    assert line["chart"]["series"][0]["data"][-1]["value"] == 150.0
    assert "Also EUR: `/finance trend 12m currency:eur`" in _text(msg)
    bot.command("/finance", "trend 90d currency:eur", user=ADMIN, name="eur")
    eur = bot.slack.wait_for_response("eur")
    assert eur["text"].startswith("MRR trend · EUR · last 90d: MRR €0.00 → €90.00")
    assert "€87.00" in eur["text"]  # earnings net of the fee
    assert len(next(b for b in eur["blocks"] if b["type"] == "data_visualization")
               ["chart"]["axis_config"]["categories"]) == 14  # weeks


@pytest.mark.usefixtures("revenue_history")
def test_members_are_refused_and_bad_arguments_are_named(bot: Bot) -> None:
    bot.command("/finance", "trend", user=MEMBER)
    refused = bot.slack.wait_for_response("r1")
    assert "finance" in refused["text"]
    assert "data_visualization" not in _kinds(refused)
    for name, typed, said in (("hours", "trend 6h", "shorter than a trend's smallest bar"),
                              ("word", "trend 12m acme", "not 'acme'"),
                              ("code", "trend currency:dollars", "currency:dollars is not an ISO 4217 code"),
                              ("long", "trend 10y", "at most 5 years"),
                              ("absent", "trend currency:gbp", "No GBP MRR, movements or earnings")):
        bot.command("/finance", typed, user=FINANCE, name=name)
        assert said in bot.slack.wait_for_response(name)["text"], typed


def test_help_lists_the_trends(bot: Bot) -> None:
    bot.command("/finance", "help", user=FINANCE, name="finance")
    assert "/finance trend 90d currency:eur" in _text(bot.slack.wait_for_response("finance"))
    bot.command("/customers", "help", user=MEMBER, name="customers")
    usage = _text(bot.slack.wait_for_response("customers"))
    assert "/customers trend 12m seats:>10" in usage.replace("&gt;", ">")
    assert "/finance trend" in usage


@pytest.mark.usefixtures("revenue_history")
def test_a_workspace_refusing_charts_gets_the_table_with_earnings_and_is_remembered(bot: Bot) -> None:
    bot.slack.refuse_blocks(*CHART_TYPES)
    bot.command("/finance", "trend 12m", user=FINANCE)
    msg = bot.slack.wait_for_response("r1")  # the refused attempt is never shown; this is the second one
    assert not set(_kinds(msg)) & set(CHART_TYPES)
    table = next(b for b in msg["blocks"] if b["type"] == "table")
    assert "Earnings" in _text(table["rows"][0])
    assert "$135.00" in _text(table["rows"][-1])
    assert msg["text"].startswith("MRR trend · USD · last 12m: MRR $0.00 → $150.00")
    with session_scope(bot.engine) as session:
        assert charts_refused(session=session, team_id=TEAM_ID, now=NOW)
    bot.command("/finance", "trend 24m", user=FINANCE, name="again")
    assert "table" in _kinds(bot.slack.wait_for_response("again"))
