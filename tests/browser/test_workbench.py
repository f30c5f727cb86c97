"""The case workbench (/workbench/): a citizen's report goes from 受理 to 结案 through the
pages only — community staff accept and re-dispatch it on a phone (390×844), a stale write
is refused with the server's reason in Chinese, city staff supervise it (督办) and the
department handler answers, takes it up and handles it with a note and a photo on a desktop
(1440×900), community staff verify and close it. Screenshots in test-artifacts/browser/wb-*.png."""

from __future__ import annotations

import json
import os
import re
import subprocess

import httpx
import pytest

from tests.support.system import System

pytestmark = pytest.mark.e2e
HERE = os.path.dirname(os.path.abspath(__file__))


def test_workbench_is_served_with_a_strict_csp(system: System) -> None:
    r = httpx.get(system.base_url + "/workbench/", timeout=10)
    assert r.status_code == 200
    assert "script-src 'self'" in r.headers["content-security-policy"]
    # the module is served under its content-hashed name (gateway/web_assets.py)
    assert re.search(r'<script type="module" src="[^"]*app\.[0-9a-f]+\.js"', r.text), r.text
    for asset in ("app.js", "api.js", "strings.js", "workbench.css"):
        assert httpx.get(f"{system.base_url}/workbench/{asset}", timeout=10).status_code == 200
    assert httpx.get(system.base_url + "/workbench/.hidden", timeout=10).status_code == 404


def test_department_names_are_readable_by_department_handlers(system: System) -> None:
    with system.client("demo_dept") as dept:
        r = dept.get("/api/v1/workbench/departments")
        assert r.status_code == 200, r.text
        names = {d["code"]: d["name_zh"] for d in r.json()["items"]}
        assert names["urban_management"]
    with system.client("demo_citizen") as citizen:
        assert citizen.get("/api/v1/workbench/departments").status_code == 403


def test_case_from_report_to_closure_through_the_workbench(
    system: System, chromium: str, artifacts: str
) -> None:
    env = {**os.environ, "BASE_URL": system.base_url, "CHROMIUM": chromium, "ARTIFACTS": artifacts}
    r = subprocess.run(
        ["node", os.path.join(HERE, "workbench_flow.mjs")],
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
    # every step through the pages, none through the API
    assert not result["api_writes_after_setup"], result
    assert not result["undocumented_requests"], result["undocumented_requests"]
    assert steps["queue_shows_case"] and steps["reporter_masked"], result
    assert steps["search_and_filter"], result
    assert "accept" in steps["offered_submitted"] and "close" not in steps["offered_submitted"]
    # no success before the server answers; a second tap while in flight sends nothing
    assert steps["in_flight"]["disabled"] and not steps["in_flight"]["success_shown_early"]
    assert steps["accept_posts"] == 1, result
    assert steps["accepted"] and steps["dispatched_to_department"], result
    assert steps["routing_suggestion"], result
    assert steps["dept_queue_shows_case"] and steps["dept_started"], result
    # a refused write shows the server's reason in Chinese, and the page recovers
    assert steps["refusal"]["code"] == "version_conflict", result
    assert steps["refusal_in_chinese"] and steps["refusal_still_shown"], result
    assert steps["refusal_reenabled"], result
    assert steps["supervised"] and steps["supervision_answered"], result
    assert steps["dept_handled"] and steps["handle_photo_in_timeline"], result
    assert steps["community_saw_handled_live"] and steps["verified"], result
    assert steps["closed_on_page"] and steps["no_actions_after_close"], result
    assert steps["dept_sees_closed"], result
    assert steps["server_status"] == "closed", result
    # names, not codes; no null; no horizontal overflow at phone width
    assert not result["problems"], result["problems"]
    assert not result["page_errors"], result["page_errors"]
    for shot in result["screenshots"]:
        assert os.path.getsize(shot) > 5000, shot
