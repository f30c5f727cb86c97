"""The three editions' REST routes: authorisation, binding and the RPC each one calls
(the enterprise service is a recording fake here; its behaviour is tested elsewhere)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.security import Principal
from gateway.tests.conftest import FakeRpc, gateway_client, token_for
from tests.support.resources import TestResources

pytestmark = pytest.mark.integration


class Recorder(FakeRpc):
    async def call(self, service: str, method: str, **kwargs: Any) -> Any:
        self.calls.append((service, method, kwargs))
        if method == "accounts_of_user":
            return {"enterprise_ids": ["E-REG"], "institution_ids": []}
        ids = (
            "enterprise_id",
            "demand_id",
            "need_id",
            "posting_id",
            "policy_id",
            "project_id",
            "product_id",
            "capability_id",
            "institution_id",
        )
        return {
            "grid_code": "329901001001001",
            "district_code": "329901",
            **{k: kwargs.get(k) or "X1" for k in ids},
        }


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    from yiwang.migrate import upgrade

    res = TestResources.create("entgw")
    try:
        upgrade(res.database_url, ["gateway"])
        with gateway_client(res) as c:
            rec = Recorder()
            c.app.state.resources.rpc = rec  # type: ignore[attr-defined]
            c.fake_rpc = rec  # type: ignore[attr-defined]
            yield c
    finally:
        res.destroy()


def h(client: TestClient, **kw: Any) -> dict[str, str]:
    p = Principal(account_id=kw.pop("account_id", "acc-1"), **kw)
    return {"Authorization": f"Bearer {token_for(client.settings, p)}"}  # type: ignore[attr-defined]


def last(client: TestClient) -> tuple[str, dict[str, Any]]:
    _, method, kwargs = client.fake_rpc.calls[-1]  # type: ignore[attr-defined]
    return method, kwargs


def test_enterprise_edition_files_for_its_bound_enterprise(client: TestClient) -> None:
    ent = h(client, role="enterprise_user", jurisdiction_code="329901", enterprise_id="E1")
    r = client.post(
        "/api/v1/enterprise/demands",
        headers=ent,
        json={"category": "land", "description": "用地指标", "urgency": "urgent"},
    )
    assert r.status_code == 201, r.text
    method, kw = last(client)
    assert method == "file_demand" and kw["enterprise_id"] == "E1"
    assert kw["actor"]["enterprise_id"] == "E1" and kw["actor"]["role"] == "enterprise_user"
    r = client.post("/api/v1/enterprise/demands/D9/rating", headers=ent, json={"score": 2})
    assert r.status_code == 200 and last(client)[0] == "rate_demand"
    unbound = h(client, role="enterprise_user", account_id="acc-2")
    r = client.get("/api/v1/enterprise/policies/mine", headers=unbound)
    assert r.status_code == 200 and last(client)[1]["enterprise_id"] == "E-REG"


def test_roles_and_jurisdiction_are_enforced(client: TestClient) -> None:
    body = {"category": "land", "description": "x"}
    assert client.post("/api/v1/enterprise/demands", json=body).status_code == 401
    citizen = h(client, role="citizen", jurisdiction_code="3299")
    r = client.post("/api/v1/enterprise/demands", headers=citizen, json=body)
    assert r.status_code == 403 and r.json()["code"] == "role_not_allowed"
    staff = h(client, role="district_staff", jurisdiction_code="329901")
    r = client.get("/api/v1/enterprise/demands", headers=staff, params={"jurisdiction": "329902"})
    assert r.status_code == 403 and r.json()["code"] == "outside_jurisdiction"
    r = client.get("/api/v1/enterprise/demands", headers=staff)
    assert r.status_code == 200 and last(client)[1]["jurisdiction_prefix"] == "329901"
    r = client.post(
        "/api/v1/enterprise/enterprises/E1/review", headers=staff, json={"decision": "verify"}
    )
    assert r.status_code == 200 and last(client)[1]["decision"] == "verify"


def test_government_and_institution_editions(client: TestClient) -> None:
    dept = h(
        client, role="department_handler", jurisdiction_code="3299", department="natural_resources"
    )
    r = client.post("/api/v1/enterprise/projects/KP001/steps/1/approval", headers=dept)
    assert r.status_code == 200, r.text
    method, kw = last(client)
    assert method == "approve_step" and kw["step_index"] == 1
    assert kw["actor"]["department"] == "natural_resources"
    r = client.get("/api/v1/enterprise/projects", headers=dept)
    assert last(client)[1]["department"] == "natural_resources"
    bank = h(client, role="institution_user", jurisdiction_code="3299", institution_id="I1")
    r = client.post(
        "/api/v1/enterprise/financing/products",
        headers=bank,
        json={
            "name": "科创贷",
            "min_amount": "100000",
            "max_amount": "5000000",
            "min_term_months": 6,
            "max_term_months": 36,
            "annual_rate_pct": "3.85",
        },
    )
    assert r.status_code == 201 and last(client)[1]["institution_id"] == "I1"
    r = client.get("/api/v1/enterprise/financing/needs", headers=bank)
    assert r.status_code == 200 and last(client)[1] == {"status": None, "institution_id": "I1"}
    r = client.post(
        "/api/v1/enterprise/demands", headers=bank, json={"category": "x", "description": "y"}
    )
    assert r.status_code == 403
