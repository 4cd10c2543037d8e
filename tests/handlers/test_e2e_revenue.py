"""/finance mrr end to end over HTTP: the figures, who may see and export them, Share in channel, Export CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from storage.movements import apply_mrr
from tests.conftest import NOW
from tests.e2e_bot import ADMIN, CHANNEL, FINANCE, MEMBER, Bot, button
from tests.factories import add_customer


@pytest.fixture
def revenue_store(sqlite_engine: Engine) -> None:
    """Two paying customers in the last 30 days, one of whom churned, and an older one."""
    with Session(sqlite_engine) as session:
        for name, mrr, days in (("Grower", 10000, 60), ("Leaver", 20000, 50), ("Fresh", 4000, 3)):
            customer = add_customer(session, name, email=f"billing@{name.lower()}.example")
            apply_mrr(session=session, customer=customer, mrr=mrr, currency="USD", at=NOW - timedelta(days=days))
            if name == "Grower":
                apply_mrr(session=session, customer=customer, mrr=15000, currency="USD", at=NOW - timedelta(days=5))
            if name == "Leaver":
                apply_mrr(session=session, customer=customer, mrr=0, currency="USD", at=NOW - timedelta(days=2))
        session.commit()


def _text(msg: object) -> str:
    return json.dumps(msg, ensure_ascii=False)


def test_finance_mrr_shows_figures_and_largest_movements(bot: Bot, revenue_store: None) -> None:
    bot.command("/finance", "mrr", user=FINANCE)
    answer = _text(bot.slack.wait_for_response("r1"))
    for shown in ("MRR · last 30d", "$190.00", "$2,280.00", "+$40.00", "-$200.00", "Grower +$50.00",
                  "Leaver -$200.00", "33.3%", "66.7%", "50.0%"):
        assert shown in answer, shown
    assert "mrr_export" not in answer  # a finance user who is not an admin cannot export
    bot.command("/finance", "mrr 90d", user=FINANCE, name="r2")
    assert "+$340.00" in _text(bot.slack.wait_for_response("r2"))  # new 100 + 200 + 40 in 90 days


def test_members_are_refused_and_a_bad_window_is_named(bot: Bot, revenue_store: None) -> None:
    bot.command("/finance", "mrr", user=MEMBER)
    assert "finance" in bot.slack.wait_for_response("r1")["text"]
    bot.command("/finance", "mrr 30x", user=FINANCE, name="bad")
    assert "30x is not a window" in bot.slack.wait_for_response("bad")["text"]


def test_share_posts_in_the_channel_without_emails_and_export_uploads_movements(bot: Bot,
                                                                                revenue_store: None) -> None:
    bot.command("/finance", "mrr 30d", user=ADMIN)
    answer = bot.slack.wait_for_response("r1")
    bot.click(button(answer, "mrr_share"), user=MEMBER, name="forwarded")
    assert "finance" in bot.slack.wait_for_response("forwarded")["text"]
    bot.click(button(answer, "mrr_share"), user=ADMIN, name="share")
    posted = bot.slack.wait_for("chat.postMessage")
    assert posted.params["channel"] == CHANNEL
    assert "Shared by <@UADMIN>" in _text(posted.params)
    assert "@" not in _text(posted.params).replace("<@UADMIN>", "")
    bot.click(button(answer, "mrr_export"), user=FINANCE, name="refused")
    assert "admin" in bot.slack.wait_for_response("refused")["text"]
    bot.click(button(answer, "mrr_export"), user=ADMIN, name="export")
    bot.slack.wait_for("files.completeUploadExternal")
    rows = list(csv.reader(io.StringIO(bot.slack.uploads[0].content.decode())))
    assert rows[0] == ["organization", "email", "at", "kind", "currency", "old_mrr", "new_mrr", "delta"]
    stamp = "%Y-%m-%dT%H:%M:%S.%fZ"
    assert rows[1:] == [  # oldest first, major units, signed delta
        ["Grower", "billing@grower.example", (NOW - timedelta(days=5)).strftime(stamp), "expansion", "USD", "100.00",
         "150.00", "50.00"],
        ["Fresh", "billing@fresh.example", (NOW - timedelta(days=3)).strftime(stamp), "new", "USD", "0.00", "40.00",
         "40.00"],
        ["Leaver", "billing@leaver.example", (NOW - timedelta(days=2)).strftime(stamp), "churn", "USD", "200.00",
         "0.00", "-200.00"],
    ]


def test_customers_show_adds_mrr_and_movements_for_finance_users_only(bot: Bot, revenue_store: None) -> None:
    bot.command("/customers", "show grower.example", user=FINANCE)
    card = _text(bot.slack.wait_for_response("r1"))
    assert "*MRR* $150.00 (ARR $1,800.00)" in card
    assert "expansion +$50.00 → $150.00" in card
    bot.command("/customers", "show grower.example", user=MEMBER, name="member")
    assert "MRR" not in _text(bot.slack.wait_for_response("member"))


def test_app_home_shows_mrr_and_30_day_movements_to_finance_users_only(bot: Bot, revenue_store: None) -> None:
    from tests.slack_double import event_body

    bot.post(event_body({"type": "app_home_opened", "user": MEMBER, "tab": "home"}))
    member_view = _text(bot.slack.wait_for("views.publish").params["view"])
    bot.post(event_body({"type": "app_home_opened", "user": FINANCE, "tab": "home"}))
    finance_view = _text(bot.slack.wait_for("views.publish", count=2).params["view"])
    assert "Revenue · last 30 days" not in member_view
    assert "Revenue · last 30 days" in finance_view
    assert "MRR $190.00 · 2 paying customers · net new -$110.00" in finance_view
