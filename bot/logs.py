"""Process logging: one line per record, user text escaped, emails, tokens and secrets masked, whoever logs."""

from __future__ import annotations

import logging
import re

# Customer emails and Slack tokens never reach the log, not even inside a library's message or a traceback.
_PRIVATE = re.compile(
    r"[\w.!#$%&*+/=?^~-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+|xox[a-z]-[\w-]+|xapp-[\w-]+|whsec_\w+|sk_(?:live|test)_\w+",
    re.ASCII | re.IGNORECASE,
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")
FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def redact(text: str) -> str:
    """The text with email addresses (plain or URL-encoded), Slack tokens and Stripe secrets masked."""
    return _PRIVATE.sub("<redacted>", text)


def one_line(text: str) -> str:
    """Control characters escaped, so text a user typed can never start a forged log line."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class SafeFormatter(logging.Formatter):
    """Redacts private data and escapes newlines in the message; a traceback follows, redacted, indented."""

    def format(self, record: logging.LogRecord) -> str:
        """Format the record, then make the message safe."""
        message = one_line(redact(record.getMessage()))
        line = f"{self.formatTime(record)} {record.levelname} {record.name} {message}"
        if record.exc_info:
            trace = redact(self.formatException(record.exc_info))
            line += "\n" + "\n".join(f"    | {one_line(part)}" for part in trace.splitlines())
        return line


def configure_logging(level: str) -> None:
    """Log to stderr through the safe formatter, as `logging.basicConfig` would (a no-op if the root has handlers)."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(SafeFormatter(FORMAT))
        root.addHandler(handler)
        root.setLevel(level.upper())
    # Bolt logs whole request bodies (customer emails) when a signature fails; we verify before Bolt sees a request.
    logging.getLogger("slack_bolt").setLevel(max(root.level, logging.WARNING))
