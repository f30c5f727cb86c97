"""The cases REST routes over the real service (nameko worker, real database): the principal
is injected as the security layer would, the broker replaced by a direct call that keeps
both contract checks."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from nameko.testing.services import worker_factory

from gateway import problems
from gateway.api.routes import cases as routes
from gateway.security import Principal, install
from services.petitions.service import PetitionsService
from services.petitions.service_layer import sweeps
from services.petitions.tests.integration.conftest import COMMUNITY, World
from tests.support.contract_sample import TypedReplies
from yiwang.config import Settings
from yiwang.contracts.rpc import get_rpc_contract
from yiwang.errors import DomainError
from yiwang.keys import ensure_keyring
from yiwang.nameko.rpc import RemoteDomainError

pytestmark = pytest.mark.integration


class DirectRpc(TypedReplies):
    connected = True

    def __init__(self, svc: Any) -> None:
        self.svc = svc

    async def call(self, service: str, method: str, **kwargs: Any) -> Any:
        contract = get_rpc_contract(service, method)
        req = contract.request.model_validate(kwargs).model_dump(mode="json")
        try:
            reply = getattr(self.svc, method)(**req)
        except RemoteDomainError as exc:
            raise DomainError.from_dict(json.loads(exc.args[0])) from None
        return contract.response.model_validate(reply).model_dump(mode="json")


PEOPLE = {
    "citizen": Principal("citizen-1", "citizen", "王女士", ""),
    "stranger": Principal("citizen-x", "citizen", "路人", ""),
    "staff": Principal("staff-1", "community_staff", "社区张", COMMUNITY),
    "other_staff": Principal("staff-2", "community_staff", "邻社区", "320102001002"),
    "handler": Principal("h-1", "department_handler", "城管李", "", department="urban_management"),
    "worker": Principal("w-1", "grid_worker", "网格员", COMMUNITY + "001"),
    "admin": Principal("admin-1", "admin", "管理员", ""),
}


@pytest.fixture()
def client(world: World, tmp_path: Any) -> Any:
    tmp_keys = tmp_path
    svc = worker_factory(
        PetitionsService,
        uow=world.uow,
        redis=SimpleNamespace(publish=lambda channel, message: None, prefix="t:"),
    )
    svc.clock = world.clock
    svc.sender = sweeps.LogSender()
    app = FastAPI()
    app.include_router(routes.router)
    problems.install(app)
    install(app, [routes])
    app.state.keyring = ensure_keyring(str(tmp_keys / "keys.json"))  # this run's own keys
    app.state.resources = SimpleNamespace(
        rpc=DirectRpc(svc), settings=Settings(), engine=None, redis=None
    )

    @app.middleware("http")
    async def as_principal(request: Request, call_next: Any) -> Any:
        who = request.headers.get("x-test-as")
        if who:
            request.scope.setdefault("yiwang", {})["principal"] = PEOPLE[who]
        return await call_next(request)

    with TestClient(app) as c:
        yield c


def _as(who: str) -> dict[str, str]:
    return {"x-test-as": who}


def test_http_report_to_rating_with_rework(client: TestClient, world: World) -> None:
    case_id = world.submit()
    base = f"/api/v1/cases/{case_id}"

    def act(who: str, action: str, **fields: Any) -> Any:
        world.clock.advance(minutes=5)
        v = client.get(base, headers=_as("staff")).json()["version"]
        return client.post(
            f"{base}/actions",
            headers=_as(who),
            json={"action": action, "expected_version": v, "fields": fields},
        )

    assert client.get(base).status_code == 401
    assert client.get(base, headers=_as("stranger")).status_code == 404
    assert client.get(base, headers=_as("other_staff")).status_code == 403
    detail = client.get(base, headers=_as("staff")).json()
    assert detail["reporter"]["phone"] == "138****5678" and "accept" in detail["allowed_actions"]
    stale = client.post(
        f"{base}/actions", headers=_as("staff"), json={"action": "accept", "expected_version": 9}
    )
    assert stale.status_code == 409 and stale.json()["code"] == "version_conflict"
    bad = client.post(
        f"{base}/actions", headers=_as("staff"), json={"action": "close", "expected_version": 1}
    )
    assert bad.status_code == 409 and "accept" in bad.json()["errors"]["allowed"]
    for who, action, fields in [
        ("staff", "accept", {}),
        ("staff", "dispatch", {"department": "urban_management"}),
        ("handler", "start", {}),
        ("handler", "handle", {"feedback": "已清理"}),
        ("worker", "verify", {}),
        ("staff", "close", {}),
    ]:
        r = act(who, action, **fields)
        assert r.status_code == 200, r.text
    mine = client.get("/api/v1/cases/mine", headers=_as("citizen")).json()
    assert mine["items"][0]["can_rate"] is True
    v = mine["items"][0]["version"]
    r = client.post(
        f"{base}/rating",
        headers=_as("citizen"),
        json={"score": 2, "comment": "没扫干净", "expected_version": v},
    )
    assert r.status_code == 200 and r.json()["status"] == "dispatched"
    own = client.get(base, headers=_as("citizen")).json()
    assert all(e["action"] not in ("send_back", "reassign") for e in own["timeline"])
    assert (
        client.get("/api/v1/public/cases.geojson").json()["features"][0]["properties"]["case_id"]
        == case_id
    )


def test_http_categories_admin(client: TestClient) -> None:
    listed = client.get("/api/v1/categories").json()
    assert any(c["code"] == "roads.pothole" for c in listed["items"])
    body = {
        "name_zh": "桥梁损坏",
        "name_en": "Bridge",
        "department": "transport",
        "sla_class": "standard_3d",
    }
    assert (
        client.put("/api/v1/categories/roads.bridge", json=body, headers=_as("staff")).status_code
        == 403
    )
    r = client.put("/api/v1/categories/roads.bridge", json=body, headers=_as("admin"))
    assert r.status_code == 200, r.text
    r = client.post("/api/v1/categories/roads.bridge/deactivate", headers=_as("admin"))
    assert r.json()["active"] is False
    assert client.get("/api/v1/categories/nope.none").status_code == 404
