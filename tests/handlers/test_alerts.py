"""`/customers alert ...` over HTTP, the alert cards' buttons, App Home and the pure renderers' Block Kit limits."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from handlers.alerts import export_csv
from handlers.blocks.alerts import ALERT_EXPORT, ALERT_SHOW_CUSTOMER, alert_card, alert_rules_blocks, grouped_message
from handlers.blocks.limits import validate_message
from storage.db import session_scope
from storage.writes import recent_audit
from tests.conftest import NOW
from tests.e2e_bot import FINANCE, MEMBER
from tests.factories import add_customer
from tests.handlers.alerts_fixtures import CHANNEL, Served, served_fixture
from tests.handlers.test_alerts_posting import cancel, org

__all__ = ["served_fixture"]


def test_an_admin_adds_lists_pauses_resumes_and_removes_a_rule_and_each_step_is_audited(served: Served) -> None:
    added = served.command("alert add churn seats:>=20 quiet:22:00-07:00")
    assert "Alert rule #1 added" in added["text"]
    listing = str(served.command("alert list", name="r2", user=MEMBER)["blocks"])
    assert "#1" in listing
    assert "seats:&gt;=20" in listing
    assert f"<#{CHANNEL}>" in listing
    assert "never" in listing
    assert "firing" in listing
    assert "paused" in served.command("alert pause 1", name="r3")["text"]
    assert "paused" in str(served.command("alert list", name="r4")["blocks"])
    assert "resumed" in served.command("alert resume #1", name="r5")["text"]
    assert "removed" in served.command("alert remove 1", name="r6")["text"]
    assert "No alert rules" in served.command("alert list", name="r7")["text"]
    with session_scope(served.engine) as session:
        actions = [e.action for e in recent_audit(session=session)]
    assert actions == ["alert_remove", "alert_resume", "alert_pause", "alert_add"]


def test_members_cannot_manage_rules(served: Served) -> None:
    assert "needs *admin* access" in str(served.command("alert add churn", user=MEMBER)["blocks"])
    assert "needs *admin* access" in str(served.command("alert remove 1", user=FINANCE, name="r2")["blocks"])


def test_a_bad_kind_filter_or_id_gets_a_specific_message(served: Served) -> None:
    assert "'chrun' is not an alert kind" in served.command("alert add chrun")["text"]
    assert "seats:lots is not a number" in served.command("alert add churn seats:lots", name="r2")["text"]
    assert "amount:x is not an amount" in served.command("alert add refund amount:x", name="r3")["text"]
    assert "needs a rule id" in served.command("alert pause", name="r4")["text"]
    assert "There is no alert rule #9" in served.command("alert resume 9", name="r5")["text"]
    assert "/customers alert add" in served.command("alert", name="r6")["text"]


def test_show_customer_answers_whoever_clicks_with_their_own_permissions(served: Served) -> None:
    served.command("alert add churn")
    org(served, "s", 25, name="Quokka Robotics")
    cancel(served, "s")
    served.post_due()
    (post,) = served.posts()
    show = next(e for b in post.params["blocks"] if b["type"] == "actions" for e in b["elements"]
                if e["action_id"] == ALERT_SHOW_CUSTOMER)
    served.click(ALERT_SHOW_CUSTOMER, show["value"], user=MEMBER, name="member")
    served.click(ALERT_SHOW_CUSTOMER, show["value"], user=FINANCE, name="finance")
    member, finance = served.slack.wait_for_response("member"), served.slack.wait_for_response("finance")
    assert member["response_type"] == finance["response_type"] == "ephemeral"
    assert "Quokka Robotics" in member["text"]
    assert "*Payments*" not in str(member["blocks"])
    assert "*Payments*" in str(finance["blocks"])
    served.click(ALERT_SHOW_CUSTOMER, "'; drop table", name="forged")
    assert "out of date" in served.slack.wait_for_response("forged")["text"]


def test_export_csv_of_a_grouped_message_is_for_admins_and_has_no_emails(served: Served) -> None:
    served.command("alert add churn")
    for i in range(3):
        org(served, f"e{i}", 2)
    for i in range(3):
        cancel(served, f"e{i}")
    served.post_due()
    (post,) = served.posts()
    export = next(e for b in post.params["blocks"] if b["type"] == "actions" for e in b["elements"]
                  if e["action_id"] == ALERT_EXPORT)
    served.click(ALERT_EXPORT, export["value"], user=MEMBER, name="member")
    assert "needs *admin (exports)* access" in str(served.slack.wait_for_response("member")["blocks"])
    content, rows = export_csv(served.deps, export["value"])
    assert rows == 3
    assert content.splitlines()[0] == "organization,external_id,kind,at,seats_before,seats_after,status_before," \
                                      "status_after"
    assert "@" not in content
    served.click(ALERT_EXPORT, export["value"], name="admin", message_ts=str(post.result and post.result["ts"]))
    served.slack.wait_for("files.completeUploadExternal")


def test_app_home_lists_the_rules_for_admins_only(served: Served, engine: object) -> None:
    from handlers.home import build_home
    from tests.e2e_bot import ADMIN

    served.command("alert add signup")
    assert "Alerts" in str(build_home(served.deps, ADMIN)["blocks"])
    assert "Alerts" not in str(build_home(served.deps, MEMBER)["blocks"])


def test_renderers_stay_inside_block_kit_limits_and_hide_emails() -> None:
    payload = {"customer_id": 1, "organization": "x" * 600 + " boss@evil.example", "external_id": "c",
               "seats": [40, 40], "status": ["active", "canceled"], "mrr": [40000, 0], "currency": "USD"}
    card = alert_card("churn", payload, product_url="https://app.example", rule="churn seats:>=20")
    validate_message(card)
    assert "@" not in str(card)
    assert "$400.00 → $0.00" in str(card)
    many = [("churn", {**payload, "organization": f"Org {i} <!channel>"}) for i in range(1000)]
    grouped = grouped_message(many, batch="a" * 32, first=NOW, last=NOW + timedelta(seconds=3))
    validate_message(grouped)
    assert grouped["text"].startswith("1,000 customers churned in the last minute")
    assert "+980 more" in str(grouped)
    assert "<!channel>" not in str(grouped)
    summary = alert_card("churn", {"summary": True, "count": 37, "examples": [payload] * 10}, product_url="",
                         rule="churn")
    validate_message(summary)
    assert summary["text"] == "37 customers churned in this import"
    assert alert_rules_blocks([], tz=NOW.tzinfo)  # type: ignore[arg-type]


def test_finance_alerts_render_amounts(sqlite_engine: object) -> None:
    refund = alert_card("refund", {"payment_id": 1, "customer_id": 2, "organization": "Acme", "amount": 15000,
                                   "currency": "usd"}, product_url="", rule="refund amount:>=100")
    payout = alert_card("payout_failed", {"payout_id": 1, "external_id": "po_1", "amount": 990, "currency": "eur"},
                        product_url="", rule="payout_failed")
    validate_message(refund)
    validate_message(payout)
    assert refund["text"] == "💸 Refund: $150.00 (Acme)"
    assert payout["text"] == "⚠️ Payout failed: €9.90"


def test_a_customer_added_directly_is_shown_by_id(served: Served) -> None:
    with Session(served.engine) as session:
        customer_id = add_customer(session, "Direct Org", seats=4).id
    served.click(ALERT_SHOW_CUSTOMER, str(customer_id), name="direct")
    assert "Direct Org" in served.slack.wait_for_response("direct")["text"]
