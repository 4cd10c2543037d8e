"""Usage, export messages, notices, the App Home view, page state and clipping; every payload validated."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.local.terminal import button_labels
from handlers.blocks.alert_form import ALERT_FORM_OPEN
from handlers.blocks.common import apology, clip, error_message, hide_emails, notice, refusal
from handlers.blocks.exports import export_done_comment, export_on_its_way, export_parent, not_in_channel
from handlers.blocks.help import customers_usage, finance_usage
from handlers.blocks.home import home_view
from handlers.blocks.limits import VIEW_BLOCKS, slack_len, validate_message, validate_view
from handlers.blocks.modals import DIGEST_FORM_OPEN
from handlers.blocks.nav import (
    HOME_CHURNED,
    HOME_EXPORT,
    HOME_NEW,
    HOME_ONE_SEAT,
    PageState,
    decode_state,
    encode_state,
)
from storage.finance import Balance
from storage.paging import encode_cursor
from storage.query import Domain, parse_query

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def usage_text(msg: dict[str, Any]) -> str:
    """All mrkdwn of a usage message."""
    validate_message(msg)
    return json.dumps(msg["blocks"], ensure_ascii=False)


def examples(msg: dict[str, Any]) -> list[str]:
    """Every `code` example in a message."""
    return re.findall(r"`([^`]+)`", " ".join(b["text"]["text"] for b in msg["blocks"] if "text" in b
                                             and b["type"] == "section"))


def test_the_customers_usage_shows_every_subcommand_and_filter() -> None:
    text = usage_text(customers_usage())
    for needle in ("/customers search", "/customers list", "/customers show", "/customers new", "/customers churned",
                   "/customers export", "digest subscribe", "digest unsubscribe", "digest list", "digest preview",
                   "status:", "seats:1", "seats:>10", "seats:5..20", "since:", "until:", "created:", "canceled:",
                   "sort:"):
        assert needle in text


def test_the_finance_usage_shows_every_subcommand_and_filter() -> None:
    text = usage_text(finance_usage())
    for needle in ("/finance balance", "/finance payments", "/finance payouts", "currency:", "status:", "since:"):
        assert needle in text


def test_every_filter_example_in_the_usage_is_accepted_by_the_parser() -> None:
    tried = 0
    for domain, msg in ((Domain.customers, customers_usage()), (Domain.payouts, finance_usage())):
        for example in examples(msg):
            for token in example.split():
                alert_only = token.startswith(("quiet:", "amount:"))  # the alert tests parse these
                if ":" in token and not alert_only and not token.startswith(("/", "@")) and token[:2] != "09":
                    parse_query(token, now=NOW, domain=domain)
                    tried += 1
    assert tried > 30


def test_the_export_parent_names_rows_filters_and_who_asked() -> None:
    msg = export_parent(rows=1234, filters="status:canceled", user_id="U1")
    validate_message(msg)
    assert msg["text"] == "CSV export: 1,234 customers, status:canceled, requested by <@U1>"
    assert msg["blocks"][0]["text"]["text"] == (
        ":page_facing_up: *CSV export:* 1,234 customers, `status:canceled`, requested by <@U1>")
    assert export_parent(rows=1, filters="", user_id="U1")["text"] == "CSV export: 1 customer, requested by <@U1>"


def test_export_messages_escape_filters_but_keep_the_mention() -> None:
    msg = export_parent(rows=2, filters="seats:>1 <!channel> & co", user_id="U9")
    validate_message(msg)
    assert "`seats:&gt;1 &lt;!channel&gt; &amp; co`, requested by <@U9>" in msg["blocks"][0]["text"]["text"]
    assert msg["text"] == "CSV export: 2 customers, seats:>1 &lt;!channel> &amp; co, requested by <@U9>"
    way = export_on_its_way(filters="seats:>1")
    validate_message(way)
    assert "`seats:&gt;1`" in way["blocks"][0]["text"]["text"]
    assert "of all customers" in export_on_its_way(filters="")["text"]


def test_the_bot_says_how_to_invite_it_and_what_the_file_holds() -> None:
    msg = not_in_channel("C42")
    validate_message(msg)
    assert "<#C42>" in msg["text"]
    assert "`/invite @Customers`" in msg["text"]
    assert export_done_comment(1) == "1 row · columns organization, email, seats, status, created_at, canceled_at"
    assert export_done_comment(1234).startswith("1,234 rows")


def test_errors_refusals_and_apologies_are_short_polite_and_marked() -> None:
    err = error_message("seats:abc is not a number; try seats:1, seats:>10 or seats:5..20")
    sorry = apology("ab12cd34")
    no = refusal(needs="finance", granters="<@U1>, <@U2>")
    for msg in (err, sorry, no, notice("No customer matches 'zzz'.")):
        validate_message(msg)
    assert err["text"] == "seats:abc is not a number; try seats:1, seats:>10 or seats:5..20"
    assert err["blocks"][0]["text"]["text"].startswith(":warning: seats:abc")
    assert sorry["text"].startswith("Something went wrong on our side (error id: ab12cd34). We've logged it")
    assert sorry["blocks"][0]["text"]["text"].startswith(":face_with_head_bandage:")
    assert no["text"] == "Sorry, this needs finance access. <@U1>, <@U2> can grant it."
    assert no["blocks"][0]["text"]["text"].startswith(":lock: Sorry, this needs *finance* access. Ask <@U1>, <@U2>")


def test_error_text_from_the_user_cannot_become_markup() -> None:
    msg = error_message("<!channel> is not a filter")
    assert msg["blocks"][0]["text"]["text"] == ":warning: &lt;!channel&gt; is not a filter"
    assert "<!channel>" not in msg["text"]


def test_fallback_text_never_carries_an_email_address() -> None:
    assert notice("No customer matches 'bob@acme.example'.")["text"] == "No customer matches '[email hidden]'."
    assert hide_emails("mail o'brien+x@mail.acme.co.uk or <@U1>") == "mail [email hidden] or <@U1>"


def home(**overrides: Any) -> dict[str, Any]:
    """home_view with everyday figures, validated."""
    options: dict[str, Any] = {"counts": {"canceled": 5, "active": 1200, "paused": 0, "trialing": 7, "legacy": 2},
                               "new_7d": 12, "churned_7d": 3, "total_seats": 4567, "balances": None,
                               "is_admin": False, "tz": UTC}
    view = home_view(**(options | overrides))
    validate_view(view)
    return view


def test_home_shows_customers_by_status_in_a_fixed_order_and_the_last_7_days() -> None:
    view = home()
    assert view["type"] == "home"
    assert view["blocks"][1]["elements"][0]["text"] == "1,214 customers · 4,567 seats in use"
    assert [f["text"] for f in view["blocks"][2]["fields"]] == [
        "*🟢 active*\n1,200", "*🔵 trialing*\n7", "*⚫ canceled*\n5", "*• legacy*\n2"]
    last_week = view["blocks"][4]
    assert last_week["text"]["text"] == "*Last 7 days*"
    assert [f["text"] for f in last_week["fields"]] == ["*New signups*\n12", "*Churned*\n3", "*Net*\n+9"]


def test_home_buttons_start_the_common_workflows_and_export_only_for_admins() -> None:
    member, admin = home(), home(is_admin=True)
    assert button_labels(member) == ["New signups · 7d", "Churned · 7d", "1-seat orgs"]
    assert button_labels(admin)[-3:] == ["Export all (CSV)", "Set up a digest…", "Add an alert…"]
    buttons = {e["action_id"]: e for b in admin["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert set(buttons) == {HOME_NEW, HOME_CHURNED, HOME_ONE_SEAT, HOME_EXPORT, DIGEST_FORM_OPEN, ALERT_FORM_OPEN}
    assert decode_state(buttons[HOME_ONE_SEAT]["value"]) == PageState("list", "seats:1")
    assert decode_state(buttons[HOME_NEW]["value"]) == PageState("new", "7d")


def test_home_shows_the_balance_only_when_given() -> None:
    assert "Balance" not in json.dumps(home())
    balances = [Balance("USD", -2_000, 4_410, 0, 0, 9_000, NOW + timedelta(days=2), 4_410)]
    text = json.dumps(home(balances=balances), ensure_ascii=False)
    assert "*USD* · available :warning: -$20.00 · pending $44.10 · next $44.10 on <!date^" in text
    assert "`/finance help`" in text
    assert "No payments yet." in json.dumps(home(balances=[]))


def test_an_empty_store_and_a_huge_one_both_fit_the_home_tab() -> None:
    assert "No customers yet." in json.dumps(home(counts={}))
    many = [Balance(f"{chr(65 + i // 26)}{chr(65 + i % 26)}Z", -(10**18), 10**18, 10**18, 10**18, 10**18, NOW,
                    10**18) for i in range(200)]
    view = home(counts={f"s{i}": 10**12 for i in range(30)}, balances=many, total_seats=10**15, is_admin=True)
    assert len(view["blocks"]) <= VIEW_BLOCKS
    assert "and 140 more currencies" in json.dumps(view)


def test_page_state_round_trips_compactly() -> None:
    state = PageState(command="churned", query="30d seats:1 “acme”", after=encode_cursor("abc", 4), page_no=4)
    assert decode_state(encode_state(state)) == state
    counted = PageState("search", "acme", page_no=2, total=1000, capped=True)
    assert decode_state(encode_state(counted)) == counted
    assert encode_state(PageState("list", "")) == '{"command":"list","query":""}'


@pytest.mark.parametrize("value", [
    "", "{}", "[1]", "null", "not json", '{"command": "drop"}', '{"command": "list", "page_no": 0}',
    '{"command": "list", "page_no": "2"}', '{"command": "list", "page_no": true}', '{"command": "list", "after": 5}',
    '{"command": "list", "query": ["x"]}', '{"command": "list", "total": "5"}', '{"command": "list", "total": -1}',
    '{"command": "list", "total": true}', '{"command": "list", "total": 1e3}', '{"command": "list", "capped": true}',
    '{"command": "list", "total": 5, "capped": 1}',
])
def test_garbage_button_values_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="page state"):
        decode_state(value)


def test_a_state_that_cannot_fit_a_button_is_refused() -> None:
    with pytest.raises(ValueError, match="too long"):
        encode_state(PageState(command="list", query="q" * 3000))


@pytest.mark.parametrize(("text", "limit", "cut"), [
    ("abcdef", 4, "abc…"), ("abc", 3, "abc"), ("ab cdef", 4, "ab…"), ("😀😀😀", 5, "😀😀…"), ("😀😀😀", 4, "😀…"),
    ("a👨\u200d👩\u200d👧", 5, "a👨…"), ("abc", 0, ""), ("", 5, ""),
])
def test_clip_cuts_cleanly_with_an_ellipsis(text: str, limit: int, cut: str) -> None:
    assert clip(text, limit) == cut


@given(st.text(), st.integers(min_value=1, max_value=400))
def test_clip_always_fits_and_leaves_short_text_alone(text: str, limit: int) -> None:
    cut = clip(text, limit)
    assert slack_len(cut) <= limit
    if slack_len(text) <= limit:
        assert cut == text
    else:
        assert cut.endswith("…")
