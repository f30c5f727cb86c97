"""Object access and versioned writes of the command centre, written as the attacks of the
security review: a double-clicked escalation, two dispatchers at once, a department acting
on (or reading) a case of another department, staff answering a supervision in another
district in the name of one of its handlers, a department reporting for a whistle that did
not summon it. Each is refused with the right 4xx and changes nothing."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from services.command.adapters.tables import case_events, case_view, supervisions, whistles
from services.command.service_layer import dispatch, engage, sla, view
from services.command.tests.integration.conftest import T0, Petitions
from yiwang.contracts.command import (
    Actor,
    AnswerSupervisionRequest,
    BlowWhistleRequest,
    DispatchCaseRequest,
    ReportForDutyRequest,
    SuperviseCaseRequest,
)
from yiwang.errors import Conflict, DomainError, Forbidden, NotFound
from yiwang.uow import UnitOfWork

pytestmark = pytest.mark.integration

Factory = Callable[[], UnitOfWork]
CITY = Actor(id="c1", role="city_staff", jurisdiction_code="3299")
STREET = Actor(id="st1", role="street_staff", jurisdiction_code="329911001")
LEADER = Actor(id="L1", role="leader", jurisdiction_code="3299")
TRANSPORT = Actor(
    id="t1", role="department_handler", jurisdiction_code="3299", department="transport"
)
URBAN = Actor(
    id="u1", role="department_handler", jurisdiction_code="3299", department="urban_management"
)


def state(engine: Engine, case_id: uuid.UUID) -> tuple[Any, ...]:
    """Everything a refused write must leave alone."""
    with engine.connect() as c:
        r = c.execute(
            sa.select(
                case_view.c.last_seq,
                case_view.c.level,
                case_view.c.escalation_count,
                case_view.c.supervision_count,
                case_view.c.whistle_count,
            ).where(case_view.c.case_id == case_id)
        ).one()
        n = c.execute(
            sa.select(sa.func.count())
            .select_from(case_events)
            .where(case_events.c.case_id == case_id)
        ).scalar_one()
        out = c.execute(sa.text("SELECT count(*) FROM command.outbox")).scalar_one()
        audit = c.execute(sa.text("SELECT count(*) FROM command.audit_log")).scalar_one()
    return (*r, n, out, audit)


def version(engine: Engine, case_id: uuid.UUID) -> int:
    return int(state(engine, case_id)[0])


def dispatched(petitions: Callable[..., Petitions], grid: str, department: str) -> Petitions:
    p = petitions(grid, category="roads.pothole", sla_class="standard_3d")
    p.feed(p.created_env())
    p.feed(p.step("accept", "accepted", T0 + timedelta(minutes=5)))
    p.feed(p.step("dispatch", "dispatched", T0 + timedelta(minutes=6), department=department))
    return p


def test_a_double_clicked_escalation_moves_one_level(
    petitions: Callable[..., Petitions], engine: Engine, factory: Factory
) -> None:
    p = dispatched(petitions, "329911001001001", "transport")
    v = version(engine, p.case_id)
    first = sla.escalate_case(
        factory(), p.case_id, CITY, "本级无法解决", T0 + timedelta(hours=1), expected_version=v
    )
    assert first["to_level"] == "community" and first["version"] > v
    before = state(engine, p.case_id)
    with pytest.raises(Conflict) as e:
        sla.escalate_case(
            factory(),
            p.case_id,
            CITY,
            "本级无法解决",
            T0 + timedelta(hours=1, seconds=1),
            expected_version=v,
        )
    assert e.value.code == "version_conflict" and e.value.status == 409
    assert e.value.details["actual_version"] == first["version"]
    assert state(engine, p.case_id) == before  # still one level up, nothing recorded


def test_two_concurrent_manual_dispatches_one_wins_the_other_409(
    petitions: Callable[..., Petitions], engine: Engine, factory: Factory
) -> None:
    p = dispatched(petitions, "329911001001002", "transport")
    v = version(engine, p.case_id)
    barrier = threading.Barrier(2)
    results: list[Any] = []

    def go(department: str) -> None:
        req = DispatchCaseRequest(
            case_id=p.case_id, department=department, actor=CITY, expected_version=v
        )
        barrier.wait()
        try:
            results.append(dispatch.dispatch_case(factory(), req, T0 + timedelta(hours=1)))
        except DomainError as exc:
            results.append(exc)

    threads = [threading.Thread(target=go, args=(d,)) for d in ("police", "water")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wins = [r for r in results if isinstance(r, dict)]
    losses = [r for r in results if isinstance(r, DomainError)]
    assert len(wins) == 1 and len(losses) == 1
    assert isinstance(losses[0], Conflict) and losses[0].code == "version_conflict"
    with engine.connect() as c:
        routed = c.execute(
            sa.text(
                "SELECT count(*) FROM command.outbox WHERE routing_key = "
                "'case.routed' AND body::jsonb -> 'payload' ->> 'case_id' = :c "
                "AND (body::jsonb -> 'payload' ->> 'manual')::boolean"
            ),
            {"c": str(p.case_id)},
        ).scalar_one()
    assert routed == 1  # one order left, not two
    # a stale version, even alone, is refused and changes nothing
    before = state(engine, p.case_id)
    with pytest.raises(Conflict):
        dispatch.dispatch_case(
            factory(),
            DispatchCaseRequest(
                case_id=p.case_id, department="housing", actor=CITY, expected_version=v
            ),
            T0 + timedelta(hours=2),
        )
    assert state(engine, p.case_id) == before


def test_stale_whistle_and_supervision_are_refused(
    petitions: Callable[..., Petitions], engine: Engine, factory: Factory
) -> None:
    p = dispatched(petitions, "329911001001003", "transport")
    v = version(engine, p.case_id)
    sup = engage.supervise_case(
        factory(),
        SuperviseCaseRequest(case_id=p.case_id, note="快办", actor=LEADER, expected_version=v),
        T0,
    )
    assert sup["version"] > v
    before = state(engine, p.case_id)
    with pytest.raises(Conflict):
        engage.supervise_case(
            factory(),
            SuperviseCaseRequest(case_id=p.case_id, note="快办", actor=LEADER, expected_version=v),
            T0,
        )
    with pytest.raises(Conflict):
        engage.blow_whistle(
            factory(),
            BlowWhistleRequest(
                case_id=p.case_id,
                caller_code="329911001",
                departments=["police"],
                actor=STREET,
                expected_version=v,
            ),
            T0,
        )
    assert state(engine, p.case_id) == before
    w = engage.blow_whistle(
        factory(),
        BlowWhistleRequest(
            case_id=p.case_id,
            caller_code="329911001",
            departments=["police"],
            actor=STREET,
            expected_version=sup["version"],
        ),
        T0,
    )
    assert w["version"] > sup["version"]


def test_a_department_cannot_escalate_or_read_another_departments_case(
    petitions: Callable[..., Petitions], engine: Engine, factory: Factory
) -> None:
    p = dispatched(petitions, "329911001001004", "transport")
    v = version(engine, p.case_id)
    before = state(engine, p.case_id)
    for stale in (v, 1):  # right or stale version: the same 404, no version revealed
        with pytest.raises(NotFound) as e:
            sla.escalate_case(
                factory(), p.case_id, URBAN, "x", T0 + timedelta(hours=1), expected_version=stale
            )
        assert e.value.code == "case_not_found" and "actual_version" not in e.value.details
    with pytest.raises(NotFound):
        view.get_case(factory(), p.case_id, "3299", URBAN)
    assert state(engine, p.case_id) == before
    assert view.get_case(factory(), p.case_id, "3299", TRANSPORT)["case"]["version"] == v
    # a department whistled to the case sees it
    engage.blow_whistle(
        factory(),
        BlowWhistleRequest(
            case_id=p.case_id,
            caller_code="329911001",
            departments=["urban_management"],
            actor=STREET,
            expected_version=v,
        ),
        T0,
    )
    assert view.get_case(factory(), p.case_id, "3299", URBAN)["case"]["department"] == "transport"


def test_staff_cannot_answer_a_supervision_in_another_district(
    petitions: Callable[..., Petitions], engine: Engine, factory: Factory
) -> None:
    p = dispatched(petitions, "329911001001005", "transport")
    sup = engage.supervise_case(
        factory(),
        SuperviseCaseRequest(case_id=p.case_id, handlers=["transport"], note="快办", actor=LEADER),
        T0,
    )
    sid = sup["supervision_id"]

    def timeline() -> Any:
        with engine.connect() as c:
            return c.execute(
                sa.select(supervisions.c.timeline).where(supervisions.c.supervision_id == sid)
            ).scalar_one()

    far = Actor(id="far", role="district_staff", jurisdiction_code="329912")  # no department
    with pytest.raises(Forbidden) as e:  # what reading the supervision answers, too
        engage.answer_supervision(
            factory(),
            AnswerSupervisionRequest(
                supervision_id=sid, handler="transport", kind="text", text="已办", actor=far
            ),
            T0 + timedelta(hours=1),
        )
    assert e.value.code == "outside_jurisdiction"
    with pytest.raises(Forbidden):
        engage.get_supervision(factory(), uuid.UUID(str(sid)), T0, viewer=far)
    # staff inside the district cannot answer in a department's name either
    near = Actor(id="near", role="street_staff", jurisdiction_code="329911001")
    with pytest.raises(Forbidden) as e:
        engage.answer_supervision(
            factory(),
            AnswerSupervisionRequest(
                supervision_id=sid, handler="transport", kind="text", text="已办", actor=near
            ),
            T0 + timedelta(hours=1),
        )
    assert e.value.code == "not_a_handler"
    # nor a department the supervision does not name (it looks unknown)
    with pytest.raises(NotFound):
        engage.answer_supervision(
            factory(),
            AnswerSupervisionRequest(
                supervision_id=sid, handler="urban_management", kind="text", text="x", actor=URBAN
            ),
            T0 + timedelta(hours=1),
        )
    assert timeline() == []
    out = engage.answer_supervision(
        factory(),
        AnswerSupervisionRequest(
            supervision_id=sid, handler="transport", kind="text", text="已办", actor=TRANSPORT
        ),
        T0 + timedelta(hours=1),
    )
    assert out["roster"] == {"transport": "answered"}


def test_only_a_summoned_department_reports_for_duty(
    petitions: Callable[..., Petitions], engine: Engine, factory: Factory
) -> None:
    p = dispatched(petitions, "329911001001006", "transport")
    w = engage.blow_whistle(
        factory(),
        BlowWhistleRequest(
            case_id=p.case_id, caller_code="329911001", departments=["police"], actor=STREET
        ),
        T0,
    )
    wid = w["whistle_id"]
    no_dept = Actor(id="x", role="department_handler", jurisdiction_code="3299")
    for actor, dept in ((URBAN, "urban_management"), (URBAN, "police"), (no_dept, "police")):
        with pytest.raises(NotFound) as e:
            engage.report_for_duty(
                factory(), ReportForDutyRequest(whistle_id=wid, department=dept, actor=actor), T0
            )
        assert e.value.code == "whistle_not_found"
    with engine.connect() as c:
        reported = c.execute(
            sa.select(whistles.c.reported).where(whistles.c.whistle_id == wid)
        ).scalar_one()
    assert reported == {}
    police = Actor(id="p", role="department_handler", jurisdiction_code="3299", department="police")
    w2 = engage.report_for_duty(
        factory(),
        ReportForDutyRequest(whistle_id=wid, department="police", actor=police),
        T0 + timedelta(minutes=5),
    )
    assert w2["duty"] == {"police": "on_time"}
