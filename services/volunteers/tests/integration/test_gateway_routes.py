"""The REST routes over the real service (nameko worker, real database): the principal is
injected as the security layer would, the broker is replaced by a direct call that keeps
both contract checks."""

from __future__ import annotations

import json
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from nameko.testing.services import worker_factory

from gateway import problems
from gateway.api.routes import volunteers as routes
from gateway.security import Principal, install
from services.volunteers.service import QrKeySet, VolunteersService
from services.volunteers.tests.integration.helpers import COMMUNITY, KEYS, PLACE, T0
from tests.support.contract_sample import TypedReplies
from yiwang.clock import FakeClock
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
    "resident": Principal("acc-res", "citizen", "王阿姨", "", person_id="res-http"),
    "volunteer": Principal("acc-vol", "volunteer", "李师傅", "", person_id="vol-http"),
    "staff": Principal("acc-staff", "community_staff", "社区张", COMMUNITY),
    "other_staff": Principal("acc-s2", "community_staff", "邻社区", "360602001002"),
}


@pytest.fixture()
def client(make_uow, tmp_path) -> Any:  # type: ignore[no-untyped-def]
    tmp_keys = tmp_path
    svc = worker_factory(VolunteersService, uow=make_uow, qr_keys=QrKeySet(KEYS, next(iter(KEYS))))
    svc.clock = FakeClock(T0)
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
        c.svc = svc  # type: ignore[attr-defined]
        yield c


def test_http_loop_order_to_points(client) -> None:  # type: ignore[no-untyped-def]
    def as_(who: str) -> dict[str, str]:
        return {"x-test-as": who}

    base = "/api/v1/volunteers"
    r = client.post(
        f"{base}/registrations/volunteers",
        headers=as_("volunteer"),
        json={
            "name": "李师傅",
            "kind": "volunteer",
            "community_code": COMMUNITY,
            "phone": "13900139000",
            "skills": ["electrician"],
        },
    )
    assert r.status_code == 201, r.text
    r = client.post(
        f"{base}/registrations/volunteer/vol-http/decision",
        headers=as_("other_staff"),
        json={"action": "approve"},
    )
    assert r.status_code == 403 and r.json()["code"] == "outside_jurisdiction"
    r = client.post(
        f"{base}/registrations/volunteer/vol-http/decision",
        headers=as_("staff"),
        json={"action": "approve"},
    )
    assert r.json()["status"] == "approved"

    assert client.post(f"{base}/orders", json={}).status_code in (401, 422)
    r = client.post(
        f"{base}/orders",
        headers=as_("resident"),
        json={
            "community_code": COMMUNITY,
            "category": "repair",
            "description": "灯坏了",
            "window_start": (T0 + timedelta(hours=2)).isoformat(),
            "window_end": (T0 + timedelta(hours=4)).isoformat(),
            "lat": PLACE[0],
            "lon": PLACE[1],
        },
    )
    assert r.status_code == 201, r.text
    oid = r.json()["order_id"]
    r = client.post(f"{base}/orders/{oid}/publish", headers=as_("volunteer"), json={})
    assert r.status_code == 403 and r.json()["code"] == "role_not_allowed"
    assert (
        client.post(f"{base}/orders/{oid}/publish", headers=as_("staff"), json={}).json()["status"]
        == "published"
    )
    hall = client.get(
        f"{base}/orders", headers=as_("volunteer"), params={"jurisdiction": COMMUNITY}
    ).json()
    assert oid in [o["order_id"] for o in hall["items"]]
    r = client.post(
        f"{base}/orders/{oid}/claim", headers=as_("volunteer"), json={"expected_version": 2}
    )
    assert r.json()["status"] == "claimed"
    r = client.post(
        f"{base}/orders/{oid}/claim", headers=as_("volunteer"), json={"expected_version": 2}
    )
    assert r.status_code == 409

    client.svc.clock.advance(hours=2)
    token = client.get(f"{base}/orders/{oid}/qr", headers=as_("resident")).json()["token"]
    r = client.post(
        f"{base}/orders/{oid}/check-in",
        headers=as_("volunteer"),
        json={"token": token, "lat": PLACE[0] + 0.3, "lon": PLACE[1]},
    )
    assert r.status_code == 422 and r.json()["code"] == "qr_too_far"
    r = client.post(
        f"{base}/orders/{oid}/check-in",
        headers=as_("volunteer"),
        json={"token": token, "lat": PLACE[0], "lon": PLACE[1]},
    )
    assert r.json()["status"] == "checked_in"
    r = client.post(
        f"{base}/orders/{oid}/check-in",
        headers=as_("volunteer"),
        json={"token": token, "lat": PLACE[0], "lon": PLACE[1]},
    )
    assert r.status_code == 409
    client.post(f"{base}/orders/{oid}/complete", headers=as_("volunteer"), json={"note": "修好了"})
    r = client.post(f"{base}/orders/{oid}/rate", headers=as_("resident"), json={"stars": 4})
    assert r.json()["points_awarded"] == 20
    assert (
        client.post(
            f"{base}/orders/{oid}/rate", headers=as_("resident"), json={"stars": 4}
        ).status_code
        == 409
    )
    me = client.get(f"{base}/points/me", headers=as_("volunteer")).json()
    assert me["balance"] == 20
    r = client.post(
        f"{base}/points/redeem",
        headers=as_("volunteer"),
        json={"amount": 21, "reason": "兑换", "community_code": COMMUNITY},
    )
    assert r.status_code == 409 and r.json()["code"] == "insufficient_points"
    assert client.get(f"{base}/points/me", headers=as_("volunteer")).json()["balance"] == 20
