"""``GET /command/units/stats``: the caller's own unit by default, children's names from the
grids service (children without cases as zero rows), a unit outside refused; the list's new
filters (escalated, whistled, any of several sources) reach the service; alerts are scoped."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from gateway.security import Principal
from gateway.tests.conftest import token_for

pytestmark = pytest.mark.integration

C = "/api/v1/command"
DAYS = {"day_from": "2026-11-01", "day_to": "2026-11-30"}


def _h(client: TestClient, role: str, code: str) -> dict[str, str]:
    p = Principal(str(uuid.uuid4()), role, "x", code)
    return {"Authorization": f"Bearer {token_for(client.settings, p)}"}  # type: ignore[attr-defined]


def test_unit_stats_names_children_and_keeps_to_the_callers_unit(client: TestClient) -> None:
    fake = client.fake_rpc  # type: ignore[attr-defined]
    fake.answers = {
        ("command", "unit_stats"): lambda **kw: {
            "parent_code": kw["parent_code"],
            "by": kw["by"],
            "child_level": "street",
            "day_from": kw["day_from"],
            "day_to": kw["day_to"],
            "items": [{"code": "329901001", "open": 3, "overdue": 1}],
        },
        ("grids", "unit_children"): {
            "units": [
                {"code": "329901001", "name": "中山街道", "level": "street"},
                {"code": "329901002", "name": "和平街道", "level": "street"},
            ]
        },
    }
    r = client.get(f"{C}/units/stats", params=DAYS, headers=_h(client, "district_staff", "329901"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["parent_code"] == "329901"
    assert body["items"][0] == {"code": "329901001", "open": 3, "overdue": 1, "name": "中山街道"}
    empty = body["items"][1]
    assert empty["code"] == "329901002" and empty["name"] == "和平街道"
    assert empty["open"] == empty["overdue"] == empty["created"] == 0
    assert empty["satisfaction_rate"] is None
    r = client.get(
        f"{C}/units/stats",
        params={**DAYS, "jurisdiction": "329902"},
        headers=_h(client, "district_staff", "329901"),
    )
    assert r.status_code == 403
    r = client.get(
        f"{C}/units/stats",
        params={**DAYS, "jurisdiction": "32990100100100"},
        headers=_h(client, "leader", "3299"),
    )
    assert r.status_code == 422  # not a city, district, street or community code
    r = client.get(
        f"{C}/units/stats", params=DAYS, headers=_h(client, "department_handler", "3299")
    )
    assert r.status_code == 403


def test_list_filters_and_alert_scope_reach_the_service(client: TestClient) -> None:
    fake = client.fake_rpc  # type: ignore[attr-defined]
    fake.answers = {("command", "list_alerts"): {"items": [], "total": 0}}
    h = _h(client, "street_staff", "329901001")
    r = client.get(
        f"{C}/cases",
        headers=h,
        params={"escalated": "true", "whistled": "false", "sources": "citizen,hotline"},
    )
    assert r.status_code == 200, r.text
    _, _, kw = [c for c in fake.calls if c[1] == "list_cases"][-1]
    assert kw["escalated"] is True and kw["whistled"] is False
    assert kw["sources"] == ["citizen", "hotline"]
    assert kw["jurisdiction_prefix"] == "329901001"
    assert client.get(f"{C}/cases", headers=h, params={"sources": "a;b"}).status_code == 422
    r = client.get(f"{C}/alerts", headers=h)
    assert r.status_code == 200
    _, _, kw = [c for c in fake.calls if c[1] == "list_alerts"][-1]
    assert kw["jurisdiction_prefix"] == "329901001"
