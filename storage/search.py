"""Substring search on organization and email: trigram indexes (SQLite FTS5, PostgreSQL pg_trgm) and their probes."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Integer, String, and_, column, func, literal_column, or_, table, text
from sqlmodel import Session, col, select

from storage.models import Customer


def like_pattern(term: str) -> str:
    """A LIKE pattern matching `term` anywhere, with LIKE's wildcards escaped."""
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


COUNT_CAP = 1000


def fts_trigrams(term: str) -> str:
    """An FTS5 query for rows holding every trigram of the term: candidates, re-checked by `contains`.

    The trigrams are the term's own: the index folds their case as it folded the rows' (Python's lower() can change a
    string's length, as for 'İ', and would then ask for trigrams no row holds).
    """
    grams = dict.fromkeys(term[i:i + 3] for i in range(len(term) - 2))  # each once, in order
    return " ".join('"' + gram.replace('"', '""') + '"' for gram in grams)


def pair_trigrams(session: Session, pairs: tuple[str, ...]) -> dict[str, dict[str, int]] | None:
    """SQLite: for each two-letter ASCII term, the index's trigrams holding it and their row counts (fts5vocab).

    Every value of 3+ characters holding the pair holds one of them: the pair and a character after it, or a
    character before it. The characters before are found by skipping through the vocabulary one first character at a
    time (a few dozen index seeks), then looked up exactly. None when the index cannot serve the terms (PostgreSQL:
    pg_trgm keeps no vocabulary; other letters fold in ways Python's lower() may not match).
    """
    if session.get_bind().dialect.name != "sqlite" or not all(len(p) == 2 and p.isascii() for p in pairs):
        return None
    conn = session.connection()
    firsts = [str(c) for c in conn.execute(text(_FIRSTS)).scalars() if c is not None]
    out: dict[str, dict[str, int]] = {}
    for pair in pairs:
        folded = pair.lower()
        after = folded[0] + chr(ord(folded[1]) + 1)
        grams = [c + folded for c in firsts]
        rows = conn.execute(text(_VOCAB.format(marks=", ".join(f":g{i}" for i in range(len(grams))))),
                            {"pair": folded, "after": after, **{f"g{i}": g for i, g in enumerate(grams)}})
        out[pair] = {str(term): int(doc) for term, doc in rows}
    return out


# The first character of every indexed trigram: the next one is the first term at or after this one's code point + 1.
_FIRSTS = """WITH RECURSIVE firsts(c) AS (
  SELECT (SELECT substr(term, 1, 1) FROM customer_fts_vocab ORDER BY term LIMIT 1)
  UNION ALL
  SELECT (SELECT substr(term, 1, 1) FROM customer_fts_vocab WHERE term >= char(unicode(c) + 1) ORDER BY term LIMIT 1)
  FROM firsts WHERE c IS NOT NULL)
SELECT c FROM firsts"""
_VOCAB = ("SELECT term, count(*) FROM customer_fts_vocab WHERE term >= :pair AND term < :after GROUP BY term "
          "UNION SELECT term, count(*) FROM customer_fts_vocab WHERE term IN ({marks}) GROUP BY term")


def pair_query(grams: tuple[str, ...]) -> str:
    """An FTS5 query for rows holding any of a pair's trigrams (empty: no value of 3+ characters holds the pair)."""
    return "(" + " OR ".join('"' + gram.replace('"', '""') + '"' for gram in grams) + ")" if grams else ""


# pg_trgm indexes only letters and digits (others split words, padded by blanks): a pair of them sits beside a
# letter or digit, or at a word's edge. Classes of ASCII characters only, so the GIN index can list their trigrams.
_PG_WORD = "[a-z0-9]"
_PG_EDGE = r"[\x01-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]"
_PG_NON_ASCII = r"organization ~ '[^\x01-\x7f]' OR email_key ~ '[^\x01-\x7f]'"  # the partial index's predicate


def pg_pair_served(pair: str) -> bool:
    """Whether PostgreSQL's trigram indexes can list the rows holding a two-character term (ASCII letters, digits)."""
    return len(pair) == 2 and all(c in "abcdefghijklmnopqrstuvwxyz0123456789" for c in pair.lower())


def pg_pair_condition(session: Session, pair: str) -> ColumnElement[bool]:
    """PostgreSQL: rows holding a two-character term, through the GIN indexes (a regex of ASCII classes) or the
    partial index of rows with other characters (beside which a pair's trigram has no class to be listed by)."""
    pair = pair.lower()
    regex = f"{_PG_WORD}{pair}|{pair}{_PG_WORD}|(^|{_PG_EDGE}){pair}($|{_PG_EDGE})"
    listed = or_(func.lower(Customer.organization).regexp_match(regex), col(Customer.email_key).regexp_match(regex),
                 text(f"({_PG_NON_ASCII})"))
    return and_(listed, term_condition(session, pair, scan=True))


def contains(term: str) -> ColumnElement[bool]:
    """SQLite's exact test: the term, lower-cased, in the organization or email, ignoring case.

    SQLite's LIKE already ignores the case of ASCII letters (and its lower() folds nothing more), so an ASCII term
    is tested on the organization as stored: a scan then costs half as much as one through lower(). Other terms
    compare against Python's lower() (`py_lower`, registered on every SQLite connection), which folds every letter
    but costs a Python call per candidate row.
    """
    pattern = like_pattern(term)
    organization = col(Customer.organization)
    folded = organization if term.isascii() else func.py_lower(organization)
    return or_(folded.like(pattern, escape="\\"), col(Customer.email_key).like(pattern, escape="\\"))


def probe_matches(session: Session, term: str, *, cap: int = COUNT_CAP) -> int | None:
    """How many customers contain the term, counted on the trigram index up to cap + 1; None under 3 characters.

    Terms under 3 characters have no trigrams to index, so they cannot be probed cheaply.
    """
    if len(term) < 3:
        return None
    if session.get_bind().dialect.name == "sqlite":
        # A join, not `id IN (...)`: the index's matches are read lazily and the count stops at cap + 1.
        fts = table("customer_fts", column("rowid", Integer))
        matches = (select(col(Customer.id)).join(fts, fts.c.rowid == col(Customer.id))
                   .where(text("customer_fts MATCH :grams").bindparams(grams=fts_trigrams(term)), contains(term))
                   .limit(cap + 1).subquery())
        found = session.connection().execute(select(func.count()).select_from(matches)).scalar_one()
    else:  # pg_trgm: the same question through the GIN indexes, stopping at cap + 1
        probe = text("SELECT count(*) FROM (SELECT 1 FROM customer WHERE lower(organization) LIKE :p ESCAPE '\\' "
                     "OR email_key LIKE :p ESCAPE '\\' LIMIT :n) AS m")
        found = session.connection().execute(probe, {"p": like_pattern(term), "n": cap + 1}).scalar_one()
    return int(found)


def is_common(session: Session, term: str, *, cap: int = COUNT_CAP) -> bool:
    """True when more than `cap` customers contain the term; short terms count as common, so pages stop early."""
    found = probe_matches(session, term, cap=cap)
    return found is None or found > cap


def term_condition(session: Session, term: str, *, scan: bool = False) -> ColumnElement[bool]:
    """Case-insensitive substring match on organization or email, served by a trigram index.

    `scan` asks for the plain LIKE form: for a term most rows contain, walking the sort index and testing each row
    finds a page sooner than collecting every match from the index and sorting them.
    """
    if session.get_bind().dialect.name == "sqlite" and len(term) >= 3 and not scan:
        fts = text("SELECT rowid FROM customer_fts WHERE customer_fts MATCH :grams").bindparams(
            grams=fts_trigrams(term))
        return and_(col(Customer.id).in_(fts.columns(column("rowid", Integer))),
                    contains(term))
    if session.get_bind().dialect.name == "sqlite":
        return contains(term)  # SQLite's lower() folds ASCII only: other terms compare through py_lower
    pattern = like_pattern(term)
    organization, email = func.lower(Customer.organization), col(Customer.email_key)
    if scan and session.get_bind().dialect.name == "postgresql":
        # `|| ''` hides the GIN indexes, so PostgreSQL walks the sort index and stops at a page too.
        return or_(organization.concat("").like(pattern, escape="\\"), email.concat("").like(pattern, escape="\\"))
    return or_(organization.like(pattern, escape="\\"), email.like(pattern, escape="\\"))


def pg_words_condition(terms: list[str]) -> ColumnElement[bool]:
    """PostgreSQL: every term in the organization or the email, as conditions on one value GIN intersects in one scan.

    `lower(organization) || chr(31) || email_key` is what `ix_customer_text_trgm` indexes (migration 0017); chr(31)
    cannot occur in a term, so none spans the two values and the test equals term_condition's.
    """
    both = literal_column("lower(customer.organization) || chr(31) || customer.email_key", String)
    return and_(*(both.like(like_pattern(term), escape="\\") for term in terms))


def customer_term(session: Session, term: str) -> ColumnElement[bool]:
    """Customers whose organization or email contains the term, from the search index (every match, unordered)."""
    return term_condition(session, term)
