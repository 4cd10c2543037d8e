"""CSV exports into a thread: a parent message in the channel, then the file uploaded into its thread."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.common import Message
from bot.blocks.exports import export_done_comment, export_parent, not_in_channel
from bot.deps import Deps
from storage.csv_io import export_customers
from storage.customers import count_customers
from storage.db import session_scope
from storage.query import parse_query
from storage.writes import record_audit

log = logging.getLogger("customers_bot.exports")
CANNOT_POST = {"not_in_channel", "channel_not_found", "is_archived"}


def export_to_thread(
    *, deps: Deps, client: WebClient, query_text: str, channel_id: str, thread_ts: str | None, user_id: str,
    tell_user: Callable[[Message], None] | None = None,
) -> int | None:
    """Post the parent (unless given a thread), stream the CSV to a temp file, upload it there, audit it.

    Returns the rows exported, or None when the bot cannot post in the channel (the user is told how to invite it).
    """
    now = deps.clock()
    query = parse_query(query_text, now=now, tz=deps.settings.timezone)
    with session_scope(deps.engine) as session:
        rows = count_customers(session=session, query=query)
    try:
        if thread_ts is None:
            parent = client.chat_postMessage(channel=channel_id, **export_parent(
                rows=rows, filters=query.summary, user_id=user_id))
            thread_ts = str(parent["ts"])
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
