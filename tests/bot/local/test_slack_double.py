"""The Slack double behaves like Slack's Web API for a real slack_sdk WebClient and for Bolt."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from slack_bolt import Ack, App, BoltRequest, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from tests.slack_double import (
    BOT_USER_ID,
    RecordedCall,
    SlackDouble,
    block_action_body,
    event_body,
    sign_slack_request,
    slash_command_body,
)

TOKEN = "xoxb-test-token"
SECRET = "test-signing-secret"
NO_WAIT = FixedValueRetryIntervalCalculator(0.0)


def client_for(double: SlackDouble, **kwargs: Any) -> WebClient:
    """A real WebClient aimed at the double."""
    return WebClient(token=TOKEN, base_url=double.api_url, timeout=5, **kwargs)


def post_form(url: str, fields: dict[str, str]) -> dict[str, Any]:
    """POST a form like older clients do and return the decoded JSON answer."""
    data = urlencode(fields).encode()
    request = urllib.request.Request(url, data=data, headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def test_post_message_returns_unique_increasing_ts_and_records_decoded_blocks(slack_double: SlackDouble) -> None:
    client = client_for(slack_double)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]

    first = client.chat_postMessage(channel="C1", text="hi", blocks=blocks)
    second = client.chat_postMessage(channel="C1", text="again", thread_ts=first["ts"])

    assert (first["ok"], first["channel"], first["message"]["text"]) == (True, "C1", "hi")
    assert first["ts"] == "1732430000.000100"
    assert float(second["ts"]) > float(first["ts"])
    call = slack_double.calls_to("chat.postMessage")[0]
    assert call.params["blocks"] == blocks
    assert call.token == TOKEN
    assert slack_double.calls_to("chat.postMessage")[1].params["thread_ts"] == first["ts"]


def test_form_encoded_json_fields_are_decoded_and_other_fields_stay_strings(slack_double: SlackDouble) -> None:
    blocks = [{"type": "divider"}]

    answer = post_form(
        slack_double.api_url + "chat.postEphemeral",
        {"channel": "C1", "user": "U1", "text": "psst", "blocks": json.dumps(blocks), "unfurl_links": "0"},
    )

    assert answer["ok"]
    assert answer["message_ts"]
    params = slack_double.calls_to("chat.postEphemeral")[0].params
    assert params["blocks"] == blocks
    assert params["unfurl_links"] == "0"


def test_files_upload_v2_delivers_exact_bytes_into_the_thread(slack_double: SlackDouble) -> None:
    content = b"id,name\n1,\xc3\xa9l\xc3\xa8ve\n" + bytes(range(256))

    result = client_for(slack_double).files_upload_v2(
        channel="C1", thread_ts="1732430000.000100", content=content, filename="export.csv",
        initial_comment="Here is the export",
    )

    assert result["file"]["name"] == "export.csv"
    (upload,) = slack_double.uploads
    assert upload.content == content
    assert (upload.filename, upload.channel_id, upload.thread_ts) == ("export.csv", "C1", "1732430000.000100")
    assert upload.initial_comment == "Here is the export"
    assert result["file"]["id"] == upload.file_id
    upload_url = slack_double.calls_to("files.getUploadURLExternal")[0]
    assert upload_url.params["length"] == str(len(content))


def test_files_upload_v2_reads_a_file_path(slack_double: SlackDouble, tmp_path: Path) -> None:
    path = tmp_path / "report.txt"
    path.write_bytes(b"hello")

    client_for(slack_double).files_upload_v2(channel="C2", file=str(path))

    (upload,) = slack_double.uploads
    assert (upload.filename, upload.content, upload.thread_ts) == ("report.txt", b"hello", None)


def test_rate_limit_is_retried_by_the_sdk_retry_handler(slack_double: SlackDouble) -> None:
    slack_double.fail_next("chat.postMessage", status=429, retry_after=0)
    client = client_for(slack_double, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])

    assert client.chat_postMessage(channel="C1", text="hi")["ok"]

    statuses = [call.status for call in slack_double.calls_to("chat.postMessage")]
    assert statuses == [429, 200]


def test_rate_limit_surfaces_as_error_with_retry_after_without_a_retry_handler(slack_double: SlackDouble) -> None:
    slack_double.fail_next("chat.postMessage", status=429, retry_after=7)

    with pytest.raises(SlackApiError) as raised:
        client_for(slack_double).chat_postMessage(channel="C1", text="hi")

    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"
    assert raised.value.response["error"] == "ratelimited"
    assert client_for(slack_double).chat_postMessage(channel="C1", text="hi")["ok"]


def test_server_errors_fail_the_given_number_of_times(slack_double: SlackDouble) -> None:
    slack_double.fail_next("views.publish", status=503, times=2)
    view = {"type": "home", "blocks": []}

    with pytest.raises(SlackApiError) as raised:
        client_for(slack_double).views_publish(user_id="U1", view=view)
    handler = ServerErrorRetryHandler(max_retry_count=1, interval_calculator=NO_WAIT)
    retried = client_for(slack_double, retry_handlers=[handler])
    published = retried.views_publish(user_id="U1", view=view)

    assert raised.value.response.status_code == 503
    assert published["view"]["type"] == "home"
    assert published["view"]["id"].startswith("V")
    assert [call.status for call in slack_double.calls_to("views.publish")] == [503, 503, 200]


def test_programmed_slack_error_is_a_slack_api_error(slack_double: SlackDouble) -> None:
    slack_double.fail_next("chat.postMessage", error="channel_not_found")

    with pytest.raises(SlackApiError) as raised:
        client_for(slack_double).chat_postMessage(channel="C404", text="hi")

    assert raised.value.response.status_code == 200
    assert raised.value.response["error"] == "channel_not_found"
    assert slack_double.calls[0].error == "channel_not_found"


def test_not_in_channel_blocks_posts_and_uploads_until_the_bot_joins(slack_double: SlackDouble) -> None:
    slack_double.not_in_channel("C9")
    client = client_for(slack_double)

    with pytest.raises(SlackApiError, match="not_in_channel"):
        client.chat_postMessage(channel="C9", text="hi")
    with pytest.raises(SlackApiError, match="not_in_channel"):
        client.files_upload_v2(channel="C9", content="x", filename="x.txt")
    assert client.conversations_info(channel="C9")["channel"]["is_member"] is False
    client.conversations_join(channel="C9")

    assert client.chat_postMessage(channel="C9", text="hi")["ok"]
    assert client.conversations_info(channel="C9")["channel"]["is_member"] is True
    assert slack_double.uploads == []


def test_unknown_methods_and_missing_tokens_are_refused_like_slack(slack_double: SlackDouble) -> None:
    with pytest.raises(SlackApiError, match="unknown_method"):
        client_for(slack_double).api_call("nope.nothing")
    with pytest.raises(SlackApiError, match="not_authed"):
        WebClient(base_url=slack_double.api_url).auth_test()
    with pytest.raises(SlackApiError, match="method_deprecated"):
        client_for(slack_double).api_call("files.upload", data={"channels": "C1", "content": "x"})


def test_a_configured_token_rejects_others() -> None:
    with SlackDouble(token=TOKEN) as double:
        assert client_for(double).auth_test()["user_id"] == BOT_USER_ID
        with pytest.raises(SlackApiError, match="invalid_auth"):
            WebClient(token="xoxb-other", base_url=double.api_url).auth_test()


def test_users_info_returns_overrides(slack_double: SlackDouble) -> None:
    slack_double.set_user("U7", tz="Europe/Paris", tz_offset=3600)

    user = client_for(slack_double).users_info(user="U7")["user"]

    assert (user["id"], user["tz"], user["tz_offset"]) == ("U7", "Europe/Paris", 3600)


def test_response_url_posts_are_recorded_per_name(slack_double: SlackDouble) -> None:
    WebhookClient(slack_double.response_url("cmd")).send(text="working on it", response_type="ephemeral")
    WebhookClient(slack_double.response_url("cmd")).send(text="done", replace_original=True)

    assert [body["text"] for body in slack_double.responses("cmd")] == ["working on it", "done"]
    assert slack_double.responses("cmd")[1]["replace_original"] is True
    assert slack_double.responses("other") == []


def test_wait_for_sees_calls_made_by_background_work(slack_double: SlackDouble) -> None:
    client = client_for(slack_double)

    def later() -> None:
        time.sleep(0.2)
        client.chat_postMessage(channel="C1", text="one")
        client.chat_postMessage(channel="C1", text="two")

    threading.Thread(target=later, daemon=True).start()

    assert slack_double.wait_for("chat.postMessage", count=2).params["text"] == "two"
    assert slack_double.wait_for(lambda call: call.params.get("text") == "one").method == "chat.postMessage"
    with pytest.raises(AssertionError, match=r"chat\.delete"):
        slack_double.wait_for("chat.delete", timeout=0.1)


def test_reset_forgets_everything(slack_double: SlackDouble) -> None:
    client_for(slack_double).files_upload_v2(channel="C1", content="x", filename="x.txt")
    slack_double.fail_next("auth.test", error="invalid_auth")
    slack_double.not_in_channel("C1")

    slack_double.reset()

    assert (slack_double.calls, slack_double.uploads) == ([], [])
    assert client_for(slack_double).auth_test()["ok"]
    assert client_for(slack_double).chat_postMessage(channel="C1", text="hi")["ok"]


def test_calls_are_recorded_in_arrival_order_across_threads(slack_double: SlackDouble) -> None:
    client = client_for(slack_double)
    threads = [
        threading.Thread(target=client.chat_postMessage, kwargs={"channel": "C1", "text": str(n)}) for n in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    calls: list[RecordedCall] = slack_double.calls_to("chat.postMessage")
    assert sorted(int(call.params["text"]) for call in calls) == list(range(20))
    assert len({call.headers["authorization"] for call in calls}) == 1


@pytest.mark.parametrize(
    "body",
    [
        slash_command_body("/customers", "search acme", user_id="U1", channel_id="C1", response_url="http://x/r"),
        block_action_body("page_next", "2", user_id="U1", channel_id="C1", response_url="http://x/r"),
        event_body({"type": "app_home_opened", "user": "U1", "tab": "home"}),
    ],
    ids=["slash", "block_action", "event"],
)
def test_signed_bodies_verify_with_the_sdk_verifier(body: bytes) -> None:
    headers = sign_slack_request(body, SECRET)

    assert SignatureVerifier(SECRET).is_valid_request(body, headers)
    assert not SignatureVerifier("other-secret").is_valid_request(body, headers)
    assert not SignatureVerifier(SECRET).is_valid_request(body + b"x", headers)


def test_signature_matches_slacks_documented_example() -> None:
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
        b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )

    headers = sign_slack_request(body, "8f742231b10e8888abcd99yyyzzz85a5", timestamp=1531420618)

    assert headers["X-Slack-Signature"] == "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def test_builders_shape_payloads_like_slack() -> None:
    slash = parse_qs(slash_command_body("/finance", "balance", user_id="U1", channel_id="C1", response_url="u"))
    clicked = block_action_body("more", "p2", user_id="U1", channel_id="C1", response_url="u", message_ts="1.2")
    action = json.loads(parse_qs(clicked)[b"payload"][0])
    event = json.loads(event_body({"type": "app_home_opened", "user": "U1"}, team_id="T9"))

    assert (slash[b"command"], slash[b"text"], slash[b"team_id"]) == ([b"/finance"], [b"balance"], [b"T1"])
    assert action["actions"][0] | {"action_ts": None, "text": None} == {
        "action_id": "more", "value": "p2", "type": "button", "block_id": "more", "action_ts": None, "text": None,
    }
    assert action["container"] == {"type": "message", "message_ts": "1.2", "channel_id": "C1", "is_ephemeral": False}
    assert (action["user"]["id"], action["channel"]["id"], action["team"]["id"]) == ("U1", "C1", "T1")
    assert (event["type"], event["team_id"], event["event"]["type"]) == ("event_callback", "T9", "app_home_opened")
    assert event["event_id"] != json.loads(event_body({"type": "x"}))["event_id"]


def test_bolt_app_handles_signed_requests_against_the_double(slack_double: SlackDouble) -> None:
    app = App(token=TOKEN, signing_secret=SECRET, client=WebClient(token=TOKEN, base_url=slack_double.api_url))

    @app.command("/customers")
    def on_command(ack: Ack, respond: Respond, command: dict[str, Any]) -> None:
        ack()
        respond(f"searching {command['text']}")

    @app.action("page_next")
    def on_action(ack: Ack, respond: Respond, body: dict[str, Any]) -> None:
        ack()
        respond(f"page {body['actions'][0]['value']}", replace_original=True)

    @app.event("app_home_opened")
    def on_home(client: WebClient, event: dict[str, Any]) -> None:
        client.views_publish(user_id=event["user"], view={"type": "home", "blocks": []})

    def dispatch(body: bytes, content_type: str) -> int:
        headers: dict[str, str | Sequence[str]] = {**sign_slack_request(body, SECRET), "Content-Type": content_type}
        return app.dispatch(BoltRequest(body=body.decode(), headers=headers)).status

    form = "application/x-www-form-urlencoded"
    url = slack_double.response_url("cmd")
    slash = slash_command_body("/customers", "acme", user_id="U1", channel_id="C1", response_url=url)
    click = block_action_body("page_next", "2", user_id="U1", channel_id="C1", response_url=url)
    assert dispatch(slash, form) == 200
    assert dispatch(click, form) == 200
    assert dispatch(event_body({"type": "app_home_opened", "user": "U1", "tab": "home"}), "application/json") == 200

    assert slack_double.wait_for_response("cmd", count=2)["text"] in {"searching acme", "page 2"}
    assert {body["text"] for body in slack_double.responses("cmd")} == {"searching acme", "page 2"}
    assert slack_double.wait_for("views.publish").params["user_id"] == "U1"
