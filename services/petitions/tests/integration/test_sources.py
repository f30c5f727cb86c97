"""Duplicates ("me too"), merge/detach/split, hotline import, other sources, categories."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.petitions.service_layer import cases, catalogue, intake
from services.petitions.tests.integration.conftest import (
    CITIZEN,
    GRID,
    STAFF,
    STREET,
    World,
)
from yiwang.contracts import new_envelope
from yiwang.contracts.grids import PatrolFindingReportedV1, SensorAlertRaisedV1
from yiwang.contracts.petitions import (
    CaseActor,
    DeactivateCategoryRequest,
    DetachSupporterRequest,
    GetCaseRequest,
    GetCategoryRequest,
    HotlineTicket,
    ImportHotlineRequest,
    ListCategoriesRequest,
    ListMyCasesRequest,
    MergeCasesRequest,
    PutCategoryRequest,
    SplitCaseRequest,
    SplitPart,
)
from yiwang.errors import Forbidden

pytestmark = pytest.mark.integration
ADMIN = CaseActor(id="admin-1", role="admin")


def _view(world: World, case_id: str) -> dict:
    return cases.get_case(world.uow(), GetCaseRequest(case_id=uuid.UUID(case_id)))


def test_report_within_50_m_and_72_h_is_linked_as_supporter(world: World) -> None:
    first = world.submit()
    world.clock.advance(hours=5)
    env, payload = world.report(lat=32.0502, account="citizen-2")  # ~22 m north
    linked = intake.open_case_from_report(world.uow(), env, payload, world.now)
    assert str(linked) == first
    assert world.count("cases") == 1
    view = _view(world, first)
    assert view["supporter_count"] == 1 and view["timeline"][-1]["action"] == "support"
    status = intake.report_status(world.uow(), payload.report_id)
    assert status["state"] == "linked_duplicate" and str(status["case_id"]) == first
    mine = cases.list_my_cases(world.uow(), ListMyCasesRequest(account_id="citizen-2"))
    assert mine["items"][0]["relation"] == "supporter"
    # farther than 50 m, another category, or later than 72 h: a case of its own
    world.submit(lat=32.0510, account="citizen-3")  # ~110 m
    world.submit(category="appearance.illegal_ads", attributes={}, account="citizen-4")
    world.clock.advance(hours=72)
    world.submit(account="citizen-5")
    assert world.count("cases") == 4


def test_staff_merge_and_detach(world: World) -> None:
    a = world.submit()
    b = world.submit(lat=32.06, account="citizen-2")  # too far to be linked automatically
    merged = cases.merge_cases(
        world.uow(),
        MergeCasesRequest(
            actor=STAFF,
            case_id=uuid.UUID(b),
            target_case_id=uuid.UUID(a),
            expected_version=1,
            note="同一堆垃圾",
        ),
        world.now + timedelta(minutes=5),
    )
    assert merged["supporter_count"] == 1
    assert _view(world, b)["status"] == "merged"
    # the merged reporter follows the target now
    mine = cases.list_my_cases(world.uow(), ListMyCasesRequest(account_id="citizen-2"))
    assert {i["case_id"] for i in mine["items"]} == {uuid.UUID(a), uuid.UUID(b)}
    # a wrong automatic link is undone into a case of its own
    world.clock.advance(minutes=10)
    env, payload = world.report(lat=32.0501, account="citizen-9")
    assert str(intake.open_case_from_report(world.uow(), env, payload, world.now)) == a
    out = cases.detach_supporter(
        world.uow(),
        DetachSupporterRequest(
            actor=STAFF,
            case_id=uuid.UUID(a),
            supporter_id="citizen-9",
            expected_version=world.version(a),
        ),
        world.now + timedelta(minutes=1),
    )
    assert out["case"]["supporter_count"] == 1
    new = _view(world, str(out["new_case_id"]))
    assert new["reporter"]["account_id"] == "citizen-9" and new["status"] == "submitted"
    assert intake.report_status(world.uow(), payload.report_id)["state"] == "case_created"


def test_split_and_closing_the_parent_closes_open_children(world: World) -> None:
    parent = world.submit()
    world.act(parent, "accept")
    view = cases.split_case(
        world.uow(),
        SplitCaseRequest(
            actor=STREET,
            case_id=uuid.UUID(parent),
            expected_version=world.version(parent),
            parts=[
                SplitPart(category="roads.pothole", department="transport", description="路面坑洼"),
                SplitPart(
                    category="appearance.litter", department="urban_management", description="垃圾"
                ),
            ],
        ),
        world.now + timedelta(hours=1),
    )
    assert len(view["child_ids"]) == 2
    created = [
        e
        for e in world.outbox()
        if e["type"] == "case.created" and e["payload"]["parent_case_id"] == parent
    ]
    assert len(created) == 2 and all(e["payload"]["status"] == "accepted" for e in created)
    world.clock.advance(hours=2)
    world.act(parent, "dispatch", department="urban_management")
    handler = CaseActor(id="h", role="department_handler", department="urban_management")
    world.act(parent, "start", handler)
    world.act(parent, "handle", handler, feedback="ok")
    world.act(parent, "verify", CaseActor(id="w", role="grid_worker"))
    world.act(parent, "close")
    for child in view["child_ids"]:
        assert _view(world, child)["status"] == "closed"


def _ticket(no: str, **kw: object) -> HotlineTicket:
    base: dict[str, object] = dict(
        hotline="12345",
        ticket_no=no,
        category="roads.pothole",
        description="路面塌陷",
        grid_code=GRID,
        lat=32.0,
        lon=118.8,
        caller_phone="13900001111",
        attributes={"size": "large"},
    )
    base.update(kw)
    return HotlineTicket.model_validate(base)


def test_hotline_import_is_idempotent(world: World) -> None:
    req = ImportHotlineRequest(
        actor=STREET,
        tickets=[
            _ticket("T20260302001"),
            _ticket("T20260302002", lat=32.01),
            _ticket("T20260302001"),  # repeated in the batch
            _ticket("bad no!"),
            _ticket("T20260302003", grid_code=None),
            _ticket("T20260302004", hotline="110"),
        ],
    )
    out = intake.import_hotline(world.uow, req, world.now)
    assert [r["outcome"] for r in out["results"]] == [
        "created",
        "created",
        "duplicate",
        "refused",
        "refused",
        "refused",
    ]
    assert out["results"][4]["error"]["code"] == "outside_grid"
    again = intake.import_hotline(world.uow, req, world.now)
    assert again["created"] == 0 and again["duplicate"] == 3
    assert world.count("cases", "source = 'hotline'") == 2
    with pytest.raises(Forbidden):
        intake.import_hotline(
            world.uow, ImportHotlineRequest(actor=CITIZEN, tickets=[_ticket("T1234")]), world.now
        )


def test_hotline_case_ids_are_not_derived_from_ticket_numbers(world: World) -> None:
    """An attacker who knows (or guesses) a ticket number cannot compute its case id; the
    ticket number stays the import's idempotency key."""
    req = ImportHotlineRequest(
        actor=STREET, tickets=[_ticket("T20260302101"), _ticket("T20260302101")]
    )
    out = intake.import_hotline(world.uow, req, world.now)
    created, dup = out["results"]
    assert created["outcome"] == "created" and dup["outcome"] == "duplicate"
    case_id = created["case_id"]
    assert dup["case_id"] == case_id
    for key in ("12345:T20260302101", "T20260302101", "hotline:12345:T20260302101"):
        for kind in ("hotline", "report", "ticket"):
            assert case_id != intake.case_id_for(kind, key)
    assert uuid.UUID(case_id).version == 4
    again = intake.import_hotline(world.uow, req, world.now)
    assert [r["case_id"] for r in again["results"]] == [case_id, case_id]
    assert world.count("cases", "source = 'hotline'") == 1


def test_patrol_and_sensor_become_accepted_cases_once(world: World) -> None:
    finding = PatrolFindingReportedV1(
        finding_id=uuid.uuid4(),
        patrol_id=uuid.uuid4(),
        worker_id="worker-7",
        grid_code=GRID,
        category="appearance.illegal_ads",
        description="巡查发现小广告",
        lat=32.0,
        lon=118.8,
        at=world.now,
    )
    env = new_envelope(finding, producer="grids")
    cid = intake.open_case_from_patrol(world.uow(), env, finding, world.now)
    assert intake.open_case_from_patrol(world.uow(), env, finding, world.now) is None
    assert cid is not None
    view = _view(world, cid)
    assert view["status"] == "accepted" and view["source"] == "patrol"
    assert view["timeline"][0]["actor_id"] == "worker-7"
    alert = SensorAlertRaisedV1(
        alert_id=uuid.uuid4(),
        kind="water_zero_use",
        category="alerts.elderly_no_water",
        description="独居老人8小时未用水",
        urgency="urgent",
        household_code="320102001001001001-101",
        grid_code=GRID,
        lat=32.0,
        lon=118.8,
        device_id="WM-1",
        since=world.now - timedelta(hours=8),
        raised_at=world.now,
    )
    sid = intake.open_case_from_sensor(
        world.uow(), new_envelope(alert, producer="grids"), alert, world.now
    )
    assert sid is not None
    sv = _view(world, sid)
    assert sv["category"] == "alerts.elderly_no_water" and sv["status"] == "accepted"
    assert sv["attributes"]["hours_without_use"] == 8


def test_categories_catalogue_crud(world: World) -> None:
    listed = catalogue.list_categories(world.uow(), ListCategoriesRequest())
    codes = {c["code"] for c in listed["items"]}
    assert "appearance.litter" in codes and catalogue.UNCLASSIFIED in codes
    assert sum(1 for c in listed["items"] if not c["group"]) >= 34
    cat = catalogue.get_category(world.uow(), GetCategoryRequest(code="roads.pothole"))
    cat["sla_class"] = "urgent_2h"
    cat.pop("group")
    saved = catalogue.put_category(
        world.uow(), PutCategoryRequest(actor=ADMIN, category=cat), world.now
    )
    assert saved["sla_class"] == "urgent_2h"
    new = {
        "code": "roads.bridge",
        "name_zh": "桥梁损坏",
        "name_en": "Bridge damage",
        "department": "transport",
        "sla_class": "standard_3d",
    }
    catalogue.put_category(world.uow(), PutCategoryRequest(actor=ADMIN, category=new), world.now)
    case_id = world.submit(category="roads.bridge", attributes={})
    assert _view(world, case_id)["category"] == "roads.bridge"
    off = catalogue.deactivate_category(
        world.uow(), DeactivateCategoryRequest(actor=ADMIN, code="roads.bridge"), world.now
    )
    assert off["active"] is False
    again = world.submit(category="roads.bridge", attributes={}, lat=31.9)
    assert _view(world, again)["category"] == catalogue.UNCLASSIFIED
    with pytest.raises(Forbidden):
        catalogue.put_category(
            world.uow(), PutCategoryRequest(actor=STAFF, category=new), world.now
        )
