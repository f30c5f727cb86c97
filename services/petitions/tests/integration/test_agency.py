"""Agency applications (微代办) against the real database: catalogue, apply (materials or an
appointment), accept → handle → feed back → close with 1-day / 3-day limits, corrections,
refusals that change nothing, and the case events the command centre folds."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from nameko.testing.services import worker_factory

from gateway import problems
from gateway.api.routes import agency as agency_routes
from gateway.security import Principal, install
from services.petitions.service import PetitionsService
from services.petitions.service_layer import agency
from services.petitions.tests.integration.conftest import COMMUNITY, GRID, STAFF, STREET, World
from services.petitions.tests.integration.test_gateway_routes import DirectRpc
from yiwang.clock import SHANGHAI
from yiwang.config import Settings
from yiwang.contracts.petitions import (
    AgencyActionRequest,
    AgencyApplyRequest,
    AgencyCatalogueRequest,
    CaseActor,
    GetAgencyApplicationRequest,
    ListAgencyApplicationsRequest,
)
from yiwang.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yiwang.keys import ensure_keyring

pytestmark = pytest.mark.integration

RESIDENT = CaseActor(id="resident-1", role="citizen", name="王阿姨")
OTHER = CaseActor(id="resident-2", role="citizen")
FAR_STAFF = CaseActor(id="staff-far", role="community_staff")
SENIOR_CARD = {"id_card": ["media-id-front", "media-id-back"], "photo": ["media-photo"]}


def apply(
    world: World, item: str = "senior_card", actor: CaseActor = RESIDENT, **kw: Any
) -> dict[str, Any]:
    kw.setdefault("materials", SENIOR_CARD if item == "senior_card" else {})
    req = AgencyApplyRequest(
        actor=actor, item_code=item, community_code=COMMUNITY, grid_code=GRID, **kw
    )
    return agency.apply(world.uow(), req, world.now)


def act(
    world: World,
    app: dict[str, Any],
    action: str,
    actor: CaseActor = STAFF,
    prefix: str = "",
    version: int | None = None,
    **fields: Any,
) -> dict[str, Any]:
    world.clock.advance(minutes=30)
    req = AgencyActionRequest(
        application_id=app["application_id"],
        action=action,
        actor=actor,
        expected_version=app["version"] if version is None else version,
        fields=fields,
        jurisdiction_prefix=prefix,
    )
    return agency.act(world.uow(), req, world.now)


def case_events(world: World, app: dict[str, Any]) -> list[dict[str, Any]]:
    return world.events_of(str(app["application_id"]))


def test_the_catalogue_lists_44_items_with_materials_and_levels() -> None:
    items = agency.catalogue(AgencyCatalogueRequest())["items"]
    assert len(items) == 44 and len({i["code"] for i in items}) == 44
    levels = {i["level"] for i in items}
    assert levels == {"community", "street"}
    for i in items:
        assert i["required"], i["code"]
        assert all(m["name_zh"] and m["name_en"] for m in i["required"] + i["optional"])
        want = (1, "quick_1d") if i["level"] == "community" else (3, "standard_3d")
        assert (i["time_limit_working_days"], i["sla_class"]) == want
    party = agency.catalogue(AgencyCatalogueRequest(domain="party"))["items"]
    assert party and all(i["domain"] == "party" for i in party)


def test_community_item_goes_accept_handle_feed_back_close_within_one_day(world: World) -> None:
    app = apply(world)
    assert app["status"] == "submitted" and app["version"] == 1
    assert app["item"]["level"] == "community"
    app = act(world, app, "accept")
    due = datetime.fromisoformat(str(app["due_at"]))
    accepted = datetime.fromisoformat(str(app["accepted_at"]))
    assert due.astimezone(SHANGHAI) == (accepted + timedelta(days=1)).astimezone(SHANGHAI)
    app = act(world, app, "handle", note="材料齐全，正在代办")
    app = act(world, app, "feed_back", result="优待证已办好，请到社区领取", attachments=["m1"])
    app = act(world, app, "close")
    assert app["status"] == "closed" and app["on_time"] is True
    assert [s["action"] for s in app["steps"]] == [
        "submit",
        "accept",
        "handle",
        "feed_back",
        "close",
    ]

    evs = case_events(world, app)
    assert [e["type"] for e in evs] == ["case.created"] + ["case.transitioned"] * 4
    created = evs[0]["payload"]
    assert created["source"] == "agency" and created["category"] == "agency.senior_card"
    assert created["jurisdiction_code"] == COMMUNITY and created["level"] == "community"
    assert created["grid_code"] == GRID
    assert created["sla_class"] == "quick_1d" and created["seq"] == 1
    steps = [(e["payload"]["action"], e["payload"]["status"], e["payload"]["seq"]) for e in evs[1:]]
    assert steps == [
        ("accept", "accepted", 2),
        ("start", "in_progress", 3),
        ("handle", "handled", 4),
        ("close", "closed", 5),
    ]
    assert all(e["payload"]["source"] == "agency" for e in evs)
    assert evs[-1]["payload"]["previous_status"] == "handled"


def test_street_items_have_three_working_days(world: World) -> None:
    materials = {"id_card": ["a"], "household_register": ["b"], "bank_card": ["c"]}
    app = apply(world, "old_age_allowance", materials=materials)
    assert app["item"]["level"] == "street" and app["item"]["sla_class"] == "standard_3d"
    app = act(world, app, "accept", actor=STREET)
    accepted = datetime.fromisoformat(str(app["accepted_at"])).astimezone(SHANGHAI)
    due = datetime.fromisoformat(str(app["due_at"])).astimezone(SHANGHAI)
    assert accepted.weekday() == 0 and due.weekday() == 3  # Monday → Thursday
    assert due.time() == accepted.time()
    assert case_events(world, app)[0]["payload"]["sla_class"] == "standard_3d"


def test_missing_materials_are_refused_and_nothing_is_recorded(world: World) -> None:
    with pytest.raises(ValidationFailed) as e:
        apply(world, materials={"id_card": ["a"]})
    assert e.value.code == "missing_materials"
    with pytest.raises(ValidationFailed) as e:
        apply(world, materials={**SENIOR_CARD, "marriage_cert": ["x"]})
    assert e.value.code == "unknown_material"
    with pytest.raises(NotFound):
        apply(world, "no_such_item")
    with pytest.raises(Forbidden):
        apply(world, actor=STAFF)
    assert world.count("agency_applications") == 0 and world.count("outbox") == 0


def test_an_appointment_needs_no_materials_up_front(world: World) -> None:
    at = world.now + timedelta(days=1)
    app = apply(world, materials={}, appointment_at=at)
    assert app["appointment_at"] is not None and app["materials"] == {}
    app = act(world, app, "accept")
    assert app["status"] == "accepted"
    with pytest.raises(ValidationFailed) as e:
        apply(world, materials={}, appointment_at=world.now - timedelta(hours=1))
    assert e.value.code == "appointment_in_past"


def test_materials_returned_for_correction_then_resubmitted(world: World) -> None:
    app = apply(world)
    app = act(world, app, "return_materials", materials=["photo"], note="照片不清晰，请重新上传")
    assert app["status"] == "returned" and app["returned_materials"] == ["photo"]
    app = act(world, app, "resubmit", actor=RESIDENT, materials={"photo": ["media-photo-2"]})
    assert app["status"] == "submitted" and app["materials"]["photo"] == ["media-photo-2"]
    app = act(world, app, "accept")
    actions = [e["payload"]["action"] for e in case_events(world, app)[1:]]
    assert actions == ["request_info", "provide_info", "accept"]


def test_refusals_change_nothing(world: World) -> None:
    app = apply(world)
    before = len(world.outbox())
    with pytest.raises(Forbidden):  # a resident may not accept
        act(world, app, "accept", actor=RESIDENT)
    with pytest.raises(Conflict) as e:  # close before handling
        act(world, app, "close")
    assert e.value.code == "illegal_transition"
    assert set(e.value.details["allowed"]) >= {"accept", "reject"}
    with pytest.raises(Conflict) as e:
        act(world, app, "accept", version=7)
    assert e.value.code == "version_conflict"
    with pytest.raises(Forbidden) as e:  # staff of another community
        act(world, app, "accept", actor=FAR_STAFF, prefix="329901001001")
    assert e.value.code == "outside_jurisdiction"
    with pytest.raises(Forbidden):  # another resident
        act(world, app, "withdraw", actor=OTHER)
    with pytest.raises(ValidationFailed):
        act(world, app, "reject")  # a reason is required
    assert len(world.outbox()) == before
    view = agency.get(
        world.uow(),
        GetAgencyApplicationRequest(
            application_id=app["application_id"],
            viewer_id="staff-1",
            viewer_role="community_staff",
            jurisdiction_prefix=COMMUNITY[:9],
        ),
    )
    assert view["version"] == 1 and view["status"] == "submitted"


def test_the_resident_may_withdraw_and_only_they_see_it(world: World) -> None:
    app = apply(world)
    app = act(world, app, "withdraw", actor=RESIDENT)
    assert app["status"] == "withdrawn" and app["allowed_actions"] == []
    assert case_events(world, app)[-1]["payload"]["status"] == "rejected"
    with pytest.raises(Forbidden):
        agency.get(
            world.uow(),
            GetAgencyApplicationRequest(
                application_id=app["application_id"], viewer_id=OTHER.id, viewer_role="citizen"
            ),
        )
    mine = agency.get(
        world.uow(),
        GetAgencyApplicationRequest(
            application_id=app["application_id"], viewer_id=RESIDENT.id, viewer_role="citizen"
        ),
    )
    assert mine["status"] == "withdrawn"


def test_apply_with_a_client_id_is_idempotent(world: World) -> None:
    key = uuid.uuid4()
    first = apply(world, application_id=key)
    again = apply(world, application_id=key)
    assert first["application_id"] == again["application_id"] == str(key)
    assert world.count("agency_applications") == 1
    assert len([e for e in world.outbox() if e["type"] == "case.created"]) == 1


def test_lists_for_the_resident_and_the_community_queue(world: World) -> None:
    a = apply(world)
    apply(world, actor=OTHER)
    act(world, a, "accept")
    mine = agency.list_applications(
        world.uow(), ListAgencyApplicationsRequest(account_id=RESIDENT.id)
    )
    assert mine["total"] == 1 and mine["items"][0]["applicant_id"] == RESIDENT.id
    queue = agency.list_applications(world.uow(), ListAgencyApplicationsRequest(prefix=COMMUNITY))
    assert queue["total"] == 2
    waiting = agency.list_applications(
        world.uow(), ListAgencyApplicationsRequest(prefix=COMMUNITY, status="submitted")
    )
    assert waiting["total"] == 1
    elsewhere = agency.list_applications(world.uow(), ListAgencyApplicationsRequest(prefix="3300"))
    assert elsewhere["total"] == 0


def test_late_close_is_not_on_time(world: World) -> None:
    app = act(world, apply(world), "accept")
    app = act(world, app, "handle")
    world.clock.advance(days=3)
    app = act(world, app, "feed_back", result="已办结")
    app = act(world, app, "close")
    assert app["on_time"] is False


# --- the gateway routes over the real service ---------------------------------------------


class _Rpc(DirectRpc):
    """petitions for real; grids answers that COMMUNITY is a community."""

    async def call(self, service: str, method: str, **kwargs: Any) -> Any:
        if service == "grids" and method == "unit_children":
            return {"units": [{"code": GRID, "name": "一网格", "level": "grid"}]}
        if service == "grids":
            code = kwargs["code"]
            level = "community" if len(code) == 12 else "grid"
            return {"code": code, "name": "测试社区", "level": level, "retired": False}
        return await super().call(service, method, **kwargs)


AS = {
    "resident": Principal(RESIDENT.id, "citizen", "王阿姨", ""),
    "other": Principal(OTHER.id, "citizen", "路人", ""),
    "staff": Principal("staff-1", "community_staff", "社区张", COMMUNITY),
    "far_staff": Principal("staff-2", "community_staff", "邻社区", "320102001002"),
    "handler": Principal("h-1", "department_handler", "城管李", ""),
}


@pytest.fixture()
def client(world: World, tmp_path: Any) -> Any:
    svc = worker_factory(
        PetitionsService,
        uow=world.uow,
        redis=SimpleNamespace(publish=lambda channel, message: None, prefix="t:"),
    )
    svc.clock = world.clock
    app = FastAPI()
    app.include_router(agency_routes.router)
    problems.install(app)
    install(app, [agency_routes])
    app.state.keyring = ensure_keyring(str(tmp_path / "keys.json"))  # this run's own keys
    app.state.resources = SimpleNamespace(
        rpc=_Rpc(svc), settings=Settings(), engine=None, redis=None
    )

    @app.middleware("http")
    async def as_principal(request: Request, call_next: Any) -> Any:
        who = request.headers.get("x-test-as")
        if who:
            request.scope.setdefault("yiwang", {})["principal"] = AS[who]
        return await call_next(request)

    with TestClient(app) as c:
        yield c


def test_http_apply_and_handle_through_the_routes(client: TestClient, world: World) -> None:
    items = client.get("/api/v1/agency/items").json()["items"]
    assert len(items) == 44
    body = {"item_code": "senior_card", "community_code": COMMUNITY, "materials": SENIOR_CARD}
    r = client.post("/api/v1/agency/applications", json=body, headers={"x-test-as": "resident"})
    assert r.status_code == 201, r.text
    app = r.json()
    url = f"/api/v1/agency/applications/{app['application_id']}"
    # the wrong people
    assert (
        client.post(
            "/api/v1/agency/applications", json=body, headers={"x-test-as": "staff"}
        ).status_code
        == 403
    )
    assert client.get(url, headers={"x-test-as": "other"}).status_code == 403
    assert client.get(url, headers={"x-test-as": "far_staff"}).json()["code"] == (
        "outside_jurisdiction"
    )
    r = client.post(
        f"{url}/actions",
        headers={"x-test-as": "handler"},
        json={"action": "accept", "expected_version": 1},
    )
    assert r.status_code == 403 and r.json()["code"] == "role_not_allowed"
    bad = {**body, "community_code": COMMUNITY + "001"}
    assert (
        client.post(
            "/api/v1/agency/applications", json=bad, headers={"x-test-as": "resident"}
        ).status_code
        == 422
    )
    # the community worker's steps
    version = 1
    for action, fields in (
        ("accept", {}),
        ("handle", {"note": "代办中"}),
        ("feed_back", {"result": "已办好"}),
        ("close", {}),
    ):
        world.clock.advance(minutes=20)
        r = client.post(
            f"{url}/actions",
            headers={"x-test-as": "staff"},
            json={"action": action, "expected_version": version, "fields": fields},
        )
        assert r.status_code == 200, r.text
        version = r.json()["version"]
    r = client.post(
        f"{url}/actions",
        headers={"x-test-as": "staff"},
        json={"action": "close", "expected_version": version},
    )
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"
    assert client.get(url, headers={"x-test-as": "resident"}).json()["status"] == "closed"
    mine = client.get("/api/v1/agency/applications/mine", headers={"x-test-as": "resident"})
    assert mine.json()["total"] == 1
    queue = client.get(
        "/api/v1/agency/applications", headers={"x-test-as": "staff"}, params={"status": "closed"}
    )
    assert queue.json()["total"] == 1
    far = client.get(
        "/api/v1/agency/applications",
        headers={"x-test-as": "far_staff"},
        params={"jurisdiction": COMMUNITY},
    )
    assert far.status_code == 403 and far.json()["code"] == "outside_jurisdiction"
