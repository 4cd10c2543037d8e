"""Customer queries on both engines: search, filters, sorts, counts, windows, pagination and the detail card."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session, col, select

from storage.conditions import ids_condition, planned_conditions
from storage.customers import (
    capped_count,
    count_by_status,
    count_customers,
    customer_conditions,
    customer_detail,
    find_customers,
    list_customers,
    planned_page,
    seat_totals,
)
from storage.estimate import gather, sample_share, term_matches
from storage.models import Customer
from storage.paging import CursorError, PageRequest, build_page, encode_cursor
from storage.plan import Count, Estimates, Kind, Plan
from storage.query import QueryError, Window, parse_query
from storage.search import COUNT_CAP
from storage.signals import churned, new_signups, new_zero_seat_orgs, one_seat_orgs, seat_growth
from storage.ways import term_page
from storage.writes import CustomerFields, apply_customer
from tests.conftest import NOW
from tests.factories import add_customer, add_payment

DAY = timedelta(days=1)


def names(session: Session, text: str, **page: object) -> list[str]:
    """Organizations on the first page of a query."""
    result = list_customers(session=session, query=parse_query(text, now=NOW), page=PageRequest(**page))  # type: ignore[arg-type]
    return [c.organization for c in result.items]


@pytest.fixture
def mix(session: Session) -> None:
    """A small, varied store."""
    add_customer(session, "Acme Corp", email="Boss@ACME.example", seats=12, created_at=NOW - 2 * DAY)
    add_customer(session, "Blue Harbor Labs", email="ops@blueharbor.example", seats=1, created_at=NOW - 10 * DAY)
    add_customer(session, "50%_Off Deals", email="deals@percent.example", seats=0, created_at=NOW - 1 * DAY)
    add_customer(session, "Old Acme", email="old@acme.example", seats=1, status="canceled",
                 created_at=NOW - 300 * DAY, canceled_at=NOW - 3 * DAY)
    add_customer(session, "Trial Co", email="t@trial.example", seats=3, status="trialing", created_at=NOW - 5 * DAY)


def test_search_is_a_case_insensitive_substring_of_organization_or_email(session: Session, mix: None) -> None:
    assert names(session, "ACME") == ["Acme Corp", "Old Acme"]
    assert names(session, "boss@acme") == ["Acme Corp"]
    assert names(session, "harb") == ["Blue Harbor Labs"]
    assert names(session, '"blue harbor"') == ["Blue Harbor Labs"]


def test_rows_holding_every_trigram_of_a_term_but_not_the_term_do_not_match(session: Session) -> None:
    add_customer(session, "Har Arb Rbo Bor", email="parts@bits.example")  # har, arb, rbo, bor; never "harbor"
    add_customer(session, "Harbor Freight", email="yard@freight.example")
    assert names(session, "harbor") == ["Harbor Freight"]
    assert count_customers(session=session, query=parse_query("harbor", now=NOW)) == 1


def test_search_folds_the_case_of_letters_beyond_ascii(session: Session) -> None:
    add_customer(session, "MÜNCHENER Rück", email="info@muenchen.example")
    add_customer(session, "Ærøskøbing Ferries", email="ÆRØ@ferry.example")
    assert names(session, "münchener") == ["MÜNCHENER Rück"]
    assert names(session, "RÜCK") == ["MÜNCHENER Rück"]
    assert names(session, "ærø") == ["Ærøskøbing Ferries"]
    assert names(session, "øskø") == ["Ærøskøbing Ferries"]


def test_sqlite_search_asks_the_index_for_the_terms_own_trigrams(sqlite_engine: Engine) -> None:
    # Python lowers İ to two characters (i and a combining dot); the index folds it to one, as it did the row's.
    with Session(sqlite_engine) as session:
        add_customer(session, "İstanbul Ferry Ltd", email="info@ferry.example")
        assert names(session, "İstanbul") == ["İstanbul Ferry Ltd"]
        assert names(session, "İst") == ["İstanbul Ferry Ltd"]


def test_short_terms_and_like_wildcards_match_literally(session: Session, mix: None) -> None:
    assert names(session, "ac") == ["Acme Corp", "Old Acme"]
    assert names(session, "50%_") == ["50%_Off Deals"]
    assert names(session, "%") == ["50%_Off Deals"]
    assert names(session, "_") == ["50%_Off Deals"]


def test_a_rare_two_letter_term_is_found_at_either_end_in_the_middle_in_emails_and_in_short_names(
        session: Session) -> None:
    # enough other customers that SQLite collects the pair's trigram matches instead of scanning
    session.add_all([Customer(organization=f"Filler {i:04d} Inc", email=f"f{i}@filler.example",
                              email_key=f"f{i}@filler.example", seats=1, created_at=NOW - 40 * DAY,
                              updated_at=NOW - 40 * DAY) for i in range(2500)])
    session.commit()
    for days, (org, email) in enumerate([("QXone Labs", None), ("Labs Aqx", None), ("Maqxim", None),
                                         ("Plain Co", "team@boqx.example"), ("Qx", "hello@two.example"),
                                         ("Q X Partners", "q.x@partners.example"), ("X", "x@qq.example"),
                                         ("Deals (qx)", None), ("ÉqxÉ", "e@accents.example")]):
        add_customer(session, org, email=email, created_at=NOW - days * DAY)
    query = parse_query("qx", now=NOW)
    page, plan = planned_page(session=session, query=query, page=PageRequest(size=20))
    assert [c.organization for c in page.items] == ["QXone Labs", "Labs Aqx", "Maqxim", "Plain Co", "Qx",
                                                    "Deals (qx)", "ÉqxÉ"]
    assert (page.total, page.total_capped) == (7, False)
    assert plan.kind is Kind.ids  # from the trigram index, not a scan
    assert names(session, "qx status:canceled") == []
    assert names(session, "qx ab sort:name") == ["Labs Aqx", "QXone Labs"]


def _cloud_and_storm(session: Session) -> None:
    """300 customers: 110 hold "cloud", 10 canceled in the last 20 days, 5 of them holding "cloud"."""
    def customer(i: int, org: str, canceled: bool) -> Customer:
        return Customer(organization=f"{org} {i:04d}", email=f"c{i}@x.example", email_key=f"c{i}@x.example",
                        seats=i % 7, status="canceled" if canceled else "active", created_at=NOW - (90 + i) * DAY,
                        updated_at=NOW - 90 * DAY, canceled_at=NOW - (i % 20 + 1) * DAY if canceled else None)
    session.add_all([customer(i, "Cloud Nine" if i < 110 else "Stormy Co", 105 <= i < 115) for i in range(300)])
    session.commit()


@pytest.mark.parametrize("range_first", [False, True])
def test_an_intersection_reads_the_page_and_its_count_in_one_pass_over_both_lists(session: Session,
                                                                                   range_first: bool) -> None:
    _cloud_and_storm(session)
    query = parse_query("cloud canceled:30d sort:-seats", now=NOW)
    plan = Plan(kind=Kind.both, visible=frozenset({"canceled"}), count=Count.exact, matches=5, why="",
                range_first=range_first)
    est = Estimates(total=300, structured=10)
    first = term_page(session=session, query=query, plan=plan, est=est, page=PageRequest(size=2))
    assert first is not None
    rows, total, backwards = first
    assert (total, backwards) == (5, False)
    expected = list_customers(session=session, query=query, page=PageRequest(size=10)).items  # any plan
    assert [c.organization for c in expected] == ["Cloud Nine 0109", "Cloud Nine 0108", "Cloud Nine 0107",
                                                  "Cloud Nine 0106", "Cloud Nine 0105"]  # seats 4, 3, 2, 1, 0
    # the same pages as any other plan gives, forwards, backwards and past the end, each with the whole count
    page = build_page(rows, total=total, page=PageRequest(size=2), backwards=False, key=lambda c: (c.seats, c.id))
    seen = [c.organization for c in page.items]
    while page.next_cursor:
        later = term_page(session=session, query=query, plan=plan, est=est,
                          page=PageRequest(size=2, after=page.next_cursor))
        assert later is not None
        assert later[1] == 5
        page = build_page(later[0], total=5, page=PageRequest(size=2, after=page.next_cursor), backwards=False,
                          key=lambda c: (c.seats, c.id))
        seen += [c.organization for c in page.items]
    assert seen == [c.organization for c in expected]
    back = term_page(session=session, query=query, plan=plan, est=est,
                     page=PageRequest(size=2, before=page.prev_cursor))
    assert back is not None
    assert back[2] is True  # read backwards from the last page: nearest first
    assert [c.organization for c in back[0]][:2] == ["Cloud Nine 0106", "Cloud Nine 0107"]
    past = term_page(session=session, query=query, plan=plan, est=est,
                     page=PageRequest(size=2, after=encode_cursor(0, 106)))  # after the last
    assert past is not None
    assert (past[0], past[1]) == ([], 5)  # an empty page past the end still counts them


def test_terms_over_the_cap_give_way_to_a_scan_instead_of_a_one_pass_page(session: Session) -> None:
    _cloud_and_storm(session)
    query = parse_query("cloud", now=NOW)
    plan = Plan(kind=Kind.ids, visible=frozenset(), count=Count.exact, matches=110, why="")
    est = Estimates(total=300, structured=300)
    assert term_page(session=session, query=query, plan=plan, est=est, page=PageRequest(), cap=109) is None
    whole = term_page(session=session, query=query, plan=plan, est=est, page=PageRequest(), cap=110)
    assert whole is not None
    assert whole[1] == 110


def test_a_canceled_sort_read_by_status_states_the_canceled_status_and_keeps_the_same_rows(session: Session) -> None:
    for i, status in enumerate(["canceled", "active", "canceled", "paused", "canceled"]):
        add_customer(session, f"Org {i}", status=status, created_at=NOW - (i + 1) * DAY,
                     canceled_at=NOW - DAY if status == "canceled" else None)
    add_customer(session, "Old Gone", status="canceled", created_at=NOW - 90 * DAY, canceled_at=NOW - DAY)
    query = parse_query("since:30d sort:canceled", now=NOW)
    by_status = planned_conditions(session, query, visible=frozenset({"status", "created"}))
    stated = [str(c) for c in by_status]
    assert "customer.status = :status_1" in stated  # visible to a (status, created_at) index ...
    assert "customer.canceled_at IS NOT NULL" not in stated  # ... which (status, canceled_at) must not take over
    every = customer_conditions(session, query)
    ids = [sorted(c.id or 0 for c in session.exec(select(Customer).where(*conditions)))
           for conditions in (by_status, every)]
    assert ids[0] == ids[1] == [1, 3, 5]


def test_search_combines_with_filters_and_every_term_must_match(session: Session, mix: None) -> None:
    assert names(session, "acme status:canceled") == ["Old Acme"]
    assert names(session, "acme corp") == ["Acme Corp"]
    assert names(session, "acme seats:>10") == ["Acme Corp"]


def test_filters_and_sorts(session: Session, mix: None) -> None:
    assert names(session, "seats:1") == ["Blue Harbor Labs", "Old Acme"]
    assert names(session, "status:active,trialing seats:1..5") == ["Trial Co", "Blue Harbor Labs"]
    assert names(session, "since:7d") == ["50%_Off Deals", "Acme Corp", "Trial Co"]
    assert names(session, "canceled:7d") == ["Old Acme"]
    assert names(session, "sort:-seats")[:2] == ["Acme Corp", "Trial Co"]
    assert names(session, "sort:seats")[0] == "50%_Off Deals"
    assert names(session, "sort:name")[0] == "50%_Off Deals"
    assert names(session, "sort:created")[0] == "Old Acme"


def test_counts_per_status_follow_inserts_updates_and_deletes(session: Session, mix: None) -> None:
    counts = count_by_status(session=session)
    assert counts["active"] == 3
    assert counts["canceled"] == 1
    assert counts["paused"] == 0
    assert seat_totals(session=session)["active"] == 13
    acme = find_customers(session=session, key="boss@acme.example")[0]
    apply_customer(session=session, customer=acme, fields=CustomerFields(status="canceled", seats=0), at=NOW)
    session.commit()
    assert count_by_status(session=session)["canceled"] == 2
    assert seat_totals(session=session)["active"] == 1
    session.delete(acme)
    session.commit()
    assert count_by_status(session=session)["canceled"] == 1
    assert count_customers(session=session, query=parse_query("status:canceled", now=NOW)) == 1


def test_windows(session: Session, mix: None) -> None:
    week = Window(since=NOW - 7 * DAY)
    total, rows = new_signups(session=session, window=week)
    assert total == 3
    assert [c.organization for c in rows] == ["50%_Off Deals", "Acme Corp", "Trial Co"]
    total, rows = churned(session=session, window=week)
    assert (total, rows[0].organization) == (1, "Old Acme")
    assert [c.organization for c in new_zero_seat_orgs(session=session, window=week)[1]] == ["50%_Off Deals"]
    assert [c.organization for c in one_seat_orgs(session=session)[1]] == ["Blue Harbor Labs"]


def test_seat_growth_counts_net_additions_in_the_window(session: Session, mix: None) -> None:
    harbor = find_customers(session=session, key="ops@blueharbor.example")[0]
    apply_customer(session=session, customer=harbor, fields=CustomerFields(seats=4), at=NOW - DAY)
    acme = find_customers(session=session, key="boss@acme.example")[0]
    apply_customer(session=session, customer=acme, fields=CustomerFields(seats=20), at=NOW - 30 * DAY)
    apply_customer(session=session, customer=acme, fields=CustomerFields(seats=10), at=NOW - DAY)
    session.commit()
    total, grown = seat_growth(session=session, window=Window(since=NOW - 7 * DAY))
    assert total == 1
    assert (grown[0].customer.organization, grown[0].added) == ("Blue Harbor Labs", 3)


def test_keyset_pages_stay_correct_while_rows_are_added(session: Session) -> None:
    for i in range(25):
        add_customer(session, f"Org {i:02d}", created_at=NOW - (i + 1) * DAY)
    query = parse_query("", now=NOW)
    first = list_customers(session=session, query=query, page=PageRequest())
    add_customer(session, "Newcomer", created_at=NOW)  # arrives between clicks
    second = list_customers(session=session, query=query, page=PageRequest(after=first.next_cursor))
    third = list_customers(session=session, query=query, page=PageRequest(after=second.next_cursor))
    seen = [c.organization for c in first.items + second.items + third.items]
    assert seen == [f"Org {i:02d}" for i in range(25)]
    assert third.next_cursor is None
    back = list_customers(session=session, query=query, page=PageRequest(before=second.prev_cursor))
    assert [c.organization for c in back.items] == [c.organization for c in first.items]


def test_ties_on_the_sort_value_are_broken_by_id(session: Session) -> None:
    for i in range(7):
        add_customer(session, f"Same {i}", seats=5, created_at=NOW - DAY)
    query = parse_query("sort:-seats", now=NOW)
    first = list_customers(session=session, query=query, page=PageRequest(size=3))
    second = list_customers(session=session, query=query, page=PageRequest(size=3, after=first.next_cursor))
    third = list_customers(session=session, query=query, page=PageRequest(size=3, after=second.next_cursor))
    ids = [c.id for c in first.items + second.items + third.items]
    assert len(ids) == len(set(ids)) == 7


def test_garbage_cursors_are_refused(session: Session) -> None:
    with pytest.raises(CursorError):
        list_customers(session=session, query=parse_query("", now=NOW), page=PageRequest(after="not-a-cursor"))


def test_detail_has_history_and_totals_per_currency(session: Session) -> None:
    c = add_customer(session, "Detail Inc", email="d@detail.example", seats=2)
    apply_customer(session=session, customer=c, fields=CustomerFields(seats=5), at=NOW - DAY)
    session.commit()
    add_payment(session, c, amount=1_000, created_at=NOW - 3 * DAY, refunded_amount=200, refunded_at=NOW - DAY)
    add_payment(session, c, amount=700, currency="EUR", created_at=NOW - 2 * DAY)
    found = find_customers(session=session, key="D@DETAIL.EXAMPLE")
    detail = customer_detail(session=session, customer=found[0])
    assert [(h.old_seats, h.new_seats) for h in detail.seat_history] == [(2, 5)]
    assert [(t.currency, t.paid, t.refunded) for t in detail.totals] == [("EUR", 700, 0), ("USD", 1_000, 200)]
    assert detail.totals[1].last_payment_at == NOW - 3 * DAY


def test_find_prefers_exact_matches_then_substrings(session: Session, mix: None) -> None:
    assert [c.organization for c in find_customers(session=session, key="acme corp")] == ["Acme Corp"]
    assert len(find_customers(session=session, key="acme")) == 2
    assert find_customers(session=session, key="nobody-here") == []


def test_a_term_most_customers_share_pages_newest_first_with_an_exact_or_capped_count(session: Session) -> None:
    session.add_all([Customer(organization=f"Harbor Labs {i}", email=f"ops{i}@harbor{i}.example",
                              email_key=f"ops{i}@harbor{i}.example", seats=i % 5, status="active",
                              created_at=NOW - timedelta(minutes=i), updated_at=NOW)
                     for i in range(COUNT_CAP + 20)])
    add_customer(session, "Zenith", email="ap@zenith.example")
    session.commit()
    for term in ("harbor", "HARBOR labs", "ha"):
        query = parse_query(f"\"{term}\"" if " " in term else term, now=NOW)
        first = list_customers(session=session, query=query, page=PageRequest(size=10))
        # One scan finds all 1,020 (exact); a plan that stops counting at the cap says "1,000+" instead.
        assert (first.total, first.total_capped) in ((COUNT_CAP + 20, False), (COUNT_CAP, True)), term
        assert [c.organization for c in first.items] == [f"Harbor Labs {i}" for i in range(10)], term
        second = list_customers(session=session, query=query, page=PageRequest(size=10, after=first.next_cursor))
        assert [c.organization for c in second.items] == [f"Harbor Labs {i}" for i in range(10, 20)], term
    rare = list_customers(session=session, query=parse_query("zenith", now=NOW), page=PageRequest())
    assert (rare.total, rare.total_capped, [c.email for c in rare.items]) == (1, False, ["ap@zenith.example"])


def test_a_term_over_the_cap_with_an_mrr_filter_counts_the_few_that_pass_it(session: Session) -> None:
    session.add_all([Customer(organization=f"Harbor Labs {i}", email=f"ops{i}@harbor{i}.example",
                              email_key=f"ops{i}@harbor{i}.example", seats=1, status="active",
                              mrr=90_000 if i < 3 else 1_000, currency="USD",
                              created_at=NOW - timedelta(minutes=i), updated_at=NOW)
                     for i in range(COUNT_CAP + 20)])
    session.commit()
    page = list_customers(session=session, query=parse_query("harbor mrr:>=500", now=NOW), page=PageRequest())
    assert (page.total, page.total_capped) == (3, False)  # not "1,000+": the mrr: filter narrows the term


SEAT_QUERIES = ("seats:1", "seats:0", "seats:>10", "seats:>=1", "seats:1..3", "status:canceled seats:1",
                "status:active,trialing seats:>0", "status:paused seats:2", "status:active", "status:canceled,paused",
                "")


def test_status_and_seat_counts_follow_inserts_updates_and_deletes(session: Session, mix: None) -> None:
    def counted() -> dict[str, int]:
        return {q: count_customers(session=session, query=parse_query(q, now=NOW)) for q in SEAT_QUERIES}

    def listed() -> dict[str, int]:  # the same counts by paging through every match
        return {q: len(list_customers(session=session, query=parse_query(q, now=NOW),
                                      page=PageRequest(size=100)).items) for q in SEAT_QUERIES}

    assert counted() == listed()
    assert counted()["seats:1"] == 2
    acme = find_customers(session=session, key="boss@acme.example")[0]
    apply_customer(session=session, customer=acme, fields=CustomerFields(status="canceled", seats=1), at=NOW)
    session.commit()
    assert counted() == listed()
    assert counted()["status:canceled seats:1"] == 2
    session.delete(acme)
    session.commit()
    assert counted() == listed()
    assert counted()["seats:>10"] == 0


@pytest.mark.parametrize("text", ["ac\x00me", "acme\x00", "\x00"])
def test_a_nul_in_a_search_or_a_show_key_is_a_query_error_on_both_engines(session: Session, mix: None,
                                                                         text: str) -> None:
    with pytest.raises(QueryError, match="control character"):
        find_customers(session=session, key=text)
    with pytest.raises(QueryError, match="control character"):
        list_customers(session=session, query=parse_query(f"search {text}", now=NOW), page=PageRequest())


def test_previous_back_to_the_first_page_keeps_walking_the_index_instead_of_scanning(session: Session) -> None:
    session.add_all([Customer(organization=f"Walker {i:04d}", email=f"w{i}@x.example", email_key=f"w{i}@x.example",
                              seats=1 + i % 3, status="active", created_at=NOW - i * timedelta(minutes=5),
                              updated_at=NOW) for i in range(2000)])
    session.commit()
    query = parse_query("seats:1", now=NOW)
    first, plan = planned_page(session=session, query=query, page=PageRequest())
    assert plan.kind is Kind.walk
    second, _ = planned_page(session=session, query=query, page=PageRequest(after=first.next_cursor))
    back, plan = planned_page(session=session, query=query, page=PageRequest(before=second.prev_cursor))
    assert plan.kind is Kind.walk  # the walk ended where the index range does: a whole page, no scan
    assert [c.organization for c in back.items] == [c.organization for c in first.items]
    assert back.prev_cursor is None
    assert back.next_cursor is not None


def test_a_question_the_kept_counts_rule_out_looks_no_term_up(session: Session, mix: None) -> None:
    query = parse_query("acme status:paused sort:canceled", now=NOW)  # paused customers have no cancellation time
    page, plan = planned_page(session=session, query=query, page=PageRequest())
    assert (page.items, page.total, page.total_capped) == ([], 0, False)
    assert plan.kind is Kind.ids
    assert "0 term matches" in plan.why  # the trigram index was not asked


def test_a_two_letter_word_beside_a_word_the_trigram_index_answers_is_tested_on_those_matches(
        session: Session, mix: None) -> None:
    query = parse_query("acme co", now=NOW)
    assert [c.organization for c in list_customers(session=session, query=query, page=PageRequest()).items] == [
        "Acme Corp"]
    est = gather(session, query, cap=COUNT_CAP)
    assert est.pair_rows is None  # few hold "acme": "co" is tested on their rows, without its own trigram look-up


def test_several_words_match_across_organization_and_email_but_no_word_spans_the_two(session: Session) -> None:
    add_customer(session, "Blue Harbor", email="ops@ventures.example", created_at=NOW - DAY)
    add_customer(session, "Harbor Freight", email="x@blue.example", created_at=NOW - 2 * DAY)
    add_customer(session, "Acme", email="corp@acme.example", created_at=NOW - 3 * DAY)
    assert names(session, "harbor ventures") == ["Blue Harbor"]  # one word in each value
    assert names(session, "blue harbor") == ["Blue Harbor", "Harbor Freight"]
    assert names(session, "acmecorp acme") == []  # the organization's end and the email's start are not one word
    # the trigram index finds them (PostgreSQL: one index over both values, migration 0017)
    assert term_matches(session, ("harbor", "ventures"), cap=COUNT_CAP) == (1,)


def test_a_list_of_ids_is_one_array_parameter_on_postgresql(session: Session, mix: None) -> None:
    condition = ids_condition(session, [1, 3, 99])
    assert [c.id for c in session.exec(select(Customer).where(condition).order_by(col(Customer.id)))] == [1, 3]
    sql = str(condition.compile(dialect=session.get_bind().dialect))
    assert ("ANY" in sql) == (session.get_bind().dialect.name == "postgresql")  # parsed and planned as one value


def test_a_later_page_shows_the_count_the_first_page_found_without_counting_again(session: Session, mix: None) -> None:
    query = parse_query("sort:name", now=NOW)
    first = list_customers(session=session, query=query, page=PageRequest(size=2))
    assert (first.total, first.total_capped) == (5, False)
    later = list_customers(session=session, query=query, page=PageRequest(size=2, after=first.next_cursor),
                           known_total=(999, True))
    assert (later.total, later.total_capped) == (999, True)  # taken as given: no count ran
    assert len(later.items) == 2


def test_a_capped_count_is_the_same_through_the_terms_index_or_a_scan(session: Session, mix: None) -> None:
    for i in range(12):
        add_customer(session, f"Cobalt Works {i}", email=f"c{i}@cobalt.example", seats=i,
                     status="canceled" if i % 3 else "active", canceled_at=NOW - DAY if i % 3 else None)
    query = parse_query("cobalt status:canceled", now=NOW)
    rare = Estimates(total=1_000_000, structured=200_000, indexed_terms=True, sample_rows=8000, sample_hits=178)
    common = replace(rare, sample_hits=2_400)  # the scan's way
    assert capped_count(session=session, query=query, est=rare, matches=4_000) == (8, False)
    assert capped_count(session=session, query=query, est=common, matches=60_000) == (8, False)


def test_the_row_sample_is_read_once_until_the_id_span_moves_by_a_hundredth(session: Session) -> None:
    for i in range(300):
        add_customer(session, f"Cobalt {i}" if i % 3 == 0 else f"Ember {i}", created_at=NOW - DAY)
    engine = session.get_bind()
    reads: list[str] = []

    def read(*args: Any) -> None:
        if "FROM customer" in args[2]:
            reads.append(args[2])

    event.listen(engine, "before_cursor_execute", read)
    try:
        assert sample_share(session, ("cobalt",), 1, 300) == (300, 100)
        assert sample_share(session, ("ember",), 1, 300) == (300, 200)
        assert sample_share(session, ("ember",), 1, 303) == (300, 200)  # three more signups: the same rows
        assert len(reads) == 1
        for i in range(300, 310):
            add_customer(session, f"Ember {i}", created_at=NOW - DAY)
        reads.clear()
        assert sample_share(session, ("ember",), 1, 310) == (310, 210)  # ten more: read again
        assert len(reads) == 1
    finally:
        event.remove(engine, "before_cursor_execute", read)
