"""Boundary import (all or nothing), export, locate with chain and workers, batch locate."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
import shapely
from sqlalchemy.engine import Engine

from demo.city import DemoCity
from services.grids.service_layer.boundaries import (
    GridMap,
    export_boundaries,
    import_boundaries,
)
from services.grids.tests.integration.conftest import T0, count, outbox
from yiwang.contracts.grids import BoundariesImportedV1
from yiwang.errors import ValidationFailed
from yiwang.uow import UnitOfWork


def test_import_is_refused_as_a_whole_and_lists_every_problem(
    city: DemoCity, factory: Callable[[], UnitOfWork], engine: Engine
) -> None:
    fc = copy.deepcopy(city.feature_collection())
    grid = city.grid_codes[0]
    new_grid = grid[:12] + "099"
    # a valid new grid (inside its community, but overlapping its siblings) ...
    fc["features"].append(
        {
            "type": "Feature",
            "properties": {"code": new_grid, "name": "新网格", "level": "grid"},
            "geometry": shapely.geometry.mapping(city.geometries[grid].buffer(-0.0001)),
        }
    )
    # ... a self-intersecting polygon, an unknown parent and a malformed code
    fc["features"].append(
        {
            "type": "Feature",
            "properties": {"code": grid[:12] + "098", "name": "蝴蝶网格"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[118.8, 32.0], [118.81, 32.01], [118.81, 32.0], [118.8, 32.01], [118.8, 32.0]]
                ],
            },
        }
    )
    fc["features"].append(
        {
            "type": "Feature",
            "properties": {"code": "329988001001001", "name": "无主网格"},
            "geometry": shapely.geometry.mapping(city.geometries[grid]),
        }
    )
    fc["features"].append(
        {
            "type": "Feature",
            "properties": {"code": "12345", "name": "坏编码"},
            "geometry": shapely.geometry.mapping(city.geometries[grid]),
        }
    )
    units_before, outbox_before = count(engine, "units"), count(engine, "outbox")
    with pytest.raises(ValidationFailed) as err:
        import_boundaries(factory(), fc, T0)
    assert err.value.code == "geojson_invalid"
    kinds = {(p["kind"], p["code"]) for p in err.value.details["problems"]}
    assert ("invalid_geometry", grid[:12] + "098") in kinds
    assert ("unknown_parent", "329988001001001") in kinds
    assert ("invalid_code", "12345") in kinds
    assert any(k == "overlap" for k, _ in kinds)
    assert all(p["code"] is not None for p in err.value.details["problems"])
    assert count(engine, "units") == units_before  # nothing half-loaded
    assert count(engine, "outbox") == outbox_before


def test_reimport_updates_and_emits_one_event(
    city: DemoCity, factory: Callable[[], UnitOfWork], engine: Engine
) -> None:
    before = len(outbox(engine, "boundaries.imported"))
    result = import_boundaries(factory(), city.feature_collection(), T0)
    assert result["created"] == 0 and result["updated"] == len(city.geometries)
    events = outbox(engine, "boundaries.imported")
    assert len(events) == before + 1
    BoundariesImportedV1.model_validate(events[-1]["payload"])


def test_export_per_jurisdiction_and_simplified(
    city: DemoCity, factory: Callable[[], UnitOfWork]
) -> None:
    community = city.grid_codes[0][:12]
    fc = export_boundaries(factory(), community, ["grid"])
    codes = [f["properties"]["code"] for f in fc["features"]]
    assert codes and all(c.startswith(community) and len(c) == 15 for c in codes)
    simple = export_boundaries(factory(), community, ["grid"], simplify_m=50, precision=5)
    n_full = sum(
        len(shapely.geometry.shape(f["geometry"]).exterior.coords)
        for f in fc["features"]
        if f["geometry"]["type"] == "Polygon"
    )
    n_simple = sum(
        len(shapely.geometry.shape(f["geometry"]).exterior.coords)
        for f in simple["features"]
        if f["geometry"]["type"] == "Polygon"
    )
    assert n_simple <= n_full


def test_locate_returns_grid_chain_and_workers_leader_first(
    city: DemoCity, factory: Callable[[], UnitOfWork]
) -> None:
    gmap = GridMap.load(factory(), factory())
    grid = city.grid_codes[1]
    p = city.geometries[grid].representative_point()
    found = gmap.locate(p.y, p.x)
    assert found["inside"] and found["grid_code"] == grid
    assert [c["code"] for c in found["chain"]] == [grid[:4], grid[:6], grid[:9], grid[:12], grid]
    assert all(c["name"] for c in found["chain"])
    assert found["chain"][-1]["name"] == city.names[grid]
    workers = found["workers"]
    assert workers and workers[0]["role"] == "leader"
    assert {w["role"] for w in workers[1:]} <= {"member"}
    outside = gmap.locate(10.0, 10.0)
    assert outside == {"inside": False}


def test_locate_many_matches_single_and_dedups_detail(
    city: DemoCity, factory: Callable[[], UnitOfWork]
) -> None:
    gmap = GridMap.load(factory(), factory())
    pts = [city.geometries[g].representative_point() for g in city.grid_codes]
    lats = [p.y for p in pts] + [10.0]
    lons = [p.x for p in pts] + [10.0]
    out = gmap.locate_many(lats, lons, detail=True)
    assert out["grid_codes"] == [*city.grid_codes, None]
    assert out["inside"] == len(city.grid_codes) and out["outside"] == 1
    assert set(out["workers"]) == set(city.grid_codes)
    assert city.grid_codes[0][:4] in out["units"]
