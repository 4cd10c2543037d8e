"""Find-as-you-type and message look-ups: a bounded handful of customers for a few typed letters, fast at any size.

Every query here stops after a fixed number of rows (never a count, never a sort of every match), so a typeahead
answers in milliseconds whether the letters match three customers or three hundred thousand.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Integer, column, func, or_, table, text
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from storage.models import Customer
from storage.search import contains, fts_trigrams, like_pattern

SUGGEST_LIMIT = 100  # Slack shows at most 100 options in a select menu
MIN_TERM = 3  # shorter terms have no trigrams: only exact names and addresses are looked up for them
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Found:
    """What a suggestion or a look-up shows of a customer (the card loads the rest by id)."""

    id: int
    organization: str
    email: str
    email_key: str
    seats: int
    status: str


def _select() -> Any:
    """SELECT of the columns `Found` holds, from the customer table."""
    return sa_select(col(Customer.id), col(Customer.organization), col(Customer.email), col(Customer.email_key),
                     col(Customer.seats), col(Customer.status))


def _rows(session: Session, stmt: Any) -> list[Found]:
    """Run a `_select()` statement into Found rows."""
    return [Found(*row) for row in session.connection().execute(stmt)]


def _variants(typed: str) -> list[str]:
    """The spellings of an organization name people type in lower case: as typed, Capitalized, Title Case, UPPER."""
    return list(dict.fromkeys((typed, typed[:1].upper() + typed[1:], typed.title(), typed.upper(), typed.lower())))


def _contains(session: Session, term: str) -> ColumnElement[bool]:
    """The exact test: the term, ignoring case, in the organization or email (search.contains on SQLite)."""
    if session.get_bind().dialect.name == "sqlite":
        return contains(term)
    pattern = like_pattern(term)
    return or_(func.lower(col(Customer.organization)).like(pattern, escape="\\"),
               col(Customer.email_key).like(pattern, escape="\\"))


def containing(session: Session, term: str, *, limit: int) -> list[Found]:
    """Up to `limit` customers whose organization or email contains the term, in no particular order.

    On SQLite the trigram index is joined (not `IN (...)`) so its matches are read lazily and the read stops at the
    limit; on PostgreSQL the planner picks the pg_trgm indexes for a rare term, or for a term many rows hold a scan
    that stops at the limit (with fresh statistics; bench/README.md has what stale ones cost).
    """
    if len(term) < MIN_TERM:
        return []
    stmt = _select()
    stmt = stmt.where(_contains(session, term)).limit(limit)
    if session.get_bind().dialect.name != "sqlite":
        return _rows(session, stmt)  # the planner picks the trigram indexes or a scan that stops at the limit
    fts = table("customer_fts", column("rowid", Integer))
    stmt = stmt.join(fts, fts.c.rowid == col(Customer.id)).where(
        text("customer_fts MATCH :grams").bindparams(grams=fts_trigrams(term)))
    return _rows(session, stmt)



def _rank(customer: Found, lowered: str) -> tuple[int, str, int]:
    """Best first: the exact address or name, names starting with the term, a word starting with it, the rest."""
    org = customer.organization.lower()
    if customer.email_key == lowered or org == lowered:
        tier = 0
    elif org.startswith(lowered):
        tier = 1
    elif any(word.startswith(lowered) for word in _WORD.findall(org)):
        tier = 2
    elif customer.email_key.startswith(lowered) or customer.email_key.partition("@")[2].startswith(lowered):
        tier = 3
    else:
        tier = 4
    return tier, org, customer.id


def suggest_customers(*, session: Session, typed: str, limit: int = SUGGEST_LIMIT) -> list[Found]:
    """Up to `limit` customers for what someone typed: exact address, id or name first, then substring matches.

    When more than `limit` customers contain the term, which of them come back is up to the index; typing more
    letters narrows it (as in any typeahead).
    """
    term = " ".join(typed.split())
    if not term:
        return []
    lowered = term.lower()
    exact = or_(col(Customer.email_key) == lowered, col(Customer.external_id) == term,
                col(Customer.organization).in_(_variants(term)))
    found = {c.id: c for c in _rows(session, _select().where(exact).limit(limit))}
    if len(found) < limit:
        for customer in containing(session, term, limit=limit):
            found.setdefault(customer.id, customer)
    return sorted(found.values(), key=lambda c: _rank(c, lowered))[:limit]


def customers_by_email(*, session: Session, emails: Iterable[str]) -> dict[str, Found]:
    """The customers with these addresses (any letter case), by lower-cased address."""
    keys = sorted({e.strip().lower() for e in emails if e.strip()})
    if not keys:
        return {}
    return {c.email_key: c for c in _rows(session, _select().where(col(Customer.email_key).in_(keys)))}


def customers_at_domain(*, session: Session, domain: str, limit: int) -> list[Found]:
    """Up to `limit` customers whose address is at this domain or one of its subdomains (`ops@eu.acme.example`)."""
    wanted = domain.strip().lower().removeprefix("www.")
    if "." not in wanted:
        return []
    # The trigram index finds addresses containing the domain; a customer whose organization merely mentions it is
    # dropped by the check after, so ask for a few more than needed.
    matches = containing(session, wanted, limit=limit * 4)
    host = [c for c in matches if c.email_key.rpartition("@")[2] == wanted
            or c.email_key.rpartition("@")[2].endswith("." + wanted)]
    return sorted(host, key=lambda c: (c.organization.lower(), c.id))[:limit]


def customers_named(*, session: Session, name: str, limit: int) -> list[Found]:
    """Up to `limit` customers whose organization is this name or starts with it as whole words (any letter case)."""
    wanted = " ".join(name.split()).lower()
    if not wanted:
        return []
    exact = _rows(session, _select().where(col(Customer.organization).in_(_variants(name.strip()))).limit(limit))
    starts = re.compile(re.escape(wanted) + r"(?!\w)")
    more = [c for c in containing(session, wanted, limit=limit * 4) if starts.match(c.organization.lower())]
    found = {c.id: c for c in [*exact, *more]}
    return sorted(found.values(), key=lambda c: (c.organization.lower() != wanted, c.organization.lower(),
                                                 c.id))[:limit]
