"""Boundary import/export and the in-memory grid map used by ``locate``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import shapely
import sqlalchemy as sa
from shapely.geometry import mapping
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.grids.adapters.tables import units
from services.grids.domain import geo
from services.grids.domain.locate import GridIndex, check_coordinates, gcj02_to_wgs84
from services.grids.domain.units import pinyin_initials
from yiwang.jurisdiction import Level, ancestry
from yiwang.uow import UnitOfWork


def import_boundaries(uow: UnitOfWork, fc: Any, now: datetime) -> dict[str, int]:
    """Validate a FeatureCollection against itself and the stored map; all or nothing."""
    with uow:
        rows = uow.session.execute(
            sa.select(units.c.code, units.c.geometry).where(units.c.retired.is_(False))
        ).all()
        existing = {r.code: shapely.from_geojson(r.geometry) for r in rows if r.geometry}
        boundaries = geo.import_feature_collection(
            fc, known_codes={r.code for r in rows}, existing=existing
        )
        values = [
            {
                "code": b.code,
                "name": b.name,
                "level": b.level.value,
                "parent_code": ancestry(b.code)[-2] if len(ancestry(b.code)) > 1 else None,
                "pinyin": pinyin_initials(b.name)[:100],
                "geometry": json.dumps(mapping(b.geometry)),
                "updated_at": now,
            }
            for b in boundaries.values()
        ]
        for i in range(0, len(values), 1000):
            stmt = pg_insert(units).values(values[i : i + 1000])
            stmt = stmt.on_conflict_do_update(
                index_elements=[units.c.code],
                set_={k: stmt.excluded[k] for k in ("name", "level", "parent_code", "pinyin",
                                                     "geometry", "updated_at")},
            )
            uow.session.execute(stmt)
        uow.commit()
    counts: dict[str, int] = {}
    for b in boundaries.values():
        counts[b.level.value] = counts.get(b.level.value, 0) + 1
    return counts


def export_boundaries(uow: UnitOfWork, prefix: str = "") -> dict[str, Any]:
    with uow:
        rows = uow.session.execute(
            sa.select(units.c.code, units.c.name, units.c.level, units.c.geometry)
            .where(units.c.retired.is_(False), units.c.geometry.is_not(None),
                   units.c.code.startswith(prefix, autoescape=True))
            .order_by(units.c.code)
        ).all()
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"code": r.code, "name": r.name, "level": r.level},
             "geometry": json.loads(r.geometry)}
            for r in rows
        ],
    }


def count_units(uow: UnitOfWork) -> int:
    with uow:
        return int(uow.session.execute(sa.select(sa.func.count()).select_from(units)).scalar_one())


@dataclass
class GridMap:
    """The grid index plus unit names, rebuilt from the store after each import."""

    index: GridIndex
    names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, uow: UnitOfWork) -> GridMap:
        with uow:
            rows = uow.session.execute(
                sa.select(units.c.code, units.c.name, units.c.level, units.c.geometry)
                .where(units.c.retired.is_(False))
            ).all()
        polys = {r.code: shapely.from_geojson(r.geometry)
                 for r in rows if r.level == Level.GRID.value and r.geometry}
        return cls(GridIndex(polys), {r.code: r.name for r in rows})

    def locate(self, lat: float, lon: float, crs: str = "wgs84") -> dict[str, Any]:
        check_coordinates(lat, lon)
        if crs == "gcj02":
            lat, lon = gcj02_to_wgs84(lat, lon)
        code = self.index.locate(lat, lon)
        if code is None:
            return {"inside": False}
        chain = [{"code": c, "name": self.names.get(c, "")} for c in ancestry(code)]
        return {"inside": True, "grid_code": code, "chain": chain, "workers": []}
