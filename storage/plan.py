"""How to answer one customer question: walk the sort's index, collect a few candidates, or scan once (pure code).

Every plan is chosen from estimates gathered before the page is read (storage.estimate): the trigger-kept counts per
status, (status, seats) and hour, the matches of the question's indexed terms (up to a cap, asked once for all of
them), and the share of a small sample of rows holding its terms. The cost of each way to a page is counted in row
visits: a visit by index (a random read) costs `RANDOM` sequential ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from storage.query import Query

PAGE_ROWS = 11  # a page and the look-ahead row that says whether there is a next one
RANDOM = 25  # one row read through an index costs about this many rows read in a sequential scan
INDEX_ONLY = 0.2  # one index entry counted without reading its row
LISTED = 1.0  # one id read from an index into the sorted list an intersection compares
COUNT_BUDGET = 0.15  # an exact count may cost this share of one scan; beyond it the count stops at the cap ("1,000+")
WALK_BUDGET = 20_000  # a walk reads at most this many rows of the sort index (under a tenth of a scan's cost)
WALK_CHOICE = 2500  # walk only when the estimate says a page needs this many rows at most: matches that are
# correlated with the sort order (cancellations of customers created lately) may need several times the estimate
SCAN_CAP = 5000  # one scan collects at most this many matches (exact count), then sorts them
COMMON = 0.1  # terms at least this share of names hold are found in any stretch of name order
VOCAB_READS = 2000  # looking up the trigrams around a two-letter term: a few dozen seeks in the index's vocabulary


class Kind(StrEnum):
    """The ways to a page."""

    walk = "walk"  # the sort's index in order, testing each row, until the page is full (many matches)
    collect = "collect"  # every row of the most selective index range, then sorted (few candidates)
    ids = "ids"  # the indexed terms' matches (at most the cap), then filtered and sorted
    both = "both"  # the indexed terms' row list intersected with an index range's ids (no row read), then as ids
    scan = "scan"  # one sequential scan collecting the matches (no index serves and few match), then sorted
    top = "top"  # one sequential scan keeping the first page in sort order (many match, spread unevenly)


class Count(StrEnum):
    """How the total shown beside the page is found."""

    kept = "kept"  # the trigger-kept totals answer it exactly
    exact = "exact"  # counted over the same few candidates as the page (or an index range cheap enough)
    capped = "capped"  # counted up to the cap and shown as "1,000+" beyond it


Pairs = tuple[tuple[str, tuple[str, ...]], ...]  # two-letter terms, each with the indexed trigrams holding it

# The index groups a plan may leave visible to the engine's planner: every other condition is hidden from it.
Group = str  # "status", "seats", "created", "canceled", "terms", "sort"


@dataclass(frozen=True)
class Estimates:
    """What the counts, the trigram probe and the sample say about one question."""

    total: int  # customers in the store
    structured: int  # customers meeting the status, seat and window filters (windows by the hour; None: no filter)
    created: int | None = None  # signups in the created window (all statuses)
    canceled: int | None = None  # cancellations in the canceled window
    status_rows: int | None = None  # customers in the statuses asked for (None: no status filter)
    seat_rows: int | None = None  # customers in those statuses with the seats asked for (None: no seat filter)
    term_ids: tuple[int, ...] | None = None  # every match of the indexed terms, when at most the cap
    indexed_terms: bool = False  # some term has trigrams (3+ characters) for the index to serve
    sample_rows: int = 0  # rows in the sample (0: the question has no terms)
    sample_hits: int = 0  # of which hold every term
    pair_rows: int | None = None  # at most this many hold every two-letter term (SQLite's vocabulary; None: not asked)
    pair_grams: Pairs = ()  # each two-letter term and the trigrams holding it
    unmatched_first: int = 0  # rows an oldest-first canceled walk passes before one can match (cancellations before
    # the created window starts)


@dataclass(frozen=True)
class Plan:
    """The way to the page, the index groups left visible, how to count, and why (shown by the bench)."""

    kind: Kind
    visible: frozenset[Group]
    count: Count
    matches: int  # the estimated number of matches
    why: str
    range_first: bool = False  # an intersection whose index range is the shorter list: walk it, test each id


def term_share(est: Estimates, *, low: bool = False, high: bool = False) -> float:
    """The share of rows holding every term (1 without terms); `low` / `high` = a cautious bound (two sigma)."""
    if not est.sample_rows:
        return 1.0
    spread = 2 * math.sqrt(max(est.sample_hits, 1))
    hits = est.sample_hits - spread if low else est.sample_hits + spread if high else est.sample_hits
    return min(1.0, max(0.0, hits) / est.sample_rows)


def walk_groups(query: Query) -> tuple[frozenset[Group], str]:
    """The condition groups that let the engine walk the sort's index from the right place, and what is walked."""
    key = query.sort.key
    if key == "created":
        groups = {"sort"}
        if len(query.statuses) == 1:
            groups.add("status")  # (status, created_at): the status picks the part of the index to walk
        if query.seats_min is not None and query.seats_min == query.seats_max:
            groups.add("seats")  # (seats, created_at) or (status, seats, created_at)
        if query.created:
            groups.add("created")
        return frozenset(groups), "created"
    if key == "seats":
        return frozenset({"sort"} | ({"seats"} if query.seats_min is not None or query.seats_max is not None
                                     else set())), "seats"
    if key == "canceled":
        return frozenset({"sort"} | ({"canceled"} if query.canceled else set())), "canceled"
    return frozenset({"sort"}), "organization"


def walk_range(query: Query, est: Estimates) -> int:
    """How many rows the walked part of the sort index holds."""
    groups, walked = walk_groups(query)
    rows = est.total
    # Only canceled customers have a cancellation time: the canceled sort walks just theirs.
    if ("status" in groups or walked == "canceled") and est.status_rows is not None:
        rows = est.status_rows
    if "seats" in groups and est.seat_rows is not None:
        rows = est.seat_rows if "status" in groups or est.status_rows is None else _share(est, est.seat_rows)
    if "created" in groups and est.created is not None:
        rows = min(rows, est.created)
    if "canceled" in groups and est.canceled is not None:
        rows = min(rows, est.canceled)
    return max(rows, 1)


def _share(est: Estimates, seat_rows: int) -> int:
    """Seat rows of the asked statuses scaled up to every status (the walked index holds them all)."""
    if not est.status_rows:
        return seat_rows
    return round(seat_rows * est.total / est.status_rows)


def drivers(query: Query, est: Estimates) -> list[tuple[int, frozenset[Group], bool]]:
    """The index ranges a collect plan can read: (rows in the range, groups visible, whether it covers every filter)."""
    out: list[tuple[int, frozenset[Group], bool]] = []
    seats = query.seats_min is not None or query.seats_max is not None
    # One status: asked for, or left by a canceled window or the canceled sort (only canceled customers have a time)
    one_status = len(query.statuses) == 1 or bool(query.canceled) or query.sort.key == "canceled"
    if query.created and est.created is not None:
        rows = est.created
        groups = {"created"}
        if one_status and est.status_rows is not None and est.total:
            rows = round(rows * est.status_rows / est.total)
            groups.add("status")
        covers = not query.terms and not query.canceled and query.sort.key != "canceled" and (
            not seats and (len(query.statuses) <= 1))
        out.append((rows, frozenset(groups), covers))
    if query.created and est.created is not None and query.seats_min is not None and query.seats_min == query.seats_max:
        # (seats, created_at): one seat count's signups in the window, whatever their status
        share = (est.seat_rows or 0) / max(est.status_rows or est.total, 1)
        covers = not query.terms and not query.canceled and query.sort.key != "canceled" and not query.statuses
        out.append((round(est.created * share), frozenset({"seats", "created"}), covers))
    if query.canceled and est.canceled is not None:
        covers = not query.terms and not query.created and not seats
        out.append((est.canceled, frozenset({"canceled"}), covers))
    if query.statuses or seats:
        kept = est.seat_rows if est.seat_rows is not None else est.status_rows
        if kept is not None:
            covers = not query.terms and not query.canceled and query.sort.key != "canceled"
            out.append((kept, frozenset({"status", "seats"}), covers))
            if one_status and query.seats_min is not None and query.seats_min == query.seats_max \
                    and query.created and est.created is not None:
                # (status, seats, created_at): one status and seat count's signups in the window
                out.append((round(kept * est.created / max(est.total, 1)), frozenset({"status", "seats", "created"}),
                            False))
    return out


def choose(query: Query, est: Estimates, *, cap: int, kept_count: bool) -> Plan:
    """The cheapest way to the page and its count; `kept_count` = the trigger-kept totals count this question."""
    matches = round(est.structured * term_share(est))
    sure = est.structured * term_share(est, low=True)  # at least this many match, most likely
    if est.term_ids is not None:  # the probe found every match of the indexed terms
        matches = min(matches, len(est.term_ids))
        sure = min(sure, len(est.term_ids) * est.structured / max(est.total, 1))
    count_cost = _count_cost(query, est, matches, cap=cap, kept_count=kept_count)
    ways: list[tuple[float, Kind, frozenset[Group], str]] = []
    groups, walked = walk_groups(query)
    visits = PAGE_ROWS * walk_range(query, est) / sure if sure >= 1 else math.inf
    if walked == "canceled" and not query.sort.descending:
        visits += est.unmatched_first
    # Terms match organization names, so their matches cluster in name order: a walk by name may read far, unless
    # so many names hold them (`er`) that every stretch of the order does.
    clustered = walked == "organization" and bool(query.terms) and term_share(est, low=True) < COMMON
    if visits <= WALK_CHOICE and not clustered:
        ways.append((visits * RANDOM + count_cost, Kind.walk, groups, f"walk the {walked} index (~{visits:,.0f} rows)"))
    if est.term_ids is not None:
        ways.append((len(est.term_ids) * RANDOM, Kind.ids, frozenset(), f"{len(est.term_ids):,} term matches"))
    elif est.indexed_terms and (held := round(est.total * term_share(est))) <= SCAN_CAP // 2:
        # few enough to collect from the trigram index in one pass (half the cap: an estimate may fall short)
        ways.append((held * RANDOM, Kind.ids, frozenset(), f"~{held:,} term matches from the trigram index"))
    elif est.indexed_terms:  # many hold the terms: read them by the trigram index (a count of them stops early)
        recount = 0.0 if est.structured >= est.total else min(held * RANDOM, (cap + 1) * est.total / max(matches, 1))
        ways.append((held * RANDOM + recount, Kind.collect, frozenset({"terms"}),
                     f"collect ~{held:,} term matches by the trigram index"))
    if est.term_ids is None and est.pair_rows is not None and est.pair_rows <= SCAN_CAP:
        # rows holding a two-letter term hold one of the trigrams around it: collect those from the trigram index
        ways.append((est.pair_rows * RANDOM + VOCAB_READS, Kind.ids, frozenset(),
                     f"<={est.pair_rows:,} two-letter term matches from the trigram index"))
    if est.term_ids is None and (est.indexed_terms or est.pair_rows is not None):
        ways.extend(_intersections(query, est))
    for rows, visible, _covers in drivers(query, est):
        # one pass: the page and the count come from the same candidates
        ways.append((rows * RANDOM, Kind.collect, visible, f"collect {rows:,} rows by {'+'.join(sorted(visible))}"))
    if matches <= SCAN_CAP:
        ways.append((float(est.total), Kind.scan, frozenset(), "scan once, collecting the matches"))
    ways.append((est.total + count_cost, Kind.top, frozenset(), "scan once, keeping the first page"))
    cost, kind, visible, why = min(ways, key=lambda way: way[0])
    count = _count(query, est, kind, visible, matches, cap=cap, kept_count=kept_count)
    return Plan(kind=kind, visible=visible, count=count, matches=matches,
                why=f"{why}; ~{matches:,} matches, cost ~{cost:,.0f} row reads",
                range_first=kind is Kind.both and _range_rows(query, est, visible) < _held(est))


def _intersections(query: Query, est: Estimates) -> list[tuple[float, Kind, frozenset[Group], str]]:
    """Intersect the terms' trigram matches with each index range, both as id lists, reading only the rows in both.

    A term thousands hold and a window of tens of thousands (`cloud canceled:30d`) share a few thousand rows: listing
    both from indexes costs far less than reading either's rows or scanning the table.
    """
    held = _held(est)
    ways: list[tuple[float, Kind, frozenset[Group], str]] = []
    for rows, visible, _covers in drivers(query, est):
        both = held * rows / max(est.total, 1)  # the terms and the range taken as independent
        if both <= SCAN_CAP:  # a larger intersection than estimated gives way to one scan
            ways.append(((held + rows) * LISTED + both * RANDOM, Kind.both, visible,
                         f"intersect ~{held:,} term matches with {rows:,} rows by {'+'.join(sorted(visible))}"))
    return ways


def _held(est: Estimates) -> int:
    """How many rows hold the terms: the two-letter bound when there is one, else the sample's share of the store."""
    return est.pair_rows if est.pair_rows is not None else round(est.total * term_share(est))


def _range_rows(query: Query, est: Estimates, visible: frozenset[Group]) -> int:
    """The rows of the index range an intersection reads (the driver with these visible groups)."""
    return min((rows for rows, groups, _covers in drivers(query, est) if groups == visible), default=est.total)


def _count_cost(query: Query, est: Estimates, matches: int, *, cap: int, kept_count: bool) -> float:
    """Row reads of the count beside a walked or top-N page."""
    if kept_count:
        return 0.0
    cheap = [rows * (INDEX_ONLY if covers else RANDOM) for rows, _groups, covers in drivers(query, est)]
    if cheap and min(cheap) <= COUNT_BUDGET * est.total:
        return min(cheap)
    return min(cost for cost, _groups in _capped_ways(query, est, matches, cap=cap))


def capped_groups(query: Query, est: Estimates, matches: int, *, cap: int) -> frozenset[Group]:
    """Where a count that stops past the cap reads: the index whose candidates hold the cap's worth of matches
    soonest (the terms' trigram index for `cobalt status:canceled`, the canceled window's for `me canceled:7d`);
    empty: the table in storage order."""
    return min(_capped_ways(query, est, matches, cap=cap), key=lambda way: way[0])[1]


def _capped_ways(query: Query, est: Estimates, matches: int, *, cap: int) -> list[tuple[float, frozenset[Group]]]:
    """Each place a capped count can read, with its row reads until cap + 1 matches: a scan in storage order, the
    terms' trigram candidates, or an index range (a collect plan's driver) in index order."""
    ways = [(_capped_scan(est, matches, cap=cap), frozenset[Group]()),
            (_capped_by_terms(est, matches, cap=cap), frozenset({"terms"}))]
    for rows, groups, _covers in drivers(query, est):
        if rows * RANDOM <= est.total:  # misjudged, it reads its whole range: at most the cost of one scan
            ways.append((min(rows, (cap + 1) * rows / max(matches, 1)) * RANDOM, groups))
    return ways


def _capped_scan(est: Estimates, matches: int, *, cap: int) -> float:
    """Rows a scan in storage order reads before it has met cap + 1 matches."""
    return min(float(est.total), (cap + 1) * est.total / max(matches, 1))


def _capped_by_terms(est: Estimates, matches: int, *, cap: int) -> float:
    """Row reads of the terms' candidates, in index order, until cap + 1 of them match (inf without indexed terms)."""
    if not est.indexed_terms:
        return math.inf
    held = est.total * term_share(est)
    return min(held, (cap + 1) * held / max(matches, 1)) * RANDOM


def _count(query: Query, est: Estimates, kind: Kind, visible: frozenset[Group], matches: int, *, cap: int,
           kept_count: bool) -> Count:
    """Kept totals when they answer; exact over few candidates or a cheap index range; else capped."""
    if kept_count:
        return Count.kept
    if kind is Kind.collect and visible == frozenset({"terms"}) and (est.structured >= est.total or matches > cap):
        return Count.capped  # so many candidates: a count that stops at the cap (free: the probe met it unfiltered)
    if kind in (Kind.ids, Kind.both, Kind.scan, Kind.collect):
        return Count.exact
    return Count.exact if count_groups(query, est) else Count.capped


def count_groups(query: Query, est: Estimates) -> frozenset[Group]:
    """The index range an exact count of a walked page reads: the cheapest driver's (empty: a capped scan)."""
    budget = COUNT_BUDGET * est.total
    best: tuple[float, frozenset[Group]] | None = None
    for rows, groups, covers in drivers(query, est):
        cost = rows * (INDEX_ONLY if covers else RANDOM)
        if cost <= budget and (best is None or cost < best[0]):
            best = (cost, groups)
    return best[1] if best else frozenset()
