"""Patrols (巡查): a grid worker walks a grid, posts GPS points, checks in at key places,
reports findings, and ends the patrol.

Phones post points in batches that may arrive late and out of order; points are keyed by
timestamp (the first point for a timestamp wins) and ordered by time for distance. Points
keep arriving after ``end`` when they were taken during the patrol (offline upload).
A finding returns ``PatrolFindingReported``; the petitions service turns it into a case with
source "patrol".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from yiwang.clock import SHANGHAI
from yiwang.errors import Conflict, Forbidden, ValidationFailed
from yiwang.geo import haversine_m

from .locate import check_coordinates
from .people import GridWorker, KeyPlace

CHECK_IN_RADIUS_M = 100.0
MAX_PHOTOS = 9
MAX_DESCRIPTION = 2000
CLOCK_SKEW = timedelta(minutes=2)


def _aware(at: datetime, what: str) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValidationFailed(
            "timestamp_naive", f"{what} must carry a time zone", f"{what}时间须带时区"
        )
    return at


class PatrolState(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


@dataclass(frozen=True)
class GpsPoint:
    at: datetime
    lat: float
    lon: float
    accuracy_m: float | None = None


@dataclass(frozen=True)
class CheckIn:
    place_id: str
    at: datetime
    distance_m: float


@dataclass(frozen=True)
class PatrolFindingReported:
    """Event: a worker found something on patrol; becomes a case (source "patrol")."""

    finding_id: str
    patrol_id: str
    worker_id: str
    grid_code: str
    category: str
    description: str
    photos: tuple[str, ...]
    lat: float
    lon: float
    reported_at: datetime


@dataclass(frozen=True)
class PatrolEnded:
    patrol_id: str
    worker_id: str
    grid_code: str
    started_at: datetime
    ended_at: datetime
    distance_m: float
    places_checked: tuple[str, ...]


@dataclass(frozen=True)
class PointsAdded:
    accepted: int
    duplicates: int
    outside_patrol_time: int


@dataclass
class Patrol:
    patrol_id: str
    worker_id: str
    grid_code: str
    started_at: datetime
    state: PatrolState = PatrolState.ACTIVE
    ended_at: datetime | None = None
    points: dict[datetime, GpsPoint] = field(default_factory=dict)
    check_ins: list[CheckIn] = field(default_factory=list)
    findings: list[PatrolFindingReported] = field(default_factory=list)

    @classmethod
    def start(cls, patrol_id: str, worker: GridWorker, grid_code: str, now: datetime) -> Patrol:
        """A working worker starts a patrol on one of their grids."""
        _aware(now, "start")
        if grid_code not in worker.grids:
            raise Forbidden(
                "worker_not_assigned",
                f"worker {worker.worker_id} is not assigned to grid {grid_code}",
                f"网格员未分配到网格{grid_code}",
            )
        if not worker.working:
            raise Conflict(
                "worker_not_on_duty",
                f"worker {worker.worker_id} is {worker.status}",
                "网格员当前不在岗",
            )
        return cls(patrol_id, worker.worker_id, grid_code, now)

    def _own(self, worker_id: str) -> None:
        if worker_id != self.worker_id:
            raise Forbidden(
                "patrol_not_yours",
                "this patrol belongs to another worker",
                "这不是您的巡查记录",
                patrol_id=self.patrol_id,
            )

    def _active(self) -> None:
        if self.state != PatrolState.ACTIVE:
            raise Conflict("patrol_ended", "the patrol has ended", "巡查已结束")

    def add_points(self, worker_id: str, batch: Iterable[GpsPoint]) -> PointsAdded:
        """Add a batch of GPS points (any order). The batch is checked as a whole first."""
        self._own(worker_id)
        pts = list(batch)
        for p in pts:
            _aware(p.at, "GPS point")
            check_coordinates(p.lat, p.lon)
        lo = self.started_at - CLOCK_SKEW
        hi = self.ended_at + CLOCK_SKEW if self.ended_at is not None else None
        accepted = duplicates = outside = 0
        for p in sorted(pts, key=lambda p: p.at):
            if p.at < lo or (hi is not None and p.at > hi):
                outside += 1
            elif p.at in self.points:
                duplicates += 1
            else:
                self.points[p.at] = p
                accepted += 1
        return PointsAdded(accepted, duplicates, outside)

    def track(self) -> list[GpsPoint]:
        return [self.points[t] for t in sorted(self.points)]

    def check_in(
        self,
        worker_id: str,
        place: KeyPlace,
        lat: float,
        lon: float,
        at: datetime,
        *,
        radius_m: float = CHECK_IN_RADIUS_M,
    ) -> CheckIn:
        """Check in at a key place; the worker must stand within ``radius_m`` of it."""
        self._own(worker_id)
        self._active()
        _aware(at, "check-in")
        check_coordinates(lat, lon)
        dist = haversine_m(lat, lon, place.location.lat, place.location.lon)
        if dist > radius_m:
            raise ValidationFailed(
                "check_in_too_far",
                f"{dist:.0f} m from {place.name}; check-in needs {radius_m:.0f} m or less",
                f"距离{place.name}{dist:.0f}米，须在{radius_m:.0f}米内签到",
                distance_m=round(dist, 1),
            )
        ci = CheckIn(place.place_id, at, dist)
        self.check_ins.append(ci)
        return ci

    def report_finding(
        self,
        worker_id: str,
        finding_id: str,
        category: str,
        description: str,
        lat: float,
        lon: float,
        at: datetime,
        photos: Iterable[str] = (),
    ) -> PatrolFindingReported:
        self._own(worker_id)
        self._active()
        _aware(at, "finding")
        check_coordinates(lat, lon)
        text = description.strip()
        pics = tuple(photos)
        if not category.strip():
            raise ValidationFailed(
                "category_required", "a finding needs a category", "须选择问题类别"
            )
        if not text or len(text) > MAX_DESCRIPTION:
            raise ValidationFailed(
                "invalid_description",
                f"description must have 1 to {MAX_DESCRIPTION} characters",
                f"问题描述须为1至{MAX_DESCRIPTION}个字符",
            )
        if len(pics) > MAX_PHOTOS:
            raise ValidationFailed(
                "too_many_photos", f"at most {MAX_PHOTOS} photos", f"最多上传{MAX_PHOTOS}张照片"
            )
        if any(f.finding_id == finding_id for f in self.findings):
            raise Conflict("finding_exists", "finding already reported", "该问题已上报")
        event = PatrolFindingReported(
            finding_id,
            self.patrol_id,
            self.worker_id,
            self.grid_code,
            category.strip(),
            text,
            pics,
            lat,
            lon,
            at,
        )
        self.findings.append(event)
        return event

    def end(self, worker_id: str, at: datetime) -> PatrolEnded:
        self._own(worker_id)
        self._active()
        _aware(at, "end")
        if at < self.started_at:
            raise ValidationFailed(
                "end_before_start", "a patrol cannot end before it started", "结束时间早于开始时间"
            )
        self.state = PatrolState.ENDED
        self.ended_at = at
        return PatrolEnded(
            self.patrol_id,
            self.worker_id,
            self.grid_code,
            self.started_at,
            at,
            self.distance_m(),
            tuple(sorted({c.place_id for c in self.check_ins})),
        )

    # stats
    def distance_m(self) -> float:
        """Haversine length of the track, points in time order."""
        track = self.track()
        return sum(
            haversine_m(a.lat, a.lon, b.lat, b.lon) for a, b in zip(track, track[1:], strict=False)
        )

    def duration(self, now: datetime | None = None) -> timedelta:
        """Start to end (or to ``now`` while active; to the last point if no ``now``)."""
        if self.ended_at is not None:
            end = self.ended_at
        elif now is not None:
            end = now
        else:
            end = max(self.points, default=self.started_at)
        return max(end - self.started_at, timedelta(0))


def week_start(at: datetime) -> datetime:
    """Monday 00:00 Asia/Shanghai of the week containing ``at``."""
    local = _aware(at, "week").astimezone(SHANGHAI)
    monday = local.date() - timedelta(days=local.weekday())
    return datetime(monday.year, monday.month, monday.day, tzinfo=SHANGHAI)


@dataclass(frozen=True)
class PatrolSummary:
    patrols: int
    duration: timedelta
    distance_m: float
    key_places_visited: int
    key_places_total: int

    @property
    def key_place_share(self) -> float:
        if not self.key_places_total:
            return 0.0
        return self.key_places_visited / self.key_places_total


def summarize_week(
    patrols: Iterable[Patrol], grid_key_place_ids: Iterable[str], now: datetime
) -> PatrolSummary:
    """Patrol time, distance and the share of the grid's key places checked in this week.

    Pass the patrols of one grid (or one worker on one grid); only patrols started this
    week (Asia/Shanghai, from Monday) count.
    """
    start = week_start(now)
    places = set(grid_key_place_ids)
    count, total, dist, visited = 0, timedelta(0), 0.0, set()
    for p in patrols:
        if not (start <= p.started_at <= now):
            continue
        count += 1
        total += p.duration(now)
        dist += p.distance_m()
        visited |= {c.place_id for c in p.check_ins if c.at >= start and c.place_id in places}
    return PatrolSummary(count, total, dist, len(visited), len(places))
