"""Digests with `revenue:show`: net new MRR and the MRR lost to the day's churn, listed as carrying revenue."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.app import make_client
from bot.deps import Deps
from bot.local.requests import view_submission_body
from handlers.blocks.limits import validate_message
from handlers.blocks.modal_limits import validate_modal
from handlers.blocks.modals import DIGEST_FORM_OPEN, DIGEST_OPTIONS, REVENUE_SHOW
from handlers.blocks.revenue import with_digest_revenue
from handlers.digests.commands import handle_command, parse_subscribe
from storage.db import session_scope
from storage.digests import active_subscriptions, subscribe
from storage.movements import apply_mrr
from storage.revenue import revenue
from storage.writes import find_customer, recent_audit
from tests.conftest import NOW
from tests.e2e_bot import ADMIN as E2E_ADMIN
from tests.e2e_bot import CHANNEL, Bot, button
from tests.factories import add_customer
from tests.handlers.digests.test_form import _open_form, _values
from tests.handlers.digests.test_posting import ADMIN, DigestSlack, berlin, make_deps, tick_at

DAY = berlin(2026, 11, 24, 9, 0)  # the digest's time: it covers the 24 hours before


@pytest.fixture
def slack() -> Any:
    with DigestSlack() as double:
        yield double


@pytest.fixture
def deps(engine: Engine, slack: DigestSlack) -> Deps:
    return make_deps(engine, slack)


@pytest.fixture
def client(deps: Deps) -> WebClient:
    return make_client(deps)


def _mrr(deps: Deps, organization: str, changes: list[tuple[datetime, int]], currency: str = "EUR") -> None:
    """A customer whose MRR changes at these instants."""
    with session_scope(deps.engine, write=True) as session:
        customer = add_customer(session, organization, created_at=datetime(2026, 1, 5, tzinfo=UTC))
        for at, mrr in changes:
            locked = find_customer(session=session, external_id=None, email=customer.email, lock=True)
            assert locked is not None
            apply_mrr(session=session, customer=locked, mrr=mrr, currency=currency, at=at)


def _subscribe(deps: Deps, channel: str, *, revenue_shown: bool) -> None:
    with session_scope(deps.engine, write=True) as session:
        subscribe(session=session, channel_id=channel, team_id="T1", local_time="09:00", timezone="Europe/Berlin",
                  quiet_skip=False, user_id=ADMIN, at=datetime(2026, 1, 1, tzinfo=UTC), revenue=revenue_shown)


def _posted(slack: DigestSlack, channel: str) -> str:
    [post] = slack.posts(channel)
    return json.dumps(post.params["blocks"], ensure_ascii=False)


def test_a_revenue_digest_carries_net_new_and_churned_mrr_of_its_24_hours(deps: Deps, client: WebClient,
                                                                          slack: DigestSlack) -> None:
    day_before = DAY - timedelta(hours=30)  # outside the 24 hours
    inside = DAY - timedelta(hours=3)
    _mrr(deps, "Grower", [(day_before, 10_000), (inside, 25_000)])  # expansion +150.00
    _mrr(deps, "Leaver", [(day_before, 40_000), (inside, 0)])  # churn -400.00
    _mrr(deps, "Newcomer", [(inside, 5_000)])  # new +50.00
    _mrr(deps, "Yen", [(inside, 30_000)], currency="JPY")  # new ¥30,000
    with session_scope(deps.engine, write=True) as session:  # a signup, so the day is not quiet
        add_customer(session, "Fresh Org", created_at=DAY - timedelta(hours=1))
    _subscribe(deps, "CREV", revenue_shown=True)
    _subscribe(deps, "CPLAIN", revenue_shown=False)
    tick_at(deps, client, DAY)
    shown = _posted(slack, "CREV")
    assert "Revenue, last 24 hours" in shown
    # EUR: net new = 50 + 150 - 400 = -200.00; 400.00 lost to 1 churned customer
    assert "*EUR* net new MRR -€200.00 · lost to churn €400.00 (1 customer)" in shown
    assert "*JPY* net new MRR +¥30,000 · lost to churn ¥0 (0 customers)" in shown
    assert "@" not in shown
    plain = _posted(slack, "CPLAIN")
    assert "Revenue" not in plain
    assert "MRR" not in plain


def test_a_day_without_movements_says_so(deps: Deps, client: WebClient, slack: DigestSlack) -> None:
    with session_scope(deps.engine, write=True) as session:
        add_customer(session, "Fresh Org", created_at=DAY - timedelta(hours=2))
    _subscribe(deps, "CREV", revenue_shown=True)
    tick_at(deps, client, DAY)
    assert "*Revenue, last 24 hours*\\nno MRR movements" in _posted(slack, "CREV")


def _command(deps: Deps, text: str, *, user: str = ADMIN) -> str:
    body = {"command": "/customers", "text": text, "user_id": user, "channel_id": "C1", "channel_name": "growth",
            "team_id": "T1"}
    message = handle_command(deps, body)
    validate_message(message)
    return json.dumps(message, ensure_ascii=False)


def test_revenue_show_is_an_admin_choice_listed_and_audited(deps: Deps) -> None:
    assert parse_subscribe(["revenue:show", "8:00"], default_zone="UTC").revenue is True
    assert parse_subscribe(["REVENUE:hide"], default_zone="UTC").revenue is False
    assert "this needs *admin* access" in _command(deps, "digest subscribe revenue:show", user="UMEMBER")
    assert "revenue:maybe is not a revenue choice; use revenue:show" in _command(deps, "digest subscribe revenue:maybe")
    answer = _command(deps, "digest subscribe 09:00 Europe/Berlin revenue:show")
    assert "09:00 Europe/Berlin, quiet days get one line, with revenue" in answer
    with session_scope(deps.engine) as session:
        [sub] = active_subscriptions(session=session)
        [audit] = recent_audit(session=session, action="digest_subscribe")
    assert sub.revenue is True
    assert audit.details["revenue"] is True
    listed = _command(deps, "digest list", user="UMEMBER")
    assert "Carries revenue (net new and churned MRR): everyone in the channel sees it" in listed
    _command(deps, "digest subscribe 09:00 Europe/Berlin")  # stating the subscription again without it turns it off
    assert "Carries revenue" not in _command(deps, "digest list", user="UMEMBER")


def test_preview_of_a_revenue_channel_shows_its_revenue(deps: Deps) -> None:
    fixed = replace(deps, clock=lambda: NOW)
    _mrr(fixed, "Newcomer", [(NOW - timedelta(hours=2), 5_000)])
    assert "net new MRR" not in _command(fixed, "digest preview")
    _command(fixed, "digest subscribe 09:00 Europe/Berlin revenue:show")
    assert "*EUR* net new MRR +€50.00" in _command(fixed, "digest preview")


def test_the_renderer_stays_inside_block_kit_limits_with_many_currencies(engine: Engine) -> None:
    with session_scope(engine) as session:
        figures = revenue(session=session, since=datetime(2026, 1, 1, tzinfo=UTC),
                          until=datetime(2026, 1, 2, tzinfo=UTC))
    base = {"text": "digest", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}]}
    assert "no MRR movements" in json.dumps(with_digest_revenue(base, figures))


def test_the_form_offers_revenue_show(bot: Bot, sqlite_engine: Engine) -> None:
    form = _open_form(bot)
    values = _values()
    values[DIGEST_OPTIONS][DIGEST_OPTIONS]["selected_options"].append(
        {"text": {"type": "plain_text", "text": "revenue"}, "value": REVENUE_SHOW})
    answer = bot.post(view_submission_body(form, values, user_id=E2E_ADMIN)).json()
    validate_modal(answer["view"])
    assert "quiet days skipped, with revenue" in json.dumps(answer["view"])
    with session_scope(sqlite_engine) as session:
        [sub] = active_subscriptions(session=session)
    assert (sub.channel_id, sub.quiet_skip, sub.revenue) == (CHANNEL, True, True)
    bot.command("/customers", "digest list", user=E2E_ADMIN, name="again")
    assert bot.click(button(bot.slack.wait_for_response("again"), DIGEST_FORM_OPEN), user=E2E_ADMIN).status_code == 200
    again = bot.slack.wait_for("views.open", count=2).params["view"]
    [boxes] = [b["element"] for b in again["blocks"] if b.get("block_id") == DIGEST_OPTIONS]
    assert [o["value"] for o in boxes["initial_options"]] == ["quiet:skip", REVENUE_SHOW]
