"""The command service layer on the real database: fold, sweep, escalation, dispatch,
supervision, KPIs, search, exports, audit."""

from __future__ import annotations

import base64
import io
import json
import random
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from demo import simulate
from services.command.adapters.tables import case_view
from services.command.service_layer import audit, dispatch, engage, kpis, sla, view
from services.command.tests.integration.conftest import T0, Petitions
from yiwang.contracts.command import (
    Actor,
    AnswerSupervisionRequest,
    BlowWhistleRequest,
    CaseFilter,
    DispatchCaseRequest,
    ExportCasesRequest,
    ListCasesRequest,
    ReportForDutyRequest,
    SuperviseCaseRequest,
)
from yiwang.errors import Conflict, Forbidden, ValidationFailed
from yiwang.uow import UnitOfWork

pytestmark = pytest.mark.integration

Factory = Callable[[], UnitOfWork]
STAFF = Actor(id="s1", role="street_staff", jurisdiction_code="")
VIEW_FIELDS = (
    "complete",
    "status",
    "handler",
    "department",
    "deadline",
    "warn_at",
    "accept_due",
    "sla_state",
    "next_due_at",
    "level",
    "jurisdiction_code",
    "escalation_count",
    "rework_count",
    "rating",
    "satisfied",
    "status_at",
)


def row(engine: Engine, case_id: uuid.UUID) -> dict[str, Any]:
    with engine.connect() as c:
        return dict(
            c.execute(sa.select(case_view).where(case_view.c.case_id == case_id)).mappings().one()
        )


def outbox(engine: Engine, key: str, case_id: uuid.UUID) -> list[dict[str, Any]]:
    with engine.connect() as c:
        bodies = c.execute(
            sa.text("SELECT body FROM command.outbox WHERE routing_key = :k ORDER BY seq"),
            {"k": key},
        ).scalars()
        out = [json.loads(b)["payload"] for b in bodies]
    return [p for p in out if p["case_id"] == str(case_id)]


def history(p: Petitions) -> list[tuple[Any, Any]]:
    h = T0
    return [
        p.created_env(),
        p.step("accept", "accepted", h + timedelta(minutes=20)),
        p.step("dispatch", "dispatched", h + timedelta(minutes=40), department="water"),
        p.step("send_back", "accepted", h + timedelta(hours=2), note="不归我们管"),
        p.step("dispatch", "dispatched", h + timedelta(hours=3), department="urban_management"),
        p.step("start", "in_progress", h + timedelta(hours=4)),
        p.step("handle", "handled", h + timedelta(hours=5)),
        p.step("verify", "verified", h + timedelta(hours=6)),
        p.step("close", "closed", h + timedelta(hours=7)),
        p.step("rate", "dispatched", h + timedelta(hours=8), rating=1, rework=True),
    ]


def test_fold_is_idempotent_and_order_independent(
    petitions: Callable[..., Petitions], engine: Engine
) -> None:
    a = petitions("329901001001001")
    steps = history(a)
    for s in steps:
        assert a.feed(s)
    assert not a.feed(steps[3])  # a redelivery is a no-op
    b = petitions("329901001001001")
    steps_b = history(b)
    shuffled = steps_b[1:]
    random.Random(3).shuffle(shuffled)
    shuffled.insert(4, steps_b[0])  # case.created arrives late
    # before case.created the case is not listed (incomplete)
    b.feed(shuffled[0])
    assert row(engine, b.case_id)["complete"] is False
    for s in shuffled[1:] + shuffled[:3]:  # with repeats
        b.feed(s)
    ra, rb = row(engine, a.case_id), row(engine, b.case_id)
    assert {k: ra[k] for k in VIEW_FIELDS} == {k: rb[k] for k in VIEW_FIELDS}
    assert ra["status"] == "dispatched" and ra["handler"] == "urban_management"
    assert ra["rework_count"] == 1 and ra["kpi"]["pos"] == rb["kpi"]["pos"] == 10_000
    # the KPI memo caught up in both, with the same counters contribution
    assert ra["kpi"]["n"] == rb["kpi"]["n"] == 10


def test_acceptance_routes_by_rule_and_manual_dispatch_checks_department(
    petitions: Callable[..., Petitions], engine: Engine, factory: Any
) -> None:
    p = petitions("329901001002001", category="roads.pothole", sla_class="standard_3d")
    p.feed(p.created_env())
    p.feed(p.step("accept", "accepted", T0 + timedelta(minutes=5)))
    routed = outbox(engine, "case.routed", p.case_id)
    assert routed and routed[0]["department"] == "transport" and not routed[0]["manual"]
    with pytest.raises(ValidationFailed) as e:
        dispatch.dispatch_case(
            factory(),
            DispatchCaseRequest(case_id=p.case_id, department="ministry_of_magic", actor=STAFF),
            T0,
        )
    assert e.value.code == "unknown_department" and e.value.status == 422
    out = dispatch.dispatch_case(
        factory(), DispatchCaseRequest(case_id=p.case_id, department="police", actor=STAFF), T0
    )
    assert out["manual"] and outbox(engine, "case.routed", p.case_id)[-1]["manual"] is True
    # rules are data: add one ahead of the defaults, test it, delete it
    body = {
        "order": 1,
        "name": "night-potholes",
        "target": {"kind": "department", "id": "police"},
        "when": {"category_prefix": "roads.", "time_from": "22:00", "time_to": "06:00"},
    }
    dispatch.put_rule(factory(), body, STAFF, T0)
    req = type(
        "R",
        (),
        {
            "category": "roads.pothole",
            "jurisdiction_code": "329901001002001",
            "source": "citizen",
            "at": T0.replace(hour=23),
            "lat": None,
            "lon": None,
            "attributes": {},
            "rule": None,
        },
    )
    assert dispatch.test_rules(factory(), req)["target"]["id"] == "police"
    req.at = T0.replace(hour=12)  # type: ignore[attr-defined]
    assert dispatch.test_rules(factory(), req)["target"]["id"] == "transport"
    dispatch.delete_rule(factory(), "night-potholes", STAFF, T0)
    with pytest.raises(ValidationFailed):
        dispatch.put_rule(
            factory(), {**body, "target": {"kind": "department", "id": "nope"}}, STAFF, T0
        )


def test_sweep_touches_only_due_rows(
    petitions: Callable[..., Petitions], engine: Engine, factory: Any
) -> None:
    sla.sweep(factory(), T0 + timedelta(days=400))  # settle anything earlier tests left
    far = T0 + timedelta(days=500)
    cases = [petitions(f"329902001001{i:03d}", at=far, sla_class="quick_1d") for i in range(1, 31)]
    for c in cases:
        c.feed(c.created_env(), far)
    urgent = [petitions(f"329902001002{i:03d}", at=far, sla_class="urgent_2h") for i in range(1, 4)]
    for c in urgent:
        c.feed(c.created_env(), far)
    before = {c.case_id: row(engine, c.case_id)["updated_at"] for c in cases}
    now = far + timedelta(hours=1, minutes=40)  # urgent: past 80 % of 2 h, not yet due
    res = sla.sweep(factory(), now)
    assert res == {"warned": 3, "overdue": 0, "escalated": 0, "rows": 3}
    assert all(row(engine, c.case_id)["updated_at"] == before[c.case_id] for c in cases)
    res = sla.sweep(factory(), now + timedelta(minutes=30))
    assert res["overdue"] == 3 and res["escalated"] == 3 and res["rows"] == 3
    with engine.connect() as c:  # (a tiny table: tell the planner to prefer indexes)
        c.execute(sa.text("SET enable_seqscan = off"))
        plan = "\n".join(
            c.execute(
                sa.text(
                    "EXPLAIN SELECT * FROM command.case_view WHERE next_due_at <= now() "
                    "ORDER BY next_due_at LIMIT 2000 FOR UPDATE SKIP LOCKED"
                )
            ).scalars()
        )
    assert "ix_case_view_next_due" in plan


def test_escalation_ladder_to_the_city_and_refusals(
    petitions: Callable[..., Petitions], engine: Engine, factory: Any
) -> None:
    start = T0 + timedelta(days=600)
    sla.sweep(factory(), start)  # settle what earlier tests left
    p = petitions("329903001001001", at=start, sla_class="urgent_2h")
    p.feed(p.created_env(), start)
    res = sla.sweep(factory(), start + timedelta(days=60))
    assert res["escalated"] == 4
    r = row(engine, p.case_id)
    assert r["level"] == "city" and r["jurisdiction_code"] == "3299" and r["overdue"]
    assert r["next_due_at"] is None and r["escalation_count"] == 4
    ups = outbox(engine, "case.escalated", p.case_id)
    assert [u["to_level"] for u in ups] == ["community", "street", "district", "city"]
    assert [u["jurisdiction_code"] for u in ups] == ["329903001001", "329903001", "329903", "3299"]
    assert [u["escalation_no"] for u in ups] == [1, 2, 3, 4]
    with pytest.raises(Conflict) as e:
        sla.escalate_case(factory(), p.case_id, STAFF, "no", start)
    assert e.value.code == "already_at_top"
    q = petitions("329903001001002", at=start)
    q.feed(q.created_env(), start)
    out = sla.escalate_case(factory(), q.case_id, STAFF, "需要街道协调", start + timedelta(hours=1))
    assert out["to_level"] == "community" and out["jurisdiction_code"] == "329903001001"
    for action, status in (
        ("accept", "accepted"),
        ("dispatch", "dispatched"),
        ("start", "in_progress"),
        ("handle", "handled"),
        ("verify", "verified"),
        ("close", "closed"),
    ):
        q.feed(q.step(action, status, start + timedelta(hours=2), department="water"), start)
    with pytest.raises(Conflict) as e:
        sla.escalate_case(factory(), q.case_id, STAFF, "again", start + timedelta(hours=3))
    assert e.value.code == "case_closed"
    trail = audit.trail(factory(), str(p.case_id))
    assert [t["action"] for t in trail].count("escalate") == 4
    assert audit.verify(factory())["intact"]


def test_supervision_and_whistle(
    petitions: Callable[..., Petitions], engine: Engine, factory: Any
) -> None:
    p = petitions("329904001001001")
    p.feed(p.created_env())
    outsider = Actor(id="L2", role="leader", jurisdiction_code="329905")
    with pytest.raises(Forbidden):
        engage.supervise_case(
            factory(), SuperviseCaseRequest(case_id=p.case_id, note="快办", actor=outsider), T0
        )
    leader = Actor(id="L1", role="leader", jurisdiction_code="329904")
    sup = engage.supervise_case(
        factory(),
        SuperviseCaseRequest(
            case_id=p.case_id,
            handlers=["water", "urban_management"],
            note="三天内办结",
            actor=leader,
        ),
        T0,
    )
    assert row(engine, p.case_id)["supervised"] is True
    assert outbox(engine, "case.supervised", p.case_id)[0]["leader_id"] == "L1"
    handler = Actor(id="h1", role="department_handler", department="water")
    out = engage.answer_supervision(
        factory(),
        AnswerSupervisionRequest(
            supervision_id=sup["supervision_id"],
            handler="water",
            kind="photo",
            media=["m/1.jpg"],
            actor=handler,
        ),
        T0 + timedelta(hours=1),
    )
    assert out["roster"] == {"water": "answered", "urban_management": "waiting"}
    with pytest.raises(Forbidden):
        engage.answer_supervision(
            factory(),
            AnswerSupervisionRequest(
                supervision_id=sup["supervision_id"],
                handler="urban_management",
                kind="text",
                text="ok",
                actor=handler,
            ),
            T0,
        )
    w = engage.blow_whistle(
        factory(),
        BlowWhistleRequest(
            case_id=p.case_id,
            caller_code="329904001",
            departments=["police", "water"],
            actor=Actor(id="st", role="street_staff", jurisdiction_code="329904001"),
        ),
        T0,
    )
    w = engage.report_for_duty(
        factory(),
        ReportForDutyRequest(
            whistle_id=w["whistle_id"],
            department="police",
            actor=Actor(id="p", role="department_handler", department="police"),
        ),
        T0 + timedelta(minutes=30),
    )
    assert w["duty"] == {"police": "on_time", "water": "pending"}
    r = row(engine, p.case_id)
    assert r["whistle_count"] == 1 and r["supervision_count"] == 1


def test_queries_search_exports_filters_rebuild(
    petitions: Callable[..., Petitions], engine: Engine, factory: Any
) -> None:
    p = petitions(
        "329906001001001", title="小区门口井盖缺失", attributes={"description": "夜间危险"}
    )
    p.feed(p.created_env())
    q = petitions("329906001001002", title="路灯不亮")
    q.feed(q.created_env())
    page = view.list_cases(factory(), ListCasesRequest(jurisdiction_prefix="329906", q="井盖"))
    assert [i["case_id"] for i in page["items"]] == [p.case_id]
    page = view.list_cases(factory(), ListCasesRequest(jurisdiction_prefix="329906", q="危险"))
    assert page["total"] == 1
    page = view.list_cases(factory(), ListCasesRequest(jurisdiction_prefix="329906"))
    assert page["total"] == 2
    csv_out = view.export_cases(factory(), ExportCasesRequest(jurisdiction_prefix="329906"))
    text = base64.b64decode(csv_out["content_b64"]).decode("utf-8-sig")
    assert "井盖" in text and csv_out["rows"] == 2
    xlsx = view.export_cases(
        factory(), ExportCasesRequest(jurisdiction_prefix="329906", format="xlsx")
    )
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(base64.b64decode(xlsx["content_b64"])))
    assert wb.active is not None and wb.active.max_row == 3
    view.save_filter(factory(), "u1", "mine", CaseFilter(jurisdiction_prefix="329906"), T0)
    assert view.list_filters(factory(), "u1")["items"][0]["filters"] == {
        "jurisdiction_prefix": "329906"
    }
    before = row(engine, p.case_id)
    with engine.begin() as c:
        c.execute(
            case_view.update().where(case_view.c.case_id == p.case_id).values(status="garbage")
        )
    assert view.rebuild(factory(), T0, p.case_id) == {"cases": 1, "events": 1}
    after = row(engine, p.case_id)
    assert {k: after[k] for k in VIEW_FIELDS} == {k: before[k] for k in VIEW_FIELDS}


def test_simulation_kpis_and_escalations_equal_the_oracle(factory: Any, engine: Engine) -> None:
    simulate.reset(factory)
    grids = [f"3299010{s:02d}{c:03d}{g:03d}" for s in (1, 2) for c in (1, 2) for g in range(1, 26)]
    rep = simulate.run(factory, grids, days=3, seed=11, cases_per_grid_day=0.3)
    assert rep.escalations > 0 and rep.cases > 50
    assert rep.escalations_equal and rep.overdue_equal and rep.kpis_equal, rep.mismatches
    # the KPI query is one indexed range read and agrees with the counters
    got = kpis.kpis(factory(), "3299", "*", date(2026, 3, 1), date(2026, 3, 31))
    assert got["counts"]["created"] == rep.cases
    assert audit.verify(factory())["intact"]
    # rebuilding everything from the log yields the same counters
    stored = simulate.stored_kpis(factory)
    view.rebuild(factory(), T0)
    assert simulate.stored_kpis(factory) == stored
