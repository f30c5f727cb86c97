from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.grids.domain.patrols import (
    GpsPoint,
    Patrol,
    PatrolFindingReported,
    summarize_week,
    week_start,
)
from services.grids.domain.people import (
    GridWorker,
    KeyPlace,
    KeyPlaceKind,
    Location,
    WorkerRole,
    WorkerStatus,
)
from yiwang.errors import Conflict, Forbidden, ValidationFailed
from yiwang.geo import haversine_m

GRID = "329901001001001"
T0 = datetime(2026, 1, 7, 2, 0, tzinfo=UTC)  # Wednesday 10:00 Shanghai
WORKER = GridWorker("w1", "赵敏", "13900000001", grids={GRID: WorkerRole.MEMBER})
SCHOOL = KeyPlace("k1", KeyPlaceKind.SCHOOL, "东湖小学", GRID, Location(32.0, 118.8))
MARKET = KeyPlace("k2", KeyPlaceKind.MARKET, "东湖菜场", GRID, Location(32.005, 118.8))


def walk(n: int) -> list[GpsPoint]:
    """n points 10 s apart, heading north 0.0001° (~11.1 m) each."""
    return [GpsPoint(T0 + timedelta(seconds=10 * i), 32.0 + 0.0001 * i, 118.8) for i in range(n)]


def test_haversine_known_distance() -> None:
    # one degree of latitude ≈ 111.2 km
    assert haversine_m(32.0, 118.8, 33.0, 118.8) == pytest.approx(111_195, rel=1e-3)
    assert haversine_m(32.0, 118.8, 32.0, 118.8) == 0.0


def test_start_requires_assignment_and_duty() -> None:
    with pytest.raises(Forbidden) as exc:
        Patrol.start("p1", WORKER, "329901001001002", T0)
    assert exc.value.code == "worker_not_assigned"
    off = GridWorker("w2", "孙磊", "13900000002", WorkerStatus.ON_LEAVE, {GRID: WorkerRole.LEADER})
    with pytest.raises(Conflict):
        Patrol.start("p1", off, GRID, T0)
    with pytest.raises(ValidationFailed):
        Patrol.start("p1", WORKER, GRID, T0.replace(tzinfo=None))


def test_out_of_order_batches_dedup_and_distance() -> None:
    p = Patrol.start("p1", WORKER, GRID, T0)
    pts = walk(11)
    r1 = p.add_points("w1", [pts[7], pts[3], pts[10], pts[0]])
    r2 = p.add_points("w1", [pts[5], pts[3], *pts[1:3], pts[4], *pts[6:10]])
    assert (r1.accepted, r2.accepted, r2.duplicates) == (4, 7, 2)  # pts 3 and 7 resent
    assert [q.at for q in p.track()] == [q.at for q in pts]
    assert p.distance_m() == pytest.approx(10 * haversine_m(32.0, 118.8, 32.0001, 118.8))
    assert p.distance_m() == pytest.approx(111.2, rel=0.01)


def test_first_point_for_a_timestamp_wins() -> None:
    p = Patrol.start("p1", WORKER, GRID, T0)
    p.add_points("w1", [GpsPoint(T0, 32.0, 118.8)])
    p.add_points("w1", [GpsPoint(T0, 33.0, 118.8)])
    assert p.track()[0].lat == 32.0


@given(st.permutations(list(range(12))), st.integers(1, 12))
@settings(max_examples=50, deadline=None)
def test_distance_independent_of_arrival_order(order: list[int], batch: int) -> None:
    pts = walk(12)
    p = Patrol.start("p1", WORKER, GRID, T0)
    shuffled = [pts[i] for i in order]
    for i in range(0, len(shuffled), batch):
        p.add_points("w1", shuffled[i : i + batch] + shuffled[:1])  # resend one: dedup
    assert len(p.points) == 12
    assert p.distance_m() == pytest.approx(11 * haversine_m(32.0, 118.8, 32.0001, 118.8))


def test_points_from_another_worker_refused_and_nothing_changes() -> None:
    p = Patrol.start("p1", WORKER, GRID, T0)
    with pytest.raises(Forbidden) as exc:
        p.add_points("w2", walk(3))
    assert exc.value.code == "patrol_not_yours"
    assert p.points == {}
    with pytest.raises(ValidationFailed):
        p.add_points("w1", [walk(1)[0], GpsPoint(T0, 95.0, 0.0)])
    assert p.points == {}


def test_late_points_after_end_kept_when_taken_during_patrol() -> None:
    p = Patrol.start("p1", WORKER, GRID, T0)
    p.add_points("w1", walk(3)[:1])
    ended = p.end("w1", T0 + timedelta(minutes=30))
    late = p.add_points(
        "w1",
        [
            GpsPoint(T0 + timedelta(minutes=10), 32.001, 118.8),
            GpsPoint(T0 + timedelta(hours=3), 32.002, 118.8),  # after the end
            GpsPoint(T0 - timedelta(hours=1), 32.002, 118.8),  # before the start
        ],
    )
    assert (late.accepted, late.outside_patrol_time) == (1, 2)
    assert ended.distance_m == 0.0
    assert p.distance_m() > 100
    assert p.duration() == timedelta(minutes=30)


def test_check_in_within_radius_only() -> None:
    p = Patrol.start("p1", WORKER, GRID, T0)
    ci = p.check_in("w1", SCHOOL, 32.0005, 118.8, T0)  # ~55 m
    assert ci.distance_m == pytest.approx(55.6, rel=0.02)
    with pytest.raises(ValidationFailed) as exc:
        p.check_in("w1", MARKET, 32.0, 118.8, T0)  # ~556 m
    assert exc.value.code == "check_in_too_far"
    with pytest.raises(Forbidden):
        p.check_in("w2", SCHOOL, 32.0, 118.8, T0)


def test_finding_emits_event_and_end_refuses_more() -> None:
    p = Patrol.start("p1", WORKER, GRID, T0)
    ev = p.report_finding(
        "w1", "f1", "垃圾堆放", "路边垃圾未清运", 32.0, 118.8, T0, photos=["a.jpg"]
    )
    assert ev == PatrolFindingReported(
        "f1", "p1", "w1", GRID, "垃圾堆放", "路边垃圾未清运", ("a.jpg",), 32.0, 118.8, T0
    )
    with pytest.raises(Conflict):
        p.report_finding("w1", "f1", "垃圾堆放", "重复", 32.0, 118.8, T0)
    with pytest.raises(ValidationFailed):
        p.report_finding("w1", "f2", " ", "无类别", 32.0, 118.8, T0)
    with pytest.raises(ValidationFailed):
        p.report_finding("w1", "f2", "x", "y", 32.0, 118.8, T0, photos=["p"] * 10)
    with pytest.raises(ValidationFailed):
        p.end("w1", T0 - timedelta(seconds=1))
    p.end("w1", T0 + timedelta(minutes=5))
    with pytest.raises(Conflict) as exc:
        p.report_finding("w1", "f3", "x", "y", 32.0, 118.8, T0)
    assert exc.value.code == "patrol_ended"
    with pytest.raises(Conflict):
        p.end("w1", T0 + timedelta(minutes=6))


def test_week_summary_counts_key_places_visited_this_week() -> None:
    assert week_start(T0).isoformat() == "2026-01-05T00:00:00+08:00"
    this_week = Patrol.start("p1", WORKER, GRID, T0)
    this_week.add_points("w1", walk(11))
    this_week.check_in("w1", SCHOOL, 32.0, 118.8, T0)
    this_week.end("w1", T0 + timedelta(hours=1))
    last_week = Patrol.start("p0", WORKER, GRID, T0 - timedelta(days=7))
    last_week.check_in("w1", MARKET, 32.005, 118.8, T0 - timedelta(days=7))
    last_week.end("w1", T0 - timedelta(days=7) + timedelta(hours=2))
    s = summarize_week([this_week, last_week], ["k1", "k2"], T0 + timedelta(days=1))
    assert s.patrols == 1
    assert s.duration == timedelta(hours=1)
    assert s.distance_m == pytest.approx(111.2, rel=0.01)
    assert s.key_place_share == 0.5
