"""Modal renderers stay inside Block Kit's limits (title 24, options 75/150 and 100, labels, placeholders, blocks)."""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from typing import Any

import pytest

from handlers.blocks.customers import customer_card
from handlers.blocks.home import home_view
from handlers.blocks.limits import validate_message
from handlers.blocks.modal_limits import validate_modal, validate_options, validate_surface
from handlers.blocks.modals import (
    HOME_SEARCH,
    LISTED,
    channel_card,
    customer_modal,
    customer_option,
    customer_options,
    digest_form,
    find_modal,
    lookup_results,
    notice_modal,
    with_search,
    zone_options,
)
from handlers.digests.form import matching_zones
from handlers.message_keys import message_keys
from storage.customers import CurrencyTotals, CustomerDetail
from storage.lookup import Found
from storage.models import Customer, SeatChange
from tests.conftest import NOW

LONG = "Ünïcödé 🦘 " * 60  # long, non-ASCII, astral characters: Slack counts UTF-16 units


def _found(n: int, organization: str = "Quokka Robotics", email: str = "ops@quokka.example") -> Found:
    return Found(n, organization, email, email.lower(), n, "past_due")


def _card(organization: str = "Quokka Robotics", email: str = "ops@quokka.example") -> dict[str, Any]:
    customer = Customer(id=7, organization=organization, email=email, email_key=email.lower(), seats=12,
                        status="active", created_at=NOW - timedelta(days=90), updated_at=NOW)
    history = [SeatChange(customer_id=7, old_seats=i, new_seats=i + 1, at=NOW - timedelta(days=i)) for i in range(10)]
    totals = [CurrencyTotals(f"X{i:02d}", 10**15, 10**12, 10**6, NOW) for i in range(20)]
    detail = CustomerDetail(customer=customer, seat_history=history, totals=totals)
    return customer_card(detail, show_finance=True, product_url="https://app.example/admin", tz=UTC)


@pytest.mark.parametrize(("organization", "email"), [
    ("Quokka Robotics", "ops@quokka.example"),
    (LONG, "a" * 60 + "@" + "b" * 200 + ".example"),
    ("<!channel> & <@U1> *bold*", "x@y.example"),
])
def test_every_modal_fits_slacks_limits(organization: str, email: str) -> None:
    validate_modal(find_modal())
    card = _card(organization, email)
    chosen = customer_option(_found(1, organization, email))
    modal = customer_modal(card, chosen=chosen, customer_id=7, channel_id="C1")
    validate_modal(modal)
    assert modal["title"]["text"] == "Find a customer"
    assert len(modal["submit"]["text"]) <= 24
    validate_modal(notice_modal("Find a customer", card))
    validate_modal(digest_form(channel_id="C1", zone="America/Argentina/ComodRivadavia", local_time="23:59",
                               quiet_skip=True))
    validate_modal(digest_form(channel_id=None, zone="UTC", local_time="00:00", quiet_skip=False))
    shared = channel_card(card, shared_by="U1")
    validate_message(shared)
    assert "@" + "b" not in json.dumps(shared)
    assert "ops@quokka" not in json.dumps(shared)
    assert "Payments" in json.dumps(shared) or "Payments" not in json.dumps(card)


def test_options_are_at_most_100_with_text_of_75_and_values_of_150() -> None:
    many = [_found(n, LONG, f"{'x' * 300}{n}@example.com") for n in range(250)]
    options = customer_options(many)
    validate_options({"options": options})
    assert len(options) == 100
    assert all(len(o["text"]["text"]) <= 75 for o in options)
    assert customer_option(_found(5))["text"]["text"] == "Quokka Robotics — ops@quokka.example · 5 seats · past due"
    validate_options({"options": zone_options(matching_zones("", "Europe/Berlin"))})


def test_lookup_answers_fit_a_message_and_say_what_was_looked_for() -> None:
    keys = message_keys("ops@quokka.example, acme.example and Initech Labs")
    many = lookup_results(keys, [_found(n, LONG) for n in range(60)], product_url="https://app.example")
    validate_message(many)
    assert f"first {LISTED}" in json.dumps(many)
    none = lookup_results(keys, [], product_url="")
    said = none["blocks"][0]["text"]["text"]
    assert said == ":mag: No customer matches ops@quokka.example, the domain acme.example or “Initech Labs”."
    assert none["text"] == "No customer matches [email hidden], the domain acme.example or “Initech Labs”."
    assert "names no email address" in lookup_results(message_keys("hello"), [], product_url="")["text"]


def test_home_search_fits_beside_the_biggest_home_tab() -> None:
    huge = home_view(counts={f"s{i}": 10**12 for i in range(30)}, new_7d=1, churned_7d=2, total_seats=3,
                     balances=None, is_admin=True, tz=UTC)
    searched = with_search(huge, "quo" + LONG, [_found(n, LONG) for n in range(LISTED + 1)])
    validate_surface(searched)
    ids = [b.get("block_id") for b in searched["blocks"]]
    assert ids.count(HOME_SEARCH) == 1
    at = ids.index(HOME_SEARCH)
    assert searched["blocks"][at + 1]["type"] == "context"
    assert "first 20" in json.dumps(searched["blocks"][at + 1])
    short = with_search(huge, "qu", [])
    assert "at least three letters" in json.dumps(short)


def test_a_modal_past_the_limits_is_refused_by_the_validator() -> None:
    form = digest_form(channel_id=None, zone="UTC", local_time="09:00", quiet_skip=False)
    with pytest.raises(ValueError, match="title"):
        validate_modal({**form, "title": {"type": "plain_text", "text": "x" * 25}})
    bad = json.loads(json.dumps(form).replace('"09:00"', '"9am"'))
    with pytest.raises(ValueError, match="initial_time"):
        validate_modal(bad)
    with pytest.raises(ValueError, match="at most 100 options"):
        validate_options({"options": customer_options([_found(1)]) * 101})
    with pytest.raises(ValueError, match="placeholder"):
        validate_modal(json.loads(json.dumps(form).replace("Pick a time", "p" * 151)))
