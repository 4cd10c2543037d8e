"""Customer lists filtered by mrr: (whole major units of each customer's currency) and sorted by MRR, both engines."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from storage.conditions import count_customers
from storage.customers import list_customers
from storage.movements import apply_mrr
from storage.paging import PageRequest
from storage.query import QueryError, parse_query
from tests.conftest import NOW
from tests.factories import add_customer

PLAN = (("Dollar Big", 60_000, "USD"), ("Dollar Small", 40_000, "USD"), ("Euro Even", 50_000, "EUR"),
        ("Yen Big", 50_000, "JPY"), ("Yen Small", 300, "JPY"), ("Dinar", 600, "KWD"), ("Nothing", 0, None))


@pytest.fixture
def store(session: Session) -> Session:
    """Customers paying in currencies with 2, 0 and 3 decimals, and one with no MRR at all."""
    for name, mrr, currency in PLAN:
        customer = add_customer(session, name)
        if currency is not None:
            apply_mrr(session=session, customer=customer, mrr=mrr, currency=currency, at=NOW)
    session.commit()
    return session


def _names(session: Session, text: str, size: int = 25) -> list[str]:
    query = parse_query(text, now=NOW)
    names, page = [], PageRequest(size=size)
    while True:
        got = list_customers(session=session, query=query, page=page)
        names += [c.organization for c in got.items]
        assert got.total == count_customers(session=session, query=query)
        if got.next_cursor is None:
            return names
        page = PageRequest(size=size, after=got.next_cursor)


@pytest.mark.parametrize(("text", "expected"), [
    ("mrr:>=500", {"Dollar Big", "Euro Even", "Yen Big"}),  # ¥50,000 is >= 500 yen; 0.600 KWD is not
    ("mrr:0", {"Nothing"}),
    ("mrr:<500", {"Dollar Small", "Yen Small", "Dinar", "Nothing"}),
    ("mrr:300..500", {"Dollar Small", "Euro Even", "Yen Small"}),
    ("mrr:>0 dollar", {"Dollar Big", "Dollar Small"}),
    ("mrr:>0", {"Dollar Big", "Dollar Small", "Euro Even", "Yen Big", "Yen Small", "Dinar"}),  # 0.600 KWD is > 0
    ("mrr:>500", {"Dollar Big", "Yen Big"}),  # 500.00 EUR is not above 500
    ("mrr:<1", {"Dinar", "Nothing"}),
])
def test_mrr_filters_read_major_units_of_each_currency(store: Session, text: str, expected: set[str]) -> None:
    assert set(_names(store, text)) == expected


def test_sorting_by_mrr_pages_through_in_order(store: Session) -> None:
    descending = _names(store, "sort:-mrr", size=2)
    assert descending == ["Dollar Big", "Yen Big", "Euro Even", "Dollar Small", "Dinar", "Yen Small", "Nothing"]
    assert _names(store, "sort:mrr mrr:>0", size=3) == list(reversed(descending[:-1]))


@pytest.mark.parametrize(("text", "message"), [
    ("mrr:abc", "mrr:abc is not an amount; try mrr:>=500"), ("mrr:", "mrr: needs a value"),
    ("mrr:9..1", "mrr:9..1 is an empty range"), ("mrr:<0", "mrr:<0 matches nothing"),
    ("mrr:>99999999999", "mrr:>99999999999 is too large")])
def test_a_bad_mrr_filter_is_named(text: str, message: str) -> None:
    with pytest.raises(QueryError, match=message.replace(".", r"\.").replace("+", r"\+")):
        parse_query(text, now=NOW)
