"""manifest.yml against Slack's published manifest schema, its shortcuts against the code, and no unused scope."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from handlers.blocks.modals import FIND_SHORTCUT, LOOKUP_SHORTCUT

ROOT = Path(__file__).resolve().parents[2]
# slackapi/manifest-schema's schemas/manifest.schema.1.0.0.json (what a manifest without _metadata follows), copied
# from commit c50cfa8 under its MIT license (beside it); SLACK_MANIFEST_SCHEMA points the check at a newer copy.
SCHEMA = Path(os.environ.get("SLACK_MANIFEST_SCHEMA", Path(__file__).parent / "data" / "manifest.schema.1.0.0.json"))
# Each scope we ask for, and the calls or events in our code that need it.
SCOPE_USES = {
    "commands": [r'app\.command\("/customers"', r"app\.shortcut\("],
    "chat:write": [r"chat_postMessage\("],
    "files:write": [r"files_upload_v2\("],
    "app_mentions:read": [r'app\.event\("app_mention"\)'],
    "channels:history": [r"conversations_history\("],
    "groups:history": [r"conversations_history\("],
    "users:read": [r"users_info\("],
}


def _manifest() -> dict[str, Any]:
    """manifest.yml, parsed."""
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "manifest.yml").read_text())
    return loaded


def _source() -> str:
    """Every Python file the bot runs, as one text."""
    return "\n".join(p.read_text() for d in ("bot", "handlers") for p in sorted((ROOT / d).rglob("*.py")))


def test_the_manifest_validates_against_slacks_published_schema() -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft7Validator(schema).validate(_manifest())
    broken = {**_manifest(), "features": {**_manifest()["features"], "shortcuts": [{"name": "x" * 25}]}}
    assert list(jsonschema.Draft7Validator(schema).iter_errors(broken))  # the schema does bite


def test_both_shortcuts_and_the_options_url_are_declared_as_the_code_expects() -> None:
    manifest = _manifest()
    shortcuts = {s["callback_id"]: s for s in manifest["features"]["shortcuts"]}
    assert shortcuts[FIND_SHORTCUT]["type"] == "global"
    assert shortcuts[LOOKUP_SHORTCUT]["type"] == "message"
    for shortcut in shortcuts.values():
        assert 1 <= len(shortcut["name"]) <= 24
        assert 1 <= len(shortcut["description"]) <= 150
    interactivity = manifest["settings"]["interactivity"]
    assert interactivity["is_enabled"] is True
    assert interactivity["request_url"].endswith("/slack/events")
    assert interactivity["message_menu_options_url"] == interactivity["request_url"]
    source = _source()
    for callback_id in shortcuts:
        assert f'"{callback_id}"' in source


def test_every_scope_asked_for_is_used_by_the_code() -> None:
    scopes = _manifest()["oauth_config"]["scopes"]["bot"]
    source = _source()
    assert set(scopes) <= set(SCOPE_USES), f"no known use for {set(scopes) - set(SCOPE_USES)}"
    for scope in scopes:
        assert any(re.search(use, source) for use in SCOPE_USES[scope]), f"{scope} is asked for but never used"
