"""A local Slack: a real HTTP server that answers like the Web API and records what the bot sent (shell, tests)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

from bot.local.requests import (  # re-exported: the shell and tests build requests from here too
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    TEAM_ID,
    VERIFICATION_TOKEN,
    JSONDict,
    block_action_body,
    event_body,
    sign_slack_request,
    slash_command_body,
    view_action_body,
)
from bot.local.workspace import Upload, Workspace, slack_error

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

    def __init__(self, *, token: str | None = None, message_ts: Callable[[], str] | None = None) -> None:
        self.token = token  # when set, any other token gets invalid_auth
        self._cond = threading.Condition()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.workspace = Workspace(base_url=lambda: self.base_url, message_ts=message_ts)
        self._calls: list[RecordedCall] = []
        self._responses: dict[str, list[Any]] = {}
        self._failures: dict[str, list[_Failure]] = {}
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
            return list(self.workspace.uploads)

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
        """Answer the next `times` calls of `method` (or `response/<name>`) only after `seconds` (a slow Slack)."""
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
            self.workspace.not_in_channel.add(channel_id)

    def set_user(self, user_id: str, **fields: Any) -> None:
        """Override fields (e.g. tz, tz_offset, real_name) that users.info returns for `user_id`."""
        with self._cond:
            self.workspace.users.setdefault(user_id, {}).update(fields)

    def reset(self) -> None:
        """Forget recordings and programmed behaviour; the server keeps running."""
        with self._cond:
            self._calls.clear()
            for mapping in (self._responses, self._failures, self._delays):
                mapping.clear()
            self.workspace.reset()

    # serving

    def _handle(self, path: str, headers: dict[str, str], body: bytes) -> Reply:
        """Route one request; state changes and recording happen atomically."""
        url = urlsplit(path)
        kind, _, name = url.path.strip("/").partition("/")
        with self._cond:
            queue = self._delays.get(name if kind == "api" else f"{kind}/{name}")
            delay = queue.pop(0) if queue else 0.0
        if delay:
            self._released.wait(delay)  # outside the lock: other requests are answered meanwhile
        with self._cond:
            if kind == "api":
                reply = self._api(name, _decode_params(url.query, headers, body), headers)
            elif kind == "upload" and self.workspace.receive_upload(name, body):
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
            status, data = 200, slack_error(failure.error or "fatal_error")
        elif not self.workspace.knows(method):
            status, data = 200, slack_error("unknown_method")
        elif not call.token:
            status, data = 200, slack_error("not_authed")
        elif self.token is not None and call.token != self.token:
            status, data = 200, slack_error("invalid_auth")
        else:
            status, data = 200, self.workspace.answer(method, params)
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

def _json(status: int, data: JSONDict, extra: dict[str, str] | None = None) -> Reply:
    """A JSON reply."""
    return status, {"Content-Type": "application/json; charset=utf-8", **(extra or {})}, json.dumps(data).encode()


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
