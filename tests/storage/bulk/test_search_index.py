"""The search index after a bulk load (indexes and triggers off, rebuilt once): complete, and kept in sync after."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

import storage.bulk.importer
from storage.bulk.demo import fill_demo_data
from storage.bulk.importer import import_customers
from storage.customers import list_customers
from storage.paging import PageRequest
from storage.query import parse_query
from storage.writes import CustomerFields, apply_customer, find_customer
from tests.conftest import NOW
from tests.factories import add_customer


def found(engine: Engine, term: str) -> list[str]:
    """Organizations a search finds, sorted."""
    with Session(engine) as session:
        page = list_customers(session=session, query=parse_query(f"{term} sort:-created", now=NOW),
                              page=PageRequest(size=100))
        return sorted(c.organization for c in page.items)


def check_sqlite_index(engine: Engine) -> None:
    """FTS5's own consistency check of the index against the customers (SQLite; PostgreSQL's is a plain index)."""
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO customer_fts(customer_fts) VALUES ('integrity-check')"))


def test_a_bulk_import_leaves_every_customer_searchable(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with Session(engine) as session:
        add_customer(session, "Old Harbor Mills", email="ops@oldharbor.example")
    assert found(engine, "harbor") == ["Old Harbor Mills"]  # this pooled connection has used the index
    monkeypatch.setattr(storage.bulk.importer, "BULK_MIN_ROWS", 2)
    rows = "".join(f"Harbor Freight {i},y{i}@freight.example,{i % 3},active\r\n" for i in range(30))
    import_customers(engine=engine, source=io.StringIO("organization,email,seats,status\r\n" + rows),
                     name="t.csv", actor="test", now=NOW)
    assert found(engine, "harbor") == sorted(["Old Harbor Mills", *(f"Harbor Freight {i}" for i in range(30))])
    assert found(engine, '"freight 2"') == sorted(["Harbor Freight 2", *(f"Harbor Freight 2{i}" for i in range(10))])
    check_sqlite_index(engine)


def test_writes_after_a_bulk_load_keep_the_index_in_sync(engine: Engine) -> None:
    fill_demo_data(engine=engine, customers=300, seed=3, now=NOW)
    with Session(engine) as session:
        customer = find_customer(session=session, external_id="cus_demo_0000007", email=None)
        assert customer is not None
        apply_customer(session=session, customer=customer, fields=CustomerFields(organization="Quokka Quarries"),
                       at=NOW)
        session.commit()
    assert found(engine, "quokka") == ["Quokka Quarries"]
    check_sqlite_index(engine)
