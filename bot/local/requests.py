"""Requests as Slack sends them to an app (signed slash commands, clicks, events), for the local shell and tests."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

from bot.slack_signature import sign_slack

JSONDict = dict[str, Any]
TEAM_ID = "T1"
APP_ID = "A0APP"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
VERIFICATION_TOKEN = "verification-token"  # noqa: S105  (a fake for the local Slack, not a secret)
TS_BASE = 1732430000  # message timestamps of the local Slack start here
_SEQ = itertools.count(1)


def channel_name(channel_id: str) -> str:
    """A stable fake channel name."""
    return f"channel-{channel_id.lower()}"


def sign_slack_request(body: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's signing headers for `body`: v0=HMAC-SHA256(secret, "v0:{ts}:{body}")."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sign_slack(secret=secret, timestamp=ts, body=body)}


def _trigger_id() -> str:
    """A fresh trigger_id shaped like Slack's."""
    return f"{next(_SEQ)}.{int(time.time())}.0123456789abcdef"


def slash_command_body(
    command: str, text: str, *, user_id: str, channel_id: str, response_url: str, team_id: str = TEAM_ID
) -> bytes:
    """A form-encoded slash-command request body as Slack sends it."""
    fields = {
        "token": VERIFICATION_TOKEN, "team_id": team_id, "team_domain": "test", "channel_id": channel_id,
        "channel_name": channel_name(channel_id), "user_id": user_id, "user_name": user_id.lower(),
        "command": command, "text": text, "api_app_id": APP_ID, "is_enterprise_install": "false",
        "response_url": response_url, "trigger_id": _trigger_id(),
    }
    return urlencode(fields).encode()


def block_action_body(
    action_id: str, value: str, *, user_id: str, channel_id: str, response_url: str,
    message_ts: str | None = None, container: JSONDict | None = None, block_id: str | None = None,
    team_id: str = TEAM_ID,
) -> bytes:
    """A form-encoded `payload=` block_actions body for a button click (ephemeral message unless message_ts)."""
    action = {"action_id": action_id, "block_id": block_id or action_id, "value": value, "type": "button",
              "text": {"type": "plain_text", "text": value}, "action_ts": f"{time.time():.6f}"}
    default_container = {"type": "message", "message_ts": message_ts or f"{TS_BASE - 1}.000001",
                         "channel_id": channel_id, "is_ephemeral": message_ts is None}
    payload: JSONDict = {
        "type": "block_actions", "token": VERIFICATION_TOKEN, "api_app_id": APP_ID, "trigger_id": _trigger_id(),
        "user": {"id": user_id, "username": user_id.lower(), "team_id": team_id},
        "team": {"id": team_id, "domain": "test"}, "channel": {"id": channel_id, "name": channel_name(channel_id)},
        "container": container or default_container, "response_url": response_url, "actions": [action],
        "is_enterprise_install": False,
    }
    if message_ts is not None:
        payload["message"] = {"type": "message", "ts": message_ts, "user": BOT_USER_ID, "bot_id": BOT_ID, "text": ""}
    return urlencode({"payload": json.dumps(payload)}).encode()


def view_action_body(
    action_id: str, value: str, *, user_id: str, view_id: str = "V0HOME", team_id: str = TEAM_ID
) -> bytes:
    """A `block_actions` body for a click in a view (App Home): no channel and no response_url, as Slack sends it."""
    action = {"action_id": action_id, "block_id": action_id, "value": value, "type": "button",
              "text": {"type": "plain_text", "text": value}, "action_ts": f"{time.time():.6f}"}
    payload: JSONDict = {
        "type": "block_actions", "token": VERIFICATION_TOKEN, "api_app_id": APP_ID, "trigger_id": _trigger_id(),
        "user": {"id": user_id, "username": user_id.lower(), "team_id": team_id},
        "team": {"id": team_id, "domain": "test"}, "container": {"type": "view", "view_id": view_id},
        "view": {"id": view_id, "type": "home", "team_id": team_id, "app_id": APP_ID}, "actions": [action],
        "is_enterprise_install": False,
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def event_body(event: JSONDict, *, team_id: str = TEAM_ID) -> bytes:
    """A JSON Events API event_callback envelope around `event`."""
    envelope = {
        "token": VERIFICATION_TOKEN, "team_id": team_id, "api_app_id": APP_ID, "event": event,
        "type": "event_callback", "event_id": f"Ev{next(_SEQ):010d}", "event_time": int(time.time()),
        "authorizations": [{"enterprise_id": None, "team_id": team_id, "user_id": BOT_USER_ID, "is_bot": True,
                            "is_enterprise_install": False}],
        "is_ext_shared_channel": False,
    }
    return json.dumps(envelope).encode()


def _who(user_id: str, team_id: str) -> JSONDict:
    """The user and team fields every interaction payload carries."""
    return {"user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id},
            "team": {"id": team_id, "domain": "test"}, "token": VERIFICATION_TOKEN, "api_app_id": APP_ID,
            "is_enterprise_install": False}


def _payload(payload: JSONDict) -> bytes:
    """A form-encoded `payload=` body, as Slack posts interactions."""
    return urlencode({"payload": json.dumps(payload)}).encode()


def shortcut_body(callback_id: str, *, user_id: str, team_id: str = TEAM_ID) -> bytes:
    """A global shortcut (`type: shortcut`): a trigger_id to open a modal with, and no channel."""
    return _payload({"type": "shortcut", "callback_id": callback_id, "trigger_id": _trigger_id(),
                     "action_ts": f"{time.time():.6f}", **_who(user_id, team_id)})


def message_shortcut_body(
    callback_id: str, text: str, *, user_id: str, channel_id: str, response_url: str, author: str = "U0AUTHOR",
    message_ts: str = f"{TS_BASE - 5}.000100", team_id: str = TEAM_ID,
) -> bytes:
    """A message shortcut (`type: message_action`) on a message whose text is `text`, with its response_url."""
    return _payload({
        "type": "message_action", "callback_id": callback_id, "trigger_id": _trigger_id(), "message_ts": message_ts,
        "response_url": response_url, "action_ts": f"{time.time():.6f}",
        "channel": {"id": channel_id, "name": channel_name(channel_id)},
        "message": {"type": "message", "user": author, "ts": message_ts, "text": text}, **_who(user_id, team_id),
    })


def opened_view(view: JSONDict, view_id: str) -> JSONDict:
    """A view as Slack hands it back inside payloads: with its id, hash and (empty) state."""
    return {"id": view_id, "team_id": TEAM_ID, "app_id": APP_ID, "hash": f"{int(time.time())}.{view_id}",
            "state": {"values": {}}, "private_metadata": "", "callback_id": "", **view}


def block_suggestion_body(
    action_id: str, value: str, *, user_id: str, view: JSONDict, block_id: str | None = None, team_id: str = TEAM_ID,
) -> bytes:
    """An options request for an external select in a view, after someone typed `value`."""
    return _payload({"type": "block_suggestion", "action_id": action_id, "block_id": block_id or action_id,
                     "value": value, "container": {"type": "view", "view_id": view.get("id", "")}, "view": view,
                     **_who(user_id, team_id)})


def view_action_of(
    action: JSONDict, *, user_id: str, view: JSONDict, team_id: str = TEAM_ID
) -> bytes:
    """A `block_actions` body for `action` (a select choice, an Enter in a text box) inside a modal or Home tab."""
    action = {"block_id": action.get("action_id"), "action_ts": f"{time.time():.6f}", **action}
    return _payload({"type": "block_actions", "trigger_id": _trigger_id(), "actions": [action], "view": view,
                     "container": {"type": "view", "view_id": view.get("id", "")}, **_who(user_id, team_id)})


def view_submission_body(
    view: JSONDict, values: JSONDict, *, user_id: str, team_id: str = TEAM_ID
) -> bytes:
    """A `view_submission` of a modal whose inputs hold `values` ({block_id: {action_id: value}})."""
    return _payload({"type": "view_submission", "trigger_id": _trigger_id(), "response_urls": [],
                     "view": {**view, "state": {"values": values}}, **_who(user_id, team_id)})
