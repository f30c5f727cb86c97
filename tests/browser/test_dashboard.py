"""The leaders' dashboard as demo_leader in headless Chromium at phone and desktop size:
the eight tabs (overview, the six functions of seed 004, rankings) show named, non-empty
content, the unit list drills city → grid, the list searches and exports, the administrator
gets a notice with links; screenshots in test-artifacts/browser/dash-*.png."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.support.system import System

pytestmark = pytest.mark.e2e
HERE = os.path.dirname(os.path.abspath(__file__))


def test_dashboard_six_functions_drill_down_and_rankings(
    system: System, chromium: str, artifacts: str
) -> None:
    env = {**os.environ, "BASE_URL": system.base_url, "CHROMIUM": chromium, "ARTIFACTS": artifacts}
    r = subprocess.run(
        ["node", os.path.join(HERE, "dashboard_flow.mjs")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    print(r.stdout[-8000:])
    print(r.stderr[-8000:])
    assert r.returncode == 0, r.stderr[-4000:]
    result = json.loads(r.stdout.strip().splitlines()[-1])
    steps, tabs = result["steps"], result["tabs"]
    assert steps["whistle"] < 300 and steps["escalate"] < 300 and steps["supervise"] < 300, steps
    for size in ("desktop", "phone"):
        assert len(steps[f"tabs_{size}"]) == 8, steps
        seen = tabs[size]
        assert seen["overview"]["kpis"] >= 6 and seen["overview"]["units"] >= 1, seen
        assert seen["overview"]["cases"] >= 3 and seen["overview"]["map_modes"] == 4, seen
        assert seen["overview"]["timeline"], seen
        drill = steps[f"drill_{size}"]
        # the escalated case is the community's now: the grid's list shows the other two
        assert len(drill["crumbs"]) == 5 and drill["grid_cases"] >= 2, drill
        assert seen["decision"]["matrix_cells"] >= 1 and seen["decision"]["legend"], seen
        assert {"citizen", "suggestion_box"} <= set(seen["citizen"]["sources"]), seen
        assert "意见箱" in seen["citizen"]["search"] and seen["citizen"]["export"].endswith(".csv")
        assert len(seen["citizen"]["cards"]) == 5, seen
        assert seen["enterprise"]["stages"] and seen["enterprise"]["demands"] >= 1, seen
        assert "patrol" in seen["grassroots"]["sources"], seen
        assert seen["supervision"]["cases"] >= 1, seen
        assert seen["supervision"]["projects"], seen
        assert not any("NaN" in p for p in seen["supervision"]["projects"]), seen
        assert seen["linkage"]["duty_rows"] >= 2 and seen["linkage"]["whistled"] >= 1, seen
        assert seen["linkage"]["escalated"] >= 1, seen
        assert seen["ranking"]["units"] >= 2 and seen["ranking"]["departments"] >= 1, seen
    assert steps["admin"]["errors"] == 0 and "/admin/" in steps["admin"]["links"], steps
    assert not result["problems"], result["problems"]
    assert not result["page_errors"], result["page_errors"]
    assert not result["undocumented_requests"], result["undocumented_requests"]
    for shot in result["screenshots"]:
        assert os.path.getsize(shot) > 5000, shot
