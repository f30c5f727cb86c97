"""Command write bodies are typed: an unknown key (``actor`` above all: it would name
someone else) is a 422 problem, never a 500, and no service is called; the versioned
writes (dispatch, escalate, whistle, supervise) require ``expected_version``."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.security import Principal
from gateway.tests.conftest import token_for

pytestmark = pytest.mark.integration

C = "/api/v1/command"
RULE = {
    "order": 100,
    "target": {"kind": "department", "id": "urban_management"},
    "when": {"category_prefix": "appearance."},
}
FACTS = {
    "category": "appearance.litter",
    "jurisdiction_code": "329901001001001",
    "source": "citizen",
    "at": "2026-11-23T09:15:00+08:00",
}


def _headers(client: TestClient, role: str, code: str) -> dict[str, str]:
    p = Principal(str(uuid.uuid4()), role, "x", code)
    return {"Authorization": f"Bearer {token_for(client.settings, p)}"}  # type: ignore[attr-defined]


def _refused(client: TestClient, method: str, url: str, body: Any, headers: dict[str, str]) -> None:
    before = len(client.fake_rpc.calls)  # type: ignore[attr-defined]
    r = client.request(method, url, json=body, headers=headers)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["code"] and r.headers["content-type"].startswith("application/problem+json")
    assert len(client.fake_rpc.calls) == before  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/rules/r1", {**RULE, "actor": {"id": "someone-else", "role": "admin"}}),
        ("PUT", "/rules/r1", {**RULE, "when": {"category_prefix": "a.", "nope": 1}}),
        ("PUT", "/rules/r1", {**RULE, "target": {"kind": "department", "id": "x", "y": 1}}),
        ("POST", "/rules/test", {**FACTS, "actor": {"id": "x", "role": "admin"}}),
        ("POST", "/rules/test", {**FACTS, "rule": {**RULE, "bogus": True}}),
        ("POST", "/rules/test", {**FACTS, "nope": 1}),
    ],
)
def test_unknown_keys_in_rule_bodies_are_422_not_500(
    client: TestClient, method: str, path: str, body: dict[str, Any]
) -> None:
    _refused(client, method, C + path, body, _headers(client, "city_staff", "3299"))


def test_rule_bodies_still_work(client: TestClient) -> None:
    h = _headers(client, "city_staff", "3299")
    client.fake_rpc.answers = {}  # type: ignore[attr-defined]
    r = client.put(f"{C}/rules/r1", json={**RULE, "name": "ignored"}, headers=h)
    assert r.status_code == 200, r.text
    sent = client.fake_rpc.calls[-1][2]  # type: ignore[attr-defined]
    assert sent["name"] == "r1" and sent["actor"]["role"] == "city_staff"
    assert sent["target"] == RULE["target"]
    r = client.post(f"{C}/rules/test", json={**FACTS, "rule": RULE}, headers=h)
    assert r.status_code == 200, r.text
    assert client.fake_rpc.calls[-1][2]["rule"]["name"] == "test"  # type: ignore[attr-defined]


CASE = f"{C}/cases/{uuid.uuid4()}"


@pytest.mark.parametrize(
    ("role", "code", "path", "body"),
    [
        ("city_staff", "3299", "/escalate", {"note": "x"}),
        ("city_staff", "3299", "/dispatch", {"department": "water"}),
        ("street_staff", "329901001", "/whistle", {"departments": ["water"]}),
        ("leader", "3299", "/supervise", {"note": "快办"}),
        ("city_staff", "3299", "/escalate", {"note": "x", "expected_version": 0}),
        ("city_staff", "3299", "/escalate", {"note": "x", "expected_version": 3, "actor": {}}),
    ],
)
def test_versioned_writes_require_expected_version(
    client: TestClient, role: str, code: str, path: str, body: dict[str, Any]
) -> None:
    _refused(client, "POST", CASE + path, body, _headers(client, role, code))


def test_versioned_writes_pass_the_version_on(client: TestClient) -> None:
    client.fake_rpc.answers = {}  # type: ignore[attr-defined]
    for role, code, path, body in (
        ("city_staff", "3299", "/escalate", {"note": "x"}),
        ("city_staff", "3299", "/dispatch", {"department": "water"}),
        ("street_staff", "329901001", "/whistle", {"departments": ["water"]}),
        ("leader", "3299", "/supervise", {"note": "快办"}),
    ):
        r = client.post(
            CASE + path,
            json={**body, "expected_version": 3001},
            headers=_headers(client, role, code),
        )
        assert r.status_code == 200, r.text
        assert client.fake_rpc.calls[-1][2]["expected_version"] == 3001  # type: ignore[attr-defined]
