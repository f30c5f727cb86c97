import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon, box

from services.grids.domain.locate import (
    GridIndex,
    gcj02_to_wgs84,
    out_of_china,
    wgs84_to_gcj02,
)
from yiwang.errors import ValidationFailed

A, B, C = "329901001001001", "329901001001002", "329901001001003"
LON0, LAT0 = 118.80, 32.00


def index() -> GridIndex:
    outer = box(LON0, LAT0, LON0 + 0.01, LAT0 + 0.01)
    hole = box(LON0 + 0.004, LAT0 + 0.004, LON0 + 0.006, LAT0 + 0.006)
    holed = Polygon(outer.exterior.coords, [hole.exterior.coords])
    return GridIndex(
        {
            A: holed,
            B: box(LON0 + 0.01, LAT0, LON0 + 0.02, LAT0 + 0.01),
            C: box(LON0, LAT0 + 0.01, LON0 + 0.02, LAT0 + 0.02),
        }
    )


def test_inside_each_grid() -> None:
    idx = index()
    assert idx.locate(LAT0 + 0.001, LON0 + 0.001) == A
    assert idx.locate(LAT0 + 0.001, LON0 + 0.015) == B
    assert idx.locate(LAT0 + 0.015, LON0 + 0.005) == C


def test_shared_boundary_resolves_to_smallest_code() -> None:
    idx = index()
    assert idx.locate(LAT0 + 0.005, LON0 + 0.01) == A  # A|B edge
    assert idx.locate(LAT0 + 0.01, LON0 + 0.015) == B  # B|C edge
    assert idx.locate(LAT0 + 0.01, LON0 + 0.01) == A  # corner of A, B, C


def test_hole_and_outside_are_none() -> None:
    idx = index()
    assert idx.locate(LAT0 + 0.005, LON0 + 0.005) is None  # in A's hole
    assert idx.locate(LAT0 - 0.5, LON0) is None
    assert idx.locate(0.0, 0.0) is None


def test_locate_many_matches_single() -> None:
    idx = index()
    lats = [LAT0 + 0.001, LAT0 + 0.005, LAT0 + 0.005, LAT0 + 0.01, LAT0 - 1, LAT0 + 0.015]
    lons = [LON0 + 0.001, LON0 + 0.005, LON0 + 0.01, LON0 + 0.01, LON0, LON0 + 0.019]
    assert idx.locate_many(lats, lons) == [
        idx.locate(a, b) for a, b in zip(lats, lons, strict=True)
    ]
    assert idx.locate_many(lats, lons) == [A, None, A, A, None, C]
    assert idx.locate_many([], []) == []


@given(
    st.lists(
        st.tuples(st.floats(LAT0 - 0.005, LAT0 + 0.025), st.floats(LON0 - 0.005, LON0 + 0.025)),
        max_size=40,
    )
)
@settings(max_examples=60, deadline=None)
def test_batched_equals_single_everywhere(points: list[tuple[float, float]]) -> None:
    idx = INDEX
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    assert idx.locate_many(lats, lons) == [idx.locate(a, b) for a, b in points]


INDEX = index()


@pytest.mark.parametrize(
    ("lat", "lon"), [(91, 0), (-90.5, 0), (0, 180.1), (0, -181), (math.nan, 0), (0, math.inf)]
)
def test_coordinates_out_of_range(lat: float, lon: float) -> None:
    with pytest.raises(ValidationFailed) as exc:
        INDEX.locate(lat, lon)
    assert exc.value.code == "coordinates_out_of_range"
    with pytest.raises(ValidationFailed) as exc2:
        INDEX.locate_many([LAT0, lat], [LON0, lon])
    assert exc2.value.details["indices"] == [1]


def test_length_mismatch() -> None:
    with pytest.raises(ValidationFailed):
        INDEX.locate_many([1.0, 2.0], [1.0])


def test_gcj02_published_vector_shanghai() -> None:
    # Test vector of the widely used eviltransform library (WGS-84 -> GCJ-02).
    glat, glon = wgs84_to_gcj02(31.1774276, 121.5272106)
    assert glat == pytest.approx(31.17530398364597, abs=1e-9)
    assert glon == pytest.approx(121.531541859215, abs=1e-9)
    wlat, wlon = gcj02_to_wgs84(31.17530398364597, 121.531541859215)
    assert wlat == pytest.approx(31.1774276, abs=1e-8)
    assert wlon == pytest.approx(121.5272106, abs=1e-8)


@given(st.floats(18.0, 53.0), st.floats(74.0, 134.0))
@settings(max_examples=200, deadline=None)
def test_gcj02_round_trip(lat: float, lon: float) -> None:
    glat, glon = wgs84_to_gcj02(lat, lon)
    wlat, wlon = gcj02_to_wgs84(glat, glon)
    assert abs(wlat - lat) < 1e-8
    assert abs(wlon - lon) < 1e-8


def test_outside_china_unchanged() -> None:
    assert out_of_china(51.5, -0.12)
    assert gcj02_to_wgs84(51.5, -0.12) == (51.5, -0.12)
    assert wgs84_to_gcj02(-33.9, 151.2) == (-33.9, 151.2)
    with pytest.raises(ValidationFailed):
        gcj02_to_wgs84(95, 0)


def test_from_sorted_matches_mapping_and_refuses_unordered_codes() -> None:
    codes = INDEX.codes
    built = GridIndex.from_sorted(codes, INDEX.geometries)
    lats, lons = [LAT0, 0.0], [LON0, 0.0]
    assert built.locate_many(lats, lons) == INDEX.locate_many(lats, lons)
    with pytest.raises(ValueError):
        GridIndex.from_sorted(list(reversed(codes)), INDEX.geometries[::-1])
    with pytest.raises(ValueError):
        GridIndex.from_sorted(codes[:-1], INDEX.geometries)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(LAT0 - 0.02, LAT0 + 0.04, allow_nan=False),
            st.floats(LON0 - 0.02, LON0 + 0.04, allow_nan=False),
        ),
        max_size=40,
    )
)
def test_locate_columns_matches_locate_many(points: list[tuple[float, float]]) -> None:
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    grids, index = INDEX.locate_columns(lats, lons)
    assert grids == sorted(set(grids))
    assert [grids[i] if i >= 0 else None for i in index.tolist()] == INDEX.locate_many(lats, lons)
