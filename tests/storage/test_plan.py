"""The plan each kind of question gets, from given estimates (the choice only: no store, no timing)."""

from __future__ import annotations

from storage.plan import Count, Estimates, Kind, capped_groups, choose
from storage.query import parse_query
from tests.conftest import NOW

MILLION = 1_000_000
CAP = 1000


def plan_of(text: str, est: Estimates, *, kept: bool = False) -> tuple[Kind, frozenset[str], Count]:
    plan = choose(parse_query(text, now=NOW), est, cap=CAP, kept_count=kept)
    return plan.kind, plan.visible, plan.count


def test_a_rare_two_letter_term_without_a_vocabulary_is_one_scan_collecting_its_few_matches() -> None:
    # PostgreSQL: pg_trgm keeps no list of its trigrams to find those holding the pair
    est = Estimates(total=MILLION, structured=MILLION, sample_rows=8000, sample_hits=0)
    assert plan_of("qx", est) == (Kind.scan, frozenset(), Count.exact)


def test_a_rare_two_letter_term_collects_the_rows_of_the_trigrams_holding_it() -> None:
    est = Estimates(total=MILLION, structured=MILLION, sample_rows=8000, sample_hits=0, pair_rows=37,
                    pair_grams=(("qx", ("aqx", "qxe")),))
    assert plan_of("qx", est) == (Kind.ids, frozenset(), Count.exact)


def test_a_two_letter_term_thousands_hold_is_not_collected_from_its_trigrams() -> None:
    # the vocabulary bounds the matches, but collecting 40k rows one by one costs more than a scan
    est = Estimates(total=MILLION, structured=MILLION, sample_rows=8000, sample_hits=0, pair_rows=40_000)
    assert plan_of("qu", est)[0] is Kind.scan
    common = Estimates(total=MILLION, structured=MILLION, sample_rows=8000, sample_hits=900)  # vocabulary not asked
    assert plan_of("ai", common)[0] is Kind.walk


def test_a_term_thousands_hold_and_a_canceled_window_intersect_their_id_lists() -> None:
    # cloud: ~39k holders; 30 days of cancellations: ~73k rows; both: ~2.9k, read one by one
    est = Estimates(total=MILLION, structured=72_764, canceled=72_764, status_rows=180_446, indexed_terms=True,
                    sample_rows=8000, sample_hits=315)
    kind, visible, count = plan_of("cloud canceled:30d", est)
    assert (kind, visible, count) == (Kind.both, frozenset({"canceled"}), Count.exact)


def test_an_intersection_walks_its_index_range_first_only_when_the_range_is_the_shorter_list() -> None:
    cloud = Estimates(total=MILLION, structured=72_764, canceled=72_764, status_rows=180_446, indexed_terms=True,
                      sample_rows=8000, sample_hits=315)  # ~39k holders, ~73k in the window: the matches lead
    assert not choose(parse_query("cloud canceled:30d", now=NOW), cloud, cap=CAP, kept_count=False).range_first
    # dunder: ~22k holders, 8.8k trialing: the status index's ids are tested against the matches' list
    trialing = Estimates(total=MILLION, structured=8_756, status_rows=8_756, indexed_terms=True, sample_rows=8000,
                         sample_hits=178)
    plan = choose(parse_query("dunder status:trialing", now=NOW), trialing, cap=CAP, kept_count=False)
    assert (plan.kind, plan.range_first) == (Kind.both, True)


def test_a_term_thousands_hold_and_a_created_window_intersect_their_id_lists() -> None:
    est = Estimates(total=MILLION, structured=108_997, created=108_997, indexed_terms=True, sample_rows=8000,
                    sample_hits=315)
    assert plan_of("cloud created:30d sort:seats", est)[:2] == (Kind.both, frozenset({"created"}))


def test_a_rare_two_letter_term_and_a_window_intersect_too_when_its_trigrams_hold_thousands() -> None:
    est = Estimates(total=MILLION, structured=30_000, canceled=30_000, status_rows=180_000, sample_rows=8000,
                    sample_hits=0, pair_rows=20_000, pair_grams=(("jp", ("ajp",)),))
    assert plan_of("jp canceled:7d", est)[:2] == (Kind.both, frozenset({"canceled"}))


def test_a_window_too_large_to_intersect_with_a_common_term_is_not_intersected() -> None:
    # 39k holders x a year of signups (600k): ~24k in both, more than one pass collects
    est = Estimates(total=MILLION, structured=600_000, created=600_000, indexed_terms=True, sample_rows=8000,
                    sample_hits=315)
    assert plan_of("cloud since:1y sort:seats", est)[0] is not Kind.both


def test_a_common_two_letter_term_walks_the_sort_index_and_caps_its_count() -> None:
    est = Estimates(total=MILLION, structured=MILLION, sample_rows=8000, sample_hits=900)
    assert plan_of("ai", est) == (Kind.walk, frozenset({"sort"}), Count.capped)


def test_a_rare_indexed_term_collects_its_trigram_matches() -> None:
    est = Estimates(total=MILLION, structured=MILLION, term_ids=tuple(range(111)), indexed_terms=True)
    assert plan_of("northwindanalytics7 sort:seats", est) == (Kind.ids, frozenset(), Count.exact)


def test_several_words_are_one_probe_and_their_joint_matches_are_collected() -> None:
    est = Estimates(total=MILLION, structured=MILLION, term_ids=tuple(range(444)), indexed_terms=True)
    assert plan_of("Umbrella Systems Inc", est)[0] is Kind.ids


def test_a_term_a_little_over_the_probe_cap_still_collects_from_the_trigram_index() -> None:
    est = Estimates(total=MILLION, structured=MILLION, indexed_terms=True, sample_rows=8000, sample_hits=20)
    assert plan_of("nora.okafor", est) == (Kind.ids, frozenset(), Count.exact)


def test_a_name_sort_with_a_common_indexed_term_collects_its_matches_by_the_trigram_index() -> None:
    # matches of a name cluster in name order, so walking the name index may read most of it
    est = Estimates(total=MILLION, structured=500_000, seat_rows=500_000, indexed_terms=True, sample_rows=8000,
                    sample_hits=180)
    assert plan_of("orchid seats:5..20 sort:name", est) == (Kind.collect, frozenset({"terms"}), Count.capped)


def test_a_name_sort_with_a_two_letter_term_most_names_hold_walks_the_name_index() -> None:
    est = Estimates(total=MILLION, structured=MILLION, sample_rows=8000, sample_hits=3100)
    assert plan_of("er sort:-name", est) == (Kind.walk, frozenset({"sort"}), Count.capped)


def test_a_name_sort_with_a_term_few_names_hold_does_not_walk_the_name_index() -> None:
    est = Estimates(total=MILLION, structured=MILLION, sample_rows=8000, sample_hits=400)  # 5%: clustered by name
    assert plan_of("ab sort:name", est)[0] is not Kind.walk


def test_a_status_and_seat_list_walks_with_the_kept_count() -> None:
    est = Estimates(total=MILLION, structured=26_936, status_rows=180_000, seat_rows=26_936)
    assert plan_of("status:canceled seats:1", est, kept=True) == (
        Kind.walk, frozenset({"sort", "status", "seats"}), Count.kept)


def test_a_few_rows_in_a_window_are_collected_from_its_index_and_sorted() -> None:
    est = Estimates(total=MILLION, structured=2_153, created=100_000, status_rows=21_530)
    kind, visible, count = plan_of("since:30d status:paused sort:seats", est)
    assert (kind, count) == (Kind.collect, Count.exact)
    assert visible == frozenset({"created", "status"})


def test_a_canceled_window_sorted_by_cancellation_walks_from_the_window() -> None:
    est = Estimates(total=MILLION, structured=78_754, canceled=170_000, status_rows=180_000, seat_rows=78_754)
    kind, visible, count = plan_of("canceled:365d seats:>10 sort:-canceled", est)
    assert (kind, visible) == (Kind.walk, frozenset({"sort", "canceled"}))
    assert count is Count.capped  # no kept total and no range cheap enough: "1,000+"


def test_a_cheap_covering_index_range_counts_a_walked_page_exactly() -> None:
    est = Estimates(total=MILLION, structured=30_000, created=100_000, status_rows=300_000)
    assert plan_of("status:canceled since:30d sort:name", est) == (Kind.walk, frozenset({"sort"}), Count.exact)


def test_no_match_of_an_indexed_term_reads_nothing_more() -> None:
    est = Estimates(total=MILLION, structured=MILLION, term_ids=(), indexed_terms=True)
    assert plan_of("zz-no-match status:active", est)[0] is Kind.ids


def test_the_canceled_sort_walks_only_the_canceled_rows_of_its_index() -> None:
    # 5,939 of the 180,494 canceled customers match: a page is ~330 rows into their part of the index
    est = Estimates(total=MILLION, structured=180_494, status_rows=180_494, sample_rows=8000, sample_hits=263)
    assert plan_of("cs sort:canceled", est)[:2] == (Kind.walk, frozenset({"sort"}))


def test_an_oldest_first_cancellation_walk_counts_the_cancellations_before_the_created_window() -> None:
    # customers created in the last 90 days were canceled in them: the walk would pass every earlier cancellation
    est = Estimates(total=MILLION, structured=32_000, created=254_000, status_rows=180_000, sample_rows=8000,
                    sample_hits=800, unmatched_first=53_000)
    assert plan_of("nc since:90d sort:canceled", est)[0] is not Kind.walk
    assert plan_of("nc since:90d sort:-canceled", est)[0] is Kind.walk  # newest first meets them at once


def test_one_seat_count_in_a_created_window_is_collected_from_the_seats_and_created_index() -> None:
    est = Estimates(total=MILLION, structured=1_768, created=85_000, status_rows=200_000, seat_rows=16_213)
    kind, visible, _count = plan_of("status:canceled,paused seats:0 since:30d sort:-name", est, kept=True)
    assert (kind, visible) == (Kind.collect, frozenset({"seats", "created"}))


def test_one_status_and_seat_count_in_a_created_window_reads_that_slice_of_the_status_seats_index() -> None:
    # canceled:7d leaves canceled customers only: (status, seats, created_at) holds those created in the window
    est = Estimates(total=MILLION, structured=1_162, created=254_000, canceled=30_000, status_rows=180_000,
                    seat_rows=27_130)
    kind, visible, _count = plan_of("seats:1 since:90d canceled:7d", est)
    assert (kind, visible) == (Kind.collect, frozenset({"status", "seats", "created"}))


def test_a_capped_count_reads_the_terms_candidates_when_they_hold_the_caps_worth_sooner_than_a_scan() -> None:
    # cobalt: ~22k holders, ~4k of them canceled: 1,001 matches among ~5.5k candidates, against ~250k rows scanned
    cobalt = Estimates(total=MILLION, structured=200_000, status_rows=200_000, indexed_terms=True, sample_rows=8000,
                       sample_hits=178)
    assert capped_groups(parse_query("cobalt status:canceled", now=NOW), cobalt, 3_990, cap=CAP) == frozenset({"terms"})
    # a term most names hold: its candidates are the table again, read at random
    common = Estimates(total=MILLION, structured=200_000, status_rows=200_000, indexed_terms=True, sample_rows=8000,
                       sample_hits=2_400)
    assert capped_groups(parse_query("er status:canceled", now=NOW), common, 60_000, cap=CAP) == frozenset()
    # two letters: no trigram index to read
    short = Estimates(total=MILLION, structured=200_000, status_rows=200_000, sample_rows=8000, sample_hits=178)
    assert capped_groups(parse_query("co status:canceled", now=NOW), short, 3_990, cap=CAP) == frozenset()


def test_a_capped_count_reads_a_window_index_range_when_it_holds_the_caps_worth_sooner_than_a_scan() -> None:
    # `me canceled:7d`: ~22% of 30k cancellations hold `me`: 1,001 matches among ~4.6k of them, against ~150k scanned
    est = Estimates(total=MILLION, structured=30_000, canceled=30_000, status_rows=180_000, sample_rows=8000,
                    sample_hits=1_760)
    assert capped_groups(parse_query("me canceled:7d", now=NOW), est, 6_600, cap=CAP) == frozenset({"canceled"})
    # a range so large that a misjudged share would read it all at random, costlier than one scan: not read
    wide = Estimates(total=MILLION, structured=255_000, created=255_000, sample_rows=8000, sample_hits=1_760)
    assert capped_groups(parse_query("me since:90d", now=NOW), wide, 56_000, cap=CAP) == frozenset()


def test_a_canceled_sort_in_a_created_window_collects_the_windows_canceled_signups() -> None:
    # only canceled customers have a cancellation time: (status, created_at) holds the window's canceled signups
    est = Estimates(total=MILLION, structured=1_030, created=25_000, status_rows=180_000, seat_rows=20_000)
    kind, visible, count = plan_of("seats:2..4 since:7d sort:canceled", est)
    assert (kind, visible, count) == (Kind.collect, frozenset({"created", "status"}), Count.exact)
