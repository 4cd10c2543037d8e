"""Imports apply the field rules every source shares (storage.rules): each break is a named problem, nothing written."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from storage.bulk.csv_read import ImportRejected
from storage.bulk.import_finance import import_payments, import_payouts
from storage.bulk.importer import import_customers
from storage.models import Customer, Payment
from storage.rules import SEATS_MAX
from tests.conftest import NOW
from tests.factories import add_customer

PAYMENTS = "id,customer,amount,currency,fee,created_at,refunded_amount,refunded_at\r\n"


def problems_importing_customers(engine: Engine, *rows: str) -> list[str]:
    """The problems a customer file with these data rows gets (it must be rejected), nothing written."""
    text = "organization,email,seats,status,created_at\r\n" + "".join(f"{row}\r\n" for row in rows)
    with pytest.raises(ImportRejected) as info:
        import_customers(engine=engine, source=io.StringIO(text, newline=""), name="t.csv", actor="test", now=NOW)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 0
    return [str(p) for p in info.value.problems]


def test_customer_rows_breaking_the_shared_rules_are_named(engine: Engine) -> None:
    problems = problems_importing_customers(
        engine,
        "Good,good@x.example,1,active,",
        "Nul\x00Corp,nul@x.example,1,active,",
        "Words,two words@x.example,1,active,",
        f"Huge,huge@x.example,{SEATS_MAX + 1},active,",
        "Early,early@x.example,1,active,0001-01-01T00:00:00+01:00",
        "Late,late@x.example,1,active,9999-12-31T23:59:59-01:00",
    )
    assert problems == [
        "line 3, column organization: holds a control character (such as NUL); remove it",
        "line 4, column email: 'two words@x.example' is not an email address",
        f"line 5, column seats: {SEATS_MAX + 1} is too large; at most {SEATS_MAX:,}",
        "line 6, column created_at: '0001-01-01T00:00:00+01:00' is out of range (0001-01-02 to 9999-12-30 in UTC)",
        "line 7, column created_at: '9999-12-31T23:59:59-01:00' is out of range (0001-01-02 to 9999-12-30 in UTC)",
    ]


def test_the_largest_seat_count_is_accepted(engine: Engine) -> None:
    text = f"organization,email,seats,status\r\nBig,big@x.example,{SEATS_MAX},active\r\n"
    import_customers(engine=engine, source=io.StringIO(text), name="t.csv", actor="test", now=NOW)
    with Session(engine) as session:
        assert session.scalars(select(col(Customer.seats))).one() == SEATS_MAX


def test_payment_amounts_are_bounded_so_currency_totals_stay_exact(engine: Engine, session: Session) -> None:
    add_customer(session, "Payer", email="pay@payer.example", external_id="cus_9")
    too_large = (PAYMENTS + "py_1,cus_9,10000000000.01,USD,,2026-11-01,,\r\n"
                 "py_2,cus_9,92233720368547758.07,USD,,2026-11-01,,\r\n"
                 "py_3,cus_9,1000000000001,JPY,,2026-11-01,,\r\n"
                 "py_4,cus_9,5.00,ZZZ,,2026-11-01,,\r\n")
    with pytest.raises(ImportRejected) as info:
        import_payments(engine=engine, source=io.StringIO(too_large), name="p.csv", actor="test")
    assert [str(p) for p in info.value.problems] == [
        "line 2, column amount: '10000000000.01' is too large; at most 10,000,000,000.00 USD",
        "line 3, column amount: '92233720368547758.07' is too large; at most 10,000,000,000.00 USD",
        "line 4, column amount: '1000000000001' is too large; at most 1,000,000,000,000 JPY",
        "line 5, column currency: 'ZZZ' is not an ISO 4217 currency code like USD or EUR",
    ]
    largest = (PAYMENTS + "py_1,cus_9,10000000000.00,USD,,2026-11-01,,\r\n"
               "py_2,cus_9,10000000000.00,USD,,2026-11-02,,\r\n")
    assert import_payments(engine=engine, source=io.StringIO(largest), name="p.csv", actor="test").inserted == 2
    with Session(engine) as s:
        assert s.scalar(select(func.sum(col(Payment.amount)))) == 2 * 10**12


def test_payout_amounts_and_currencies_follow_the_same_rules(engine: Engine) -> None:
    payouts = ("id,amount,currency,status,created_at,arrival_date\r\n"
               "po_1,10000000000.01,EUR,paid,2026-11-20,2026-11-22\r\n"
               "po_2,1.00,XYZ,paid,2026-11-20,2026-11-22\r\n")
    with pytest.raises(ImportRejected) as info:
        import_payouts(engine=engine, source=io.StringIO(payouts), name="o.csv", actor="test")
    assert [p.column for p in info.value.problems] == ["amount", "currency"]
