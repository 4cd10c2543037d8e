"""What a message names that could be a customer: email addresses, domains and organization names (pure parsing)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

MAX_KEYS = 10  # per kind: a pasted mailing list should not turn into a hundred look-ups
NAME_WORDS = 4
_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")
_EMAIL = re.compile(r"[\w.%+'-]+@(?:[\w-]+\.)+[A-Za-z]{2,}")
_URL_HOST = re.compile(r"^[a-z][a-z0-9+.-]*://(?:[^/@\s]*@)?([^/:?#\s]+)", re.I)
_DOMAIN = re.compile(r"(?<![\w@.-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24})(?![\w-])", re.I)
_QUOTED = re.compile(r"[\"“”]([^\"“”\n]{3,80})[\"“”]")
_CAPITALIZED = re.compile(r"[A-Z][\w&'-]*(?:[ \t]+[A-Z][\w&'-]*)*")
_FILE_ENDINGS = frozenset({"png", "jpg", "jpeg", "gif", "pdf", "csv", "txt", "zip", "html", "md", "py", "json"})
_NOT_NAMES = frozenset("""
a an and are as at be but by can could did do does dear for from hello hey hi how i if in is it its let me my no
not of ok on or our please re fwd fw so thanks thank that the their then there these they this those to we what
when where which who why will with would yes you your regards best cheers team customer customers monday tuesday
wednesday thursday friday saturday sunday january february march april may june july august september october
november december subject sent cc bcc date see also just any some all here now today tomorrow yesterday update
note fyi asap sorry looks seems got get need needs want wants like kind hope following attached below above quick
question issue bug problem help one two new old good great
""".split())


@dataclass(frozen=True)
class MessageKeys:
    """What to look customers up by, each list in the order the message mentions them, without repeats."""

    emails: list[str]
    domains: list[str]
    names: list[str]

    @property
    def empty(self) -> bool:
        """True when the message names nothing to look up."""
        return not (self.emails or self.domains or self.names)

    def described(self) -> str:
        """`ops@quokka.example, the domain acme.example and “Quokka Robotics”`, for "no customer matches"."""
        parts = [*self.emails, *(f"the domain {d}" for d in self.domains), *(f"“{n}”" for n in self.names)]
        if len(parts) <= 1:
            return "".join(parts)
        return ", ".join(parts[:-1]) + " or " + parts[-1]


def _unique(items: list[str], limit: int = MAX_KEYS) -> list[str]:
    """Keep the first spelling of each (case-insensitively), up to `limit`."""
    seen: dict[str, str] = {}
    for item in items:
        seen.setdefault(item.lower(), item)
    return list(seen.values())[:limit]


def _plain(text: str) -> str:
    """Slack markup unwrapped where it stands: `<mailto:a@b|x>` -> `a@b`, `<https://x.example/p|x>` -> `x.example x`."""

    def unwrap(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2) or ""
        if target[:1] in "@#!":
            return " "  # mentions, channels and special tokens name no customer
        if target.startswith("mailto:"):
            return f" {target.removeprefix('mailto:').split('?')[0]} "
        host = _URL_HOST.match(target)
        return f" {host.group(1) if host else ''} {label if label != target else ''} "

    return html.unescape(_LINK.sub(unwrap, text))


def message_keys(text: str) -> MessageKeys:
    """The email addresses, domains and organization names in a message's text (Slack markup understood)."""
    plain = _plain(text or "")
    emails = _unique([e.strip(".'") for e in _EMAIL.findall(plain)])
    email_domains = {e.rpartition("@")[2].lower() for e in emails}
    without_emails = _EMAIL.sub(" ", plain)
    hosts = _DOMAIN.findall(without_emails)
    domains = _unique([h.lower().removeprefix("www.") for h in hosts
                       if "." in h and h.rpartition(".")[2].lower() not in _FILE_ENDINGS
                       and h.lower().removeprefix("www.") not in email_domains and not h[0].isdigit()])
    names = _names(_DOMAIN.sub(" ", without_emails))
    return MessageKeys(emails=emails, domains=domains, names=names)


def _names(text: str) -> list[str]:
    """Quoted phrases, then runs of Capitalized Words (common words at either end dropped), longest first."""
    found = [q.strip() for q in _QUOTED.findall(text)]
    for line in text.splitlines():
        for match in _CAPITALIZED.finditer(line):
            words = match.group(0).split()
            while words and words[0].lower() in _NOT_NAMES:
                words.pop(0)
            while words and words[-1].lower() in _NOT_NAMES:
                words.pop()
            if words and len(" ".join(words)) >= 3:
                found.append(" ".join(words[:NAME_WORDS]))
    return _unique(sorted(dict.fromkeys(found), key=lambda n: -len(n.split())))
