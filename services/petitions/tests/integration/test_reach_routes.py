"""The reach REST routes over the real service (nameko worker, real database): the principal
is injected as the security layer would, the broker replaced by a direct call that keeps
both contract checks (``DirectRpc`` of the cases routes' test)."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from nameko.testing.services import worker_factory

from gateway import problems
from gateway.api.routes import push as routes
from gateway.security import Principal, install
from services.petitions.adapters.channels import LogChannel
from services.petitions.service import PetitionsService
from services.petitions.service_layer import delivery
from services.petitions.tests.integration.conftest import World
from services.petitions.tests.integration.reach_servers import SmtpServer
from services.petitions.tests.integration.test_gateway_routes import DirectRpc
from services.petitions.tests.integration.test_reach_delivery import queue, smtp_channel, status
from yiwang.config import Settings
from yiwang.keys import Keyring

pytestmark = pytest.mark.integration
PEOPLE = {
    "citizen": Principal("citizen-7", "citizen", "王女士", ""),
    "admin": Principal("admin-1", "admin", "管理员", ""),
    "handler": Principal(
        "h-1", "department_handler", "城管李", "3299", department="urban_management"
    ),
    "street": Principal("s-1", "street_staff", "钱干事", "329901001"),
}
SUB = {
    "endpoint": "https://push.example.net/send/abc123",
    "keys": {"p256dh": "B" + "x" * 86, "auth": "a" * 22},
    "expirationTime": None,
}


@pytest.fixture()
def env(world: World) -> Iterator[tuple[TestClient, World, Any]]:
    with world.engine.begin() as c:
        c.execute(
            sa.text(
                "TRUNCATE petitions.contact_preferences, petitions.push_subscriptions,"
                " petitions.opt_outs"
            )
        )
    courier = delivery.Courier(cfg=delivery.DeliveryConfig())
    svc = worker_factory(
        PetitionsService,
        uow=world.uow,
        reach=courier,
        redis=SimpleNamespace(publish=lambda c, m: None, prefix="t:"),
    )
    svc.clock = world.clock
    svc.sender = LogChannel()
    app = FastAPI()
    app.include_router(routes.router)
    problems.install(app)
    install(app, [routes])
    app.state.keyring = Keyring.generate()  # anonymous calls are authenticated (401)
    app.state.resources = SimpleNamespace(
        rpc=DirectRpc(svc), settings=Settings(vapid_public_key="BPUBLIC"), engine=None, redis=None
    )

    @app.middleware("http")
    async def as_principal(request: Request, call_next: Any) -> Any:
        who = request.headers.get("x-test-as")
        if who:
            request.scope.setdefault("yiwang", {})["principal"] = PEOPLE[who]
        return await call_next(request)

    with TestClient(app) as client:
        yield client, world, courier


def test_push_subscription_and_preferences_are_kept_per_account(env: Any) -> None:
    client, world, _ = env
    assert client.get("/api/v1/push/vapid-public-key").json() == {
        "public_key": "BPUBLIC",
        "enabled": True,
    }
    assert client.post("/api/v1/push/subscriptions", json=SUB).status_code == 401
    r = client.post("/api/v1/push/subscriptions", json=SUB, headers={"x-test-as": "citizen"})
    assert r.status_code == 201, r.text
    bad = {**SUB, "endpoint": "http://insecure.example/x"}
    assert (
        client.post(
            "/api/v1/push/subscriptions", json=bad, headers={"x-test-as": "citizen"}
        ).status_code
        == 422
    )
    with world.engine.connect() as c:
        assert c.execute(sa.text("SELECT account_id FROM petitions.push_subscriptions")).all() == [
            ("citizen-7",)
        ]

    me = {"x-test-as": "citizen"}
    body = {
        "channels": ["push", "email"],
        "email": "w@example.org",
        "quiet_start": "22:00",
        "quiet_end": "07:00",
    }
    r = client.put("/api/v1/me/notification-preferences", json=body, headers=me)
    assert r.status_code == 200, r.text
    assert client.get("/api/v1/me/notification-preferences", headers=me).json() == {
        "account_id": "citizen-7",
        "phone": None,
        "staff_alerts": False,
        **body,
    }
    r = client.put("/api/v1/me/notification-preferences", json={"channels": ["sms"]}, headers=me)
    assert r.status_code == 422 and r.json()["code"] == "phone_required"
    r = client.post(
        "/api/v1/push/subscriptions/remove", json={"endpoint": SUB["endpoint"]}, headers=me
    )
    assert r.json() == {"removed": 1}


def test_dead_letters_are_visible_to_administrators_and_resent(env: Any) -> None:
    client, world, courier = env
    with SmtpServer() as smtp:
        smtp.refuse["gone@example.org"] = "550 5.1.1 no such user"
        nid = queue(world, "email", "gone@example.org")
        courier.channels = {"email": smtp_channel(smtp)}
        assert delivery.deliver_pending(world.uow, courier, world.now) == {"dead": 1}
        assert (
            client.get("/api/v1/admin/dead-letters", headers={"x-test-as": "citizen"}).status_code
            == 403
        )
        items = client.get("/api/v1/admin/dead-letters", headers={"x-test-as": "admin"}).json()
        assert [(i["id"], i["status"]) for i in items["items"]] == [(nid, "dead")]
        assert "550" in items["items"][0]["last_error"]
        del smtp.refuse["gone@example.org"]
        r = client.post(f"/api/v1/admin/dead-letters/{nid}/resend", headers={"x-test-as": "admin"})
        assert r.status_code == 200 and r.json()["status"] == "pending", r.text
        assert delivery.deliver_pending(world.uow, courier, world.now) == {"sent": 1}
        assert status(world, nid).status == "sent" and len(smtp.received) == 1
        sent = client.get("/api/v1/admin/deliveries?status=sent", headers={"x-test-as": "admin"})
        assert [i["id"] for i in sent.json()["items"]] == [nid]


def test_opt_out_link_from_the_e_mail(env: Any) -> None:
    client, world, courier = env
    with SmtpServer() as smtp:
        courier.channels = {"email": smtp_channel(smtp)}
        queue(world, "email", "reader@example.org")
        delivery.deliver_pending(world.uow, courier, world.now)
        link = str(smtp.received[0]["List-Unsubscribe"]).strip("<>")
    url = urllib.parse.urlsplit(link)
    r = client.get(f"{url.path}?{url.query}")  # a link preview or a scanner: nothing changes
    assert r.status_code == 200 and "<form method=post" in r.text
    assert world.count("opt_outs") == 0
    action = r.text.split("action='", 1)[1].split("'", 1)[0].replace("&amp;", "&")
    r = client.post(action)  # the person presses the button
    assert r.status_code == 200 and r.json()["opted_out"] is True
    assert world.count("opt_outs", "address = 'reader@example.org'") == 1
    r = client.post(f"{url.path}?{url.query}", data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200  # RFC 8058 one-click from a mail client: the same, again
    forged = url.query.replace("token=", "token=x")
    assert client.post(f"{url.path}?{forged}").status_code == 422


def test_queue_alerts_take_the_department_and_unit_from_the_sign_in(env: Any) -> None:
    client, world, _ = env
    body = {"channels": ["sms"], "phone": "13700000001", "staff_alerts": True}
    r = client.put(
        "/api/v1/me/notification-preferences", json=body, headers={"x-test-as": "citizen"}
    )
    assert r.status_code == 403 and r.json()["code"] == "not_staff"
    for who in ("handler", "street"):
        r = client.put("/api/v1/me/notification-preferences", json=body, headers={"x-test-as": who})
        assert r.status_code == 200 and r.json()["staff_alerts"] is True, r.text
    with world.engine.connect() as c:
        rows = c.execute(
            sa.text(
                "SELECT account_id, department, jurisdiction_code FROM "
                "petitions.contact_preferences ORDER BY account_id"
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("h-1", "urban_management", None),
        ("s-1", None, "329901001"),
    ]
