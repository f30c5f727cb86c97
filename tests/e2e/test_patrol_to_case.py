"""A grid worker's patrol finding becomes a case (source ``patrol``) in the command view:
grids (outbox) → petitions (case) → command (view), through the broker."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from demo import city as democity
from tests.support.system import System

pytestmark = pytest.mark.e2e
GRID = "329901001001001"  # demo_grid's grid


def test_patrol_finding_becomes_a_case_in_the_command_view(system: System) -> None:
    city = democity.generate("small", 20261123, with_people=False)
    p = city.geometries[GRID].representative_point()
    now = datetime.now(UTC)
    with system.client("demo_grid") as grid:
        r = grid.post("/api/v1/grids/patrols", json={"grid_code": GRID})
        assert r.status_code == 201, r.text
        patrol_id = r.json()["patrol_id"]
        points = [
            {"at": (now + timedelta(seconds=30 * i)).isoformat(), "lat": p.y + i * 1e-4, "lon": p.x}
            for i in (2, 0, 1)
        ]  # out of order on purpose
        assert (
            grid.post(
                f"/api/v1/grids/patrols/{patrol_id}/points", json={"points": points}
            ).status_code
            == 200
        )
        r = grid.post(
            f"/api/v1/grids/patrols/{patrol_id}/findings",
            json={
                "category": "roads.streetlight",
                "description": "巡查发现路灯不亮",
                "lat": p.y,
                "lon": p.x,
            },
        )
        assert r.status_code == 201, r.text
        assert grid.post(f"/api/v1/grids/patrols/{patrol_id}/end", json={}).status_code == 200
    with system.client("demo_community") as community:
        deadline = time.monotonic() + 30
        found = None
        while found is None and time.monotonic() < deadline:
            page = community.get(
                "/api/v1/command/cases",
                params={"jurisdiction": GRID, "source": "patrol", "page_size": 200},
            ).json()
            found = next((i for i in page["items"] if i["title"].startswith("巡查发现路灯")), None)
            time.sleep(0.3)
    assert found is not None, "the patrol finding never reached the command view"
    assert found["source"] == "patrol" and found["grid_code"] == GRID
