"""Boundaries: GeoJSON FeatureCollection import (validated as a whole) and export.

Each feature carries ``properties.code``, ``name`` and ``level`` and a Polygon or
MultiPolygon in WGS-84 lon/lat. ``validate_feature_collection`` never raises: it returns an
``ImportReport`` listing every problem, each with the code it concerns and an approximate
area in m² (degrees scaled by cos(latitude), good to a fraction of a percent at city scale).
``import_feature_collection`` raises ``ValidationFailed("geojson_invalid")`` carrying all
problems when there is any, so an import is all or nothing.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Container, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from yiwang.errors import DomainError, ValidationFailed
from yiwang.jurisdiction import Level, parent_code

from .units import validate_code

M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON_EQUATOR = 111_320.0

# Problem kinds, stable for clients.
MALFORMED = "malformed"
INVALID_CODE = "invalid_code"
DUPLICATE_CODE = "duplicate_code"
LEVEL_MISMATCH = "level_mismatch"
NOT_POLYGON = "not_polygon"
COORDINATES_OUT_OF_RANGE = "coordinates_out_of_range"
INVALID_GEOMETRY = "invalid_geometry"
UNKNOWN_PARENT = "unknown_parent"
OUTSIDE_PARENT = "outside_parent"
OVERLAP = "overlap"
GAP = "gap"


def area_m2(geom: BaseGeometry) -> float:
    """Approximate area in m² of a lon/lat geometry (local cos(lat) scaling)."""
    if geom.is_empty:
        return 0.0
    minx, miny, maxx, maxy = geom.bounds
    lat = (miny + maxy) / 2
    scale = M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat)) * M_PER_DEG_LAT
    return float(abs(geom.area) * scale)


def _areas_m2(geoms: np.ndarray) -> np.ndarray:
    b = shapely.bounds(geoms)
    lat = np.nan_to_num((b[:, 1] + b[:, 3]) / 2)
    return (
        np.abs(shapely.area(geoms))
        * M_PER_DEG_LON_EQUATOR
        * np.cos(np.radians(lat))
        * (M_PER_DEG_LAT)
    )


@dataclass(frozen=True)
class Tolerances:
    """Areas (m²) below which a sliver is not a problem (float noise, surveying slack)."""

    outside_parent_m2: float = 1.0
    overlap_m2: float = 1.0
    gap_m2: float = 1.0


@dataclass(frozen=True)
class Boundary:
    code: str
    name: str
    level: Level
    geometry: BaseGeometry


@dataclass(frozen=True)
class Problem:
    """One import problem. ``other`` names the sibling (overlap) when there is one."""

    code: str
    kind: str
    area_m2: float = 0.0
    detail: str = ""
    other: str | None = None
    feature_index: int | None = None


@dataclass
class ImportReport:
    boundaries: dict[str, Boundary] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def kinds(self) -> set[str]:
        return {p.kind for p in self.problems}

    def by_code(self, code: str) -> list[Problem]:
        return [p for p in self.problems if p.code == code]

    def raise_if_invalid(self) -> None:
        if self.problems:
            raise ValidationFailed(
                "geojson_invalid",
                f"boundary import refused: {len(self.problems)} problem(s)",
                f"边界导入被拒绝：共{len(self.problems)}个问题",
                problems=[asdict(p) for p in self.problems],
            )


def _parse(
    fc: Any, report: ImportReport
) -> tuple[list[str], list[str], list[Level], list[BaseGeometry]]:
    codes: list[str] = []
    names: list[str] = []
    levels: list[Level] = []
    geoms: list[BaseGeometry] = []
    if isinstance(fc, str | bytes):
        try:
            fc = json.loads(fc)
        except ValueError as exc:
            report.problems.append(Problem("", MALFORMED, detail=f"not JSON: {exc}"))
            return codes, names, levels, geoms
    if not isinstance(fc, dict) or fc.get("type") != "FeatureCollection":
        report.problems.append(Problem("", MALFORMED, detail="not a FeatureCollection"))
        return codes, names, levels, geoms
    features = fc.get("features")
    if not isinstance(features, list):
        report.problems.append(Problem("", MALFORMED, detail="'features' must be a list"))
        return codes, names, levels, geoms
    seen: set[str] = set()
    for i, feat in enumerate(features):
        props = feat.get("properties") if isinstance(feat, dict) else None
        if not isinstance(props, dict) or not isinstance(feat.get("geometry"), dict):
            report.problems.append(
                Problem(
                    "", MALFORMED, detail="feature needs properties and geometry", feature_index=i
                )
            )
            continue
        code = str(props.get("code", ""))
        name = str(props.get("name") or "").strip()
        try:
            level = validate_code(code)
        except DomainError as err:
            report.problems.append(Problem(code, INVALID_CODE, detail=err.code, feature_index=i))
            continue
        if props.get("level") is not None and str(props["level"]) != level.value:
            report.problems.append(
                Problem(
                    code,
                    LEVEL_MISMATCH,
                    detail=f"code is {level.value}, level says {props['level']}",
                    feature_index=i,
                )
            )
            continue
        if not name:
            report.problems.append(Problem(code, MALFORMED, detail="missing name", feature_index=i))
            continue
        if code in seen:
            report.problems.append(Problem(code, DUPLICATE_CODE, feature_index=i))
            continue
        try:
            geom = shape(feat["geometry"])
        except Exception as exc:  # shapely raises several types on bad coordinates
            report.problems.append(
                Problem(code, MALFORMED, detail=f"bad geometry: {exc}", feature_index=i)
            )
            continue
        if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
            report.problems.append(
                Problem(code, NOT_POLYGON, detail=geom.geom_type, feature_index=i)
            )
            continue
        minx, miny, maxx, maxy = geom.bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            report.problems.append(
                Problem(code, COORDINATES_OUT_OF_RANGE, detail=str(geom.bounds), feature_index=i)
            )
            continue
        seen.add(code)
        codes.append(code)
        names.append(name)
        levels.append(level)
        geoms.append(geom)
    return codes, names, levels, geoms


def validate_feature_collection(
    fc: Any,
    *,
    known_codes: Container[str] | None = None,
    existing: Mapping[str, BaseGeometry] | None = None,
    tolerances: Tolerances | None = None,
) -> ImportReport:
    """Parse and check a FeatureCollection; return every problem found.

    ``known_codes``: units already in the tree; a feature whose parent is neither in the
    file nor known is ``unknown_parent`` (not checked when None). ``existing``: boundaries
    already stored, used as parents for containment when the file lacks them.
    """
    tol = tolerances or Tolerances()
    existing = existing or {}
    report = ImportReport()
    codes, names, levels, geoms = _parse(fc, report)
    if not codes:
        if not report.problems:
            report.problems.append(Problem("", MALFORMED, detail="no features"))
        return report
    arr = np.array(geoms, dtype=object)
    valid = shapely.is_valid(arr)
    good: dict[str, BaseGeometry] = {}
    for i in np.flatnonzero(~valid):
        report.problems.append(
            Problem(
                codes[i],
                INVALID_GEOMETRY,
                area_m2=area_m2(geoms[i]),
                detail=shapely.is_valid_reason(geoms[i]),
            )
        )
    for i in np.flatnonzero(valid):
        good[codes[i]] = geoms[i]
        report.boundaries[codes[i]] = Boundary(codes[i], names[i], levels[i], geoms[i])
    in_file = set(codes)

    # Parents: containment, and which children each parent has in this file.
    children: dict[str, list[str]] = defaultdict(list)
    outside_pairs: list[tuple[str, BaseGeometry, BaseGeometry]] = []
    for code in codes:
        par = parent_code(code)
        if par is None:
            continue
        if par not in in_file and known_codes is not None and par not in known_codes:
            report.problems.append(Problem(code, UNKNOWN_PARENT, detail=par))
            continue
        if code not in good:
            continue
        children[par].append(code)
        parent_geom = good.get(par, existing.get(par) if par not in in_file else None)
        if parent_geom is not None:
            outside_pairs.append((code, good[code], parent_geom))
    if outside_pairs:
        outside = shapely.difference(
            np.array([c for _, c, _ in outside_pairs], dtype=object),
            np.array([p for _, _, p in outside_pairs], dtype=object),
        )
        for (code, _, _), area in zip(outside_pairs, _areas_m2(outside), strict=True):
            if area > tol.outside_parent_m2:
                report.problems.append(Problem(code, OUTSIDE_PARENT, area_m2=float(area)))

    _check_overlaps(children, good, tol, report)
    _check_gaps(children, good, tol, report)
    return report


def _check_overlaps(
    children: Mapping[str, list[str]],
    good: Mapping[str, BaseGeometry],
    tol: Tolerances,
    report: ImportReport,
) -> None:
    kids = sorted(c for group in children.values() for c in group)
    if len(kids) < 2:
        return
    arr = np.array([good[c] for c in kids], dtype=object)
    tree = shapely.STRtree(arr)
    left, right = tree.query(arr, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    same_parent = np.array(
        [parent_code(kids[a]) == parent_code(kids[b]) for a, b in zip(left, right, strict=True)],
        dtype=bool,
    ).reshape(-1)
    left, right = left[same_parent], right[same_parent]
    if not len(left):
        return
    areas = _areas_m2(shapely.intersection(arr[left], arr[right]))
    for a, b, area in zip(left, right, areas, strict=True):
        if area > tol.overlap_m2:
            report.problems.append(Problem(kids[a], OVERLAP, area_m2=float(area), other=kids[b]))


def _check_gaps(
    children: Mapping[str, list[str]],
    good: Mapping[str, BaseGeometry],
    tol: Tolerances,
    report: ImportReport,
) -> None:
    for par in sorted(children):
        if par not in good:
            continue
        covered = shapely.union_all(np.array([good[c] for c in children[par]], dtype=object))
        area = area_m2(shapely.difference(good[par], covered))
        if area > tol.gap_m2:
            report.problems.append(Problem(par, GAP, area_m2=area))


def import_feature_collection(
    fc: Any,
    *,
    known_codes: Container[str] | None = None,
    existing: Mapping[str, BaseGeometry] | None = None,
    tolerances: Tolerances | None = None,
) -> dict[str, Boundary]:
    """Validated boundaries by code; raises ``geojson_invalid`` with every problem."""
    report = validate_feature_collection(
        fc, known_codes=known_codes, existing=existing, tolerances=tolerances
    )
    report.raise_if_invalid()
    return report.boundaries


def feature(
    code: str, name: str, geometry: BaseGeometry, level: Level | str | None = None
) -> dict[str, Any]:
    """One GeoJSON Feature dict for a unit boundary."""
    lvl = Level(level) if level is not None else validate_code(code)
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name, "level": lvl.value},
        "geometry": mapping(geometry),
    }


def to_feature_collection(boundaries: Iterable[Boundary]) -> dict[str, Any]:
    """Export boundaries (ordered by code) as a FeatureCollection dict."""
    return {
        "type": "FeatureCollection",
        "features": [
            feature(b.code, b.name, b.geometry, b.level)
            for b in sorted(boundaries, key=lambda b: b.code)
        ],
    }
