"""A local Slack: a real HTTP server that answers like the Web API and records what the bot sent (shell, tests)."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

from bot.slack_requests import (  # re-exported: the shell and tests build requests from here too
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    TEAM_ID,
    TS_BASE,
    VERIFICATION_TOKEN,
    JSONDict,
    block_action_body,
    channel_name,
    event_body,
    sign_slack_request,
    slash_command_body,
    view_action_body,
)

Reply = tuple[int, dict[str, str], bytes]
__all__ = ["APP_ID", "BOT_ID", "BOT_USER_ID", "TEAM_ID", "VERIFICATION_TOKEN", "RecordedCall", "SlackDouble", "Upload",
           "block_action_body", "event_body", "sign_slack_request", "slash_command_body", "view_action_body"]
_JSON_FIELDS = frozenset({"blocks", "attachments", "files", "view", "metadata"})
_STATUS_ERRORS = {429: "ratelimited", 500: "internal_error", 503: "service_unavailable"}


@dataclass(frozen=True)
class RecordedCall:
    """One Web API request the double received (headers have lower-cased names)."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    status: int = 200
    error: str | None = None
    result: dict[str, Any] | None = None  # the JSON the double answered with

    @property
    def token(self) -> str | None:
        """The bearer token, or the `token` field, the caller sent."""
        auth = self.headers.get("authorization", "")
        if auth.startswith("Bearer "):
            return auth.removeprefix("Bearer ").strip()
        token = self.params.get("token")
        return token if isinstance(token, str) else None

    @property
    def ok(self) -> bool:
        """True when the double answered this call successfully."""
        return self.status == 200 and self.error is None


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


@dataclass
class _Failure:
    """A programmed failure for the next `remaining` calls of one method."""

    status: int
    retry_after: int | None
    error: str | None
    remaining: int


class _Server(ThreadingHTTPServer):
    """The HTTP server, pointing back at its double."""

    daemon_threads = True
    double: SlackDouble


class _Handler(BaseHTTPRequestHandler):
    """Reads each request whole and lets the double answer it."""

    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_POST(self) -> None:
        """Answer any request (Slack accepts GET and POST alike)."""
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            status, extra, payload = self.server.double._handle(self.path, headers, body)
        except Exception as exc:  # surface double bugs to the client instead of hanging it
            status, extra, payload = _json(500, {"ok": False, "error": f"double_crashed: {exc!r}"})
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST


class SlackDouble:
    """A Slack Web API double on 127.0.0.1 recording every call; a context manager (see `slack_double`)."""

    def __init__(self, *, token: str | None = None) -> None:
        self.token = token  # when set, any other token gets invalid_auth
        self._cond = threading.Condition()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._calls: list[RecordedCall] = []
        self._responses: dict[str, list[Any]] = {}
        self._pending: dict[str, JSONDict] = {}
        self._uploads: list[Upload] = []
        self._failures: dict[str, list[_Failure]] = {}
        self._not_in_channel: set[str] = set()
        self._users: dict[str, JSONDict] = {}
        self._delays: dict[str, list[float]] = {}
        self._released = threading.Event()

    # lifecycle and addresses

    def start(self) -> Self:
        """Serve on a free port in a daemon thread."""
        server = _Server(("127.0.0.1", 0), _Handler)
        server.double = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.02,), name="slack-double", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and free the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        """Start serving."""
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop serving."""
        self.close()

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT of the running server."""
        if self._server is None:
            raise RuntimeError("SlackDouble is not started; use it as a context manager or call start()")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        """The Web API base URL, for WebClient(base_url=...) or SLACK_API_URL."""
        return f"{self.base_url}/api/"

    def response_url(self, name: str) -> str:
        """A response_url on this server whose POSTed bodies land in `responses(name)`."""
        return f"{self.base_url}/response/{name}"

    # recordings

    @property
    def calls(self) -> list[RecordedCall]:
        """All Web API calls so far, in arrival order (a snapshot)."""
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str) -> list[RecordedCall]:
        """The calls to one Web API method, e.g. "chat.postMessage"."""
        return [call for call in self.calls if call.method == method]

    @property
    def uploads(self) -> list[Upload]:
        """Completed file uploads, joined across the three steps of files_upload_v2."""
        with self._cond:
            return list(self._uploads)

    def responses(self, name: str) -> list[Any]:
        """JSON bodies POSTed to `response_url(name)`, in order."""
        with self._cond:
            return list(self._responses.get(name, []))

    def response_names(self) -> list[str]:
        """The names of every response_url that received a POST."""
        with self._cond:
            return list(self._responses)

    def wait_for(
        self, predicate_or_method: str | Callable[[RecordedCall], bool], timeout: float = 5.0, *, count: int = 1
    ) -> RecordedCall:
        """Block until `count` matching calls have arrived and return the last one, for background work."""
        method = predicate_or_method
        match: Callable[[RecordedCall], bool] = (
            (lambda call: call.method == method) if isinstance(method, str) else method
        )
        with self._cond:
            if not self._cond.wait_for(lambda: sum(map(match, self._calls)) >= count, timeout):
                seen = [call.method for call in self._calls]
                raise AssertionError(f"{count} call(s) matching {predicate_or_method!r} not seen in {timeout}s: {seen}")
            return [call for call in self._calls if match(call)][count - 1]

    def wait_for_response(self, name: str, timeout: float = 5.0, *, count: int = 1) -> Any:
        """Block until `count` bodies were POSTed to `response_url(name)` and return the last one."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._responses.get(name, [])) >= count, timeout):
                raise AssertionError(f"{count} response(s) to {name!r} not seen in {timeout}s")
            return self._responses[name][count - 1]

    # programming

    def fail_next(
        self, method: str, *, status: int = 429, retry_after: int | None = 1, error: str | None = None, times: int = 1
    ) -> None:
        """Fail the next `times` calls: HTTP `status` (429 with Retry-After), or HTTP 200 + `error` when given."""
        failure = _Failure(status=200 if error else status, retry_after=retry_after, error=error, remaining=times)
        with self._cond:
            self._failures.setdefault(method, []).append(failure)

    def delay_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Answer the next `times` calls of `method` only after `seconds` (a slow Slack, for concurrency tests)."""
        with self._cond:
            self._released.clear()
            self._delays.setdefault(method, []).extend([seconds] * times)

    def release_delays(self) -> None:
        """Answer every delayed call now and drop the delays not yet used."""
        with self._cond:
            self._delays.clear()
            self._released.set()

    def not_in_channel(self, channel_id: str) -> None:
        """Make the bot a non-member of `channel_id` until it calls conversations.join."""
        with self._cond:
            self._not_in_channel.add(channel_id)

    def set_user(self, user_id: str, **fields: Any) -> None:
        """Override fields (e.g. tz, tz_offset, real_name) that users.info returns for `user_id`."""
        with self._cond:
            self._users.setdefault(user_id, {}).update(fields)

    def reset(self) -> None:
        """Forget recordings and programmed behaviour; the server keeps running."""
        with self._cond:
            for store in (self._calls, self._uploads):
                store.clear()
            for mapping in (self._responses, self._pending, self._failures, self._users, self._delays):
                mapping.clear()
            self._not_in_channel.clear()

    # serving

    def _handle(self, path: str, headers: dict[str, str], body: bytes) -> Reply:
        """Route one request; state changes and recording happen atomically."""
        url = urlsplit(path)
        kind, _, name = url.path.strip("/").partition("/")
        with self._cond:
            queue = self._delays.get(name) if kind == "api" else None
            delay = queue.pop(0) if queue else 0.0
        if delay:
            self._released.wait(delay)  # outside the lock: other requests are answered meanwhile
        with self._cond:
            if kind == "api":
                reply = self._api(name, _decode_params(url.query, headers, body), headers)
            elif kind == "upload" and name in self._pending:
                self._pending[name]["content"] = body
                reply = (200, {"Content-Type": "text/plain"}, f"OK - {len(body)}".encode())
            elif kind == "response":
                self._responses.setdefault(name, []).append(_loads_or_text(body))
                reply = (200, {"Content-Type": "text/plain"}, b"ok")
            else:
                reply = _json(404, {"ok": False, "error": "not_found"})
            self._cond.notify_all()
        return reply

    def _api(self, method: str, params: JSONDict, headers: dict[str, str]) -> Reply:
        """Answer one Web API method like Slack, honouring programmed failures."""
        call = RecordedCall(method, params, headers)
        extra: dict[str, str] = {}
        failure = self._take_failure(method)
        if failure is not None and failure.error is None:
            status, data = failure.status, {"ok": False, "error": _STATUS_ERRORS.get(failure.status, "fatal_error")}
            if failure.status == 429 and failure.retry_after is not None:
                extra["Retry-After"] = str(failure.retry_after)
        elif failure is not None:
            status, data = 200, _err(failure.error or "fatal_error")
        elif method not in _METHODS:
            status, data = 200, _err("unknown_method")
        elif not call.token:
            status, data = 200, _err("not_authed")
        elif self.token is not None and call.token != self.token:
            status, data = 200, _err("invalid_auth")
        else:
            status, data = 200, _METHODS[method](self, params)
        error = None if status == 200 and data.get("ok") else str(data.get("error"))
        self._calls.append(RecordedCall(method, params, headers, status, error, data))
        return _json(status, data, extra)

    def _take_failure(self, method: str) -> _Failure | None:
        """Consume one programmed failure for `method`, if any."""
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.remaining -= 1
        if failure.remaining <= 0:
            queue.pop(0)
        return failure

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
            "is_member": channel_id not in self._not_in_channel,
        }

    def _auth_test(self, p: JSONDict) -> JSONDict:
        """auth.test for the bot token."""
        return {"ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "customers-bot",
                "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False}

    def _post_message(self, p: JSONDict) -> JSONDict:
        """chat.postMessage, with Slack's channel, text and block checks (a user id posts in the app's DM)."""
        channel = _dm_channel(str(p.get("channel") or ""))
        if not channel:
            return _err("channel_not_found")
        if channel in self._not_in_channel:
            return _err("not_in_channel")
        if problem := _message_problem(p):
            return _err(problem)
        ts = self._next_ts()
        message = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "ts": ts, "text": p.get("text", "")}
        message |= {k: p[k] for k in ("blocks", "attachments", "thread_ts", "metadata") if k in p}
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _post_ephemeral(self, p: JSONDict) -> JSONDict:
        """chat.postEphemeral."""
        if not p.get("channel") or not p.get("user"):
            return _err("channel_not_found" if not p.get("channel") else "user_not_found")
        return _err(problem) if (problem := _message_problem(p)) else {"ok": True, "message_ts": self._next_ts()}

    def _update(self, p: JSONDict) -> JSONDict:
        """chat.update."""
        if not p.get("channel") or not p.get("ts"):
            return _err("message_not_found")
        if problem := _message_problem(p):
            return _err(problem)
        message = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "text": p.get("text", "")}
        message |= {k: p[k] for k in ("blocks", "attachments") if k in p}
        return {"ok": True, "channel": p["channel"], "ts": p["ts"], "text": p.get("text", ""), "message": message}

    def _delete(self, p: JSONDict) -> JSONDict:
        """chat.delete."""
        if not p.get("channel") or not p.get("ts"):
            return _err("message_not_found")
        return {"ok": True, "channel": p["channel"], "ts": p["ts"]}

    def _view(self, p: JSONDict) -> JSONDict:
        """views.publish / views.open."""
        view = p.get("view")
        if not isinstance(view, dict) or "type" not in view:
            return _err("invalid_arguments")
        return {"ok": True, "view": {**view, "id": f"V{next(self._ids):010d}", "team_id": TEAM_ID}}

    def _conversations_info(self, p: JSONDict) -> JSONDict:
        """conversations.info."""
        channel = str(p.get("channel") or "")
        return {"ok": True, "channel": self._channel(channel)} if channel else _err("channel_not_found")

    def _conversations_join(self, p: JSONDict) -> JSONDict:
        """conversations.join, after which the bot is a member."""
        channel = str(p.get("channel") or "")
        if not channel:
            return _err("channel_not_found")
        self._not_in_channel.discard(channel)
        return {"ok": True, "channel": self._channel(channel)}

    def _users_info(self, p: JSONDict) -> JSONDict:
        """users.info, with `set_user` overrides."""
        user_id = str(p.get("user") or "")
        if not user_id:
            return _err("user_not_found")
        user = {"id": user_id, "team_id": TEAM_ID, "name": user_id.lower(), "real_name": f"User {user_id}",
                "tz": "UTC", "tz_label": "Coordinated Universal Time", "tz_offset": 0, "is_bot": False,
                "deleted": False, "profile": {"real_name": f"User {user_id}", "display_name": user_id.lower()}}
        return {"ok": True, "user": user | self._users.get(user_id, {})}

    def _get_upload_url(self, p: JSONDict) -> JSONDict:
        """files.getUploadURLExternal: hands out an upload URL on this same server."""
        if not p.get("filename") or not (str(p.get("length", "")).isascii() and str(p.get("length", "")).isdigit()):
            return _err("invalid_arguments")
        file_id = f"F{next(self._ids):010d}"
        self._pending[file_id] = {"filename": p["filename"], "content": None}
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _complete_upload(self, p: JSONDict) -> JSONDict:
        """files.completeUploadExternal: shares the uploaded files into a channel or thread."""
        files = p.get("files")
        if not isinstance(files, list) or not files:
            return _err("invalid_arguments")
        channel = p.get("channel_id") or p.get("channels")
        if channel and any(c in self._not_in_channel for c in str(channel).split(",")):
            return _err("not_in_channel")
        if channel and any(c[:1] in ("U", "W") for c in str(channel).split(",")):
            return _err("channel_not_found")  # files are shared into conversations (D...), not to user ids
        if any(self._pending.get(f.get("id", ""), {}).get("content") is None for f in files):
            return _err("file_not_found")
        shared = []
        for f in files:
            pending = self._pending.pop(f["id"])
            upload = Upload(f["id"], pending["filename"], pending["content"], channel, p.get("thread_ts"),
                            p.get("initial_comment"), f.get("title"))
            self._uploads.append(upload)
            shared.append({"id": upload.file_id, "name": upload.filename, "title": upload.title or upload.filename,
                           "size": len(upload.content), "user": BOT_USER_ID})
        return {"ok": True, "files": shared}


_METHODS: dict[str, Callable[[SlackDouble, JSONDict], JSONDict]] = {
    "auth.test": SlackDouble._auth_test,
    "chat.postMessage": SlackDouble._post_message,
    "chat.postEphemeral": SlackDouble._post_ephemeral,
    "chat.update": SlackDouble._update,
    "chat.delete": SlackDouble._delete,
    "views.publish": SlackDouble._view,
    "views.open": SlackDouble._view,
    "conversations.info": SlackDouble._conversations_info,
    "conversations.join": SlackDouble._conversations_join,
    "users.info": SlackDouble._users_info,
    "files.getUploadURLExternal": SlackDouble._get_upload_url,
    "files.completeUploadExternal": SlackDouble._complete_upload,
    "files.upload": lambda double, p: _err("method_deprecated"),  # retired by Slack; use files_upload_v2
}


def _err(error: str) -> JSONDict:
    """A Slack error body."""
    return {"ok": False, "error": error}


def _json(status: int, data: JSONDict, extra: dict[str, str] | None = None) -> Reply:
    """A JSON reply."""
    return status, {"Content-Type": "application/json; charset=utf-8", **(extra or {})}, json.dumps(data).encode()


def _message_problem(p: JSONDict) -> str | None:
    """Slack's message checks: something to show, and at most 50 well-formed blocks."""
    blocks = p.get("blocks")
    if blocks is not None and (not isinstance(blocks, list) or len(blocks) > 50):
        return "invalid_blocks"
    return None if p.get("text") or blocks or p.get("attachments") else "no_text"


def _dm_channel(channel: str) -> str:
    """Slack opens the app's DM when chat.postMessage gets a user id; its id starts with D."""
    return f"D{channel[1:]}" if channel[:1] in ("U", "W") else channel


def _loads_or_text(body: bytes) -> Any:
    """JSON-decode a body, or keep it as text."""
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


def _decode_params(query: str, headers: dict[str, str], body: bytes) -> JSONDict:
    """Query string plus form or JSON body, with JSON-valued fields (blocks, view, ...) decoded."""
    params: JSONDict = dict(parse_qsl(query, keep_blank_values=True))
    if "application/json" in headers.get("content-type", ""):
        loaded = json.loads(body or b"{}")
        params |= loaded if isinstance(loaded, dict) else {}
    elif body:
        params |= dict(parse_qsl(body.decode(), keep_blank_values=True))
    for key in _JSON_FIELDS & params.keys():
        value = params[key]
        if isinstance(value, str) and value[:1] in ("[", "{"):
            params[key] = _loads_or_text(value.encode())
    return params
