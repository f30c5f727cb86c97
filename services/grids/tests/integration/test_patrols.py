"""Patrol end to end: start, points (batched, out of order, another worker refused),
check-in, finding → ``patrol.finding_reported`` in the outbox, end, weekly stats."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from demo.city import DemoCity
from services.grids.service_layer import patrols
from services.grids.tests.integration.conftest import T0, outbox
from yiwang.contracts.grids import PatrolFindingReportedV1
from yiwang.errors import Forbidden, ValidationFailed
from yiwang.uow import UnitOfWork


def test_patrol_to_finding_event(
    city: DemoCity, factory: Callable[[], UnitOfWork], engine: Engine
) -> None:
    place = city.key_places[0]
    grid = place.grid_code
    leader = next(w for w in city.workers if w.grids.get(grid) == "leader")
    stranger = next(w for w in city.workers if grid not in w.grids)
    with pytest.raises(Forbidden):
        patrols.start_patrol(factory(), stranger.worker_id, grid, None, T0)
    p = patrols.start_patrol(factory(), leader.worker_id, grid, None, T0)
    pid = p["patrol_id"]
    pts = [
        {
            "at": T0 + timedelta(minutes=m),
            "lat": place.location.lat + m * 1e-4,
            "lon": place.location.lon,
            "accuracy_m": 5.0,
        }
        for m in range(10)
    ]
    first = patrols.post_points(factory(), pid, leader.worker_id, pts[5:][::-1])
    second = patrols.post_points(factory(), pid, leader.worker_id, pts[:6])
    assert (first["accepted"], second["accepted"], second["duplicates"]) == (5, 5, 1)
    with pytest.raises(Forbidden) as err:
        patrols.post_points(factory(), pid, stranger.worker_id, pts[:1])
    assert err.value.code == "patrol_not_yours"
    with pytest.raises(ValidationFailed):
        patrols.check_in(
            factory(),
            pid,
            leader.worker_id,
            place.place_id,
            place.location.lat + 0.01,
            place.location.lon,
            T0 + timedelta(minutes=3),
        )
    patrols.check_in(
        factory(),
        pid,
        leader.worker_id,
        place.place_id,
        place.location.lat,
        place.location.lon,
        T0 + timedelta(minutes=4),
    )
    before = len(outbox(engine, "patrol.finding_reported"))
    finding = patrols.report_finding(
        factory(),
        pid,
        leader.worker_id,
        None,
        "appearance.litter",
        "路边垃圾堆积",
        place.location.lat,
        place.location.lon,
        ["media/abc.jpg"],
        T0 + timedelta(minutes=6),
    )
    again = patrols.report_finding(
        factory(),
        pid,
        leader.worker_id,
        finding["finding_id"],
        "appearance.litter",
        "路边垃圾堆积",
        place.location.lat,
        place.location.lon,
        [],
        T0 + timedelta(minutes=6),
    )
    assert again["finding_id"] == finding["finding_id"]
    events = outbox(engine, "patrol.finding_reported")
    assert len(events) == before + 1  # the retry emitted nothing
    ev = PatrolFindingReportedV1.model_validate(events[-1]["payload"])
    assert (ev.worker_id, ev.grid_code, ev.category, ev.photos) == (
        leader.worker_id,
        grid,
        "appearance.litter",
        ["media/abc.jpg"],
    )
    assert events[-1]["jurisdiction_code"] == grid
    ended = patrols.end_patrol(factory(), pid, leader.worker_id, T0 + timedelta(minutes=30))
    assert ended["state"] == "ended" and ended["points"] == 10
    assert ended["distance_m"] == pytest.approx(9 * 11.1, rel=0.05)
    assert ended["check_ins"] == [place.place_id]
    # late upload of points taken during the patrol is still accepted
    late = patrols.post_points(
        factory(), pid, leader.worker_id, [{**pts[0], "at": T0 + timedelta(minutes=20)}]
    )
    assert late["accepted"] == 1
    stats = patrols.patrol_stats(factory(), grid, "grid", T0 + timedelta(hours=1))
    row = next(r for r in stats["rows"] if r["key"] == grid)
    assert row["patrols"] == 1 and row["key_places_visited"] == 1
    assert row["key_place_share"] == pytest.approx(
        1 / len([k for k in city.key_places if k.grid_code == grid])
    )
    by_worker = patrols.patrol_stats(factory(), grid[:4], "worker", T0 + timedelta(hours=1))
    assert leader.worker_id in [r["key"] for r in by_worker["rows"]]
