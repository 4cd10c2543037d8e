"""A local console: commands go through the same Bolt App and handlers, answers are rendered as Slack would."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from rich.console import Console
from slack_bolt.request import BoltRequest

from bot.app import create_app
from bot.deps import Deps
from bot.local.requests import (
    block_suggestion_body,
    message_shortcut_body,
    shortcut_body,
    view_action_of,
    view_submission_body,
)
from bot.local.slack_double import (
    SlackDouble,
    block_action_body,
    event_body,
    sign_slack_request,
    slash_command_body,
    view_action_body,
)
from bot.local.surfaces import (
    external_select,
    parse_fields,
    pick_option,
    show_errors,
    show_options,
    show_view,
    submitted_values,
)
from bot.local.terminal import find_button, render_message, render_view
from bot.settings import Settings

SHELL_SECRET = "local-shell-signing-secret"  # noqa: S105  (signs requests to ourselves; not a Slack secret)
SHELL_CHANNEL = "C0LOCAL"
DEFAULT_USER = "U0LOCAL"
ERROR_MARKERS = (":warning:", ":lock:", ":face_with_head_bandage:")
HELP = """Type a slash command (/customers search acme, /finance balance), or:
  click LABEL     press a button of the last answer (click Next, click Export CSV)
  home            open the App Home tab
  mention TEXT    mention the bot in a thread (mention export status:canceled)
  shortcut find   the "Find a customer" shortcut; then `type quokk`, `pick 1` (or a label), `submit`
  shortcut lookup TEXT   the "Look up customers" shortcut on a message saying TEXT
  search TEXT     the App Home search box
  submit [BLOCK=VALUE ...]   submit the open modal (`submit digest_time=08:30`)
  as USER_ID      act as another Slack user (permissions are checked on whoever acts)
  help, quit"""


class Shell:
    """Drives the real App with signed requests against an in-process local Slack."""

    def __init__(self, *, settings: Settings, deps: Deps, user_id: str | None, console: Console) -> None:
        self.slack = SlackDouble().start()
        self.console = console
        self.user_id = user_id or next(iter(sorted(settings.admin_user_ids)), DEFAULT_USER)
        admins = settings.admin_user_ids or frozenset({DEFAULT_USER})
        local = settings.model_copy(update={
            "slack_api_url": self.slack.api_url, "slack_signing_secret": SecretStr(SHELL_SECRET),
            "slack_bot_token": SecretStr("xoxb-local-shell"), "admin_user_ids": admins,
        })
        self.deps = Deps(settings=local, engine=deps.engine, clock=deps.clock)
        self.app = create_app(self.deps, process_before_response=True)
        self.last: dict[str, Any] | None = None
        self.modal: dict[str, Any] | None = None  # the open modal, as Slack hands it back (id, hash)
        self.options: list[dict[str, Any]] = []
        self.seen = self.uploads_seen = self.replies_seen = 0
        self.turn = 0
        self.failed = False
        self.files = Path(tempfile.mkdtemp(prefix="customers-bot-shell-"))

    def close(self) -> None:
        """Stop the local Slack."""
        self.slack.close()

    def run_line(self, line: str) -> bool:
        """Handle one line of input; False means quit."""
        line = line.strip()
        word, _, rest = line.partition(" ")
        if not line:
            return True
        if word in ("quit", "exit"):
            return False
        if word == "help":
            self.console.print(HELP)
        elif word.startswith("/"):
            self.command(word, rest)
        elif word == "click":
            self.click(rest)
        elif word == "home":
            self.dispatch(event_body({"type": "app_home_opened", "user": self.user_id, "tab": "home"}))
        elif word == "mention":
            self.dispatch(event_body({"type": "app_mention", "user": self.user_id, "channel": SHELL_CHANNEL,
                                      "text": f"<@U0BOT> {rest}", "ts": "1732430000.000001",
                                      "thread_ts": "1732430000.000001"}))
        elif word == "shortcut":
            self.shortcut(rest)
        elif word == "type":
            self.type_into(rest)
        elif word == "pick":
            self.pick(rest)
        elif word == "submit":
            self.submit(rest)
        elif word == "search":
            home = {"type": "home", "id": "V0HOME", "blocks": []}
            self.dispatch(view_action_of({"type": "plain_text_input", "action_id": "home_search", "value": rest},
                                         user_id=self.user_id, view=home))
        elif word == "as":
            self.user_id = rest.strip() or self.user_id
            self.console.print(f"now acting as {self.user_id}", style="dim")
        else:
            self.console.print(f"unknown input {word!r}; type help", style="red")
        return True

    def command(self, command: str, text: str) -> None:
        """Send a slash command."""
        self._next_turn()
        url = self.slack.response_url(f"t{self.turn}")
        self.dispatch(slash_command_body(command, text, user_id=self.user_id, channel_id=SHELL_CHANNEL,
                                         response_url=url))

    def click(self, label: str) -> None:
        """Press a button of the last message shown."""
        button = find_button(self.last or {}, label) if label else None
        if button is None:
            self.console.print(f"no button {label!r} in the last answer", style="red")
            self.failed = True
            return
        if "url" in button:
            self.console.print(f"(opens {button['url']} in the browser)", style="dim")
        self._next_turn()
        if (self.last or {}).get("type") == "modal" and self.modal is not None:
            action = {"type": "button", "action_id": button["action_id"], "value": button.get("value", "")}
            self.dispatch(view_action_of(action, user_id=self.user_id, view=self.modal))
            return
        if (self.last or {}).get("type") == "home":  # a click in App Home has no channel and no response_url
            self.dispatch(view_action_body(button["action_id"], button.get("value", ""), user_id=self.user_id))
            return
        url = self.slack.response_url(f"t{self.turn}")
        self.dispatch(block_action_body(button["action_id"], button.get("value", ""), user_id=self.user_id,
                                        channel_id=SHELL_CHANNEL, response_url=url))

    def shortcut(self, rest: str) -> None:
        """`find` opens the typeahead modal; `lookup TEXT` runs the message shortcut on a message saying TEXT."""
        which, _, text = rest.partition(" ")
        if which == "find":
            self.dispatch(shortcut_body("find_customer", user_id=self.user_id))
        elif which == "lookup":
            self._next_turn()
            self.dispatch(message_shortcut_body("lookup_customers", text, user_id=self.user_id,
                                                channel_id=SHELL_CHANNEL, response_url=self.slack.response_url(
                                                    f"t{self.turn}")))
        else:
            self._fail("shortcut find, or shortcut lookup TEXT")

    def type_into(self, text: str) -> None:
        """Type into the open modal's typeahead and list what it offers."""
        select = external_select(self.modal or {})
        if self.modal is None or select is None:
            self._fail("no typeahead open; try `shortcut find`")
            return
        self.options = self.dispatch(block_suggestion_body(select["action_id"], text, user_id=self.user_id,
                                                           view=self.modal, block_id=select["block_id"])) \
            .get("options") or []
        show_options(self.options, self.console)

    def pick(self, wanted: str) -> None:
        """Choose one of the options listed by `type` (by number or label)."""
        select, chosen = external_select(self.modal or {}), pick_option(self.options, wanted)
        if self.modal is None or select is None or chosen is None:
            self._fail(f"no option {wanted!r}; `type` some letters first")
            return
        action = {"type": "external_select", "action_id": select["action_id"], "block_id": select["block_id"],
                  "selected_option": chosen}
        self.dispatch(view_action_of(action, user_id=self.user_id, view=self.modal))

    def submit(self, fields: str) -> None:
        """Submit the open modal: each input keeps its initial value unless BLOCK=VALUE says otherwise."""
        if self.modal is None or not self.modal.get("submit"):
            self._fail("no modal with a submit button is open")
            return
        values = submitted_values(self.modal, parse_fields(fields), SHELL_CHANNEL)
        self.dispatch(view_submission_body(self.modal, values, user_id=self.user_id))

    def _fail(self, text: str) -> None:
        """Say what went wrong with the input and mark the session failed."""
        self.console.print(text, style="red")
        self.failed = True

    def _next_turn(self) -> None:
        """A new response_url per request, so each turn's replies are shown once."""
        self.turn += 1
        self.replies_seen = 0

    def dispatch(self, body: bytes) -> dict[str, Any]:
        """Sign and dispatch a request through the App, show everything the bot sent to Slack; the ack's JSON."""
        headers: dict[str, str | Sequence[str]] = dict(sign_slack_request(body, SHELL_SECRET))
        headers["content-type"] = ("application/json" if body.startswith(b"{") else "application/x-www-form-urlencoded")
        response = self.app.dispatch(BoltRequest(body=body.decode(), headers=headers))
        if response.status != 200:
            self.console.print(f"the app answered HTTP {response.status}: {response.body}", style="red")
            self.failed = True
        answer: dict[str, Any] = json.loads(response.body) if response.body.startswith("{") else {}
        if answer.get("response_action") == "errors":
            show_errors(answer.get("errors") or {}, self.console)
            self.failed = True
        elif answer.get("response_action") in ("update", "push"):
            self.modal = {**answer["view"], "id": (self.modal or {}).get("id", "V0MODAL")}
            show_view(answer["view"], self.console, heading="Modal")
        elif answer.get("text") or answer.get("blocks"):
            self._show(answer, "reply")
        self._drain()
        return answer

    def _drain(self) -> None:
        """Render what reached the local Slack during this turn: replies, channel posts, Home views, files."""
        for reply in self.slack.responses(f"t{self.turn}")[self.replies_seen:]:
            where = "in channel" if reply.get("response_type") == "in_channel" else "only visible to you"
            self._show(reply, where)
        self.replies_seen = len(self.slack.responses(f"t{self.turn}"))
        calls = self.slack.calls
        for call in calls[self.seen:]:
            if call.method == "chat.postMessage":
                self._show(call.params, f"posted in {call.params.get('channel', '')}")
            elif call.method == "views.publish":
                render_view(call.params["view"], self.console)
                self.last = call.params["view"]
            elif call.method in ("views.open", "views.update", "views.push") and call.ok and call.result:
                self.modal = call.result["view"]
                show_view(call.params["view"], self.console, heading="Modal")
                self.last = call.params["view"]
        self.seen = len(calls)
        uploads = self.slack.uploads
        for upload in uploads[self.uploads_seen:]:
            path = self.files / upload.filename
            path.write_bytes(upload.content)
            rows = max(sum(1 for _ in csv.reader(io.StringIO(upload.content.decode("utf-8", "replace")))) - 1, 0)
            self.console.print(f"📎 {upload.filename} ({rows:,} rows) uploaded into thread {upload.thread_ts}; "
                               f"saved to {path}", style="green")
        self.uploads_seen = len(uploads)

    def _show(self, msg: dict[str, Any], where: str) -> None:
        """Render one message and remember it for `click`."""
        self.console.rule(f"[dim]{where}[/dim]", style="dim")
        render_message(msg, self.console)
        first = (msg.get("blocks") or [{}])[0].get("text", {})
        if isinstance(first, dict) and str(first.get("text", "")).startswith(ERROR_MARKERS):
            self.failed = True
        if msg.get("blocks"):
            self.last = msg
