"""Enterprise and institution accounts: registration, verification, users."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from services.enterprise.adapters import tables as t
from services.enterprise.adapters.codec import encode
from services.enterprise.adapters.repository import ENTERPRISES, INSTITUTIONS
from services.enterprise.domain import accounts as dom
from services.enterprise.service_layer.common import new_id, official
from yiwang.contracts.enterprise import (
    AccountsOfUserRequest,
    AddEnterpriseUserRequest,
    EnterpriseRegisteredV1,
    EnterpriseVerifiedV1,
    InstitutionVerifiedV1,
    ListEnterprisesRequest,
    ListInstitutionsRequest,
    RegisterEnterpriseRequest,
    RegisterInstitutionRequest,
    ReviewEnterpriseRequest,
    ReviewInstitutionRequest,
)
from yiwang.uow import UnitOfWork


def enterprise_view(ent: dom.Enterprise, version: int) -> dict[str, Any]:
    data = encode(ent)
    data["district_code"] = ent.district_code
    data["version"] = version
    return data


def institution_view(inst: dom.Institution, version: int) -> dict[str, Any]:
    data = encode(inst)
    data["version"] = version
    return data


def register_enterprise(
    uow: UnitOfWork, cmd: RegisterEnterpriseRequest, now: datetime
) -> dict[str, Any]:
    with uow:
        ent, _ = dom.register_enterprise(
            enterprise_id=cmd.enterprise_id or new_id("ENT"),
            uscc=cmd.uscc,
            name=cmd.name,
            industry=cmd.industry,
            address=cmd.address,
            grid_code=cmd.grid_code,
            size=cmd.size,
            admin_user_id=cmd.actor.id,
            now=now,
            established_on=cmd.established_on,
            tags=cmd.tags,
        )
        version = ENTERPRISES.add(uow.session, ent.enterprise_id, ent, now)
        uow.emit(
            EnterpriseRegisteredV1(
                enterprise_id=ent.enterprise_id,
                uscc=ent.uscc,
                name=ent.name,
                industry=ent.industry,
                jurisdiction_code=ent.district_code,
                grid_code=ent.grid_code,
                registered_at=now,
            ),
            jurisdiction_code=ent.grid_code,
        )
        uow.commit()
        return enterprise_view(ent, version)


def review_enterprise(
    uow: UnitOfWork, cmd: ReviewEnterpriseRequest, now: datetime
) -> dict[str, Any]:
    with uow:
        ent, version = ENTERPRISES.get(uow.session, cmd.enterprise_id, for_update=True)
        staff = official(cmd.actor, ent.grid_code)
        if cmd.decision == "verify":
            ent.verify(staff, now)
        else:
            ent.reject(staff, cmd.reason, now)
        version = ENTERPRISES.save(uow.session, ent.enterprise_id, ent, version, now)
        if cmd.decision == "verify":
            uow.emit(
                EnterpriseVerifiedV1(
                    enterprise_id=ent.enterprise_id,
                    uscc=ent.uscc,
                    name=ent.name,
                    industry=ent.industry,
                    size=ent.size.value,
                    jurisdiction_code=ent.district_code,
                    grid_code=ent.grid_code,
                    verified_by=staff.official_id,
                    verified_at=now,
                ),
                jurisdiction_code=ent.grid_code,
            )
        uow.commit()
        return enterprise_view(ent, version)


def add_enterprise_user(
    uow: UnitOfWork, cmd: AddEnterpriseUserRequest, now: datetime
) -> dict[str, Any]:
    with uow:
        ent, version = ENTERPRISES.get(uow.session, cmd.enterprise_id, for_update=True)
        ent.add_user(cmd.actor.id, cmd.user_id, cmd.role)
        version = ENTERPRISES.save(uow.session, ent.enterprise_id, ent, version, now)
        uow.commit()
        return enterprise_view(ent, version)


def register_institution(
    uow: UnitOfWork, cmd: RegisterInstitutionRequest, now: datetime
) -> dict[str, Any]:
    with uow:
        inst, _ = dom.register_institution(
            institution_id=cmd.institution_id or new_id("INS"),
            kind=cmd.kind,
            name=cmd.name,
            uscc=cmd.uscc,
            district_code=cmd.district_code,
            admin_user_id=cmd.actor.id,
            now=now,
        )
        version = INSTITUTIONS.add(uow.session, inst.institution_id, inst, now)
        uow.commit()
        return institution_view(inst, version)


def review_institution(
    uow: UnitOfWork, cmd: ReviewInstitutionRequest, now: datetime
) -> dict[str, Any]:
    with uow:
        inst, version = INSTITUTIONS.get(uow.session, cmd.institution_id, for_update=True)
        staff = official(cmd.actor, inst.district_code)
        if cmd.decision == "verify":
            inst.verify(staff, now)
        else:
            inst.reject(staff, cmd.reason, now)
        version = INSTITUTIONS.save(uow.session, inst.institution_id, inst, version, now)
        if cmd.decision == "verify":
            uow.emit(
                InstitutionVerifiedV1(
                    institution_id=inst.institution_id,
                    kind=inst.kind.value,
                    name=inst.name,
                    jurisdiction_code=inst.district_code,
                    verified_by=staff.official_id,
                    verified_at=now,
                ),
                jurisdiction_code=inst.district_code,
            )
        uow.commit()
        return institution_view(inst, version)


def get_enterprise(uow: UnitOfWork, enterprise_id: str) -> dict[str, Any]:
    with uow:
        ent, version = ENTERPRISES.get(uow.session, enterprise_id)
    return enterprise_view(ent, version)


def list_enterprises(uow: UnitOfWork, req: ListEnterprisesRequest) -> dict[str, Any]:
    e = t.enterprises
    where: list[Any] = []
    if req.jurisdiction_prefix:
        where.append(e.c.grid_code.startswith(req.jurisdiction_prefix, autoescape=True))
    if req.status:
        where.append(e.c.status == req.status)
    with uow:
        total = ENTERPRISES.count(uow.session, *where)
        rows = ENTERPRISES.find(
            uow.session,
            *where,
            order_by=[e.c.created_at.desc(), e.c.id],
            limit=req.page_size,
            offset=(req.page - 1) * req.page_size,
        )
    return {
        "items": [enterprise_view(x, v) for x, v in rows],
        "total": total,
        "page": req.page,
        "page_size": req.page_size,
    }


def get_institution(uow: UnitOfWork, institution_id: str) -> dict[str, Any]:
    with uow:
        inst, version = INSTITUTIONS.get(uow.session, institution_id)
    return institution_view(inst, version)


def list_institutions(uow: UnitOfWork, req: ListInstitutionsRequest) -> dict[str, Any]:
    i = t.institutions
    where: list[Any] = []
    if req.jurisdiction_prefix:
        where.append(
            sa.or_(
                i.c.district_code.startswith(req.jurisdiction_prefix, autoescape=True),
                sa.literal(req.jurisdiction_prefix).startswith(i.c.district_code),
            )
        )
    if req.kind:
        where.append(i.c.kind == req.kind)
    if req.status:
        where.append(i.c.status == req.status)
    with uow:
        rows = INSTITUTIONS.find(uow.session, *where)
    return {"items": [institution_view(x, v) for x, v in rows], "total": len(rows)}


def accounts_of_user(uow: UnitOfWork, req: AccountsOfUserRequest) -> dict[str, Any]:
    with uow:
        ents = uow.session.execute(
            sa.select(t.enterprises.c.id)
            .where(t.enterprises.c.state["users"].has_key(req.user_id))
            .order_by(t.enterprises.c.id)
        ).scalars()
        insts = uow.session.execute(
            sa.select(t.institutions.c.id)
            .where(t.institutions.c.state["users"].has_key(req.user_id))
            .order_by(t.institutions.c.id)
        ).scalars()
        return {"enterprise_ids": list(ents), "institution_ids": list(insts)}
