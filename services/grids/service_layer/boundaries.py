"""Boundary import/export and the in-memory grid map used by ``locate``."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import shapely
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.grids.adapters.tables import assignments, units, workers
from services.grids.domain import geo
from services.grids.domain.locate import (
    GridIndex,
    check_coordinates,
    gcj02_many_to_wgs84,
    gcj02_to_wgs84,
)
from services.grids.domain.units import initials_variants
from services.grids.service_layer.common import bump_map_version, lock_tree
from yiwang.contracts.grids import BoundariesImportedV1
from yiwang.jurisdiction import Level, ancestry, parent_code
from yiwang.uow import UnitOfWork

M_PER_DEG = 111_320.0
_LOAD_CHUNK = 2000  # boundaries parsed per chunk when the map loads


def import_boundaries(uow: UnitOfWork, fc: Any, now: datetime) -> dict[str, Any]:
    """Validate a FeatureCollection against itself and the stored map; all or nothing.

    Any problem refuses the whole file (``geojson_invalid`` listing every problem) and
    nothing is written. New units are created, known ones get the new name and boundary.
    """
    with uow:
        lock_tree(uow)
        rows = uow.session.execute(sa.select(units.c.code, units.c.geometry, units.c.retired)).all()
        active = {r.code for r in rows if not r.retired}
        existing = {
            r.code: shapely.from_geojson(r.geometry) for r in rows if r.geometry and not r.retired
        }
        boundaries = geo.import_feature_collection(fc, known_codes=active, existing=existing)
        known = {r.code for r in rows}
        values = []
        for b in sorted(boundaries.values(), key=lambda b: (len(b.code), b.code)):
            variants = initials_variants(b.name)
            values.append(
                {
                    "code": b.code,
                    "name": b.name,
                    "level": b.level.value,
                    "parent_code": parent_code(b.code),
                    "pinyin": variants[0][:100],
                    "pinyin_variants": " ".join(variants),
                    "geometry": shapely.to_geojson(b.geometry),
                    "retired": False,
                    "updated_at": now,
                }
            )
        for i in range(0, len(values), 2000):
            stmt = pg_insert(units).values(values[i : i + 2000])
            stmt = stmt.on_conflict_do_update(
                index_elements=[units.c.code],
                set_={
                    k: stmt.excluded[k]
                    for k in (
                        "name",
                        "level",
                        "parent_code",
                        "pinyin",
                        "pinyin_variants",
                        "geometry",
                        "retired",
                        "updated_at",
                    )
                },
            )
            uow.session.execute(stmt)
        counts: dict[str, int] = defaultdict(int)
        for b in boundaries.values():
            counts[b.level.value] += 1
        created = sorted(c for c in boundaries if c not in known)
        bump_map_version(uow, now, boundary=True)
        uow.emit(
            BoundariesImportedV1(
                counts=dict(counts),
                created=created[:1000],
                created_total=len(created),
                updated_total=len(boundaries) - len(created),
                at=now,
            ),
            jurisdiction_code=_common_prefix(list(boundaries)),
        )
        uow.commit()
    return {
        "counts": dict(counts),
        "created": len(created),
        "updated": len(boundaries) - len(created),
    }


def _common_prefix(codes: list[str]) -> str:
    if not codes:
        return ""
    lo, hi = min(codes), max(codes)
    n = 0
    while n < min(len(lo), len(hi)) and lo[n] == hi[n]:
        n += 1
    return lo[:n]


def export_boundaries(
    uow: UnitOfWork,
    prefix: str = "",
    levels: Sequence[str] | None = None,
    simplify_m: float = 0.0,
    precision: int = 6,
) -> dict[str, Any]:
    """Active boundaries inside ``prefix`` as a FeatureCollection (ordered by code).

    ``simplify_m`` > 0 simplifies each polygon (Douglas-Peucker, topology kept per polygon)
    for the dashboard map; ``precision`` rounds coordinates (6 places ≈ 0.1 m).
    """
    q = sa.select(units.c.code, units.c.name, units.c.level, units.c.geometry).where(
        units.c.retired.is_(False),
        units.c.geometry.is_not(None),
        units.c.code.startswith(prefix, autoescape=True),
    )
    if levels:
        q = q.where(units.c.level.in_(list(levels)))
    with uow:
        rows = uow.session.execute(q.order_by(units.c.code)).all()
    if not rows:
        return {"type": "FeatureCollection", "features": []}
    geoms = shapely.from_geojson([r.geometry for r in rows])
    if simplify_m > 0:
        geoms = shapely.simplify(geoms, simplify_m / M_PER_DEG, preserve_topology=True)
    geoms = shapely.set_precision(geoms, 10.0**-precision, mode="pointwise")
    texts = shapely.to_geojson(geoms)
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": r.code, "name": r.name, "level": r.level},
                "geometry": json.loads(t),
            }
            for r, t in zip(rows, texts, strict=True)
        ],
    }


def count_units(uow: UnitOfWork) -> int:
    with uow:
        return int(uow.session.execute(sa.select(sa.func.count()).select_from(units)).scalar_one())


def load_roster(uow: UnitOfWork) -> dict[str, list[dict[str, Any]]]:
    """Grid code → its workers, leader first (then by worker id)."""
    with uow:
        rows = uow.session.execute(
            sa.select(
                assignments.c.grid_code,
                assignments.c.role,
                workers.c.worker_id,
                workers.c.name,
                workers.c.phone,
                workers.c.status,
            )
            .join(workers, workers.c.worker_id == assignments.c.worker_id)
            .where(workers.c.status != "departed")
            .order_by(
                assignments.c.grid_code, (assignments.c.role != "leader"), workers.c.worker_id
            )
        ).all()
    roster: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        roster[r.grid_code].append(
            {
                "worker_id": r.worker_id,
                "name": r.name,
                "phone": r.phone,
                "role": r.role,
                "status": r.status,
            }
        )
    return dict(roster)


@dataclass
class GridMap:
    """The grid index plus unit names and the workers of each grid.

    Rebuilt from the store when the boundary or roster version changes (see
    ``services.grids.service.GridMapProvider``).
    """

    index: GridIndex
    names: dict[str, str] = field(default_factory=dict)
    roster: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    boundary_version: int = -1
    roster_version: int = -1

    @classmethod
    def load(
        cls,
        uow: UnitOfWork,
        uow_roster: UnitOfWork | None = None,
        versions: tuple[int, int] = (-1, -1),
        names: dict[str, str] | None = None,
    ) -> GridMap:
        """Load the active grids' polygons, the names of active units (unless ``names`` is
        given, e.g. shared with the admin tree) and, with ``uow_roster``, the roster.

        Boundaries are streamed and parsed a chunk at a time, so the GeoJSON texts of the
        whole city are never held at once (a smaller peak, less heap left fragmented).
        """
        codes: list[str] = []
        chunks: list[Any] = []
        with uow:
            if names is None:
                rows = uow.session.execute(
                    sa.select(units.c.code, units.c.name).where(units.c.retired.is_(False))
                ).all()
                names = {r.code: r.name for r in rows}
                del rows
            result = uow.session.execute(
                sa.select(units.c.code, units.c.geometry)
                .where(
                    units.c.retired.is_(False),
                    units.c.level == Level.GRID.value,
                    units.c.geometry.is_not(None),
                )
                .execution_options(yield_per=_LOAD_CHUNK)
            )
            for part in result.partitions():
                codes.extend(r.code for r in part)
                chunks.append(shapely.from_geojson([r.geometry for r in part]))
        geoms = np.concatenate(chunks) if chunks else np.empty(0, dtype=object)
        order = sorted(range(len(codes)), key=codes.__getitem__)  # not the database collation
        codes = [codes[i] for i in order]
        geoms = geoms[np.asarray(order, dtype=np.intp)]
        roster = load_roster(uow_roster) if uow_roster is not None else {}
        return cls(GridIndex.from_sorted(codes, geoms), names, roster, *versions)

    def chain(self, code: str) -> list[dict[str, str]]:
        return [
            {"code": c, "name": self.names.get(c, ""), "level": _LEVELS[len(c)]}
            for c in ancestry(code)
        ]

    def locate(self, lat: float, lon: float, crs: str = "wgs84") -> dict[str, Any]:
        check_coordinates(lat, lon)
        if crs == "gcj02":
            lat, lon = gcj02_to_wgs84(lat, lon)
        code = self.index.locate(lat, lon)
        if code is None:
            return {"inside": False}
        return {
            "inside": True,
            "grid_code": code,
            "chain": self.chain(code),
            "workers": self.roster.get(code, []),
        }

    def locate_many(
        self, lats: list[float], lons: list[float], crs: str = "wgs84", detail: bool = False
    ) -> dict[str, Any]:
        if crs == "gcj02":
            for la, lo in zip(lats, lons, strict=False):
                check_coordinates(la, lo)
            lats, lons = gcj02_many_to_wgs84(lats, lons)
        codes = self.index.locate_many(lats, lons)
        inside = len(codes) - codes.count(None)
        out: dict[str, Any] = {
            "grid_codes": codes,
            "inside": inside,
            "outside": len(codes) - inside,
        }
        if detail:
            out.update(self._detail(sorted({c for c in codes if c is not None})))
        return out

    def locate_columns(
        self, lats: Sequence[float], lons: Sequence[float], crs: str = "wgs84", detail: bool = False
    ) -> dict[str, Any]:
        """``locate_many`` answered in columns (``LocateManyV2Response``)."""
        if crs == "gcj02":
            for la, lo in zip(lats, lons, strict=False):
                check_coordinates(la, lo)
            lats, lons = gcj02_many_to_wgs84(lats, lons)
        grids, index = self.index.locate_columns(lats, lons)
        outside = int(np.count_nonzero(index < 0))
        out: dict[str, Any] = {
            "grids": grids,
            "index": index.tolist(),
            "inside": index.size - outside,
            "outside": outside,
        }
        if detail:
            out.update(self._detail(grids))
        return out

    def _detail(self, grids: list[str]) -> dict[str, Any]:
        """Names of every unit of the grids' chains, and each grid's workers, once."""
        names: dict[str, str] = {}
        for g in grids:
            for c in ancestry(g):
                names[c] = self.names.get(c, "")
        return {"units": names, "workers": {g: self.roster.get(g, []) for g in grids}}


_LEVELS = {4: "city", 6: "district", 9: "street", 12: "community", 15: "grid", 18: "building"}
