"""Intake and lifecycle against the real database: idempotency, events with seq, optimistic
concurrency with real threads, rating rework, command-centre routing and escalation."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest

from services.petitions.service_layer import cases, intake, sweeps
from services.petitions.tests.integration.conftest import (
    CITIZEN,
    GRID,
    HANDLER,
    STAFF,
    WORKER,
    World,
)
from yiwang.contracts import new_envelope
from yiwang.contracts.command import CaseEscalatedV1, CaseRoutedV1
from yiwang.contracts.petitions import (
    CaseActionRequest,
    GetCaseRequest,
    ListMyCasesRequest,
    PublicMapRequest,
)
from yiwang.errors import Conflict, Forbidden, NotFound

pytestmark = pytest.mark.integration


def test_intake_is_idempotent_on_redelivery(world: World) -> None:
    env, payload = world.report()
    first = intake.open_case_from_report(world.uow(), env, payload, world.now)
    again = intake.open_case_from_report(world.uow(), env, payload, world.now)
    assert first is not None and again is None
    assert world.count("cases") == 1
    created = [e for e in world.outbox() if e["type"] == "case.created"]
    assert len(created) == 1
    p = created[0]["payload"]
    assert p["seq"] == 1 and p["sla_class"] == "quick_1d" and p["department"] == "urban_management"
    assert first == uuid.uuid5(uuid.NAMESPACE_URL, f"yiwang:report:{payload.report_id}")
    status = intake.report_status(world.uow(), payload.report_id)
    assert status["state"] == "case_created" and status["case_status"] == "submitted"


def test_unknown_category_still_becomes_a_case_noted_in_the_timeline(world: World) -> None:
    case_id = world.submit(category="nonsense.thing", attributes={"x": 1})
    view = cases.get_case(world.uow(), GetCaseRequest(case_id=uuid.UUID(case_id)))
    assert view["category"] == "other.unclassified"
    first = view["timeline"][0]
    assert "nonsense.thing" in first["note"]
    assert first["data"]["original_category"] == "nonsense.thing"


def _walk(world: World, case_id: str) -> None:
    world.act(case_id, "accept")
    world.act(case_id, "dispatch", department="urban_management")
    world.act(case_id, "start", HANDLER)
    world.act(case_id, "handle", HANDLER, feedback="已清理", attachments=["m/1.jpg"])
    world.act(case_id, "verify", WORKER)
    world.act(case_id, "close")


def test_every_transition_persists_and_emits_case_transitioned_with_seq(world: World) -> None:
    case_id = world.submit()
    _walk(world, case_id)
    view = world.act(case_id, "rate", CITIZEN, score=5, comment="很好")
    assert view["status"] == "evaluated" and view["version"] == 8
    assert world.version(case_id) == 8
    events = world.events_of(case_id)
    assert [e["type"] for e in events] == ["case.created"] + ["case.transitioned"] * 7
    assert [e["payload"]["seq"] for e in events] == list(range(1, 9))
    assert [e["payload"]["action"] for e in events[1:]] == [
        "accept",
        "dispatch",
        "start",
        "handle",
        "verify",
        "close",
        "rate",
    ]
    assert events[-1]["payload"]["rating"] == 5
    staff_view = cases.get_case(world.uow(), GetCaseRequest(case_id=uuid.UUID(case_id)))
    assert len(staff_view["timeline"]) == 8
    assert staff_view["reporter"]["phone"] == "138****5678"
    clear = cases.get_case(world.uow(), GetCaseRequest(case_id=uuid.UUID(case_id), unmask=True))
    assert clear["reporter"]["phone"] == "13812345678"
    # every step queued its SSE feed entry
    assert world.count("notifications", "channel = 'case'") == 8


def test_illegal_action_answers_conflict_with_allowed_actions(world: World) -> None:
    case_id = world.submit()
    with pytest.raises(Conflict) as e:
        world.act(case_id, "close")
    assert e.value.code == "illegal_transition"
    assert "accept" in e.value.details["allowed"]
    with pytest.raises(Forbidden):
        world.act(case_id, "accept", CITIZEN)
    assert world.version(case_id) == 1


def test_two_concurrent_actions_exactly_one_wins(world: World) -> None:
    case_id = world.submit()
    world.act(case_id, "accept")
    version = world.version(case_id)
    barrier = threading.Barrier(2)
    results: list[Any] = []

    def attempt(dept: str) -> None:
        req = CaseActionRequest(
            case_id=uuid.UUID(case_id),
            action="dispatch",
            actor=STAFF,
            expected_version=version,
            fields={"department": dept},
        )
        barrier.wait()
        try:
            results.append(cases.case_action(world.uow(), req, world.now + timedelta(hours=1)))
        except Conflict as exc:
            results.append(exc)

    threads = [threading.Thread(target=attempt, args=(d,)) for d in ("roads", "water")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wins = [r for r in results if isinstance(r, dict)]
    losses = [r for r in results if isinstance(r, Conflict)]
    assert len(wins) == 1 and len(losses) == 1
    assert losses[0].code == "version_conflict"
    assert world.version(case_id) == version + 1
    assert (
        len([e for e in world.events_of(case_id) if e["payload"].get("action") == "dispatch"]) == 1
    )


def test_unsatisfied_rating_reopens_once_then_goes_to_community_review(world: World) -> None:
    case_id = world.submit()
    _walk(world, case_id)
    view = world.act(case_id, "rate", CITIZEN, score=2, comment="没清干净")
    assert view["status"] == "dispatched" and view["rework_count"] == 1
    rated = world.events_of(case_id)[-1]["payload"]
    assert rated["action"] == "rate" and rated["rework"] is True and rated["rating"] == 2
    world.act(case_id, "start", HANDLER)
    world.act(case_id, "handle", HANDLER, feedback="再次清理")
    world.act(case_id, "verify", WORKER)
    world.act(case_id, "close")
    view = world.act(case_id, "rate", CITIZEN, score=1)
    assert view["status"] == "community_review"
    view = world.act(case_id, "conclude_review", STAFF, note="处置到位")
    assert view["status"] == "evaluated"


def test_rating_by_someone_else_or_before_closing_is_refused(world: World) -> None:
    case_id = world.submit()
    with pytest.raises(Conflict):
        world.act(case_id, "rate", CITIZEN, score=4)
    _walk(world, case_id)
    from yiwang.contracts.petitions import CaseActor

    with pytest.raises(NotFound):  # someone else's case: as if it did not exist
        world.act(case_id, "rate", CaseActor(id="citizen-2", role="citizen"), score=1)


def test_auto_evaluation_after_seven_days_and_notifications_delivered(world: World) -> None:
    case_id = world.submit()
    _walk(world, case_id)
    world.clock.advance(days=6)
    assert sweeps.auto_evaluate(world.uow, world.now) == 0
    world.clock.advance(days=1, minutes=1)
    assert sweeps.auto_evaluate(world.uow, world.now) == 1
    view = cases.get_case(world.uow(), GetCaseRequest(case_id=uuid.UUID(case_id)))
    assert view["status"] == "evaluated" and view["auto_evaluated"] is True
    assert world.events_of(case_id)[-1]["payload"]["auto"] is True
    sender = sweeps.LogSender()
    published: list[tuple[str, str]] = []
    sent = sweeps.deliver_notifications(
        world.uow, sender, lambda ch, m: published.append((ch, m)), "t:", world.now
    )
    assert sent == world.count("notifications")
    assert {ch for ch, _ in published} == {f"t:case:{case_id}"}
    assert any(m.channel == "sse" or m.channel == "sms" for m in sender.sent) or published
    assert world.count("notifications", "sent_at IS NULL") == 0


def test_info_request_expires_and_contact_is_erased_after_retention(world: World) -> None:
    case_id = world.submit()
    world.act(case_id, "request_info", STAFF, question="具体在哪个门口？", deadline_hours=24)
    world.clock.advance(hours=25)
    assert sweeps.expire_info_requests(world.uow, world.now) == 1
    view = world.act(case_id, "reject", STAFF, reason="重复反映")
    assert view["status"] == "rejected"
    world.clock.advance(days=366)
    assert sweeps.erase_contacts(world.uow, world.now) == 1
    view = cases.get_case(world.uow(), GetCaseRequest(case_id=uuid.UUID(case_id), unmask=True))
    assert view["reporter"]["phone"] is None and view["contact_erased"] is True
    assert view["timeline"][-1]["action"] == "erase_contact"


def test_routed_dispatches_and_escalated_moves_the_case_up(world: World) -> None:
    case_id = world.submit()
    world.act(case_id, "accept")
    routed = CaseRoutedV1(
        case_id=uuid.UUID(case_id),
        department="urban_management",
        rule_id="r1",
        at=world.now + timedelta(minutes=1),
    )
    env = new_envelope(routed, producer="command")
    assert cases.apply_case_routed(world.uow(), env, routed, world.now)
    assert not cases.apply_case_routed(world.uow(), env, routed, world.now)  # redelivered
    view = cases.get_case(world.uow(), GetCaseRequest(case_id=uuid.UUID(case_id)))
    assert view["status"] == "dispatched" and view["department"] == "urban_management"
    esc = CaseEscalatedV1(
        case_id=uuid.UUID(case_id),
        escalation_no=1,
        from_level="community",
        to_level="street",
        jurisdiction_code=GRID[:9],
        reason="overdue",
        deadline=world.now + timedelta(days=1),
        at=world.now + timedelta(minutes=2),
    )
    assert cases.apply_case_escalated(
        world.uow(), new_envelope(esc, producer="command"), esc, world.now
    )
    view = cases.get_case(world.uow(), GetCaseRequest(case_id=uuid.UUID(case_id)))
    assert view["jurisdiction_code"] == GRID[:9] and view["level"] == "street"
    assert view["timeline"][-1]["action"] == "escalate"
    last = world.events_of(case_id)[-1]["payload"]
    assert last["action"] == "escalate" and last["jurisdiction_code"] == GRID[:9]


def test_citizen_sees_own_cases_only_and_public_map_hides_personal_data(world: World) -> None:
    mine = world.submit()
    world.submit(category="disputes.neighbour", attributes={}, lat=32.06)
    page = cases.list_my_cases(world.uow(), ListMyCasesRequest(account_id="citizen-1"))
    assert page["total"] == 2
    view = cases.get_case(
        world.uow(),
        GetCaseRequest(case_id=uuid.UUID(mine), viewer_id="citizen-1", viewer_role="citizen"),
    )
    assert view["case_id"] == mine
    with pytest.raises(NotFound):
        cases.get_case(
            world.uow(),
            GetCaseRequest(case_id=uuid.UUID(mine), viewer_id="other", viewer_role="citizen"),
        )
    geo = cases.public_map(world.uow(), PublicMapRequest(prefix=GRID[:6]))
    assert [f["properties"]["case_id"] for f in geo["features"]] == [mine]  # disputes are private
    props = geo["features"][0]["properties"]
    assert "title" not in props and "reporter" not in props
    assert geo["features"][0]["geometry"]["coordinates"] == [118.79, 32.05]
