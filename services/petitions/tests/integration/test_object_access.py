"""Object-level access to cases (yiwang.access), written as the attacks of the security
review: a department acting on another department's case, a citizen acting on someone
else's case. Each is refused as if the case did not exist, before its version or status is
revealed, and changes nothing."""

from __future__ import annotations

import uuid

import pytest

from services.petitions.service_layer import cases
from services.petitions.tests.integration.conftest import HANDLER, World
from yiwang.contracts.petitions import CaseActionRequest, CaseActor, GetCaseRequest
from yiwang.errors import NotFound

pytestmark = pytest.mark.integration

TRANSPORT = CaseActor(id="t-1", role="department_handler", department="transport")
NO_DEPT = CaseActor(id="d-0", role="department_handler")
STRANGER = CaseActor(id="citizen-2", role="citizen")
OWNER = CaseActor(id="citizen-1", role="citizen")


def _snapshot(world: World, case_id: str) -> tuple[int, int]:
    return world.version(case_id), len(world.events_of(case_id))


def _dispatched(world: World, department: str = "urban_management") -> str:
    case_id = world.submit()
    world.act(case_id, "accept")
    world.act(case_id, "dispatch", department=department)
    return case_id


@pytest.mark.parametrize("action", ["start", "request_info"])
@pytest.mark.parametrize("intruder", [TRANSPORT, NO_DEPT], ids=["other_dept", "no_dept"])
def test_a_department_cannot_act_on_another_departments_case(
    world: World, action: str, intruder: CaseActor
) -> None:
    case_id = _dispatched(world)
    before = _snapshot(world, case_id)
    fields = {"question": "地址？"} if action == "request_info" else {}
    with pytest.raises(NotFound) as e:
        world.act(case_id, action, intruder, **fields)
    assert e.value.code == "case_not_found" and e.value.status == 404
    assert _snapshot(world, case_id) == before
    # ... nor with a stale version: the answer is the same 404 (no version, no status)
    with pytest.raises(NotFound) as e:
        world.act(case_id, action, intruder, version=1, **fields)
    assert "version" not in e.value.details and "status" not in e.value.details
    # the department it was dispatched to still can
    assert world.act(case_id, "start", HANDLER)["status"] == "in_progress"


def test_a_department_cannot_read_another_departments_case(world: World) -> None:
    case_id = _dispatched(world)
    req = GetCaseRequest(
        case_id=uuid.UUID(case_id),
        viewer_id="t-1",
        viewer_role="department_handler",
        viewer_department="transport",
    )
    with pytest.raises(NotFound):
        cases.get_case(world.uow(), req)
    ok = req.model_copy(update={"viewer_department": "urban_management"})
    assert cases.get_case(world.uow(), ok)["department"] == "urban_management"


def test_a_citizen_acting_on_someone_elses_case_learns_nothing(world: World) -> None:
    case_id = world.submit()  # reported by citizen-1
    before = _snapshot(world, case_id)
    for version in (1, 99):  # right or stale version: the same 404, no version or status
        req = CaseActionRequest(
            case_id=uuid.UUID(case_id),
            action="provide_info",
            actor=STRANGER,
            expected_version=version,
            fields={"answer": "x"},
        )
        with pytest.raises(NotFound) as e:
            cases.case_action(world.uow(), req, world.now)
        assert e.value.code == "case_not_found"
        assert set(e.value.details) == {"case_id"}
    assert _snapshot(world, case_id) == before
    unknown = CaseActionRequest(
        case_id=uuid.uuid4(),
        action="provide_info",
        actor=STRANGER,
        expected_version=1,
        fields={"answer": "x"},
    )
    with pytest.raises(NotFound) as e2:
        cases.case_action(world.uow(), unknown, world.now)
    assert e2.value.code == "case_not_found"
    # the owner with a stale version does get the version conflict
    from yiwang.errors import Conflict

    with pytest.raises(Conflict):
        world.act(case_id, "provide_info", OWNER, version=99, answer="x")
