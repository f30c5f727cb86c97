"""``POST /api/v1/grids/locate/batch`` speaks ``grids.locate_many_v2`` (packed points,
columnar answer) and still answers v1's shape: one grid code (or null) per point. What the
packing or the v2 contract would refuse is refused first, as a 422 problem."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.security import Principal
from yiwang.contracts.grids import MAX_LOCATE_POINTS, LocateManyV2Request, LocateManyV2Response

pytestmark = pytest.mark.integration
URL = "/api/v1/grids/locate/batch"
GRID_A, GRID_B = "329901001001001", "329901001001002"


def fake_locate_many_v2(**kwargs: Any) -> dict[str, Any]:
    """The grids service's v2, as far as the gateway can tell: the request must satisfy the
    contract; a point north of 30.285 lies in GRID_B, south of it in GRID_A, at 0 nowhere."""
    request = LocateManyV2Request.model_validate(kwargs)
    lats, lons = request.coordinates()
    codes = [None if lat == 0 else GRID_B if lat > 30.285 else GRID_A for lat in lats]
    grids = sorted({c for c in codes if c})
    answer = {
        "grids": grids,
        "index": [grids.index(c) if c else -1 for c in codes],
        "inside": sum(1 for c in codes if c),
        "outside": sum(1 for c in codes if not c),
        "units": {g: f"网格{g[-3:]}" for g in grids} if request.detail else {},
        "workers": {g: [{"worker_id": f"W-{g[-3:]}"}] for g in grids} if request.detail else {},
    }
    LocateManyV2Response.model_validate(answer)
    return answer


@pytest.fixture
def headers(client: TestClient, bearer: Callable[[Principal], dict[str, str]]) -> dict[str, str]:
    client.fake_rpc.answers = {("grids", "locate_many_v2"): fake_locate_many_v2}  # type: ignore[attr-defined]
    client.fake_rpc.calls.clear()  # type: ignore[attr-defined]
    return bearer(Principal(str(uuid.uuid4()), "street_staff", "街道", "329901001"))


def test_points_travel_packed_and_come_back_one_code_per_point(
    client: TestClient, headers: dict[str, str]
) -> None:
    lats = [30.2812, 30.2907, 0.0, 30.2813]
    lons = [120.1518, 120.1633, 0.0, 120.151812345678901]
    r = client.post(URL, json={"lats": lats, "lons": lons, "crs": "gcj02"}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "grid_codes": [GRID_A, GRID_B, None, GRID_A],
        "inside": 3,
        "outside": 1,
        "units": {},
        "workers": {},
    }
    [(service, method, kwargs)] = client.fake_rpc.calls  # type: ignore[attr-defined]
    assert (service, method) == ("grids", "locate_many_v2")
    assert set(kwargs) == {"points", "crs", "detail"} and kwargs["crs"] == "gcj02"
    sent_lats, sent_lons = LocateManyV2Request.model_validate(kwargs).coordinates()
    assert (list(sent_lats), list(sent_lons)) == (lats, lons)  # no precision lost


def test_detail_names_units_and_workers_once(client: TestClient, headers: dict[str, str]) -> None:
    body = {"lats": [30.2812, 30.2813, 30.2907], "lons": [120.15] * 3, "detail": True}
    out = client.post(URL, json=body, headers=headers).json()
    assert out["grid_codes"] == [GRID_A, GRID_A, GRID_B]
    assert out["units"] == {GRID_A: "网格001", GRID_B: "网格002"}
    assert out["workers"] == {GRID_A: [{"worker_id": "W-001"}], GRID_B: [{"worker_id": "W-002"}]}


def test_no_points_is_an_empty_answer(client: TestClient, headers: dict[str, str]) -> None:
    r = client.post(URL, json={"lats": [], "lons": []}, headers=headers)
    assert r.status_code == 200
    assert r.json() == {"grid_codes": [], "inside": 0, "outside": 0, "units": {}, "workers": {}}


def _refused(r: Any, code: str) -> dict[str, Any]:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = r.json()
    assert problem["code"] == code
    assert problem["detail"] and problem["detail_zh"]
    return problem


def test_unequal_lists_are_a_422_before_any_call(
    client: TestClient, headers: dict[str, str]
) -> None:
    r = client.post(URL, json={"lats": [30.28, 30.29], "lons": [120.15]}, headers=headers)
    problem = _refused(r, "coordinates_length_mismatch")
    assert "2 latitudes but 1 longitudes" in problem["detail"]
    assert "纬度2个、经度1个" in problem["detail_zh"]
    assert client.fake_rpc.calls == []  # type: ignore[attr-defined]


def test_too_many_points_are_a_422_before_any_call(
    client: TestClient, headers: dict[str, str]
) -> None:
    n = MAX_LOCATE_POINTS + 1
    r = client.post(URL, json={"lats": [0] * n, "lons": [0] * n}, headers=headers)
    problem = _refused(r, "too_many_points")
    assert f"at most {MAX_LOCATE_POINTS:,}" in problem["detail"]
    assert client.fake_rpc.calls == []  # type: ignore[attr-defined]


def test_the_limit_itself_is_accepted(client: TestClient, headers: dict[str, str]) -> None:
    n = MAX_LOCATE_POINTS
    r = client.post(URL, json={"lats": [0] * n, "lons": [0] * n}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["outside"] == n and len(r.json()["grid_codes"]) == n


def test_the_limit_is_documented(client: TestClient) -> None:
    schema = client.app.openapi()["components"]["schemas"]["LocateManyIn"]  # type: ignore[attr-defined]
    assert schema["properties"]["lats"]["maxItems"] == MAX_LOCATE_POINTS
    assert schema["properties"]["lons"]["maxItems"] == MAX_LOCATE_POINTS


def test_hotline_import_locates_tickets_without_a_grid_through_v2(
    client: TestClient, headers: dict[str, str]
) -> None:
    def ticket(no: str, **where: Any) -> dict[str, Any]:
        return {
            "hotline": "12345",
            "ticket_no": no,
            "category": "appearance.litter",
            "description": "小区门口垃圾堆积",
            **where,
        }

    tickets = [
        ticket("2026110100017", lat=30.2907, lon=120.1633),
        ticket("2026110100018", grid_code=GRID_A),  # has its grid: not located again
        ticket("2026110100019", lat=30.2812, lon=120.1518),
        ticket("2026110100020", lat=0.0, lon=0.0),  # outside every grid: stays without one
    ]
    r = client.post("/api/v1/cases/hotline-import", json={"tickets": tickets}, headers=headers)
    assert r.status_code == 200, r.text
    calls = client.fake_rpc.calls  # type: ignore[attr-defined]
    [located] = [kw for svc, method, kw in calls if (svc, method) == ("grids", "locate_many_v2")]
    lats, lons = LocateManyV2Request.model_validate(located).coordinates()
    assert (list(lats), list(lons)) == ([30.2907, 30.2812, 0.0], [120.1633, 120.1518, 0.0])
    [imported] = [kw for svc, method, kw in calls if method == "import_hotline"]
    assert [t["grid_code"] for t in imported["tickets"]] == [GRID_B, GRID_A, GRID_A, None]
