"""A citizen's report through the whole loop over the REST API, each step by the role that
owns it: accept → dispatch (routing) → start → handle → verify → close → unsatisfied rating
(rework) → handled again → verified → closed → satisfied rating; the command view follows."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from demo import city as democity
from tests.support.system import System

pytestmark = pytest.mark.e2e
GRID = "329901001001001"  # demo_grid's grid, inside demo_community's community


def _point_in_grid() -> tuple[float, float]:
    city = democity.generate("small", 20261123, with_people=False)
    p = city.geometries[GRID].representative_point()
    return p.y, p.x


def _case(c: httpx.Client, case_id: str) -> dict[str, Any]:
    r = c.get(f"/api/v1/cases/{case_id}")
    assert r.status_code == 200, r.text
    return r.json()


def _wait_status(c: httpx.Client, case_id: str, statuses: set[str], seconds: float = 20) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        case = _case(c, case_id)
        if case["status"] in statuses or time.monotonic() > deadline:
            return case
        time.sleep(0.3)


def _act(c: httpx.Client, case_id: str, action: str, **fields: Any) -> dict[str, Any]:
    version = _case(c, case_id)["version"]
    r = c.post(
        f"/api/v1/cases/{case_id}/actions",
        json={"action": action, "expected_version": version, "fields": fields},
    )
    assert r.status_code == 200, (action, r.text)
    return r.json()


def _handle_and_close(system: System, case_id: str) -> None:
    with (
        system.client("demo_dept") as dept,
        system.client("demo_grid") as grid,
        system.client("demo_community") as community,
    ):
        _act(dept, case_id, "start", note="已到现场")
        _act(dept, case_id, "handle", feedback="垃圾已清运完毕")
        _act(grid, case_id, "verify", note="现场核查已清理")
        _act(community, case_id, "close", note="结案")


def test_report_to_rating_with_rework(system: System) -> None:
    lat, lon = _point_in_grid()
    with system.client("demo_citizen") as citizen:
        r = citizen.post(
            "/api/v1/reports",
            json={
                "category": "roads.streetlight",
                "attributes": {},
                "lat": lat,
                "lon": lon,
                "description": "小区东门路灯坏了一周",
                "contact": {"name": "王市民", "phone": "13800000001"},
            },
        )
        assert r.status_code == 202, r.text
        report_id = r.json()["report_id"]
        deadline = time.monotonic() + 20
        while (st := citizen.get(f"/api/v1/reports/{report_id}").json())[
            "state"
        ] != "case_created" and time.monotonic() < deadline:
            time.sleep(0.2)
        case_id = st["case_id"]

    with system.client("demo_community") as community:
        case = _case(community, case_id)
        assert case["status"] == "submitted"
        assert "13800000001" not in r.text + str(case)  # contact masked by default
        _act(community, case_id, "accept", note="受理")
        # the command centre routes it by rule (case.routed → dispatched); else dispatch by hand
        case = _wait_status(community, case_id, {"dispatched"}, 15)
        if case["status"] == "accepted":
            _act(community, case_id, "dispatch", department="urban_management")

    _handle_and_close(system, case_id)
    with system.client("demo_citizen") as citizen:
        _act(citizen, case_id, "rate", score=1, comment="路灯还是不亮")
        case = _case(citizen, case_id)
        assert case["status"] == "dispatched"  # reopened for rework, once

    _handle_and_close(system, case_id)
    with system.client("demo_citizen") as citizen:
        _act(citizen, case_id, "rate", score=5, comment="修好了，谢谢")
        case = _case(citizen, case_id)
        assert case["status"] == "evaluated"
        # a wrong role cannot act: the citizen may not close a case
        r = citizen.post(
            f"/api/v1/cases/{case_id}/actions",
            json={"action": "close", "expected_version": case["version"], "fields": {}},
        )
        assert r.status_code in (403, 409), r.text

    with system.client("demo_community") as community:
        # a stale version loses: optimistic concurrency
        r = community.post(
            f"/api/v1/cases/{case_id}/actions",
            json={"action": "supervise", "expected_version": 1, "fields": {}},
        )
        assert r.status_code in (403, 409)

    with system.client("demo_city") as city:
        deadline = time.monotonic() + 20
        while True:
            page = city.get(
                "/api/v1/command/cases", params={"jurisdiction": GRID, "page_size": 200}
            ).json()
            row = next((i for i in page["items"] if i["case_id"] == case_id), None)
            if (row and row["status"] == "evaluated") or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert row is not None and row["status"] == "evaluated", row
        assert row.get("rework_count", 1) >= 1
