"""Registration (双报到) of party members, volunteers and co-building units; approvals."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

import sqlalchemy as sa

from services.volunteers.adapters import repository as repo
from services.volunteers.adapters.tables import registrations
from services.volunteers.domain import registration as d
from services.volunteers.service_layer.common import staff_of, unique_or_conflict
from yiwang.contracts import volunteers as c
from yiwang.uow import UnitOfWork


def _availability(slots: list[c.AvailabilitySlot]) -> tuple[d.Availability, ...]:
    return tuple(
        d.Availability(s.weekday, time.fromisoformat(s.start), time.fromisoformat(s.end))
        for s in slots
    )


def _add(uow: UnitOfWork, reg: repo.Registration, now: datetime) -> dict[str, Any]:
    with uow:
        with unique_or_conflict(
            "already_registered",
            "this person or unit is already registered",
            "该人员或单位已报到",
            registration_id=reg.claimant_id,
        ):
            repo.add_registration(uow.session, reg, now)
        uow.commit()
    return repo.registration_view(reg)


def register_volunteer(
    uow: UnitOfWork, req: c.RegisterVolunteerRequest, now: datetime
) -> dict[str, Any]:
    vol = d.register_volunteer(
        volunteer_id=req.volunteer_id or req.person_id,
        person_id=req.person_id,
        name=req.name,
        kind=d.VolunteerKind(req.kind),
        community_code=req.community_code,
        contact=d.Contact(req.phone, req.email),
        now=now,
        work_unit=req.work_unit,
        unit_id=req.unit_id,
        skills=req.skills,
        availability=_availability(req.availability),
        capacity=req.capacity,
    )
    return _add(uow, vol, now)


def register_unit(uow: UnitOfWork, req: c.RegisterUnitRequest, now: datetime) -> dict[str, Any]:
    unit = d.register_unit(
        unit_id=req.unit_id,
        name=req.name,
        kind=d.UnitKind(req.kind),
        community_code=req.community_code,
        contact=d.Contact(req.phone, req.email),
        now=now,
        party_org=req.party_org,
        skills=req.skills,
        availability=_availability(req.availability),
        capacity=req.capacity,
    )
    return _add(uow, unit, now)


def decide(uow: UnitOfWork, req: c.DecideRegistrationRequest, now: datetime) -> dict[str, Any]:
    with uow:
        reg = repo.get_registration(uow.session, req.kind, req.registration_id)
        loaded = reg.version
        staff = staff_of(req.staff, reg.community_code)
        if req.action in ("approve", "reinstate", "resubmit"):
            getattr(reg, req.action)(staff, now)
        else:
            getattr(reg, req.action)(staff, req.reason, now)
        repo.save_registration(uow.session, reg, loaded, now)
        uow.commit()
    return repo.registration_view(reg)


def get(uow: UnitOfWork, req: c.GetRegistrationRequest) -> dict[str, Any]:
    with uow:
        return repo.registration_view(
            repo.get_registration(uow.session, req.kind, req.registration_id)
        )


def list_registrations(uow: UnitOfWork, req: c.ListRegistrationsRequest) -> dict[str, Any]:
    t = registrations
    conds: list[Any] = []
    if req.jurisdiction_prefix:
        conds.append(t.c.community_code.startswith(req.jurisdiction_prefix, autoescape=True))
    if req.kind:
        conds.append(t.c.kind == req.kind)
    if req.status:
        conds.append(t.c.status == req.status)
    where = sa.and_(sa.true(), *conds)
    with uow:
        total = uow.session.execute(
            sa.select(sa.func.count()).select_from(t).where(where)
        ).scalar_one()
        rows = (
            uow.session.execute(
                sa.select(t)
                .where(where)
                .order_by(t.c.created_at.desc(), t.c.kind, t.c.id)
                .limit(req.page_size)
                .offset((req.page - 1) * req.page_size)
            )
            .mappings()
            .all()
        )
    return {
        "items": [repo.registration_view(repo.registration_from_row(r)) for r in rows],
        "total": total,
    }
