"""CSV: lossless round trips with hostile cells, both header styles, upserts, whole-file rejection (both engines)."""

from __future__ import annotations

import csv
import io
import random
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool
from sqlmodel import Session, col

from storage.bulk.csv_io import EXPORT_HEADER, export_customers, neutralise, restore
from storage.bulk.csv_read import ImportRejected
from storage.bulk.customer_rows import CustomerRow, _Seen, careful_batch, clean_batch
from storage.bulk.demo import fill_demo_data
from storage.bulk.import_finance import import_payments, import_payouts
from storage.bulk.importer import import_customers
from storage.db import CACHE_KIB, MMAP_BYTES
from storage.models import AuditEvent, Customer, Payment, Payout, SeatChange
from storage.query import parse_query
from tests.conftest import NOW
from tests.factories import add_customer

HOSTILE = ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "\tTabbed", "\rReturn", "'=already quoted",
           'Quotes "inside", commas', "Line\nbreak", "Ünïcødé 🚀", "'plain apostrophe"]


def export_text(engine: Engine, text: str = "") -> str:
    """Export customers matching `text` into a string."""
    out = io.StringIO(newline="")
    export_customers(engine=engine, query=parse_query(text, now=NOW), out=out)
    return out.getvalue()


def load(engine: Engine, csv_text: str) -> tuple[int, int, int]:
    """Import customers from text; (inserted, updated, unchanged)."""
    result = import_customers(engine=engine, source=io.StringIO(csv_text, newline=""), name="t.csv", actor="test",
                              now=NOW)
    return result.inserted, result.updated, result.unchanged


@pytest.mark.parametrize("value", HOSTILE)
def test_neutralise_and_restore_are_inverse(value: str) -> None:
    assert restore(neutralise(value)) == value
    assert not neutralise(value).startswith(("=", "+", "-", "@", "\t", "\r"))


def test_the_database_neutralises_exactly_as_neutralise_does(engine: Engine, session: Session) -> None:
    # The export neutralises in SQL (the csv module then writes database rows as they are): pin it to the rule.
    tricky = [*HOSTILE, "''=twice quoted", "'", "''", "'''+", "a=b", "=", "-", " =leading space", "'a'=b"]
    for i, name in enumerate(tricky):
        add_customer(session, name, email=f"user{i}@tricky.example", created_at=NOW - timedelta(minutes=i))
    exported = {row["email"]: row["organization"] for row in csv.DictReader(io.StringIO(export_text(engine)))}
    assert exported == {f"user{i}@tricky.example": neutralise(name) for i, name in enumerate(tricky)}


def test_export_then_import_into_an_empty_store_is_lossless(engine: Engine, session: Session, tmp_path: object) -> None:
    for i, name in enumerate(HOSTILE):
        add_customer(session, name, email=f"user{i}@hostile.example", seats=i,
                     status="canceled" if i % 3 == 0 else "active", created_at=NOW - timedelta(days=i + 1),
                     canceled_at=NOW - timedelta(hours=i) if i % 3 == 0 else None)
    first = export_text(engine)
    assert first.splitlines()[0] == ",".join(EXPORT_HEADER)
    assert "\n=cmd" not in first
    with Session(engine) as s:
        for c in s.exec(select(Customer)).scalars():  # type: ignore[call-overload]
            s.delete(c)
        s.commit()
    assert load(engine, first) == (len(HOSTILE), 0, 0)
    assert export_text(engine) == first


def test_reimporting_the_same_file_changes_nothing(engine: Engine, session: Session) -> None:
    add_customer(session, "Acme", email="a@acme.example", seats=3)
    text = export_text(engine)
    assert load(engine, text) == (0, 0, 1)
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(SeatChange)) == 0


def test_admin_panel_headers_with_bom_and_odd_case_upsert_by_id_then_email(engine: Engine) -> None:
    panel = ("\ufeffORGANIZATION, Email ,Seats,Status,Created At,id\r\n"
             "Acme,Boss@Acme.example,3,active,2026-01-02,cus_1\r\n"
             "Beta,b@beta.example,1,trialing,2026-11-20T10:00:00Z,\r\n")
    assert load(engine, panel) == (2, 0, 0)
    changed = ("Organization,Email,Seats,Status,Created At,id\r\n"
               "Acme Renamed,new@acme.example,5,past_due,2026-01-02,cus_1\r\n"
               "Beta,B@BETA.EXAMPLE,1,canceled,2026-11-20T10:00:00Z,\r\n")
    assert load(engine, changed) == (0, 2, 0)
    with Session(engine) as s:
        acme = s.scalars(select(Customer).where(col(Customer.external_id) == "cus_1")).one()
        assert (acme.organization, acme.email, acme.seats, acme.status) == ("Acme Renamed", "new@acme.example", 5,
                                                                             "past_due")
        beta = s.scalars(select(Customer).where(col(Customer.email_key) == "b@beta.example")).one()
        assert beta.canceled_at == NOW
        assert s.scalar(select(func.count()).select_from(SeatChange)) == 1


def test_a_file_with_bad_rows_is_rejected_whole_with_every_problem_listed(engine: Engine) -> None:
    bad = ("organization,email,seats,status,created_at,canceled_at\r\n"
           "Good,good@x.example,1,active,2026-01-01T00:00:00Z,\r\n"
           ",nobody,abc,gone,yesterday,\r\n"
           "Dup,good@x.example,2,active,,\r\n"
           "Active,active@x.example,2,active,,2026-01-01\r\n")
    with pytest.raises(ImportRejected) as info:
        load(engine, bad)
    problems = [str(p) for p in info.value.problems]
    assert "line 3, column organization: is empty; a value is required" in problems
    assert any(p.startswith("line 3, column email:") for p in problems)
    assert any(p.startswith("line 3, column seats:") for p in problems)
    assert any(p.startswith("line 3, column status:") for p in problems)
    assert any(p.startswith("line 3, column created_at:") for p in problems)
    assert any(p.startswith("line 4, column email: already appears on line 2") for p in problems)
    assert any(p.startswith("line 5, column canceled_at:") for p in problems)
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_a_problem_found_after_rows_were_loaded_rolls_the_whole_load_back(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage.bulk.customer_rows

    monkeypatch.setattr(storage.bulk.customer_rows, "BATCH", 5)  # batches reach the store before the bad line is read
    header = "organization,email,seats,status\r\n"
    good = "".join(f"Early Harbor {i},e{i}@early.example,1,active\r\n" for i in range(23))
    with pytest.raises(ImportRejected) as info:
        load(engine, header + good + "Late,late@early.example,many,active\r\n")
    assert [str(p) for p in info.value.problems] == ["line 25, column seats: 'many' is not a whole number >= 0"]
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 0
    if engine.dialect.name == "sqlite":  # the load's large page cache is not left on the pooled connection
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar_one() == CACHE_KIB
    assert load(engine, header + good) == (23, 0, 0)  # indexes and triggers are all back
    assert export_text(engine, "harbor").count("\r\n") == 24
    with Session(engine) as session:
        add_customer(session, "Late Harbor", email="late@early.example")
    assert export_text(engine, "harbor").count("\r\n") == 25


def test_progress_reaches_the_caller_during_an_import(sqlite_engine: Engine) -> None:
    seen: list[int] = []
    rows = "".join(f"Org {i},o{i}@many.example,{i % 7},active\r\n" for i in range(20_001))
    result = import_customers(engine=sqlite_engine, source=io.StringIO("organization,email,seats,status\r\n" + rows),
                              name="t.csv", actor="test", now=NOW, progress=seen.append)
    assert (result.inserted, seen) == (20_001, [10_000, 20_000])


def test_other_writers_wait_while_an_import_writes(engine: Engine) -> None:
    blocked: list[bool] = []

    def try_a_write(_rows: int) -> None:  # called mid-import, inside its transaction
        other = create_engine(engine.url, poolclass=NullPool, connect_args=(
            {"timeout": 0.1} if engine.dialect.name == "sqlite" else {"options": "-c lock_timeout=100"}))
        try:
            with other.begin() as conn:
                conn.execute(text("INSERT INTO customer (organization, email, email_key, seats, status, created_at, "
                                  "updated_at) VALUES ('Sneaky', 's@x.example', 's@x.example', 1, 'active', "
                                  "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
            blocked.append(False)
        except OperationalError:
            blocked.append(True)
        finally:
            other.dispose()

    rows = "".join(f"Org {i},o{i}@wait.example,1,active\r\n" for i in range(10_001))
    result = import_customers(engine=engine, source=io.StringIO("organization,email,seats,status\r\n" + rows),
                              name="t.csv", actor="test", now=NOW, progress=try_a_write)
    assert (result.inserted, blocked) == (10_001, [True])


def test_unknown_and_missing_columns_are_named(engine: Engine) -> None:
    with pytest.raises(ImportRejected) as info:
        load(engine, "organisation,email,seats\r\nA,a@a.example,1\r\n")
    problems = [str(p) for p in info.value.problems]
    assert any("column organisation: unknown column" in p for p in problems)
    assert "line 1, column status: is missing from the header" in problems


def test_payments_and_payouts_import_in_minor_units_per_currency(engine: Engine, session: Session) -> None:
    add_customer(session, "Payer", email="pay@payer.example", external_id="cus_9")
    payments = ("id,customer,amount,currency,fee,created_at,refunded_amount,refunded_at\r\n"
                "py_1,cus_9,49.00,usd,4.90,2026-11-01T00:00:00Z,,\r\n"
                "py_2,PAY@payer.example,5000,JPY,500,2026-11-02T00:00:00Z,5000,2026-11-03T00:00:00Z\r\n"
                "py_3,cus_9,1.234,KWD,0,2026-11-02T00:00:00Z,0,\r\n")
    result = import_payments(engine=engine, source=io.StringIO(payments), name="p.csv", actor="test")
    assert (result.inserted, result.updated) == (3, 0)
    again = import_payments(engine=engine, source=io.StringIO(payments), name="p.csv", actor="test")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    with Session(engine) as s:
        rows = {p.external_id: p for p in s.scalars(select(Payment))}
    assert (rows["py_1"].amount, rows["py_1"].fee, rows["py_1"].currency) == (4_900, 490, "USD")
    assert (rows["py_2"].amount, rows["py_2"].refunded_amount) == (5_000, 5_000)
    assert rows["py_3"].amount == 1_234
    payouts = ("id,amount,currency,status,created_at,arrival_date\r\n"
               "po_1,100.50,usd,in_transit,2026-11-20,2026-11-22\r\n")
    assert import_payouts(engine=engine, source=io.StringIO(payouts), name="o.csv", actor="test").inserted == 1
    with Session(engine) as s:
        assert s.scalars(select(Payout)).one().amount == 10_050


def test_payment_rows_with_unknown_customers_or_bad_money_are_rejected(engine: Engine) -> None:
    payments = ("id,customer,amount,currency,fee,created_at,refunded_amount,refunded_at\r\n"
                "py_1,cus_missing,49.001,usd,,2026-11-01,,\r\n"
                "py_2,cus_missing,ten,usd,,2026-11-01,,\r\n")
    with pytest.raises(ImportRejected) as info:
        import_payments(engine=engine, source=io.StringIO(payments), name="p.csv", actor="test")
    problems = [str(p) for p in info.value.problems]
    assert any(p.startswith("line 2, column customer:") for p in problems)
    assert any(p.startswith("line 2, column amount:") and "decimals" in p for p in problems)
    assert any(p.startswith("line 3, column amount:") for p in problems)


def test_export_memory_stays_flat_as_rows_grow(engine: Engine) -> None:
    fill_demo_data(engine=engine, customers=4_000, seed=3, now=NOW)

    class Sink(io.StringIO):
        def write(self, text: str) -> int:  # a file on disk: written text does not stay in memory
            return len(text)

    def peak(text: str) -> tuple[int, int]:
        tracemalloc.start()
        rows = export_customers(engine=engine, query=parse_query(text, now=NOW), out=Sink(), batch=200)
        _current, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return rows, top

    (few, small), (many, large) = peak("seats:0"), peak("")
    assert many > 5 * few
    assert large < small * 2  # several times the rows, not several times the memory


def test_a_sqlite_export_reads_around_the_memory_map_and_gives_it_back(sqlite_engine: Engine) -> None:
    # Through the map every page the export reads would stay resident; the pooled
    # connection gets the map back for the questions after it.
    engine = sqlite_engine
    fill_demo_data(engine=engine, customers=50, seed=3, now=NOW)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    export_customers(engine=engine, query=parse_query("", now=NOW), out=io.StringIO())
    pragmas = [i for i, stmt in enumerate(statements) if stmt.startswith("PRAGMA mmap_size")]
    read = next(i for i, stmt in enumerate(statements) if "FROM customer" in stmt)
    assert [statements[i] for i in pragmas] == ["PRAGMA mmap_size=0", f"PRAGMA mmap_size={MMAP_BYTES}"]
    assert pragmas[0] < read < pragmas[1]


def test_a_large_backfill_loads_in_bulk_with_the_same_result(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    import storage.bulk.importer

    monkeypatch.setattr(storage.bulk.importer, "BULK_MIN_ROWS", 2)
    text = "organization,email,seats,status\r\n" + "".join(
        f"Bulk Harbor {i},b{i}@bulk.example,{i % 4},{'canceled' if i % 5 == 0 else 'active'}\r\n" for i in range(40))
    assert load(engine, text) == (40, 0, 0)
    with Session(engine) as s:
        from storage.customers import count_by_status
        assert count_by_status(session=s)["canceled"] == 8
    assert export_text(engine, "harbor").count("\r\n") == 41
    assert load(engine, text) == (0, 0, 40)


_NAMES = ["organization", "email", "seats", "status", "created_at", "canceled_at", "id"]
def _mostly(clean: list[str], dirty: list[str]) -> st.SearchStrategy[str]:
    """Cells that are usually clean (so whole batches often are) and sometimes subtly not."""
    return st.sampled_from(clean * 12 + dirty)


_INSTANT = _mostly(["", "2026-11-24T09:30:00.000001Z", "2026-02-28T23:59:59.999999Z"],
                   ["2026-02-30T00:00:00.000000Z", "2026-11-24T09:30:00Z", " 2026-01-01T00:00:00.000000Z ", "x"])
_CLEANISH = st.fixed_dictionaries({
    "organization": _mostly(["Acme", " Acme Inc ", "Tab\tand\nline"],
                            ["", "'=1", "=1", "x" * 501, "Nul\x00", "\ud800"]),
    "email": _mostly(["a@x.example", "A@X.example", "b@x.example"],
                     ["a b@x", "a\tb@x", "nope", "'@x", "", "@x", f"{'a' * 310}@x.example"]),
    "seats": _mostly(["0", "7", " 12 ", "2147483647"], ["-1", "²", "x", "", "2147483648", "99999999999"]),
    "status": _mostly(["active", "Canceled", "cancelled", "trial"], ["bogus", ""]),
    "created_at": _INSTANT, "canceled_at": _INSTANT,
    "id": _mostly(["", "cus_1", "cus_2", " cus_3 "], ["'=x", "cus\x01", "x" * 256]),
})


@settings(max_examples=300)
@given(rows=st.lists(_CLEANISH, min_size=1, max_size=4))
def test_the_fast_batch_reader_agrees_with_the_careful_one_whenever_it_answers(rows: list[dict[str, str]]) -> None:
    batch = [(line, [row[name] for name in _NAMES]) for line, row in enumerate(rows, start=2)]
    fast = clean_batch(_NAMES, batch, _Seen())
    if fast is not None:
        assert (fast, []) == careful_batch(_NAMES, batch, _Seen())


def test_the_fast_batch_reader_takes_a_clean_export() -> None:
    batch = [(2, ["Acme", "a@x.example", "3", "active", "2026-11-24T09:30:00.000001Z", ""]),
             (3, ["Beta", "B@x.example", "0", "canceled", "2026-01-02T00:00:00.000000Z",
                  "2026-03-04T05:06:07.000008Z"])]
    names = ["organization", "email", "seats", "status", "created_at", "canceled_at"]
    assert clean_batch(names, batch, _Seen()) == [
        CustomerRow(2, None, "Acme", "a@x.example", 3, "active", datetime(2026, 11, 24, 9, 30, 0, 1, UTC), None),
        CustomerRow(3, None, "Beta", "B@x.example", 0, "canceled", datetime(2026, 1, 2, tzinfo=UTC),
                    datetime(2026, 3, 4, 5, 6, 7, 8, UTC))]


def test_the_fast_batch_reader_leaves_a_batch_with_a_repeated_email_to_the_careful_one() -> None:
    batch = [(2, ["Acme", "a@x.example", "3", "active"]), (3, ["Beta", "A@X.example", "0", "active"])]
    names = ["organization", "email", "seats", "status"]
    assert clean_batch(names, batch, _Seen()) is None
    _rows, problems = careful_batch(names, batch, _Seen())
    assert [str(p) for p in problems] == ["line 3, column email: already appears on line 2"]


def test_export_writes_utc_instants_with_microseconds_and_a_z_on_every_engine(engine: Engine) -> None:
    with Session(engine) as session:
        add_customer(session, "Exact", email="a@exact.example", status="canceled",
                     created_at=NOW.replace(microsecond=5) - timedelta(days=2), canceled_at=NOW - timedelta(days=1))
        add_customer(session, "Live", email="b@live.example", created_at=NOW - timedelta(days=3))
    assert export_text(engine).splitlines()[1:] == [
        "Exact,a@exact.example,3,canceled,2026-11-22T12:00:00.000005Z,2026-11-23T12:00:00.000000Z",
        "Live,b@live.example,3,active,2026-11-21T12:00:00.000000Z,",
    ]


_TOTALS = {"status_count": "customers", "seat_count": "customers", "customer_hour": "signups + cancellations",
           "customer_day": "signups + cancellations", "mrr_total": "paying + mrr"}


def trigger_kept_totals(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the trigger-kept totals that counts something (row-by-row deletes leave rows at zero)."""
    with engine.connect() as conn:
        return {table: sorted(tuple(row) for row in conn.execute(text(f"SELECT * FROM {table} WHERE {live} <> 0")))
                for table, live in _TOTALS.items()}


def test_a_bulk_backfill_leaves_every_trigger_kept_total_as_row_by_row_writes_do(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage.bulk.importer

    with Session(engine) as session:
        add_customer(session, "Paying", email="pay@paying.example", seats=4)
        session.execute(text("UPDATE customer SET mrr = 4900, currency = 'EUR'"))
        session.commit()
    text_ = "organization,email,seats,status,created_at,canceled_at\r\n" + "".join(
        f"Fill {i},f{i}@fill.example,{i % 4},{'canceled' if i % 3 == 0 else 'active'},"
        f"2026-11-{1 + i % 20:02}T{i % 24:02}:00:00.000000Z,{'2026-11-23T10:00:00.000000Z' if i % 3 == 0 else ''}\r\n"
        for i in range(40))
    monkeypatch.setattr(storage.bulk.importer, "BULK_MIN_ROWS", 2)
    assert load(engine, text_) == (40, 0, 0)
    bulk = trigger_kept_totals(engine)
    with Session(engine) as s:
        s.execute(text("DELETE FROM customer WHERE email LIKE '%@fill.example'"))
        s.commit()
    monkeypatch.setattr(storage.bulk.importer, "BULK_MIN_ROWS", 10**9)
    assert load(engine, text_) == (40, 0, 0)
    assert trigger_kept_totals(engine) == bulk
    assert bulk["mrr_total"] == [("EUR", 4900, 1)]


def test_the_database_writes_every_line_exactly_as_csv_writer_does(engine: Engine, session: Session) -> None:
    # The export's lines are built in SQL: pin them to the csv module on cells made of its special characters.
    rng = random.Random(5)
    alphabet = [",", '"', "\r", "\n", "'", "=", "+", "-", "@", "\t", " ", "a", "Z", "é", "😀"]
    cells = [*HOSTILE, '"', '""', ",", "\r\n", "a,b", 'say "hi"', *(
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8))) for _ in range(150))]
    expected = io.StringIO(newline="")
    writer = csv.writer(expected, lineterminator="\r\n")
    writer.writerow(EXPORT_HEADER)
    for i, cell in enumerate(cells):
        created = NOW - timedelta(minutes=i)
        add_customer(session, cell, email=f"{cell}{i}@x.example", seats=i, created_at=created)
        writer.writerow([neutralise(cell), neutralise(f"{cell}{i}@x.example"), i, "active",
                         created.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), ""])
    assert export_text(engine) == expected.getvalue()


def test_an_import_on_postgresql_leaves_the_loaded_rows_vacuumed_for_index_only_reads(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL visibility map")
    rows = "".join(f"Org {i},o{i}@vacuum.example,{i % 5},active,,\r\n" for i in range(2000))
    assert load(engine, ",".join(EXPORT_HEADER) + "\r\n" + rows)[0] == 2000
    with engine.connect() as conn:
        pages, visible = conn.execute(text(
            "SELECT relpages, relallvisible FROM pg_class WHERE relname = 'customer'")).one()
    assert pages > 0
    assert visible == pages


def test_a_bulk_load_on_sqlite_leaves_exact_statistics_for_the_customer_indexes(sqlite_engine: Engine) -> None:
    rows = "".join(f"Org {i},o{i}@stats.example,{i % 4},{('active', 'canceled')[i % 2]},,\r\n" for i in range(3000))
    assert load(sqlite_engine, ",".join(EXPORT_HEADER) + "\r\n" + rows)[0] == 3000
    with sqlite_engine.connect() as conn:
        stat = conn.exec_driver_sql(
            "SELECT stat FROM sqlite_stat1 WHERE idx = 'ix_customer_status_seats'").scalar_one()
    # 3,000 rows, 1,500 per status, 750 per (status, seats): what SQLite weighs the (status, seats, created) walk by
    assert stat.split()[:3] == ["3000", "1500", "750"]
