"""The thin slice end to end: a citizen report → a case in the command view, once, in
one trace, surviving the petitions service being down when it was posted."""

from __future__ import annotations

import glob
import json
import os
import time

import pytest

from tests.support.system import System, wait_ready

pytestmark = pytest.mark.e2e

REPORT = {
    "category": "appearance.litter",
    "attributes": {"size": "small"},
    "description": "小区门口垃圾堆积三天",
    "lat": 32.0,
    "lon": 118.8,
}


def _wait_case(system: System, report_id: str, seconds: float = 20) -> dict:
    deadline = time.monotonic() + seconds
    with system.client() as c:
        while time.monotonic() < deadline:
            status = c.get(f"/api/v1/reports/{report_id}").json()
            if status.get("state") in ("case_created", "linked_duplicate"):
                return status
            time.sleep(0.2)
    raise TimeoutError(f"report {report_id} never became a case")


def _in_command_view(system: System, case_id: str, grid_code: str, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    with system.client("demo_city") as c:
        while time.monotonic() < deadline:
            page = c.get(
                "/api/v1/command/cases", params={"jurisdiction": grid_code, "page_size": 200}
            ).json()
            if any(item["case_id"] == case_id for item in page["items"]):
                return True
            time.sleep(0.2)
    return False


def test_health_reports_every_dependency_and_ready_only_the_gateways(system: System) -> None:
    body = wait_ready(system.base_url, 10)  # /health
    assert set(body["checks"]) >= {
        "database",
        "redis",
        "broker",
        "service:petitions",
        "service:grids",
        "service:command",
    }
    with system.client() as c:
        ready = c.get("/ready").json()
    assert set(ready["checks"]) == {"database", "redis", "broker"}


def test_report_becomes_a_case_in_the_command_view_in_one_trace(system: System) -> None:
    with system.client() as c:
        r = c.post("/api/v1/reports", json=REPORT)
    assert r.status_code == 202, r.text
    body = r.json()
    assert r.headers["Location"] == body["status_url"]
    trace_id = r.headers["traceparent"].split("-")[1]
    status = _wait_case(system, body["report_id"])
    assert _in_command_view(system, status["case_id"], body["grid_code"])
    # one trace across gateway → petitions → command (file exporter, one file per process)
    time.sleep(0.5)
    services: set[str] = set()
    for path in glob.glob(os.path.join(system.var_dir, "log", "spans-*.jsonl")):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                span = json.loads(line)
                if span["trace_id"] == trace_id:
                    services.add(span["service"])
    assert {"gateway", "petitions", "command"} <= services, services


def test_report_posted_while_petitions_is_down_becomes_a_case_when_it_returns(
    system: System,
) -> None:
    system.supervisor.hold("petitions")
    try:
        with system.client() as c:
            r = c.post(
                "/api/v1/reports",
                json={  # another category: not a "me too"
                    **REPORT,
                    "category": "roads.streetlight",
                    "attributes": {},
                    "description": "路灯不亮，晚上很黑",
                },
            )
        assert r.status_code == 202, r.text
    finally:
        system.supervisor.release("petitions")
    status = _wait_case(system, r.json()["report_id"], 60)
    assert status["state"] == "case_created"
    assert _in_command_view(system, status["case_id"], r.json()["grid_code"])


def test_outside_the_city_is_refused_and_nothing_is_recorded(system: System) -> None:
    with system.client("demo_city") as c:
        before = c.get("/api/v1/command/cases", params={"page_size": 1}).json()["total"]
        r = c.post("/api/v1/reports", json={**REPORT, "lat": 10.0})
        assert r.status_code == 422
        assert r.json()["code"] == "outside_jurisdiction"
        assert r.headers["content-type"].startswith("application/problem+json")
        time.sleep(0.5)
        assert c.get("/api/v1/command/cases", params={"page_size": 1}).json()["total"] == before


def test_the_command_view_needs_a_staff_account(system: System) -> None:
    with system.client() as c:
        assert c.get("/api/v1/command/cases").status_code == 401
    with system.client("demo_citizen") as c:
        assert c.get("/api/v1/command/cases").status_code == 403


def test_a_second_report_of_the_same_thing_is_linked_not_duplicated(system: System) -> None:
    with system.client() as c:
        first = c.post("/api/v1/reports", json={**REPORT, "description": "同一处垃圾，第一次"})
        second = c.post("/api/v1/reports", json={**REPORT, "description": "同一处垃圾，我也看到"})
    a = _wait_case(system, first.json()["report_id"])
    b = _wait_case(system, second.json()["report_id"])
    assert b["state"] == "linked_duplicate" and b["case_id"] == a["case_id"]


def test_unknown_category_and_missing_attribute_are_refused(system: System) -> None:
    with system.client() as c:
        r1 = c.post("/api/v1/reports", json={**REPORT, "category": "no.such_thing"})
        r2 = c.post("/api/v1/reports", json={**REPORT, "attributes": {}})
    assert r1.status_code == 422 and r1.json()["code"] == "unknown_category"
    assert r2.status_code == 422 and r2.json()["code"] == "missing_attribute"


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {**REPORT, "lat": 123},
        {**REPORT, "description": ""},
        {**REPORT, "category": "DROP TABLE"},
        {**REPORT, "extra": 1},
    ],
)
def test_bad_reports_get_a_problem_with_code_and_both_languages(system: System, bad: dict) -> None:
    with system.client() as c:
        r = c.post("/api/v1/reports", json=bad)
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "validation_failed" and body["detail"] and body["detail_zh"]


def test_a_service_that_is_down_answers_503_within_the_timeout(system: System) -> None:
    system.supervisor.hold("command")
    try:
        t0 = time.monotonic()
        with system.client("demo_city") as c:
            r = c.get("/api/v1/command/cases")
        assert r.status_code == 503
        assert r.json()["code"] == "service_unavailable"
        assert "Retry-After" in r.headers
        assert time.monotonic() - t0 < 8
    finally:
        system.supervisor.release("command")
    wait_ready(system.base_url, 60)


def test_killed_service_is_restarted_by_the_supervisor(system: System) -> None:
    before = system.supervisor.restarts("grids")
    system.supervisor.kill("grids")
    deadline = time.monotonic() + 30
    while system.supervisor.restarts("grids") == before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert system.supervisor.restarts("grids") == before + 1
    wait_ready(system.base_url, 60)
