"""The revenue renderers: every figure shown, dashes for divisions by zero, no emails, within Block Kit's limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from fractions import Fraction

from handlers.blocks.limits import MESSAGE_BLOCKS, validate_message
from handlers.blocks.revenue import (
    CURRENCIES_SHOWN,
    MRR_EXPORT,
    MRR_SHARE,
    customer_revenue_lines,
    digest_revenue_lines,
    home_revenue_blocks,
    mrr_message,
    mrr_value,
    percent,
    ratio,
    read_mrr_value,
)
from storage.models import MrrMovement
from storage.revenue import KindTotal, MovementRow, Revenue

AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
USD = Revenue(currency="USD", mrr=30500, paying=5, mrr_start=45500, paying_start=5,
              movements={"new": KindTotal(4000, 1), "expansion": KindTotal(5000, 1), "contraction": KindTotal(2000, 1),
                         "churn": KindTotal(28000, 2), "reactivation": KindTotal(6000, 1)})
EUR = Revenue(currency="EUR", mrr=9000, paying=1, mrr_start=0, paying_start=0, movements={"new": KindTotal(9000, 1)})


def _row(org: str, delta: int, kind: str) -> MovementRow:
    movement = MrrMovement(id=1, customer_id=1, at=AT, currency="USD", old_mrr=max(-delta, 0),
                           new_mrr=max(delta, 0), delta=delta, kind=kind)
    return MovementRow(movement=movement, organization=org, email="secret@org.example")


def _text(msg: object) -> str:
    return json.dumps(msg, ensure_ascii=False)


def test_the_mrr_answer_shows_every_figure_per_currency() -> None:
    tops = {("USD", "expansion"): [_row("Org <A>", 5000, "expansion")],
            ("USD", "churn"): [_row("Org B", -20000, "churn"), _row("Org D", -8000, "churn")]}
    msg = mrr_message([EUR, USD], tops, window="30d", span="last 30d", can_export=True)
    validate_message(msg)
    text = _text(msg)
    for shown in ("$305.00", "$3,660.00", "$61.00", "-$150.00", "$455.00", "+$40.00", "-$280.00", "33.3%",
                  "65.9%", "41.8%", "58.2%", "0.50", "Org &lt;A&gt; +$50.00", "Org B -$200.00", "€90.00"):
        assert shown in text, shown
    assert "secret@org.example" not in text
    assert "–" in text  # EUR's rates divide by an MRR of 0 at the start  # noqa: RUF001
    assert [e["action_id"] for b in msg["blocks"] if b["type"] == "actions" for e in b["elements"]] == [
        MRR_SHARE, MRR_EXPORT]
    assert msg["text"].startswith("MRR · last 30d: EUR €90.00 (net new +€90.00); USD $305.00")


def test_a_finance_user_who_is_not_an_admin_gets_no_export_and_a_shared_copy_no_buttons() -> None:
    mine = mrr_message([USD], {}, window="30d", span="last 30d", can_export=False)
    assert MRR_EXPORT not in _text(mine)
    assert MRR_SHARE in _text(mine)
    shared = mrr_message([USD], {}, window="30d", span="last 30d", can_export=True, shared_by="U1")
    assert "actions" not in [b["type"] for b in shared["blocks"]]
    assert "Shared by <@U1>" in _text(shared)


def test_many_currencies_stay_within_the_block_limit() -> None:
    many = [Revenue(currency=f"C{i:02d}", mrr=100, paying=1, mrr_start=100, paying_start=1) for i in range(40)]
    msg = mrr_message(many, {}, window="30d", span="last 30d", can_export=True)
    validate_message(msg)
    assert len(msg["blocks"]) <= MESSAGE_BLOCKS
    assert f"And {40 - CURRENCIES_SHOWN} more currencies" in _text(msg)


def test_an_empty_store_says_so() -> None:
    msg = mrr_message([], {}, window="7d", span="last 7d", can_export=False)
    validate_message(msg)
    assert "No recurring revenue yet" in _text(msg)


def test_rates_and_ratios_are_dashes_when_they_divide_by_zero() -> None:
    assert (percent(None), ratio(None)) == ("–", "–")  # noqa: RUF001
    assert (percent(Fraction(1, 3)), ratio(Fraction(5, 2))) == ("33.3%", "2.50")


def test_button_values_carry_the_window_and_reject_anything_else() -> None:
    assert read_mrr_value(mrr_value("2026-11-01..2026-11-30")) == "2026-11-01..2026-11-30"
    for forged in (None, "", "[]", '{"mrr": 3}', "x" * 3000, '{"command":"list"}'):
        assert read_mrr_value(forged) is None
    assert mrr_value("9" * 3000) is None


def test_home_customer_card_and_digest_lines() -> None:
    home = home_revenue_blocks([USD, EUR])
    validate_message({"text": "home", "blocks": home})
    assert "$305.00" in _text(home)
    assert "churn -$280.00" in _text(home)
    assert "No recurring revenue yet" in _text(home_revenue_blocks([]))
    movement = MrrMovement(customer_id=1, at=AT, currency="USD", old_mrr=1000, new_mrr=1500, delta=500,
                           kind="expansion")
    lines = customer_revenue_lines(mrr=1500, currency="USD", movements=[movement], tz=UTC)
    assert lines[0] == "*MRR* $15.00 (ARR $180.00)"
    assert "expansion +$5.00 → $15.00" in lines[1]
    assert customer_revenue_lines(mrr=0, currency=None, movements=[], tz=UTC) == ["*MRR* not known"]
    assert digest_revenue_lines([USD, Revenue(currency="GBP", mrr=1, paying=1, mrr_start=1, paying_start=1)]) == [
        "*USD* net new MRR -$150.00 · lost to churn $280.00 (2 customers)"]
