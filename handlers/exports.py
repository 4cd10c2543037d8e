"""CSV exports into a thread: a parent message in the channel, then the file uploaded into its thread."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from handlers.blocks.common import Message, apology
from handlers.blocks.exports import export_done_comment, export_parent, not_in_channel
from handlers.common import ephemeral, log_failure
from storage.bulk.csv_io import export_customers
from storage.customers import count_customers
from storage.db import read_scope, session_scope
from storage.query import parse_query
from storage.writes import record_audit

log = logging.getLogger("customers_bot.exports")
CANNOT_POST = {"not_in_channel", "channel_not_found", "is_archived"}
EXPORT_THREADS = 4
Tell = Callable[[Message], None]


@contextlib.contextmanager
def telling_not_in_channel(respond: Respond, channel_id: str) -> Iterator[None]:
    """Post into a channel; when the bot cannot post there, tell whoever clicked how to invite it."""
    try:
        yield
    except SlackApiError as exc:
        if exc.response.get("error") not in CANNOT_POST:
            raise
        ephemeral(respond, not_in_channel(channel_id))


class Exports:
    """Runs exports on a few threads of their own (one pool per app), so minute-long exports never hold the
    listener threads that answer everyone else's commands."""

    def __init__(self, deps: Deps, *, inline: bool) -> None:
        self.deps = deps
        # The local shell (inline) wants the file within the same turn.
        self.pool = None if inline else ThreadPoolExecutor(max_workers=EXPORT_THREADS, thread_name_prefix="export")

    def start(
        self, *, client: WebClient, query_text: str, channel_id: str, thread_ts: str | None, user_id: str, tell: Tell
    ) -> None:
        """Export in the background; failures are logged with an id and the user gets the apology via `tell`."""
        def job() -> None:
            try:
                export_to_thread(deps=self.deps, client=client, query_text=query_text, channel_id=channel_id,
                                 thread_ts=thread_ts, user_id=user_id, tell_user=tell)
            except Exception as exc:
                error_id = log_failure(exc, what="export")
                with contextlib.suppress(Exception):  # Slack may be what failed; the log has the id
                    tell(apology(error_id))

        if self.pool is None:
            job()
        else:
            self.pool.submit(job)


def export_to_thread(
    *, deps: Deps, client: WebClient, query_text: str, channel_id: str, thread_ts: str | None, user_id: str,
    tell_user: Callable[[Message], None] | None = None,
) -> int | None:
    """Post the parent (unless given a thread), stream the CSV to a temp file, upload it there, audit it.

    Returns the rows exported, or None when the bot cannot post in the channel (the user is told how to invite it).
    """
    now = deps.clock()
    query = parse_query(query_text, now=now, tz=deps.settings.timezone)
    with read_scope(deps.engine) as session:
        rows = count_customers(session=session, query=query)
    try:
        if thread_ts is None:
            parent = client.chat_postMessage(channel=channel_id, **export_parent(
                rows=rows, filters=query.summary, user_id=user_id))
            # A user id as channel posts in the app's DM; the file must go to that conversation (D...).
            channel_id, thread_ts = str(parent.get("channel") or channel_id), str(parent["ts"])
        fd, path = tempfile.mkstemp(prefix="customers-", suffix=".csv")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                rows = export_customers(engine=deps.engine, query=query, out=out)
            client.files_upload_v2(channel=channel_id, thread_ts=thread_ts, file=path,
                                   filename=f"customers-{now:%Y%m%d-%H%M}.csv", title="Customers export",
                                   initial_comment=export_done_comment(rows))
        finally:
            os.unlink(path)
    except SlackApiError as exc:
        if exc.response.get("error") in CANNOT_POST:
            if tell_user is not None:
                tell_user(not_in_channel(channel_id))
            return None
        raise
    with session_scope(deps.engine, write=True) as session:
        record_audit(session=session, actor=user_id, action="export",
                     details={"filters": query.summary, "rows": rows, "channel": channel_id, "thread_ts": thread_ts})
    log.info("export user=%s rows=%d channel=%s", user_id, rows, channel_id)
    return rows
