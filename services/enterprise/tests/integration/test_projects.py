"""Key-project approvals: early warning once, lateness once, out-of-order refused."""

from __future__ import annotations

import pytest

from services.enterprise.service_layer import projects, sweeps
from yiwang.contracts.enterprise import (
    Actor,
    ApproveStepRequest,
    CreateProjectRequest,
    ListProjectsRequest,
    StartProjectRequest,
    StepIn,
)
from yiwang.errors import Conflict, Forbidden

from .conftest import DISTRICT, STAFF, World

pytestmark = pytest.mark.integration

DEV = Actor(
    id="dr-1",
    role="department_handler",
    jurisdiction_code=DISTRICT,
    department="development_reform",
)
NR = Actor(
    id="nr-1", role="department_handler", jurisdiction_code=DISTRICT, department="natural_resources"
)


def _project(world: World) -> str:
    p = projects.create_project(
        world.uow(),
        CreateProjectRequest(
            actor=STAFF,
            project_id="KP-T1",
            name="智能制造产业园",
            district_code=DISTRICT,
            leader_id="leader-1",
            steps=[
                StepIn(name="项目备案", department="development_reform", working_days=1),
                StepIn(name="用地预审", department="natural_resources", working_days=5),
            ],
        ),
        world.now,
    )
    assert p["status"] == "planned"
    projects.start_project(
        world.uow(), StartProjectRequest(actor=STAFF, project_id="KP-T1"), world.now
    )
    return str(p["project_id"])


def test_early_warning_once_then_late_once(world: World) -> None:
    pid = _project(world)  # Monday 10:00, step 0 has one working day: warn Tue 05:12, due 10:00
    world.clock.advance(hours=18)  # Tue 04:00: 75 % elapsed
    assert sweeps.run_sweeps(world.uow, world.now)["steps_warned"] == 0
    world.clock.advance(hours=2)  # Tue 06:00: past 80 %
    assert sweeps.run_sweeps(world.uow, world.now)["steps_warned"] == 1
    assert sweeps.run_sweeps(world.uow, world.now)["steps_warned"] == 0
    world.clock.advance(hours=3)
    assert sweeps.run_sweeps(world.uow, world.now) | {"at": None} == {
        "demands_overdue": 0,
        "steps_warned": 0,
        "steps_late": 0,
        "at": None,
    }
    world.clock.advance(hours=2)  # Tue 11:00: late
    result = sweeps.run_sweeps(world.uow, world.now)
    assert (result["steps_warned"], result["steps_late"]) == (0, 1)
    assert sweeps.run_sweeps(world.uow, world.now)["steps_late"] == 0
    types = world.outbox_types()
    assert types.count("approval_step.warned") == 1 and types.count("approval_step.late") == 1
    warned = next(e for e in world.outbox() if e["type"] == "approval_step.warned")["payload"]
    assert warned["project_id"] == pid and warned["department"] == "development_reform"
    assert warned["jurisdiction_code"] == DISTRICT and warned["step_index"] == 0

    p = projects.approve_step(
        world.uow(), ApproveStepRequest(actor=DEV, project_id=pid, step_index=0), world.now
    )
    assert p["progress"]["done"] == 1 and p["progress"]["late_steps"] == ["项目备案"]
    approved = [e for e in world.outbox() if e["type"] == "approval_step.approved"]
    assert approved[0]["payload"]["late"] is True
    late = projects.list_projects(world.uow(), ListProjectsRequest(late_only=True), world.now)
    assert [x["project_id"] for x in late["items"]] == [pid]


def test_out_of_order_approval_is_refused_and_nothing_changes(world: World) -> None:
    pid = _project(world)
    before = projects.get_project(world.uow(), pid, world.now)
    outbox_before = world.outbox_types()
    with pytest.raises(Conflict) as err:
        projects.approve_step(
            world.uow(), ApproveStepRequest(actor=NR, project_id=pid, step_index=1), world.now
        )
    assert err.value.code == "step_out_of_order"
    with pytest.raises(Forbidden) as ferr:
        projects.approve_step(
            world.uow(), ApproveStepRequest(actor=NR, project_id=pid, step_index=0), world.now
        )
    assert ferr.value.code == "not_step_owner"
    after = projects.get_project(world.uow(), pid, world.now)
    assert after == before and world.outbox_types() == outbox_before

    projects.approve_step(
        world.uow(), ApproveStepRequest(actor=DEV, project_id=pid, step_index=0), world.now
    )
    p = projects.approve_step(
        world.uow(), ApproveStepRequest(actor=NR, project_id=pid, step_index=1), world.now
    )
    assert p["status"] == "approved" and p["version"] == before["version"] + 2
    assert world.outbox_types()[-3:] == [
        "approval_step.approved",
        "approval_step.approved",
        "key_project.approved",
    ]
