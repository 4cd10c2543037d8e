"""The `digest subscribe` form: a modal with a channel picker, a time picker and the user's own time zone first.

It creates the subscription exactly as `/customers digest subscribe` does; a bad field gets its error next to it
(`response_action: errors`) and nothing is written. Admins only, checked on whoever opens and whoever submits.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from handlers.blocks.common import Message, refusal
from handlers.blocks.modals import (
    DIGEST_CHANNEL,
    DIGEST_FORM,
    DIGEST_FORM_OPEN,
    DIGEST_OPTIONS,
    DIGEST_TIME,
    DIGEST_ZONE,
    OPTIONS,
    QUIET_SKIP,
    REVENUE_SHOW,
    digest_form,
    notice_modal,
    zone_options,
)
from handlers.common import channel_of, ephemeral, log_request, user_of
from handlers.digests.commands import (
    DEFAULT_TIME,
    DigestInputError,
    SubscribeArgs,
    parse_local_time,
    parse_zone,
    subscribe_channel,
)
from storage.db import read_scope
from storage.digests import subscription_for_channel

log = logging.getLogger("customers_bot")
NOT_A_CHANNEL = "Digests are posted in a channel; pick a channel rather than a direct message."


@lru_cache(maxsize=1)
def _zones() -> tuple[str, ...]:
    """Area/City zone names (and UTC), sorted: what the zone select offers."""
    skipped = ("Etc/", "SystemV/", "posix/", "right/")
    names = {z for z in available_timezones() if "/" in z and not z.startswith(skipped)}
    return tuple(sorted(names | {"UTC"}))


def matching_zones(typed: str, first: str | None) -> list[str]:
    """Zones whose name contains what was typed (`berl`, `new york`), the user's own zone first; at most 100."""
    wanted = typed.strip().lower().replace(" ", "_")
    found = [z for z in _zones() if wanted in z.lower()]
    if first and (not wanted or wanted in first.lower()):
        found = [first, *(z for z in found if z != first)]
    return found[:OPTIONS]


def user_zone(client: WebClient, user_id: str, default: str) -> str:
    """The user's own time zone from their Slack profile (users.info), or the default when Slack does not say."""
    try:
        zone = str((client.users_info(user=user_id).get("user") or {}).get("tz") or "")
        return parse_zone(zone) if zone else default
    except (SlackApiError, DigestInputError) as exc:
        log.info("no time zone for %s from users.info: %s", user_id, type(exc).__name__)
        return default


def read_form(view: dict[str, Any]) -> tuple[str, SubscribeArgs | None, dict[str, str]]:
    """The channel and arguments a submitted form stands for, or the errors to show next to their fields."""
    values = (view.get("state") or {}).get("values") or {}

    def field(block: str) -> dict[str, Any]:
        return dict((values.get(block) or {}).get(block) or {})

    errors: dict[str, str] = {}
    channel_id = str(field(DIGEST_CHANNEL).get("selected_conversation") or "")
    if not channel_id:
        errors[DIGEST_CHANNEL] = "Pick the channel that should get the digest."
    elif channel_id[:1] in ("D", "U", "W"):
        errors[DIGEST_CHANNEL] = NOT_A_CHANNEL
    local_time = zone = ""
    try:
        local_time = parse_local_time(str(field(DIGEST_TIME).get("selected_time") or DEFAULT_TIME))
    except DigestInputError as exc:
        errors[DIGEST_TIME] = str(exc)
    try:
        zone = parse_zone(str((field(DIGEST_ZONE).get("selected_option") or {}).get("value") or ""))
    except DigestInputError as exc:
        errors[DIGEST_ZONE] = str(exc)
    chosen = {str(o.get("value")) for o in field(DIGEST_OPTIONS).get("selected_options") or []}
    if errors:
        return channel_id, None, errors
    return channel_id, SubscribeArgs(local_time=local_time, timezone=zone, quiet_skip=QUIET_SKIP in chosen,
                                     revenue=REVENUE_SHOW in chosen), {}


def _refuse(deps: Deps, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
    """Tell a non-admin who clicked: in the message they clicked, or (App Home) in a small modal."""
    msg: Message = refusal(needs="admin", granters=deps.settings.access_granters())
    if body.get("response_url"):
        ephemeral(respond, msg)
    else:
        client.views_open(trigger_id=body["trigger_id"], view=notice_modal("Daily digest", msg))


def register(app: App, deps: Deps) -> None:
    """Register the form's open button, its time-zone options and its submission."""

    @app.action(DIGEST_FORM_OPEN)
    def open_form(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        user_id = user_of(body)
        log_request(user_id, DIGEST_FORM_OPEN)
        if not deps.settings.is_admin(user_id):
            _refuse(deps, body, respond, client)
            return
        channel_id = channel_of(body) or str((body.get("container") or {}).get("channel_id") or "")
        channel_id = "" if channel_id[:1] in ("D", "U", "W") else channel_id
        with read_scope(deps.engine) as session:
            sub = subscription_for_channel(session=session, channel_id=channel_id) if channel_id else None
        zone = sub.timezone if sub else user_zone(client, user_id, deps.settings.default_timezone)
        view = digest_form(channel_id=channel_id or None, zone=zone, local_time=sub.local_time if sub else DEFAULT_TIME,
                           quiet_skip=sub.quiet_skip if sub else False, revenue=sub.revenue if sub else False)
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.options(DIGEST_ZONE)
    def zone_choices(ack: Ack, payload: dict[str, Any], body: dict[str, Any]) -> None:
        try:
            first = json.loads((body.get("view") or {}).get("private_metadata") or "{}").get("zone")
        except (ValueError, AttributeError):
            first = None
        ack(options=zone_options(matching_zones(str(payload.get("value") or ""), first)))

    @app.view(DIGEST_FORM)
    def submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = user_of(body)
        log_request(user_id, f"{DIGEST_FORM} submit")
        if not deps.settings.is_admin(user_id):  # whoever submits, even if someone else opened the form
            needs = refusal(needs="admin", granters=deps.settings.access_granters())["text"]
            ack(response_action="errors", errors={DIGEST_CHANNEL: needs})
            return
        channel_id, args, errors = read_form(view)
        if args is None:
            ack(response_action="errors", errors=errors)
            return
        team_id = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")
        done = subscribe_channel(deps, user_id=user_id, channel_id=channel_id, team_id=team_id, args=args)
        ack(response_action="update", view=notice_modal("Daily digest", done))
