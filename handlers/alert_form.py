"""The `alert add` form: opens on a button; a submission becomes `/customers alert add` text for create_rule.

The rule is made exactly as the command makes it (handlers.alerts.create_rule: access, the filter language,
audit); its specific message appears next to the field it is about (`response_action: errors`).
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.deps import Deps
from handlers.alerts import create_rule
from handlers.blocks.alert_form import (
    ALERT_CHANNEL,
    ALERT_FILTERS,
    ALERT_FORM,
    ALERT_FORM_OPEN,
    ALERT_KIND,
    ALERT_QUIET,
    alert_form,
)
from handlers.blocks.alerts import rule_added
from handlers.blocks.common import refusal
from handlers.blocks.modals import notice_modal
from handlers.common import UserError, channel_of, ephemeral, log_request, user_of
from storage.query import QueryError


def alert_text(view: dict[str, Any]) -> tuple[str, str]:
    """The channel and the `alert add` text a submitted form stands for."""
    values = (view.get("state") or {}).get("values") or {}

    def field(block: str) -> dict[str, Any]:
        return dict((values.get(block) or {}).get(block) or {})

    channel_id = str(field(ALERT_CHANNEL).get("selected_conversation") or "")
    kind = str((field(ALERT_KIND).get("selected_option") or {}).get("value") or "")
    filters = " ".join(str(field(ALERT_FILTERS).get("value") or "").split())
    quiet = "".join(str(field(ALERT_QUIET).get("value") or "").split())
    return channel_id, " ".join(p for p in (kind, filters, f"quiet:{quiet}" if quiet else "") if p)


def error_field(message: str) -> str:
    """The form field a rule's error is about: the kind, the quiet window, else the filters."""
    if "alert kind" in message or "needs a kind" in message:
        return ALERT_KIND
    return ALERT_QUIET if message.startswith("quiet:") else ALERT_FILTERS


def register(app: App, deps: Deps) -> None:
    """Register the form's open button and its submission."""

    @app.action(ALERT_FORM_OPEN)
    def open_form(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        user_id = user_of(body)
        log_request(user_id, ALERT_FORM_OPEN)
        if not deps.settings.is_admin(user_id):
            msg = refusal(needs="admin", granters=deps.settings.access_granters())
            if body.get("response_url"):
                ephemeral(respond, msg)
            else:
                client.views_open(trigger_id=body["trigger_id"], view=notice_modal("New alert", msg))
            return
        channel_id = channel_of(body) or str((body.get("container") or {}).get("channel_id") or "")
        client.views_open(trigger_id=body["trigger_id"],
                          view=alert_form(channel_id=None if channel_id[:1] in ("", "D") else channel_id))

    @app.view(ALERT_FORM)
    def submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = user_of(body)
        log_request(user_id, f"{ALERT_FORM} submit")
        if not deps.settings.is_admin(user_id):
            needs = refusal(needs="admin", granters=deps.settings.access_granters())["text"]
            ack(response_action="errors", errors={ALERT_CHANNEL: needs})
            return
        channel_id, text = alert_text(view)
        if not channel_id or channel_id[:1] in ("D", "U", "W"):
            ack(response_action="errors", errors={ALERT_CHANNEL: "Pick the channel that should hear the alert."})
            return
        team_id = (body.get("team") or {}).get("id")
        try:
            rule = create_rule(deps, user_id=user_id, channel_id=channel_id, team_id=team_id, text=text)
        except (QueryError, UserError) as exc:  # no finance access for a finance kind, or the filter language's
            ack(response_action="errors", errors={error_field(str(exc)): str(exc)[:2000]})
            return
        ack(response_action="update", view=notice_modal("New alert", rule_added(rule)))
