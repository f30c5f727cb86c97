"""Duplicate detection: radius, window, category, open status, closest wins; geohash cells."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.petitions.domain.case import Actor, Reporter, Supporter
from services.petitions.domain.duplicates import (
    Candidate,
    DuplicatePolicy,
    candidate_cells,
    find_duplicate,
    geohash,
    merge,
    split_off,
)
from services.petitions.domain.lifecycle import CaseStatus, Role
from services.petitions.tests.unit.builders import T0, case_in, new_case
from yiwang.errors import Conflict, ValidationFailed
from yiwang.geo import haversine_m

LAT, LON = 28.2389, 117.0339
CAT = "roads.pothole"


def north(metres: float) -> float:
    return LAT + math.degrees(metres / 6_371_008.8)


def cand(
    cid: str, metres: float, hours_ago: float = 1, *, category: str = CAT, open_: bool = True
) -> Candidate:
    return Candidate(cid, category, north(metres), LON, T0 - timedelta(hours=hours_ago), open_)


def find(*cands: Candidate, policy: DuplicatePolicy = DuplicatePolicy()) -> str | None:
    m = find_duplicate(category=CAT, lat=LAT, lon=LON, at=T0, candidates=cands, policy=policy)
    return m.case_id if m else None


def test_radius_window_category_and_status() -> None:
    assert find(cand("a", 49)) == "a"
    assert find(cand("a", 51)) is None
    assert find(cand("a", 51), policy=DuplicatePolicy(radius_m=60)) == "a"
    assert find(cand("a", 10, hours_ago=71.9)) == "a"
    assert find(cand("a", 10, hours_ago=72.1)) is None
    assert find(cand("a", 10, hours_ago=-1)) is None  # reported after the new report
    assert find(cand("a", 10, category="roads.streetlight")) is None
    assert find(cand("a", 10, open_=False)) is None


def test_closest_wins_and_ties_are_deterministic() -> None:
    assert find(cand("far", 40), cand("near", 5), cand("mid", 20)) == "near"
    older, newer = cand("z-old", 10, hours_ago=5), cand("a-new", 10, hours_ago=1)
    assert find(older, newer) == find(newer, older) == "z-old"
    same1, same2 = cand("b", 10, hours_ago=2), cand("a", 10, hours_ago=2)
    assert find(same1, same2) == find(same2, same1) == "a"


def test_candidate_of_a_case() -> None:
    case = new_case()
    c = Candidate.of(case)
    assert c is not None and c.is_open and c.category == CAT
    assert Candidate.of(new_case(lat=None, lon=None)) is None


def test_policy_and_coordinates_are_checked() -> None:
    with pytest.raises(ValidationFailed):
        DuplicatePolicy(radius_m=0)
    with pytest.raises(ValidationFailed):
        find_duplicate(category=CAT, lat=91, lon=0, at=T0, candidates=[])


def test_geohash_known_values() -> None:
    assert geohash(57.64911, 10.40744, 11) == "u4pruydqqvj"
    assert geohash(LAT, LON, 7) == geohash(LAT + 1e-7, LON, 7)


@settings(max_examples=200, deadline=None)
@given(
    lat=st.floats(-80, 80),
    lon=st.floats(-179.9, 179.9),
    bearing=st.floats(0, 2 * math.pi),
    dist=st.floats(0, 50),
)
def test_any_point_within_the_radius_lies_in_a_candidate_cell(
    lat: float, lon: float, bearing: float, dist: float
) -> None:
    dlat = math.degrees(dist * math.cos(bearing) / 6_371_008.8)
    dlon = math.degrees(dist * math.sin(bearing) / (6_371_008.8 * math.cos(math.radians(lat))))
    olat, olon = lat + dlat, lon + dlon
    if haversine_m(lat, lon, olat, olon) > 50 or not -180 <= olon <= 180:
        return
    assert geohash(olat, olon) in candidate_cells(lat, lon, 50)


def test_merge_moves_reporter_and_supporters() -> None:
    staff = Actor("s-1", Role.COMMUNITY_STAFF)
    target = case_in(CaseStatus.DISPATCHED, with_supporter=False)
    dup = new_case("c-2", reporter=Reporter(account_id="u-2", phone="139"))
    at = target.timeline[-1].at + timedelta(hours=1)
    dup.support(
        Actor("sys", Role.SYSTEM),
        at,
        dup.version,
        supporter=Supporter("u-3", at, Reporter(account_id="u-3")),
    )
    moved = merge(target, dup, staff, at + timedelta(minutes=1))
    assert [s.supporter_id for s in moved] == ["c-2", "u-3"]
    assert dup.status is CaseStatus.MERGED and dup.merged_into == target.case_id
    assert target.supporter_count == 2
    assert len(target.reporters_to_notify()) == 3
    with pytest.raises(Conflict):  # a merged case cannot be merged again, nothing changes
        merge(target, dup, staff, at + timedelta(minutes=2))
    assert target.supporter_count == 2


def test_split_off_detaches_a_wrong_link() -> None:
    case = case_in(CaseStatus.ACCEPTED)
    sid = case.supporters[0].supporter_id
    at = case.timeline[-1].at + timedelta(hours=1)
    sup = split_off(case, Actor("s", Role.COMMUNITY_STAFF), at, sid)
    assert sup.supporter_id == sid and case.supporter_count == 0
    with pytest.raises(Conflict):
        split_off(case, Actor("s", Role.COMMUNITY_STAFF), at, sid)
