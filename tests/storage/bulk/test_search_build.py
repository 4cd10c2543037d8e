"""The search index a bulk load builds beside it (SQLite): equal to an in-place rebuild, and kept in sync after."""

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
    """Organizations a search finds, oldest first."""
    with Session(engine) as session:
        page = list_customers(session=session, query=parse_query(f"{term} sort:-created", now=NOW),
                              page=PageRequest(size=100))
        return sorted(c.organization for c in page.items)


def index_rows(engine: Engine) -> list[tuple[object, ...]]:
    """Every row of the index's shadow tables, checked for consistency with the customers first."""
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO customer_fts(customer_fts) VALUES ('integrity-check')"))
        return [*conn.execute(text("SELECT * FROM customer_fts_data ORDER BY id")),
                *conn.execute(text("SELECT * FROM customer_fts_idx ORDER BY segid, term"))]


def test_a_bulk_import_installs_an_index_equal_to_an_in_place_rebuild(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(sqlite_engine) as session:
        add_customer(session, "Old Harbor Mills", email="ops@oldharbor.example")
    assert found(sqlite_engine, "harbor") == ["Old Harbor Mills"]  # this pooled connection has used the index
    monkeypatch.setattr(storage.bulk.importer, "BULK_MIN_ROWS", 2)
    rows = "".join(f"Harbor Freight {i},y{i}@freight.example,{i % 3},active\r\n" for i in range(30))
    import_customers(engine=sqlite_engine, source=io.StringIO("organization,email,seats,status\r\n" + rows),
                     name="t.csv", actor="test", now=NOW)
    assert found(sqlite_engine, "harbor") == sorted(["Old Harbor Mills", *(f"Harbor Freight {i}" for i in range(30))])
    twos = ["Harbor Freight 2", *(f"Harbor Freight 2{i}" for i in range(10))]
    assert found(sqlite_engine, '"freight 2"') == sorted(twos)
    installed = index_rows(sqlite_engine)
    with sqlite_engine.begin() as conn:
        conn.execute(text("INSERT INTO customer_fts(customer_fts) VALUES ('rebuild')"))
    assert index_rows(sqlite_engine) == installed


def test_writes_after_a_bulk_load_keep_the_installed_index_in_sync(sqlite_engine: Engine) -> None:
    fill_demo_data(engine=sqlite_engine, customers=300, seed=3, now=NOW)
    with Session(sqlite_engine) as session:
        customer = find_customer(session=session, external_id="cus_demo_0000007", email=None)
        assert customer is not None
        apply_customer(session=session, customer=customer, fields=CustomerFields(organization="Quokka Quarries"),
                       at=NOW)
        session.commit()
    assert found(sqlite_engine, "quokka") == ["Quokka Quarries"]
    index_rows(sqlite_engine)  # the integrity check passes
