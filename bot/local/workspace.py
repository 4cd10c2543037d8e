"""The Slack workspace the local Slack pretends to be: its channels, users, messages and files (Web API methods)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

from bot.local.requests import BOT_ID, BOT_USER_ID, TEAM_ID, TS_BASE, JSONDict, channel_name


@dataclass(frozen=True)
class Upload:
    """A file completed via getUploadURLExternal + raw upload + completeUploadExternal."""

    file_id: str
    filename: str
    content: bytes
    channel_id: str | None
    thread_ts: str | None
    initial_comment: str | None
    title: str | None = None


class Workspace:
    """Answers Web API methods like Slack would, keeping what they change (the caller serialises calls)."""

    def __init__(self, *, base_url: Callable[[], str], message_ts: Callable[[], str] | None = None) -> None:
        self.base_url = base_url  # where upload URLs point
        self.message_ts = message_ts or self._next_ts  # tests travelling in time hand in their own
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self.not_in_channel: set[str] = set()
        self.users: dict[str, JSONDict] = {}
        self.pending: dict[str, JSONDict] = {}  # upload URLs handed out, by file id
        self.view_hashes: dict[str, str] = {}  # the current hash of each open view
        self.uploads: list[Upload] = []

    def knows(self, method: str) -> bool:
        """True for the Web API methods this workspace answers."""
        return method in _METHODS

    def answer(self, method: str, params: JSONDict) -> JSONDict:
        """The result of a method this workspace knows."""
        return _METHODS[method](self, params)

    def receive_upload(self, file_id: str, content: bytes) -> bool:
        """Store the bytes POSTed to an upload URL; False when no such URL was handed out."""
        if file_id not in self.pending:
            return False
        self.pending[file_id]["content"] = content
        return True

    def reset(self) -> None:
        """Forget members, users, messages and files."""
        self.not_in_channel.clear()
        self.users.clear()
        self.pending.clear()
        self.uploads.clear()
        self.view_hashes.clear()

    def _next_ts(self) -> str:
        """A unique, increasing message ts like Slack's "1732430000.000100"."""
        micros = next(self._ts) * 100
        return f"{TS_BASE + micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _channel(self, channel_id: str) -> JSONDict:
        """conversations.info's view of a channel."""
        return {
            "id": channel_id,
            "name": channel_name(channel_id),
            "is_channel": channel_id.startswith("C"),
            "is_private": channel_id.startswith("G"),
            "is_im": channel_id.startswith("D"),
            "is_archived": False,
            "is_member": channel_id not in self.not_in_channel,
        }

    def _auth_test(self, p: JSONDict) -> JSONDict:
        """auth.test for the bot token."""
        return {"ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "customers-bot",
                "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False}

    def _post_message(self, p: JSONDict) -> JSONDict:
        """chat.postMessage, with Slack's channel, text and block checks (a user id posts in the app's DM)."""
        channel = _dm_channel(str(p.get("channel") or ""))
        if not channel:
            return slack_error("channel_not_found")
        if channel in self.not_in_channel:
            return slack_error("not_in_channel")
        if problem := _message_problem(p):
            return slack_error(problem)
        ts = self.message_ts()
        message = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "ts": ts, "text": p.get("text", "")}
        message |= {k: p[k] for k in ("blocks", "attachments", "thread_ts", "metadata") if k in p}
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _post_ephemeral(self, p: JSONDict) -> JSONDict:
        """chat.postEphemeral."""
        if not p.get("channel") or not p.get("user"):
            return slack_error("channel_not_found" if not p.get("channel") else "user_not_found")
        if problem := _message_problem(p):
            return slack_error(problem)
        return {"ok": True, "message_ts": self.message_ts()}

    def _update(self, p: JSONDict) -> JSONDict:
        """chat.update."""
        if not p.get("channel") or not p.get("ts"):
            return slack_error("message_not_found")
        if problem := _message_problem(p):
            return slack_error(problem)
        message = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "text": p.get("text", "")}
        message |= {k: p[k] for k in ("blocks", "attachments") if k in p}
        return {"ok": True, "channel": p["channel"], "ts": p["ts"], "text": p.get("text", ""), "message": message}

    def _delete(self, p: JSONDict) -> JSONDict:
        """chat.delete."""
        if not p.get("channel") or not p.get("ts"):
            return slack_error("message_not_found")
        return {"ok": True, "channel": p["channel"], "ts": p["ts"]}

    def _view(self, p: JSONDict) -> JSONDict:
        """views.publish / views.open / views.push: a new view with an id and a hash."""
        view = p.get("view")
        if not isinstance(view, dict) or "type" not in view:
            return slack_error("invalid_arguments")
        view_id = f"V{next(self._ids):010d}"
        self.view_hashes[view_id] = f"{next(self._ids)}.{view_id}"
        return {"ok": True, "view": {**view, "id": view_id, "team_id": TEAM_ID, "hash": self.view_hashes[view_id]}}

    def _view_update(self, p: JSONDict) -> JSONDict:
        """views.update: replaces an open view by id (a stale `hash` gets hash_conflict, as on Slack)."""
        view, view_id = p.get("view"), str(p.get("view_id") or "")
        if not isinstance(view, dict) or "type" not in view:
            return slack_error("invalid_arguments")
        if not view_id:
            return slack_error("not_found")
        if p.get("hash") and self.view_hashes.get(view_id, p["hash"]) != p["hash"]:
            return slack_error("hash_conflict")
        version = f"{next(self._ids)}.{view_id}"
        self.view_hashes[view_id] = version
        return {"ok": True, "view": {**view, "id": view_id, "team_id": TEAM_ID, "hash": version}}

    def _conversations_info(self, p: JSONDict) -> JSONDict:
        """conversations.info."""
        channel = str(p.get("channel") or "")
        return {"ok": True, "channel": self._channel(channel)} if channel else slack_error("channel_not_found")

    def _conversations_join(self, p: JSONDict) -> JSONDict:
        """conversations.join, after which the bot is a member."""
        channel = str(p.get("channel") or "")
        if not channel:
            return slack_error("channel_not_found")
        self.not_in_channel.discard(channel)
        return {"ok": True, "channel": self._channel(channel)}

    def _users_info(self, p: JSONDict) -> JSONDict:
        """users.info, with `set_user` overrides."""
        user_id = str(p.get("user") or "")
        if not user_id:
            return slack_error("user_not_found")
        user = {"id": user_id, "team_id": TEAM_ID, "name": user_id.lower(), "real_name": f"User {user_id}",
                "tz": "UTC", "tz_label": "Coordinated Universal Time", "tz_offset": 0, "is_bot": False,
                "deleted": False, "profile": {"real_name": f"User {user_id}", "display_name": user_id.lower()}}
        return {"ok": True, "user": user | self.users.get(user_id, {})}

    def _get_upload_url(self, p: JSONDict) -> JSONDict:
        """files.getUploadURLExternal: hands out an upload URL on this same server."""
        if not p.get("filename") or not (str(p.get("length", "")).isascii() and str(p.get("length", "")).isdigit()):
            return slack_error("invalid_arguments")
        file_id = f"F{next(self._ids):010d}"
        self.pending[file_id] = {"filename": p["filename"], "content": None}
        return {"ok": True, "upload_url": f"{self.base_url()}/upload/{file_id}", "file_id": file_id}

    def _complete_upload(self, p: JSONDict) -> JSONDict:
        """files.completeUploadExternal: shares the uploaded files into a channel or thread."""
        files = p.get("files")
        if not isinstance(files, list) or not files:
            return slack_error("invalid_arguments")
        channel = p.get("channel_id") or p.get("channels")
        if channel and any(c in self.not_in_channel for c in str(channel).split(",")):
            return slack_error("not_in_channel")
        if channel and any(c[:1] in ("U", "W") for c in str(channel).split(",")):
            return slack_error("channel_not_found")  # files are shared into conversations (D...), not to user ids
        if any(self.pending.get(f.get("id", ""), {}).get("content") is None for f in files):
            return slack_error("file_not_found")
        shared = []
        for f in files:
            pending = self.pending.pop(f["id"])
            upload = Upload(f["id"], pending["filename"], pending["content"], channel, p.get("thread_ts"),
                            p.get("initial_comment"), f.get("title"))
            self.uploads.append(upload)
            shared.append({"id": upload.file_id, "name": upload.filename, "title": upload.title or upload.filename,
                           "size": len(upload.content), "user": BOT_USER_ID})
        return {"ok": True, "files": shared}


_METHODS: dict[str, Callable[[Workspace, JSONDict], JSONDict]] = {
    "auth.test": Workspace._auth_test,
    "chat.postMessage": Workspace._post_message,
    "chat.postEphemeral": Workspace._post_ephemeral,
    "chat.update": Workspace._update,
    "chat.delete": Workspace._delete,
    "views.publish": Workspace._view,
    "views.open": Workspace._view,
    "views.push": Workspace._view,
    "views.update": Workspace._view_update,
    "conversations.info": Workspace._conversations_info,
    "conversations.join": Workspace._conversations_join,
    "users.info": Workspace._users_info,
    "files.getUploadURLExternal": Workspace._get_upload_url,
    "files.completeUploadExternal": Workspace._complete_upload,
    "files.upload": lambda workspace, p: slack_error("method_deprecated"),  # retired by Slack; use files_upload_v2
}


def slack_error(error: str) -> JSONDict:
    """A Slack error body."""
    return {"ok": False, "error": error}


def _message_problem(p: JSONDict) -> str | None:
    """Slack's message checks: something to show, and at most 50 well-formed blocks."""
    blocks = p.get("blocks")
    if blocks is not None and (not isinstance(blocks, list) or len(blocks) > 50):
        return "invalid_blocks"
    return None if p.get("text") or blocks or p.get("attachments") else "no_text"


def _dm_channel(channel: str) -> str:
    """Slack opens the app's DM when chat.postMessage gets a user id; its id starts with D."""
    return f"D{channel[1:]}" if channel[:1] in ("U", "W") else channel
