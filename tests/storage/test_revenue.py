"""MRR movements and revenue figures: hand-computed per currency, window edges, and the aggregates against the rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from storage.models import Customer, MrrMovement
from storage.movements import MrrInvalid, apply_mrr, recent_movements, recount_revenue
from storage.revenue import KINDS, Revenue, largest_movements, revenue
from tests.factories import add_customer

NOW = datetime(2026, 11, 24, 12, 34, 56, 789000, tzinfo=UTC)  # not on the hour: both window ends are partial
SINCE = NOW - timedelta(days=30)
D = timedelta(days=1)


def _mrr(session: Session, customer: Customer, mrr: int, at: datetime, currency: str | None = "USD") -> None:
    """Apply one MRR change and commit."""
    apply_mrr(session=session, customer=customer, mrr=mrr, currency=currency, at=at)
    session.commit()


def _history(session: Session) -> dict[str, Customer]:
    """The hand-computed store: USD customers A-G around a 30-day window ending NOW, EUR H appearing mid-window."""
    c = {name: add_customer(session, f"Org {name}", email=f"{name.lower()}@{name.lower()}.example",
                            created_at=NOW - timedelta(days=100)) for name in "ABCDEFGH"}
    _mrr(session, c["A"], 10000, NOW - 60 * D)
    _mrr(session, c["A"], 15000, NOW - 10 * D)  # expansion +5000
    _mrr(session, c["B"], 20000, NOW - 40 * D)
    _mrr(session, c["B"], 0, NOW - 5 * D)  # churn 20000
    _mrr(session, c["C"], 5000, NOW - 50 * D)
    _mrr(session, c["C"], 3000, SINCE)  # contraction 2000, exactly at the window's start: inside
    _mrr(session, c["D"], 8000, NOW - 45 * D)
    _mrr(session, c["D"], 0, NOW - 20 * D)  # churn 8000 ...
    _mrr(session, c["D"], 6000, NOW - 3 * D)  # ... and reactivation 6000 inside the same window
    _mrr(session, c["E"], 4000, NOW - 2 * D)  # new 4000
    _mrr(session, c["F"], 7000, NOW)  # exactly at the window's end: outside
    _mrr(session, c["G"], 2000, NOW - 90 * D)
    _mrr(session, c["G"], 2500, SINCE - timedelta(microseconds=1))  # just before the window
    _mrr(session, c["H"], 9000, NOW - 7 * D, currency="eur")  # a currency first seen mid-window
    return c


def _by_currency(figures: list[Revenue]) -> dict[str, Revenue]:
    return {f.currency: f for f in figures}


def test_every_figure_of_a_window_is_computed_by_hand(session: Session) -> None:
    _history(session)
    usd, eur = (_by_currency(revenue(session=session, since=SINCE, until=NOW))[c] for c in ("USD", "EUR"))
    assert (usd.mrr_start, usd.paying_start) == (45500, 5)  # A 10000, B 20000, C 5000, D 8000, G 2500
    assert {k: (t.amount, t.count) for k, t in usd.movements.items()} == {
        "new": (4000, 1), "expansion": (5000, 1), "contraction": (2000, 1), "churn": (28000, 2),
        "reactivation": (6000, 1)}
    assert usd.net_new == 4000 + 5000 + 6000 - 2000 - 28000
    assert (usd.mrr, usd.paying) == (30500, 5)  # F's movement at the end instant is not in the window
    assert usd.arr == 366000
    assert usd.arpa == 6100
    assert usd.logo_churn_rate == Fraction(2, 5 + 1)
    assert usd.gross_mrr_churn_rate == Fraction(28000 + 2000, 45500)
    assert usd.net_mrr_churn_rate == Fraction(28000 + 2000 - 5000 - 6000, 45500)
    assert usd.nrr == 1 - Fraction(19000, 45500)
    assert usd.quick_ratio == Fraction(15000, 30000)
    assert (eur.mrr_start, eur.paying_start, eur.mrr, eur.paying, eur.net_new) == (0, 0, 9000, 1, 9000)
    assert eur.logo_churn_rate == 0
    assert eur.gross_mrr_churn_rate is None
    assert eur.net_mrr_churn_rate is None
    assert eur.nrr is None
    assert eur.quick_ratio is None  # nothing lost: a division by zero, shown as a dash


def test_figures_as_of_now_include_the_movement_at_the_last_instant(session: Session) -> None:
    _history(session)
    usd = _by_currency(revenue(session=session, since=NOW - D, until=NOW + timedelta(microseconds=1)))["USD"]
    assert (usd.mrr, usd.paying, usd.moved("new")) == (37500, 6, 7000)


def test_an_empty_store_and_a_window_without_movements_have_no_rates(session: Session) -> None:
    assert revenue(session=session, since=SINCE, until=NOW) == []
    customer = add_customer(session, "Quiet")
    _mrr(session, customer, 1000, NOW - 100 * D)
    (usd,) = revenue(session=session, since=SINCE, until=NOW)
    assert (usd.mrr, usd.mrr_start, usd.net_new, usd.movements) == (1000, 1000, 0, {})
    assert usd.quick_ratio is None
    assert (usd.gross_mrr_churn_rate, usd.nrr, usd.logo_churn_rate) == (Fraction(0), Fraction(1), Fraction(0))
    assert Revenue(currency="X", mrr=0, paying=0, mrr_start=0, paying_start=0).arpa is None


Figures = tuple[int, int, int, int, dict[str, tuple[int, int]]]


def _reference(session: Session, since: datetime, until: datetime) -> dict[str, Figures]:
    """The same figures computed from every movement row: (mrr_start, paying_start, mrr, paying, kinds)."""
    out: dict[str, Figures] = {}
    movements = list(session.exec(select(MrrMovement)))
    for currency in {m.currency for m in movements}:
        mine = [m for m in movements if m.currency == currency]
        start = sum(m.delta for m in mine if m.at < since)
        end = sum(m.delta for m in mine if m.at < until)
        paying = {True: 0, False: 0}
        for before, cut in ((True, since), (False, until)):
            paying[before] = sum(1 if m.kind in ("new", "reactivation") else -1 if m.kind == "churn" else 0
                                 for m in mine if m.at < cut)
        kinds = {k: (abs(sum(m.delta for m in mine if m.kind == k and since <= m.at < until)),
                     sum(1 for m in mine if m.kind == k and since <= m.at < until)) for k in KINDS}
        out[currency] = (start, paying[True], end, paying[False], {k: v for k, v in kinds.items() if v[1]})
    return out


@pytest.mark.parametrize(("since", "until"), [
    (SINCE, NOW), (NOW - 60 * D, NOW - 30 * D), (NOW - 7 * D, NOW), (SINCE.replace(minute=0, second=0,
     microsecond=0), NOW.replace(minute=0, second=0, microsecond=0)), (NOW - timedelta(minutes=5), NOW),
    (SINCE - timedelta(microseconds=1), SINCE + timedelta(microseconds=1)), (NOW - 400 * D, NOW + D),
    (NOW - 5 * D - timedelta(minutes=10), NOW - 5 * D + timedelta(minutes=10)),
])
def test_window_sums_from_the_hourly_totals_match_the_rows(session: Session, since: datetime,
                                                           until: datetime) -> None:
    _history(session)
    got = {f.currency: (f.mrr_start, f.paying_start, f.mrr, f.paying,
                        {k: (t.amount, t.count) for k, t in f.movements.items()})
           for f in revenue(session=session, since=since, until=until)}
    expected = {c: v for c, v in _reference(session, since, until).items() if v[2] or v[4]}
    assert got == expected


def test_movement_kinds_follow_chartmogul(session: Session) -> None:
    customer = add_customer(session, "Kinds")
    steps = [(1000, "new"), (1500, "expansion"), (1200, "contraction"), (0, "churn"), (800, "reactivation"),
             (0, "churn"), (900, "reactivation")]
    for i, (mrr, _kind) in enumerate(steps):
        _mrr(session, customer, mrr, NOW - (10 - i) * D)
    assert [m.kind for m in reversed(recent_movements(session=session, customer_id=customer.id or 0, limit=10))] \
        == [kind for _, kind in steps]
    _mrr(session, customer, 900, NOW)  # the same MRR again: no movement
    assert len(recent_movements(session=session, customer_id=customer.id or 0, limit=10)) == len(steps)


def test_a_stale_mrr_never_overwrites_a_newer_one(session: Session) -> None:
    customer = add_customer(session, "Late")
    _mrr(session, customer, 5000, NOW)
    applied = apply_mrr(session=session, customer=customer, mrr=1000, currency="USD", at=NOW - D)
    session.commit()
    assert applied.stale
    assert not applied.movements
    assert customer.mrr == 5000
    tie = apply_mrr(session=session, customer=customer, mrr=6000, currency="USD", at=NOW)  # ties: later arrival
    assert tie.movements[0].kind == "expansion"


def test_switching_currency_churns_the_old_and_starts_the_new(session: Session) -> None:
    customer = add_customer(session, "Mover")
    _mrr(session, customer, 5000, NOW - 2 * D)
    _mrr(session, customer, 4000, NOW - D, currency="EUR")
    figures = _by_currency(revenue(session=session, since=NOW - 3 * D, until=NOW))
    assert (figures["USD"].mrr, figures["USD"].moved("churn"), figures["USD"].moved("new")) == (0, 5000, 5000)
    assert (figures["EUR"].mrr, figures["EUR"].moved("reactivation")) == (4000, 4000)


def test_an_mrr_needs_a_currency_and_cannot_be_negative(session: Session) -> None:
    customer = add_customer(session, "Bad")
    with pytest.raises(MrrInvalid, match="currency"):
        apply_mrr(session=session, customer=customer, mrr=100, currency=None, at=NOW)
    with pytest.raises(MrrInvalid, match=">= 0"):
        apply_mrr(session=session, customer=customer, mrr=-1, currency="USD", at=NOW)


def test_largest_expansions_and_churns_in_the_window(session: Session) -> None:
    _history(session)
    extra = add_customer(session, "Big")
    _mrr(session, extra, 50000, NOW - 100 * D)
    _mrr(session, extra, 0, NOW - 31 * D)  # a larger churn, before the window
    churns = largest_movements(session=session, currency="USD", kind="churn", since=SINCE, until=NOW, counted=2)
    assert [(r.organization, r.movement.delta) for r in churns] == [("Org B", -20000), ("Org D", -8000)]
    for chunk in (1, 2, 3):  # walks that cross chunk boundaries past movements outside the window find the same
        assert largest_movements(session=session, currency="USD", kind="churn", since=SINCE, until=NOW, counted=2,
                                 chunk=chunk) == churns
    assert [r.organization for r in largest_movements(session=session, currency="USD", kind="churn", since=SINCE,
                                                      until=NOW, counted=2, limit=1, chunk=1)] == ["Org B"]
    expansions = largest_movements(session=session, currency="USD", kind="expansion", since=SINCE, until=NOW,
                                   counted=1, limit=5)
    assert [r.organization for r in expansions] == ["Org A"]
    assert largest_movements(session=session, currency="EUR", kind="churn", since=SINCE, until=NOW, counted=0) == []


def test_a_window_that_ended_long_ago_finds_its_largest_however_the_walk_ends(session: Session) -> None:
    # Many churns of the same sizes after the window (per-seat prices repeat), and the window's own far back.
    old_since, old_until = NOW - 400 * D, NOW - 300 * D
    plan = [(f"Old {i}", size, NOW - (350 + i) * D) for i, size in enumerate((9000, 9000, 7000, 7000, 5000, 3000))]
    plan += [(f"New {i}", (9000, 7000, 5000)[i % 3], NOW - (10 + i) * D) for i in range(12)]
    for name, size, at in plan:
        customer = add_customer(session, name, created_at=NOW - 500 * D)
        _mrr(session, customer, size, at - D)
        _mrr(session, customer, 0, at)
    expected = [("Old 0", -9000), ("Old 1", -9000), ("Old 2", -7000), ("Old 3", -7000), ("Old 4", -5000)]
    for walk_max, steps in ((5000, 500), (2, 500), (2, 2), (2, 1), (0, 0)):  # whole walk, by size, then sorting
        found = largest_movements(session=session, currency="USD", kind="churn", since=old_since, until=old_until,
                                  counted=6, chunk=1, walk_max=walk_max, size_steps=steps)
        assert [(r.organization, r.movement.delta) for r in found] == expected, (walk_max, steps)
    fewer = largest_movements(session=session, currency="USD", kind="churn", since=old_since, until=NOW - 352 * D,
                              counted=3, chunk=1, walk_max=3, size_steps=500)
    assert [r.organization for r in fewer] == ["Old 3", "Old 4", "Old 5"]  # Old 2 falls on the end: outside


def _aggregates(engine: Engine) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """The trigger-kept tables, zero rows left out."""
    with engine.connect() as conn:
        hours = [tuple(r) for r in conn.execute(text(
            "SELECT hour, currency, kind, amount, count FROM mrr_hour WHERE count <> 0 ORDER BY 1, 2, 3"))]
        days = [tuple(r) for r in conn.execute(text(
            "SELECT day, currency, kind, amount, count FROM mrr_day WHERE count <> 0 ORDER BY 1, 2, 3"))]
        totals = [tuple(r) for r in conn.execute(text(
            "SELECT currency, mrr, paying FROM mrr_total WHERE mrr <> 0 OR paying <> 0 ORDER BY 1"))]
    return hours + days, totals


def test_deleting_a_customer_and_recounting_keep_the_aggregates_equal_to_the_rows(engine: Engine) -> None:
    with Session(engine) as session:
        customers = _history(session)
        session.delete(customers["B"])
        session.commit()
    kept = _aggregates(engine)
    assert ("USD", 37500 - 0, 6) in kept[1]  # B had churned already: totals unchanged
    with engine.begin() as conn:
        recount_revenue(conn)
    assert _aggregates(engine) == kept
    with Session(engine) as session:
        figures = _by_currency(revenue(session=session, since=SINCE, until=NOW))
        assert figures["USD"].moved("churn") == 8000  # B's movements went with it


def test_the_migration_gives_existing_customers_no_mrr(engine: Engine) -> None:
    from alembic import command

    from storage.db import alembic_config, upgrade

    command.downgrade(alembic_config(engine), "0011")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO customer(organization, email, email_key, seats, status, created_at, "
                          "updated_at) VALUES ('Old', 'o@old.example', 'o@old.example', 2, 'active', "
                          ":t, :t)"), {"t": NOW.replace(tzinfo=None) if engine.dialect.name == "sqlite" else NOW})
    upgrade(engine)
    with Session(engine) as session:
        old = session.exec(select(Customer)).one()
        assert (old.mrr, old.currency) == (0, None)
        assert revenue(session=session, since=SINCE, until=NOW) == []
        _mrr(session, old, 100, NOW)
        assert revenue(session=session, since=SINCE, until=NOW + D)[0].mrr == 100


def test_a_cancellation_or_a_pause_churns_the_mrr(session: Session) -> None:
    from storage.writes import CustomerFields, apply_customer

    customer = add_customer(session, "Stopper")
    _mrr(session, customer, 5000, NOW - 3 * D)
    apply_customer(session=session, customer=customer, fields=CustomerFields(status="canceled"), at=NOW - 2 * D)
    session.commit()
    assert customer.mrr == 0
    _mrr(session, customer, 4000, NOW - D)  # back, stated by a source
    apply_customer(session=session, customer=customer, fields=CustomerFields(seats=9), at=NOW)  # no status change
    session.commit()
    kinds = [m.kind for m in recent_movements(session=session, customer_id=customer.id or 0)]
    assert kinds == ["reactivation", "churn", "new"]
