"""Problem demands: file → assign (leader + department, SLA) → reply/answer → rate → close or
rework; the overdue sweep. Every state change emits its event through the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.enterprise.adapters import tables as t
from services.enterprise.adapters.codec import encode, load
from services.enterprise.adapters.repository import DEMANDS
from services.enterprise.domain import demands as dom
from services.enterprise.domain import events as dev
from services.enterprise.service_layer.common import (
    check_version,
    load_enterprise,
    new_id,
    official,
)
from yiwang.contracts.enterprise import (
    AddDemandNoteRequest,
    AnswerDemandRequest,
    AssignDemandRequest,
    DemandAnsweredV1,
    DemandAssignedV1,
    DemandClosedV1,
    DemandFiledV1,
    DemandOverdueV1,
    DemandRatedV1,
    FileDemandRequest,
    ListDemandsRequest,
    ListResponsibilitiesRequest,
    RateDemandRequest,
    ReplyDemandRequest,
    SetResponsibilityRequest,
)
from yiwang.errors import Conflict
from yiwang.uow import UnitOfWork

RUNNING = ("assigned", "in_progress")


def _meta(uow: UnitOfWork, demand_id: str) -> Any:
    d = t.demands
    return uow.session.execute(
        sa.select(d.c.enterprise_name, d.c.title, d.c.event_seq).where(d.c.id == demand_id)
    ).one()


def demand_view(
    demand: dom.Demand, version: int, enterprise_name: str, title: str, now: datetime
) -> dict[str, Any]:
    data = encode(demand)
    data.pop("overdue_reported", None)
    data.pop("clock_started_at", None)
    data["timeline"] = [encode(e) for e in demand.timeline]
    data["overdue"] = demand.is_overdue(now)
    data["enterprise_name"] = enterprise_name
    data["title"] = title
    data["version"] = version
    return data


def _emit(
    uow: UnitOfWork,
    demand: dom.Demand,
    enterprise_name: str,
    title: str,
    seq: int,
    events: list[dev.Event],
) -> int:
    """Translate domain events into contract events; returns the demand's new event seq."""
    for ev in events:
        seq += 1
        common: dict[str, Any] = dict(
            demand_id=demand.demand_id,
            seq=seq,
            enterprise_id=demand.enterprise_id,
            enterprise_name=enterprise_name,
            jurisdiction_code=demand.district_code,
            grid_code=demand.grid_code,
            category=demand.category,
            title=title,
            urgency=demand.urgency.value,
            status=demand.status.value,
            deadline=demand.due_at,
            leader_id=demand.leader_id,
            department=demand.department,
            occurred_at=ev.occurred_at,
        )
        payload: BaseModel
        if isinstance(ev, dev.DemandFiled):
            payload = DemandFiledV1(**common, filed_by=demand.filed_by)
        elif isinstance(ev, dev.DemandAssigned):
            common["deadline"] = ev.due_at
            payload = DemandAssignedV1(**common, rework=ev.rework)
        elif isinstance(ev, dev.DemandAnswered):
            payload = DemandAnsweredV1(
                **common,
                answered_by=ev.answered_by,
                response_seconds=ev.response_seconds,
                within_sla=ev.within_sla,
            )
        elif isinstance(ev, dev.DemandRated):
            payload = DemandRatedV1(**common, score=ev.score, satisfied=ev.satisfied)
        elif isinstance(ev, dev.DemandClosed):
            payload = DemandClosedV1(**common, score=ev.score)
        elif isinstance(ev, dev.DemandOverdue):
            payload = DemandOverdueV1(**common, overdue_seconds=ev.overdue_seconds)
        else:  # pragma: no cover - every demand event is mapped above
            raise TypeError(type(ev).__name__)
        uow.emit(payload, jurisdiction_code=demand.grid_code, occurred_at=ev.occurred_at)
    return seq


def _title(cmd: FileDemandRequest) -> str:
    if cmd.title and cmd.title.strip():
        return cmd.title.strip()[:200]
    first = cmd.description.strip().splitlines()[0] if cmd.description.strip() else ""
    return first[:60] or cmd.category


def file_demand(uow: UnitOfWork, cmd: FileDemandRequest, now: datetime) -> dict[str, Any]:
    with uow:
        ent = load_enterprise(uow, cmd.enterprise_id, cmd.actor)
        demand, filed = dom.file_demand(
            demand_id=cmd.demand_id or new_id("DEM"),
            enterprise=ent,
            user_id=cmd.actor.id,
            category=cmd.category,
            description=cmd.description,
            urgency=cmd.urgency,
            now=now,
            attachments=cmd.attachments,
        )
        title = _title(cmd)
        seq = _emit(uow, demand, ent.name, title, 0, [filed])
        version = DEMANDS.add(
            uow.session,
            demand.demand_id,
            demand,
            now,
            enterprise_name=ent.name,
            title=title,
            event_seq=seq,
        )
        uow.commit()
        return demand_view(demand, version, ent.name, title, now)


def _responsibility_table(uow: UnitOfWork, district_code: str) -> dom.ResponsibilityTable:
    r = t.responsibilities
    rows = uow.session.execute(sa.select(r).where(r.c.district_code == district_code)).all()
    return dom.ResponsibilityTable(
        dom.Responsibility(x.district_code, x.category, x.leader_id, x.department) for x in rows
    )


def _change(
    uow: UnitOfWork,
    demand_id: str,
    expected_version: int | None,
    now: datetime,
    apply: Any,
) -> dict[str, Any]:
    """Load → apply(demand) → save (optimistic) → emit → commit."""
    with uow:
        demand, version = DEMANDS.get(uow.session, demand_id, for_update=True)
        check_version(expected_version, version, "demand")
        events = apply(demand)
        meta = _meta(uow, demand_id)
        seq = _emit(uow, demand, meta.enterprise_name, meta.title, meta.event_seq, events)
        version = DEMANDS.save(uow.session, demand_id, demand, version, now, event_seq=seq)
        uow.commit()
        return demand_view(demand, version, meta.enterprise_name, meta.title, now)


def assign_demand(uow: UnitOfWork, cmd: AssignDemandRequest, now: datetime) -> dict[str, Any]:
    def apply(d: dom.Demand) -> list[dev.Event]:
        official(cmd.actor, d.grid_code).require_within(d.grid_code)
        return [d.assign(_responsibility_table(uow, d.district_code), now)]

    return _change(uow, cmd.demand_id, cmd.expected_version, now, apply)


def reply_demand(uow: UnitOfWork, cmd: ReplyDemandRequest, now: datetime) -> dict[str, Any]:
    def apply(d: dom.Demand) -> list[dev.Event]:
        d.reply(official(cmd.actor, d.grid_code), cmd.text, now, cmd.attachments)
        return []

    return _change(uow, cmd.demand_id, cmd.expected_version, now, apply)


def answer_demand(uow: UnitOfWork, cmd: AnswerDemandRequest, now: datetime) -> dict[str, Any]:
    def apply(d: dom.Demand) -> list[dev.Event]:
        return [d.answer(official(cmd.actor, d.grid_code), cmd.text, now, cmd.attachments)]

    return _change(uow, cmd.demand_id, cmd.expected_version, now, apply)


def add_demand_note(uow: UnitOfWork, cmd: AddDemandNoteRequest, now: datetime) -> dict[str, Any]:
    def apply(d: dom.Demand) -> list[dev.Event]:
        ent = load_enterprise(uow, d.enterprise_id, cmd.actor)
        d.add_note(ent, cmd.actor.id, cmd.text, now, cmd.attachments)
        return []

    return _change(uow, cmd.demand_id, cmd.expected_version, now, apply)


def rate_demand(uow: UnitOfWork, cmd: RateDemandRequest, now: datetime) -> dict[str, Any]:
    def apply(d: dom.Demand) -> list[dev.Event]:
        ent = load_enterprise(uow, d.enterprise_id, cmd.actor)
        return d.rate(ent, cmd.actor.id, cmd.score, now, cmd.comment)

    return _change(uow, cmd.demand_id, cmd.expected_version, now, apply)


def get_demand(uow: UnitOfWork, demand_id: str, now: datetime) -> dict[str, Any]:
    with uow:
        demand, version = DEMANDS.get(uow.session, demand_id)
        meta = _meta(uow, demand_id)
    return demand_view(demand, version, meta.enterprise_name, meta.title, now)


def list_demands(uow: UnitOfWork, req: ListDemandsRequest, now: datetime) -> dict[str, Any]:
    d = t.demands
    where: list[Any] = []
    if req.jurisdiction_prefix:
        where.append(d.c.grid_code.startswith(req.jurisdiction_prefix, autoescape=True))
    if req.enterprise_id:
        where.append(d.c.enterprise_id == req.enterprise_id)
    if req.status:
        where.append(d.c.status == req.status)
    if req.department:
        where.append(d.c.department == req.department)
    if req.overdue is not None:
        late = sa.and_(d.c.status.in_(RUNNING), d.c.due_at < now)
        where.append(late if req.overdue else sa.not_(late))
    with uow:
        total = DEMANDS.count(uow.session, *where)
        q = (
            sa.select(d.c.state, d.c.version, d.c.enterprise_name, d.c.title)
            .where(sa.true(), *where)
            .order_by(d.c.created_at.desc(), d.c.id)
            .limit(req.page_size)
            .offset((req.page - 1) * req.page_size)
        )
        rows = uow.session.execute(q).all()
    items = [
        demand_view(load(dom.Demand, r.state), r.version, r.enterprise_name, r.title, now)
        for r in rows
    ]
    return {"items": items, "total": total, "page": req.page, "page_size": req.page_size}


def set_responsibility(
    uow: UnitOfWork, cmd: SetResponsibilityRequest, now: datetime
) -> dict[str, Any]:
    official(cmd.actor, cmd.district_code).require_within(cmd.district_code)
    values = dict(
        district_code=cmd.district_code,
        category=cmd.category.strip(),
        leader_id=cmd.leader_id,
        department=cmd.department,
    )
    with uow:
        stmt = pg_insert(t.responsibilities).values(**values, updated_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=["district_code", "category"],
            set_={"leader_id": cmd.leader_id, "department": cmd.department, "updated_at": now},
        )
        uow.session.execute(stmt)
        uow.commit()
    return values


def list_responsibilities(uow: UnitOfWork, req: ListResponsibilitiesRequest) -> dict[str, Any]:
    r = t.responsibilities
    q = sa.select(r.c.district_code, r.c.category, r.c.leader_id, r.c.department)
    if req.jurisdiction_prefix:
        q = q.where(
            sa.or_(
                r.c.district_code.startswith(req.jurisdiction_prefix, autoescape=True),
                sa.literal(req.jurisdiction_prefix).startswith(r.c.district_code),
            )
        )
    with uow:
        rows = uow.session.execute(q.order_by(r.c.district_code, r.c.category)).mappings().all()
    return {"items": [dict(x) for x in rows]}


# --- sweep -----------------------------------------------------------------------------


def due_for_overdue_check(uow: UnitOfWork, now: datetime, limit: int = 500) -> list[str]:
    d = t.demands
    with uow:
        return list(
            uow.session.execute(
                sa.select(d.c.id)
                .where(d.c.status.in_(RUNNING), ~d.c.overdue_reported, d.c.due_at < now)
                .order_by(d.c.due_at)
                .limit(limit)
            ).scalars()
        )


def check_overdue(uow: UnitOfWork, demand_id: str, now: datetime) -> bool:
    """One demand's overdue check in its own unit of work; True when reported now."""
    with uow:
        demand, version = DEMANDS.get(uow.session, demand_id, for_update=True)
        ev = demand.check_overdue(now)
        if ev is None:
            return False
        meta = _meta(uow, demand_id)
        seq = _emit(uow, demand, meta.enterprise_name, meta.title, meta.event_seq, [ev])
        DEMANDS.save(uow.session, demand_id, demand, version, now, event_seq=seq)
        uow.commit()
        return True


def sweep_overdue(uow_factory: Any, now: datetime) -> int:
    """Report every demand that missed its SLA (once per SLA period)."""
    n = 0
    for demand_id in due_for_overdue_check(uow_factory(), now):
        try:
            n += check_overdue(uow_factory(), demand_id, now)
        except Conflict:  # changed concurrently: the next sweep looks again
            continue
    return n
