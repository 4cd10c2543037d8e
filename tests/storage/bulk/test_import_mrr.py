"""Customer imports with optional mrr (major units) and currency columns: movements, problems, totals (both engines)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from storage.bulk.csv_io import export_customers
from storage.bulk.csv_read import ImportRejected
from storage.bulk.importer import import_customers
from storage.models import Customer, MrrMovement
from storage.query import Query
from storage.revenue import revenue
from tests.conftest import NOW

HEADER = "organization,email,seats,status,created_at,mrr,currency\r\n"
JAN = "2026-01-05T00:00:00Z"


def _import(engine: Engine, *rows: str, now: datetime = NOW) -> None:
    body = HEADER + "".join(f"{row}\r\n" for row in rows)
    import_customers(engine=engine, source=io.StringIO(body, newline=""), name="t.csv", actor="test", now=now)


def _problems(engine: Engine, *rows: str) -> list[str]:
    with pytest.raises(ImportRejected) as info:
        _import(engine, *rows)
    return [str(p) for p in info.value.problems]


def _customers(engine: Engine) -> dict[str, tuple[int, str | None]]:
    with Session(engine) as session:
        return {c.organization: (c.mrr, c.currency) for c in session.exec(select(Customer))}


def _movements(engine: Engine) -> list[tuple[str, datetime, str, int, int, str]]:
    with Session(engine) as session:
        rows = session.exec(select(MrrMovement, col(Customer.organization))
                            .join(Customer, col(Customer.id) == MrrMovement.customer_id)
                            .order_by(col(MrrMovement.at), col(MrrMovement.id)))
        return [(org, m.at, m.currency, m.old_mrr, m.new_mrr, m.kind) for m, org in rows]


def _totals_match_movements(engine: Engine) -> None:
    """Every trigger-kept or recounted total equals what the movements and customers say."""
    with engine.connect() as conn:
        totals = {r[0]: (int(r[1]), int(r[2])) for r in conn.execute(text(
            "SELECT currency, mrr, paying FROM mrr_total WHERE mrr <> 0 OR paying <> 0"))}
        moved = {r[0]: int(r[1]) for r in conn.execute(text(
            "SELECT currency, sum(delta) FROM mrr_movement GROUP BY currency HAVING sum(delta) <> 0"))}
        days = {r[0]: int(r[1]) for r in conn.execute(text(
            "SELECT currency, sum(amount) FROM mrr_day GROUP BY currency HAVING sum(amount) <> 0"))}
    assert {c: mrr for c, (mrr, _) in totals.items()} == moved == days


def test_an_import_into_an_empty_store_starts_each_paying_customer_at_signup(engine: Engine) -> None:
    _import(engine, f"Acme,a@acme.example,5,active,{JAN},1200.50,usd",
            f"Yen,y@yen.example,2,active,{JAN},30000,JPY",
            f"Trial,t@trial.example,3,trialing,{JAN},99.00,EUR",  # pays nothing while trialing
            f"Plain,p@plain.example,1,active,{JAN},,")
    assert _customers(engine) == {"Acme": (120050, "USD"), "Yen": (30000, "JPY"), "Trial": (0, "EUR"),
                                  "Plain": (0, None)}
    signup = datetime(2026, 1, 5, tzinfo=UTC)
    assert _movements(engine) == [("Acme", signup, "USD", 0, 120050, "new"), ("Yen", signup, "JPY", 0, 30000, "new")]
    _totals_match_movements(engine)
    with Session(engine) as session:
        figures = {f.currency: f for f in revenue(session=session, since=NOW - timedelta(days=400), until=NOW)}
    assert (figures["USD"].mrr, figures["USD"].paying, figures["USD"].moved("new")) == (120050, 1, 120050)


def test_an_import_that_changes_mrr_writes_movements_at_the_import_time(engine: Engine) -> None:
    _import(engine, f"Acme,a@acme.example,5,active,{JAN},100.00,USD", f"Beta,b@beta.example,5,active,{JAN},50.00,USD",
            f"Gamma,g@gamma.example,5,active,{JAN},70.00,USD", f"Delta,d@delta.example,5,active,{JAN},10.00,USD")
    later = NOW + timedelta(days=1)
    _import(engine, f"Acme,a@acme.example,6,active,{JAN},120.00,USD",  # expansion
            f"Beta,b@beta.example,5,canceled,{JAN},,",  # canceled without an mrr: churns
            f"Gamma,g@gamma.example,5,active,{JAN},60.00,EUR",  # another currency: churn, then a restart
            f"Delta,d@delta.example,5,active,{JAN},10.00,USD",  # unchanged
            "New,n@new.example,1,active,2026-11-01T00:00:00Z,20.00,GBP",  # new: from its signup
            now=later)
    assert [m for m in _movements(engine) if m[1] >= datetime(2026, 10, 1, tzinfo=UTC)] == [
        ("New", datetime(2026, 11, 1, tzinfo=UTC), "GBP", 0, 2000, "new"),
        ("Acme", later, "USD", 10000, 12000, "expansion"), ("Beta", later, "USD", 5000, 0, "churn"),
        ("Gamma", later, "USD", 7000, 0, "churn"), ("Gamma", later, "EUR", 0, 6000, "reactivation")]
    _totals_match_movements(engine)
    before = len(_movements(engine))
    _import(engine, f"Acme,a@acme.example,6,active,{JAN},120.00,USD", now=later + timedelta(hours=1))
    assert len(_movements(engine)) == before  # the same MRR again moves nothing


def test_mrr_problems_are_named_by_line_and_column_and_nothing_is_written(engine: Engine) -> None:
    assert _problems(engine, f"A,a@a.example,1,active,{JAN},100.00,",
                     f"B,b@b.example,1,active,{JAN},,EUR",
                     f"C,c@c.example,1,active,{JAN},12.345,USD",
                     f"D,d@d.example,1,active,{JAN},100,JPX",
                     f"E,e@e.example,1,active,{JAN},-5,USD",
                     f"F,f@f.example,1,active,{JAN},1.5,JPY") == [
        "line 2, column currency: is empty; an mrr needs its currency, like USD or EUR",
        "line 3, column mrr: is empty but a currency is set; state the MRR in major units (0 if not paying)",
        "line 4, column mrr: '12.345' has more decimals than USD allows (2)",
        "line 5, column currency: 'JPX' is not an ISO 4217 currency code like USD or EUR",
        "line 6, column mrr: '-5' must be a positive amount or 0",
        "line 7, column mrr: '1.5' has more decimals than JPY allows (0)"]
    assert _customers(engine) == {}


def test_the_customers_export_header_stays_as_it_is(engine: Engine) -> None:
    _import(engine, f"Acme,a@acme.example,5,active,{JAN},100.00,USD")
    out = io.StringIO()
    export_customers(engine=engine, query=Query(), out=out)
    assert out.getvalue().splitlines()[0] == "organization,email,seats,status,created_at,canceled_at"
