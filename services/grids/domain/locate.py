"""Point → grid lookup over a shapely STRtree, and GCJ-02 → WGS-84 conversion.

Coordinates are WGS-84. Input from Chinese map apps (AMap/Tencent, GCJ-02) goes through
``gcj02_to_wgs84`` first. A point on a boundary shared by several grids resolves to the
smallest grid code (deterministic); a point in a polygon's hole is outside that polygon.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike
from shapely.geometry.base import BaseGeometry

from yiwang.errors import ValidationFailed


def _out_of_range(detail: str, **extra: Any) -> ValidationFailed:
    return ValidationFailed(
        "coordinates_out_of_range",
        f"coordinates out of range (lat -90..90, lon -180..180): {detail}",
        f"坐标超出范围（纬度-90至90，经度-180至180）：{detail}",
        **extra,
    )


def check_coordinates(lat: float, lon: float) -> None:
    """Raise ``coordinates_out_of_range`` for NaN or out-of-range WGS-84 values."""
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise _out_of_range(f"({lat}, {lon})", lat=lat, lon=lon)


class GridIndex:
    """Spatial index of grid polygons keyed by grid code (built once, read-only)."""

    __slots__ = ("_codes", "_lookup", "_query", "_tree", "geometries")

    def __init__(self, polygons: Mapping[str, BaseGeometry]) -> None:
        codes = sorted(polygons)
        self._build(codes, np.array([polygons[c] for c in codes], dtype=object))

    def _build(self, codes: list[str], geometries: np.ndarray) -> None:
        self._codes: list[str] = codes
        self.geometries = geometries
        self._tree = shapely.STRtree(self.geometries)
        self._query = self._tree.query
        # Index -1 (no hit) maps to None through the trailing slot.
        self._lookup = np.array([*self._codes, None], dtype=object)

    @classmethod
    def from_sorted(cls, codes: Sequence[str], geometries: ArrayLike) -> GridIndex:
        """Build from parallel sequences already ordered by code (no per-grid dict)."""
        code_list = list(codes)
        geoms = np.asarray(geometries, dtype=object).reshape(-1)
        if len(code_list) != geoms.size or any(
            a >= b for a, b in zip(code_list, code_list[1:], strict=False)
        ):
            raise ValueError("codes must be unique, ordered and as many as the geometries")
        index = cls.__new__(cls)
        index._build(code_list, geoms)
        return index

    def __len__(self) -> int:
        return len(self._codes)

    @property
    def codes(self) -> list[str]:
        return list(self._codes)

    def locate(self, lat: float, lon: float) -> str | None:
        """The grid containing (lat, lon), boundaries included, or None outside every grid."""
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            raise _out_of_range(f"({lat}, {lon})", lat=lat, lon=lon)
        hits = self._query(shapely.Point(lon, lat), "intersects")
        n = len(hits)
        if n == 1:
            return self._codes[hits[0]]
        if n == 0:
            return None
        return self._codes[hits.min()]

    def locate_many(self, lats: ArrayLike, lons: ArrayLike) -> list[str | None]:
        """Vectorised ``locate`` for equal-length sequences; one answer per point."""
        out: list[str | None] = self._lookup[self.locate_indices(lats, lons)].tolist()
        return out

    def locate_columns(self, lats: ArrayLike, lons: ArrayLike) -> tuple[list[str], np.ndarray]:
        """``locate_many`` in columns: the grids found (ordered by code, each once) and, per
        point, the position of its grid in that list (-1 outside every grid)."""
        found = self.locate_indices(lats, lons)
        inside = found >= 0
        used, position = np.unique(found[inside], return_inverse=True)
        index = np.full(found.size, -1, dtype=np.intp)
        index[inside] = position.reshape(-1)
        return [self._codes[i] for i in used.tolist()], index

    def locate_indices(self, lats: ArrayLike, lons: ArrayLike) -> np.ndarray:
        """Per point, the position of its grid in ``codes`` (-1 outside every grid)."""
        la = np.asarray(lats, dtype=float).reshape(-1)
        lo = np.asarray(lons, dtype=float).reshape(-1)
        if la.shape != lo.shape:
            raise ValidationFailed(
                "coordinates_length_mismatch",
                f"{la.size} latitudes but {lo.size} longitudes",
                f"纬度{la.size}个，经度{lo.size}个，数量不一致",
            )
        bad = ~((la >= -90.0) & (la <= 90.0) & (lo >= -180.0) & (lo <= 180.0))
        if bad.any():
            idx = np.flatnonzero(bad)
            raise _out_of_range(f"{idx.size} point(s)", indices=idx[:20].tolist())
        result = np.full(la.size, -1, dtype=np.intp)
        if la.size == 0:
            return result
        points, tree_idx = self._query(shapely.points(lo, la), "intersects")
        if points.size and not bool(np.all(points[1:] > points[:-1])):
            # Some point hit several grids (shared edge) or the output is unordered:
            # keep the smallest grid index per point, as ``locate`` does.
            order = np.lexsort((tree_idx, points))
            points, tree_idx = points[order], tree_idx[order]
            first = np.ones(points.size, dtype=bool)
            first[1:] = points[1:] != points[:-1]
            result[points[first]] = tree_idx[first]
        elif points.size:
            result[points] = tree_idx
        return result


# --- GCJ-02 ------------------------------------------------------------------------------
# The published Krasovsky-ellipsoid obfuscation (eviltransform / coordtransform), inverted
# by fixed-point iteration to ~1e-9 degrees.

_A = 6378245.0
_EE = 0.00669342162296594323


def out_of_china(lat: float, lon: float) -> bool:
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _delta(lat: float, lon: float) -> tuple[float, float]:
    x, y = lon - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    dlat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2 / 3
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlon += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
    dlon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
    dlon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return dlat, dlon


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """WGS-84 → GCJ-02 (what Chinese map apps display); unchanged outside China."""
    check_coordinates(lat, lon)
    if out_of_china(lat, lon):
        return lat, lon
    dlat, dlon = _delta(lat, lon)
    return lat + dlat, lon + dlon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """GCJ-02 → WGS-84 by iteration (error < 1e-8°, about a millimetre)."""
    check_coordinates(lat, lon)
    if out_of_china(lat, lon):
        return lat, lon
    wlat, wlon = lat, lon
    for _ in range(30):
        glat, glon = wgs84_to_gcj02(wlat, wlon)
        dlat, dlon = lat - glat, lon - glon
        wlat, wlon = wlat + dlat, wlon + dlon
        if abs(dlat) < 1e-10 and abs(dlon) < 1e-10:
            break
    return wlat, wlon


def gcj02_many_to_wgs84(
    lats: Sequence[float], lons: Sequence[float]
) -> tuple[list[float], list[float]]:
    """Batch form of ``gcj02_to_wgs84``."""
    pairs = [gcj02_to_wgs84(a, b) for a, b in zip(lats, lons, strict=True)]
    return [p[0] for p in pairs], [p[1] for p in pairs]
