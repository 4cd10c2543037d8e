"""Lists filtered or sorted by MRR over HTTP: finance users get them, others a refusal naming the filter."""

from __future__ import annotations

import json

from sqlalchemy import Engine
from sqlmodel import Session

from storage.alert_filters import parse_rule
from storage.movements import apply_mrr
from tests.conftest import NOW
from tests.e2e_bot import FINANCE, MEMBER, Bot
from tests.factories import add_customer


def _store(engine: Engine) -> None:
    with Session(engine) as session:
        for name, mrr in (("Whale Corp", 90_000), ("Minnow Ltd", 2_000)):
            customer = add_customer(session, name, email=f"billing@{name.split()[0].lower()}.example")
            apply_mrr(session=session, customer=customer, mrr=mrr, currency="USD", at=NOW)
        session.commit()


def test_finance_users_list_by_mrr_and_members_are_refused_naming_the_filter(bot: Bot,
                                                                            sqlite_engine: Engine) -> None:
    _store(sqlite_engine)
    bot.command("/customers", "list mrr:>=500 sort:-mrr", user=FINANCE)
    listed = json.dumps(bot.slack.wait_for_response("r1"))
    assert "Whale Corp" in listed
    assert "Minnow Ltd" not in listed
    bot.command("/customers", "list mrr:>=500", user=MEMBER, name="member")
    refused = bot.slack.wait_for_response("member")
    assert "finance (mrr:>=500 reads MRR)" in refused["text"]
    assert "Whale" not in json.dumps(refused)
    bot.command("/customers", "new 30d sort:-mrr", user=MEMBER, name="sorted")
    assert "sort:-mrr reads MRR" in bot.slack.wait_for_response("sorted")["text"]


def test_trends_refuse_mrr_filters_instead_of_ignoring_them_and_alerts_apply_them(bot: Bot) -> None:
    bot.command("/customers", "trend 90d mrr:>=500", user=FINANCE)
    assert "mrr: does not apply to trends" in json.dumps(bot.slack.wait_for_response("r1"))
    assert parse_rule("churn mrr:>=500", now=NOW).conditions.uses_mrr
