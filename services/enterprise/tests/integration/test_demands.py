"""Demand lifecycle with rework, the overdue sweep, events in the outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.enterprise.adapters.repository import DEMANDS
from services.enterprise.service_layer import demands, sweeps
from yiwang.contracts.enterprise import (
    AnswerDemandRequest,
    AssignDemandRequest,
    FileDemandRequest,
    ListDemandsRequest,
    RateDemandRequest,
    ReplyDemandRequest,
)
from yiwang.errors import Conflict, Forbidden

from .conftest import DISTRICT, HANDLER, STAFF, World, owner

pytestmark = pytest.mark.integration


def _file(world: World, ent: str, urgency: str = "normal") -> dict:  # type: ignore[type-arg]
    return demands.file_demand(
        world.uow(),
        FileDemandRequest(
            actor=owner(),
            enterprise_id=ent,
            category="power_supply",
            title="新厂区双回路供电接入",
            description="新厂区需要双回路供电，供电公司迟迟未批复。",
            urgency=urgency,  # type: ignore[arg-type]
        ),
        world.now,
    )


def test_demand_lifecycle_with_rework(world: World) -> None:
    world.responsibility()
    ent = world.enterprise()
    base = len(world.outbox())
    d = _file(world, ent)
    demand_id = d["demand_id"]
    assert d["status"] == "filed" and d["title"] == "新厂区双回路供电接入"

    d = demands.assign_demand(
        world.uow(), AssignDemandRequest(actor=STAFF, demand_id=demand_id), world.now
    )
    assert d["status"] == "assigned" and d["department"] == "industry_info"
    assert d["leader_id"] == "leader-1" and d["due_at"] is not None

    world.clock.advance(hours=2)
    d = demands.reply_demand(
        world.uow(),
        ReplyDemandRequest(actor=HANDLER, demand_id=demand_id, text="已协调供电公司"),
        world.now,
    )
    assert d["status"] == "in_progress"
    outsider = HANDLER.model_copy(update={"department": "housing", "id": "h-2"})
    with pytest.raises(Forbidden):
        demands.answer_demand(
            world.uow(),
            AnswerDemandRequest(actor=outsider, demand_id=demand_id, text="x"),
            world.now,
        )
    d = demands.answer_demand(
        world.uow(),
        AnswerDemandRequest(actor=HANDLER, demand_id=demand_id, text="本周接入"),
        world.now,
    )
    assert d["status"] == "answered"

    d = demands.rate_demand(
        world.uow(), RateDemandRequest(actor=owner(), demand_id=demand_id, score=2), world.now
    )
    assert d["status"] == "in_progress" and d["rework_count"] == 1
    d = demands.answer_demand(
        world.uow(),
        AnswerDemandRequest(actor=HANDLER, demand_id=demand_id, text="已接入"),
        world.now,
    )
    d = demands.rate_demand(
        world.uow(), RateDemandRequest(actor=owner(), demand_id=demand_id, score=5), world.now
    )
    assert d["status"] == "closed" and d["score"] == 5 and d["ratings"] == [2, 5]
    kinds = [e["kind"] for e in d["timeline"]]
    assert kinds[0] == "filed" and kinds[-1] == "closed" and "rework" in kinds

    events = world.outbox()[base:]
    assert [e["type"] for e in events] == [
        "demand.filed",
        "demand.assigned",
        "demand.answered",
        "demand.rated",
        "demand.assigned",
        "demand.answered",
        "demand.rated",
        "demand.closed",
    ]
    assert [e["payload"]["seq"] for e in events] == list(range(1, 9))
    first = events[0]["payload"]
    assert first["source"] == "enterprise" and first["jurisdiction_code"] == DISTRICT
    assert first["enterprise_name"] and first["urgency"] == "normal"
    assert events[4]["payload"]["rework"] == 1 and events[4]["payload"]["deadline"]
    assert events[3]["payload"]["satisfied"] is False


def test_overdue_sweep_reports_once_per_sla_period(world: World) -> None:
    world.responsibility()
    ent = world.enterprise()
    demand_id = _file(world, ent, urgency="urgent")["demand_id"]
    d = demands.assign_demand(
        world.uow(), AssignDemandRequest(actor=STAFF, demand_id=demand_id), world.now
    )
    assert sweeps.run_sweeps(world.uow, world.now)["demands_overdue"] == 0

    world.clock.advance(days=1, minutes=1)  # Tuesday 10:01, one working day later
    assert sweeps.run_sweeps(world.uow, world.now)["demands_overdue"] == 1
    assert sweeps.run_sweeps(world.uow, world.now)["demands_overdue"] == 0
    world.clock.advance(hours=5)
    assert sweeps.run_sweeps(world.uow, world.now)["demands_overdue"] == 0
    overdue = [e for e in world.outbox() if e["type"] == "demand.overdue"]
    assert len(overdue) == 1
    assert overdue[0]["payload"]["overdue_seconds"] > 0
    assert overdue[0]["payload"]["deadline"] is not None and d["due_at"] is not None

    listed = demands.list_demands(world.uow(), ListDemandsRequest(overdue=True), world.now)
    assert [x["demand_id"] for x in listed["items"]] == [demand_id]
    assert listed["items"][0]["overdue"] is True


def test_expected_version_and_stale_save_are_conflicts(world: World) -> None:
    world.responsibility()
    ent = world.enterprise()
    demand_id = _file(world, ent)["demand_id"]
    with pytest.raises(Conflict) as err:
        demands.assign_demand(
            world.uow(),
            AssignDemandRequest(actor=STAFF, demand_id=demand_id, expected_version=7),
            world.now,
        )
    assert err.value.code == "version_conflict"
    uow = world.uow()
    with uow:
        demand, version = DEMANDS.get(uow.session, demand_id)
    demands.assign_demand(
        world.uow(), AssignDemandRequest(actor=STAFF, demand_id=demand_id), world.now
    )
    uow = world.uow()
    with uow, pytest.raises(Conflict) as err:
        DEMANDS.save(uow.session, demand_id, demand, version, world.now)
    assert err.value.code == "version_conflict"


def test_rework_restarts_sla_and_can_be_overdue_again(world: World) -> None:
    world.responsibility()
    ent = world.enterprise()
    demand_id = _file(world, ent, urgency="urgent")["demand_id"]
    demands.assign_demand(
        world.uow(), AssignDemandRequest(actor=STAFF, demand_id=demand_id), world.now
    )
    world.clock.advance(days=2)
    assert sweeps.run_sweeps(world.uow, world.now)["demands_overdue"] == 1
    demands.answer_demand(
        world.uow(),
        AnswerDemandRequest(actor=HANDLER, demand_id=demand_id, text="答复"),
        world.now,
    )
    demands.rate_demand(
        world.uow(), RateDemandRequest(actor=owner(), demand_id=demand_id, score=1), world.now
    )
    world.clock.advance(timedelta(days=1, hours=1))
    assert sweeps.run_sweeps(world.uow, world.now)["demands_overdue"] == 1
    assert world.outbox_types().count("demand.overdue") == 2
