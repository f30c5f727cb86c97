"""The administration page in headless Chromium at phone size (360×780): an administrator
adds a routing rule, tests facts against it, marks and names a holiday, sees both kept, and
deletes the rule. Screenshots in test-artifacts/browser/ (13-… to 17-…)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.support.system import System

pytestmark = pytest.mark.e2e
HERE = os.path.dirname(os.path.abspath(__file__))


def test_admin_edits_a_rule_and_a_holiday_in_chromium(
    system: System, chromium: str, artifacts: str, tmp_path
) -> None:
    env = {
        **os.environ,
        "BASE_URL": system.base_url,
        "CHROMIUM": chromium,
        "ARTIFACTS": artifacts,
        "PROFILE_DIR": str(tmp_path / "profile"),
    }
    r = subprocess.run(
        ["node", os.path.join(HERE, "admin_flow.mjs")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    print(r.stdout[-8000:])
    print(r.stderr[-8000:])
    assert r.returncode == 0, r.stderr[-4000:]
    result = json.loads(r.stdout.strip().splitlines()[-1])
    steps = result["steps"]
    for step in (
        "rule_listed",
        "rule_saved",
        "rule_test_matches",
        "holiday_saved",
        "holiday_shown_after_reload",
        "categories_listed",
        "rule_deleted",
    ):
        assert steps.get(step) is True, (step, result)
    refusal = result["api"]["refusal"]
    assert refusal["status"] == 422 and refusal["code"] == "calendar_makeup_not_weekend", refusal
    assert "调休" in refusal["detail_zh"], refusal
    assert not result["page_errors"], result["page_errors"]
    for shot in result["screenshots"]:
        assert os.path.getsize(shot) > 5000, shot
    # the edit reaches the calendar the deadlines use
    with system.client("demo_admin") as c:
        year = c.get(f"/api/v1/command/calendar/{result['day'][:4]}").json()
    assert any(d["day"] == result["day"] for d in year["holidays"]), year
