"""The security review's object-level attacks against the whole system, over REST: a
department acting on another department's case, a citizen acting on someone else's case,
a double-clicked escalation, two dispatchers at once. Each is refused with the right 4xx,
reveals nothing, and changes nothing."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.support.system import System

pytestmark = pytest.mark.e2e
GRID = "329901001001001"  # inside demo_street's street and demo_community's community


def _command_row(c: httpx.Client, case_id: str, seconds: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        r = c.get(f"/api/v1/command/cases/{case_id}")
        if r.status_code == 200 or time.monotonic() > deadline:
            assert r.status_code == 200, r.text
            return r.json()["case"]
        time.sleep(0.3)


def _foreign_case(system: System) -> str:
    """A hotline ticket in GRID about a pothole, accepted and routed (by the demo's rules)
    to a department other than demo_dept's urban_management."""
    ticket = f"E2E{uuid.uuid4().hex[:12]}"
    with system.client("demo_street") as street:
        r = street.post(
            "/api/v1/cases/hotline-import",
            json={
                "tickets": [
                    {
                        "hotline": "12345",
                        "ticket_no": ticket,
                        "category": "roads.pothole",
                        "description": "路面塌陷",
                        "grid_code": GRID,
                    }
                ]
            },
        )
        assert r.status_code == 200, r.text
        case_id = r.json()["results"][0]["case_id"]
        assert uuid.UUID(case_id).version == 4  # not derived from the ticket number
        v = street.get(f"/api/v1/cases/{case_id}").json()["version"]
        r = street.post(
            f"/api/v1/cases/{case_id}/actions",
            json={"action": "accept", "expected_version": v, "fields": {}},
        )
        assert r.status_code == 200, r.text
        deadline = time.monotonic() + 20
        while (case := street.get(f"/api/v1/cases/{case_id}").json())["status"] != "dispatched":
            assert time.monotonic() < deadline, case
            time.sleep(0.3)
        assert case["department"] and case["department"] != "urban_management", case
        _command_row(street, case_id)
    return case_id


def test_departments_and_citizens_cannot_touch_cases_not_theirs(system: System) -> None:
    case_id = _foreign_case(system)
    with system.client("demo_street") as street:
        before = street.get(f"/api/v1/cases/{case_id}").json()
    unknown = str(uuid.uuid4())
    for who in ("demo_dept", "demo_citizen"):  # another department; not the reporter
        with system.client(who) as c:
            for action in ("start", "request_info", "provide_info"):
                r = c.post(
                    f"/api/v1/cases/{case_id}/actions",
                    json={
                        "action": action,
                        "expected_version": before["version"],
                        "fields": {"question": "?"} if action == "request_info" else {},
                    },
                )
                assert r.status_code == 404, (who, action, r.text)
                body = r.json()
                assert body["code"] == "case_not_found"
                assert "version" not in r.text and before["status"] not in r.text
                r2 = c.post(
                    f"/api/v1/cases/{unknown}/actions",
                    json={"action": action, "expected_version": 1, "fields": {}},
                )
                assert r2.status_code == 404 and r2.json()["code"] == body["code"]
            assert c.get(f"/api/v1/cases/{case_id}").status_code == 404
    with system.client("demo_dept") as dept:
        assert dept.get(f"/api/v1/command/cases/{case_id}").status_code == 404
    with system.client("demo_street") as street:
        after = street.get(f"/api/v1/cases/{case_id}").json()
    assert (after["version"], after["status"]) == (before["version"], before["status"])


def test_double_escalation_and_concurrent_dispatches(system: System) -> None:
    case_id = _foreign_case(system)
    with system.client("demo_community") as community:
        row = _command_row(community, case_id)
        url = f"/api/v1/command/cases/{case_id}/escalate"
        assert community.post(url, json={"note": "x"}).status_code == 422  # version required
        first = community.post(
            url, json={"note": "本级无法解决", "expected_version": row["version"]}
        )
        assert first.status_code == 200, first.text
        again = community.post(
            url, json={"note": "本级无法解决", "expected_version": row["version"]}
        )
        assert again.status_code == 409 and again.json()["code"] == "version_conflict"
        assert _command_row(community, case_id)["escalation_count"] == 1

    with system.client("demo_street") as street:
        row = _command_row(street, case_id)
        barrier = threading.Barrier(2)
        codes: list[int] = []

        def dispatch(department: str) -> None:
            with system.client("demo_street") as c:
                barrier.wait()
                r = c.post(
                    f"/api/v1/command/cases/{case_id}/dispatch",
                    json={"department": department, "expected_version": row["version"]},
                )
                codes.append(r.status_code)

        threads = [threading.Thread(target=dispatch, args=(d,)) for d in ("police", "water")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(codes) == [200, 409], codes
