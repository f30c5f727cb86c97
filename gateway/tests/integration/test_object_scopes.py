"""The gateway passes who reads to the services that decide object access (yiwang.access):
the unmask access log is asked for the reader's own unit only, a staff member's read of a
points statement names the reader."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from gateway.security import Principal
from gateway.tests.conftest import token_for

pytestmark = pytest.mark.integration


def _get(client: TestClient, url: str, p: Principal, **params: object) -> dict:
    h = {"Authorization": f"Bearer {token_for(client.settings, p)}"}  # type: ignore[attr-defined]
    client.fake_rpc.answers = {}  # type: ignore[attr-defined]
    r = client.get(url, params=params, headers=h)
    assert r.status_code == 200, r.text
    return client.fake_rpc.calls[-1][2]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("role", "code", "prefix"),
    [
        ("district_staff", "329901", "329901"),
        ("city_staff", "3299", "3299"),
        ("admin", "", ""),
        ("admin", "329902", "329902"),
    ],
)
def test_the_access_log_is_asked_for_the_readers_unit(
    client: TestClient, role: str, code: str, prefix: str
) -> None:
    p = Principal(str(uuid.uuid4()), role, "x", code)
    sent = _get(client, "/api/v1/grids/access-log", p)
    assert sent["jurisdiction_prefix"] == prefix


def test_a_statement_read_by_staff_names_the_reader(client: TestClient) -> None:
    p = Principal(str(uuid.uuid4()), "community_staff", "x", "329901001001")
    sent = _get(client, "/api/v1/volunteers/points/person/P-1/statement", p, year=2026)
    assert sent["reader"] == {"staff_id": p.account_id, "jurisdiction_code": "329901001001"}
    citizen = Principal(str(uuid.uuid4()), "volunteer", "x", "329901001001", person_id="P-1")
    sent = _get(client, "/api/v1/volunteers/points/me", citizen, year=2026)
    assert sent.get("reader") is None and sent["holder_id"] == "P-1"
