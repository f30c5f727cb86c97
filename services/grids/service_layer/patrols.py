"""Patrol commands: start, GPS points (batched, any order), check-ins, findings, end, stats.

The patrol row is locked for each command (``SELECT … FOR UPDATE``) and its ``version``
bumped, so concurrent batches from the same phone serialise instead of racing.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from services.grids.adapters import tables as t
from services.grids.domain.patrols import (
    CheckIn,
    GpsPoint,
    Patrol,
    PatrolFindingReported,
    PatrolState,
    summarize_week,
    week_start,
)
from services.grids.domain.people import GridWorker, KeyPlace, Location, WorkerRole, WorkerStatus
from services.grids.service_layer.people import _worker_row, missing
from yiwang.contracts.grids import PatrolFindingReportedV1
from yiwang.errors import Conflict
from yiwang.uow import UnitOfWork


def _worker(uow: UnitOfWork, worker_id: str) -> GridWorker:
    w = _worker_row(uow, worker_id)
    grids = uow.session.execute(
        sa.select(t.assignments.c.grid_code, t.assignments.c.role).where(
            t.assignments.c.worker_id == w.worker_id
        )
    ).all()
    return GridWorker(
        w.worker_id,
        w.name,
        w.phone,
        WorkerStatus(w.status),
        {g.grid_code: WorkerRole(g.role) for g in grids},
    )


def _load(uow: UnitOfWork, patrol_id: uuid.UUID, *, lock: bool = True) -> tuple[Patrol, int]:
    q = sa.select(t.patrols).where(t.patrols.c.patrol_id == patrol_id)
    row = uow.session.execute(q.with_for_update() if lock else q).first()
    if row is None:
        raise missing("patrol", str(patrol_id))
    patrol = Patrol(
        str(row.patrol_id),
        row.worker_id,
        row.grid_code,
        row.started_at,
        PatrolState(row.state),
        row.ended_at,
    )
    for p in uow.session.execute(
        sa.select(t.patrol_points).where(t.patrol_points.c.patrol_id == patrol_id)
    ):
        patrol.points[p.at] = GpsPoint(p.at, p.lat, p.lon, p.accuracy_m)
    for c in uow.session.execute(
        sa.select(t.patrol_check_ins)
        .where(t.patrol_check_ins.c.patrol_id == patrol_id)
        .order_by(t.patrol_check_ins.c.id)
    ):
        patrol.check_ins.append(CheckIn(c.place_id, c.at, c.distance_m))
    for f in uow.session.execute(
        sa.select(t.patrol_findings).where(t.patrol_findings.c.patrol_id == patrol_id)
    ):
        patrol.findings.append(
            PatrolFindingReported(
                str(f.finding_id),
                str(f.patrol_id),
                f.worker_id,
                f.grid_code,
                f.category,
                f.description,
                tuple(f.photos),
                f.lat,
                f.lon,
                f.reported_at,
            )
        )
    return patrol, int(row.version)


def _save(uow: UnitOfWork, patrol: Patrol, version: int) -> None:
    res = uow.session.execute(
        sa.update(t.patrols)
        .where(t.patrols.c.patrol_id == uuid.UUID(patrol.patrol_id), t.patrols.c.version == version)
        .values(
            state=patrol.state.value,
            ended_at=patrol.ended_at,
            distance_m=patrol.distance_m(),
            version=version + 1,
        )
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(
            "version_conflict", "the patrol changed meanwhile; retry", "巡查记录已被更新，请重试"
        )


def _out(p: Patrol) -> dict[str, Any]:
    return {
        "patrol_id": p.patrol_id,
        "worker_id": p.worker_id,
        "grid_code": p.grid_code,
        "state": p.state.value,
        "started_at": p.started_at,
        "ended_at": p.ended_at,
        "distance_m": round(p.distance_m(), 1),
        "points": len(p.points),
        "check_ins": sorted({c.place_id for c in p.check_ins}),
        "findings": len(p.findings),
    }


def start_patrol(
    uow: UnitOfWork, worker_id: str, grid_code: str, patrol_id: uuid.UUID | None, now: datetime
) -> dict[str, Any]:
    pid = patrol_id or uuid.uuid4()
    with uow:
        worker = _worker(uow, worker_id)
        patrol = Patrol.start(str(pid), worker, grid_code, now)
        exists = uow.session.execute(
            sa.select(t.patrols.c.worker_id).where(t.patrols.c.patrol_id == pid)
        ).first()
        if exists is not None:
            if exists.worker_id != worker.worker_id:
                raise Conflict("patrol_exists", "patrol id already used", "巡查编号已被使用")
            return _out(_load(uow, pid, lock=False)[0])  # idempotent retry
        uow.session.execute(
            t.patrols.insert().values(
                patrol_id=pid,
                worker_id=patrol.worker_id,
                grid_code=grid_code,
                state=patrol.state.value,
                started_at=now,
                version=1,
            )
        )
        uow.commit()
    return _out(patrol)


def post_points(
    uow: UnitOfWork, patrol_id: uuid.UUID, worker_id: str, points: list[dict[str, Any]]
) -> dict[str, Any]:
    with uow:
        worker = _worker_row(uow, worker_id)
        patrol, version = _load(uow, patrol_id)
        before = set(patrol.points)
        added = patrol.add_points(
            worker.worker_id,
            [GpsPoint(p["at"], p["lat"], p["lon"], p.get("accuracy_m")) for p in points],
        )
        new = [patrol.points[at] for at in patrol.points if at not in before]
        if new:
            uow.session.execute(
                t.patrol_points.insert(),
                [
                    {
                        "patrol_id": patrol_id,
                        "at": p.at,
                        "lat": p.lat,
                        "lon": p.lon,
                        "accuracy_m": p.accuracy_m,
                    }
                    for p in new
                ],
            )
        _save(uow, patrol, version)
        uow.commit()
    return {
        "accepted": added.accepted,
        "duplicates": added.duplicates,
        "outside_patrol_time": added.outside_patrol_time,
    }


def check_in(
    uow: UnitOfWork,
    patrol_id: uuid.UUID,
    worker_id: str,
    place_id: str,
    lat: float,
    lon: float,
    at: datetime,
) -> dict[str, Any]:
    with uow:
        worker = _worker_row(uow, worker_id)
        patrol, version = _load(uow, patrol_id)
        p = uow.session.execute(
            sa.select(t.key_places).where(t.key_places.c.place_id == place_id)
        ).first()
        if p is None:
            raise missing("key_place", place_id)
        place = KeyPlace(p.place_id, p.kind, p.name, p.grid_code, Location(p.lat, p.lon))
        ci = patrol.check_in(worker.worker_id, place, lat, lon, at)
        uow.session.execute(
            t.patrol_check_ins.insert().values(
                patrol_id=patrol_id, place_id=place_id, at=ci.at, distance_m=ci.distance_m
            )
        )
        _save(uow, patrol, version)
        uow.commit()
    return {"place_id": ci.place_id, "at": ci.at, "distance_m": round(ci.distance_m, 1)}


def report_finding(
    uow: UnitOfWork,
    patrol_id: uuid.UUID,
    worker_id: str,
    finding_id: uuid.UUID | None,
    category: str,
    description: str,
    lat: float,
    lon: float,
    photos: list[str],
    at: datetime,
) -> dict[str, Any]:
    """A finding on patrol → ``patrol.finding_reported`` (petitions opens a case)."""
    fid = finding_id or uuid.uuid4()
    with uow:
        worker = _worker_row(uow, worker_id)
        patrol, version = _load(uow, patrol_id)
        if any(f.finding_id == str(fid) for f in patrol.findings):  # idempotent retry
            f = next(f for f in patrol.findings if f.finding_id == str(fid))
            return {
                "finding_id": fid,
                "patrol_id": patrol_id,
                "grid_code": f.grid_code,
                "category": f.category,
                "reported_at": f.reported_at,
            }
        ev = patrol.report_finding(
            worker.worker_id, str(fid), category, description, lat, lon, at, photos
        )
        uow.session.execute(
            t.patrol_findings.insert().values(
                finding_id=fid,
                patrol_id=patrol_id,
                worker_id=ev.worker_id,
                grid_code=ev.grid_code,
                category=ev.category,
                description=ev.description,
                photos=list(ev.photos),
                lat=ev.lat,
                lon=ev.lon,
                reported_at=ev.reported_at,
            )
        )
        _save(uow, patrol, version)
        uow.emit(
            PatrolFindingReportedV1(
                finding_id=fid,
                patrol_id=patrol_id,
                worker_id=ev.worker_id,
                worker_name=worker.name,
                grid_code=ev.grid_code,
                category=ev.category,
                description=ev.description,
                lat=ev.lat,
                lon=ev.lon,
                photos=list(ev.photos),
                at=ev.reported_at,
            ),
            jurisdiction_code=ev.grid_code,
            occurred_at=ev.reported_at,
        )
        uow.commit()
    return {
        "finding_id": fid,
        "patrol_id": patrol_id,
        "grid_code": ev.grid_code,
        "category": ev.category,
        "reported_at": ev.reported_at,
    }


def end_patrol(
    uow: UnitOfWork, patrol_id: uuid.UUID, worker_id: str, now: datetime
) -> dict[str, Any]:
    with uow:
        worker = _worker_row(uow, worker_id)
        patrol, version = _load(uow, patrol_id)
        patrol.end(worker.worker_id, now)
        _save(uow, patrol, version)
        uow.commit()
    return _out(patrol)


def get_patrol(uow: UnitOfWork, patrol_id: uuid.UUID) -> dict[str, Any]:
    with uow:
        return _out(_load(uow, patrol_id, lock=False)[0])


def patrol_stats(uow: UnitOfWork, prefix: str, by: str, now: datetime) -> dict[str, Any]:
    """This week's patrol time, distance and share of key places visited, per grid/worker."""
    start = week_start(now)
    with uow:
        rows = (
            uow.session.execute(
                sa.select(t.patrols.c.patrol_id).where(
                    t.patrols.c.grid_code.startswith(prefix, autoescape=True),
                    t.patrols.c.started_at >= start,
                    t.patrols.c.started_at <= now,
                )
            )
            .scalars()
            .all()
        )
        patrols = [_load(uow, pid, lock=False)[0] for pid in rows]
        places: dict[str, list[str]] = defaultdict(list)
        for place in uow.session.execute(
            sa.select(t.key_places.c.place_id, t.key_places.c.grid_code).where(
                t.key_places.c.grid_code.startswith(prefix)
            )
        ):
            places[place.grid_code].append(place.place_id)
    groups: dict[str, list[Patrol]] = defaultdict(list)
    for p in patrols:
        groups[p.worker_id if by == "worker" else p.grid_code].append(p)
    out = []
    for key in sorted(groups):
        group = groups[key]
        grid_places = sorted({pl for p in group for pl in places.get(p.grid_code, [])})
        s = summarize_week(group, grid_places, now)
        out.append(
            {
                "key": key,
                "patrols": s.patrols,
                "duration_s": s.duration.total_seconds(),
                "distance_m": round(s.distance_m, 1),
                "key_places_visited": s.key_places_visited,
                "key_places_total": s.key_places_total,
                "key_place_share": round(s.key_place_share, 4),
            }
        )
    return {"week_start": start, "rows": out}
