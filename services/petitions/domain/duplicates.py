"""Duplicate reports ("me too"): link a new report to a nearby open case of the same category.

A new report is a duplicate of an open case of the same category reported within
``window`` (72 h) and ``radius_m`` (50 m, haversine). The closest case wins; ties go to the
older case, then the smaller id, so the answer never depends on query order.

Adapters find candidates by index: store :func:`geohash` of each open case at
``INDEX_PRECISION`` and query the cells from :func:`candidate_cells`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from yiwang.clock import require_aware
from yiwang.errors import ValidationFailed
from yiwang.geo import EARTH_RADIUS_M, haversine_m

from .case import Actor, Case, Supporter
from .common import require_coordinates

INDEX_PRECISION = 7  # cells of about 153 m × 153 m (narrower towards the poles)
_BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class DuplicatePolicy:
    radius_m: float = 50.0
    window: timedelta = timedelta(hours=72)

    def __post_init__(self) -> None:
        if not 0 < self.radius_m <= 5000 or self.window <= timedelta(0):
            raise ValidationFailed(
                "invalid_duplicate_policy",
                "the radius must be in (0, 5000] m and the window positive",
                "查重半径须在0至5000米之间，时间窗口须为正",
            )


@dataclass(frozen=True, slots=True)
class Candidate:
    """What duplicate detection needs to know about an existing case."""

    case_id: str
    category: str
    lat: float
    lon: float
    created_at: datetime
    is_open: bool

    @classmethod
    def of(cls, case: Case) -> Candidate | None:
        if case.lat is None or case.lon is None:
            return None
        return cls(case.case_id, case.category, case.lat, case.lon, case.created_at, case.is_open)


@dataclass(frozen=True, slots=True)
class DuplicateMatch:
    case_id: str
    distance_m: float


def find_duplicate(
    *,
    category: str,
    lat: float,
    lon: float,
    at: datetime,
    candidates: Iterable[Candidate],
    policy: DuplicatePolicy = DuplicatePolicy(),
) -> DuplicateMatch | None:
    """The open case the new report duplicates, or None."""
    lat, lon = require_coordinates(lat, lon)
    require_aware(at, "at")
    best: tuple[float, datetime, str] | None = None
    for c in candidates:
        if not c.is_open or c.category != category:
            continue
        if not at - policy.window <= c.created_at <= at:
            continue
        d = haversine_m(lat, lon, c.lat, c.lon)
        if d > policy.radius_m:
            continue
        key = (d, c.created_at, c.case_id)
        if best is None or key < best:
            best = key
    return DuplicateMatch(best[2], best[0]) if best else None


def merge(
    target: Case, duplicate: Case, actor: Actor, at: datetime, *, note: str = ""
) -> list[Supporter]:
    """Staff merge ``duplicate`` into ``target``: the duplicate ends as ``merged`` and its
    reporter and supporters become supporters of ``target``. Both are checked before either
    changes. Returns the supporters moved (all of them are to be notified)."""
    if target.case_id == duplicate.case_id:
        raise ValidationFailed(
            "merge_into_self", "a case cannot be merged into itself", "案件不能合并到自身"
        )
    for case, action in ((duplicate, "merge_into"), (target, "absorb")):
        case._check(action, actor, at, case.version)  # all refusals before any change
    moving = duplicate.merge_into(actor, at, duplicate.version, target_id=target.case_id, note=note)
    known = {s.supporter_id for s in target.supporters} | {target.reporter.account_id}
    fresh = [s for s in moving if s.supporter_id not in known]
    if fresh:
        target.absorb(actor, at, target.version, supporters=fresh)
    return moving


def split_off(
    case: Case, actor: Actor, at: datetime, supporter_id: str, note: str = ""
) -> Supporter:
    """Staff undo a wrong "me too" link; open a new case for the returned supporter's report."""
    return case.detach_supporter(actor, at, case.version, supporter_id=supporter_id, note=note)


# --- geohash bucketing ----------------------------------------------------------------


def geohash(lat: float, lon: float, precision: int = INDEX_PRECISION) -> str:
    """The standard geohash of a point (base32, ``precision`` characters)."""
    lat, lon = require_coordinates(lat, lon)
    if not 1 <= precision <= 12:
        raise ValidationFailed("invalid_precision", "precision must be 1–12", "精度须为1至12")
    lat_rng, lon_rng = [-90.0, 90.0], [-180.0, 180.0]
    out: list[str] = []
    bits, ch, even = 0, 0, True
    while len(out) < precision:
        rng, val = (lon_rng, lon) if even else (lat_rng, lat)
        mid = (rng[0] + rng[1]) / 2
        if val >= mid:
            ch, rng[0] = (ch << 1) | 1, mid
        else:
            ch, rng[1] = ch << 1, mid
        even, bits = not even, bits + 1
        if bits == 5:
            out.append(_BASE32[ch])
            bits = ch = 0
    return "".join(out)


def cell_size_deg(precision: int) -> tuple[float, float]:
    """(height, width) of a geohash cell in degrees."""
    lon_bits = (5 * precision + 1) // 2
    lat_bits = 5 * precision // 2
    return 180.0 / 2**lat_bits, 360.0 / 2**lon_bits


def candidate_cells(
    lat: float, lon: float, radius_m: float, precision: int = INDEX_PRECISION
) -> set[str]:
    """Every geohash cell that intersects the box around the circle (``radius_m`` about the
    point): the cells to query for duplicate candidates."""
    lat, lon = require_coordinates(lat, lon)
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    coslat = max(math.cos(math.radians(lat)), 1e-6)
    dlon = min(180.0, math.degrees(radius_m / (EARTH_RADIUS_M * coslat)))
    h, w = cell_size_deg(precision)
    rows = max(1, math.ceil(2 * dlat / h))
    cols = max(1, math.ceil(2 * dlon / w))
    if rows * cols > 400:
        raise ValidationFailed(
            "radius_too_large_for_index",
            "the radius spans too many cells",
            "查询半径覆盖的网格过多",
        )
    cells = set()
    for i in range(rows + 1):
        y = min(90.0, max(-90.0, lat - dlat + i * (2 * dlat / rows)))
        for j in range(cols + 1):
            x = lon - dlon + j * (2 * dlon / cols)
            x = (x + 180.0) % 360.0 - 180.0
            cells.add(geohash(y, x, precision))
    return cells
