"""Technical support: research institutes' capabilities matched to enterprises' needs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.enterprise.adapters import tables as t
from services.enterprise.adapters.codec import encode
from services.enterprise.adapters.repository import (
    CAPABILITIES,
    TECH_NEEDS,
)
from services.enterprise.domain import techsupport as dom
from services.enterprise.service_layer.common import load_enterprise, load_institution, new_id
from yiwang.contracts.enterprise import (
    EngageTechNeedRequest,
    ListCapabilitiesRequest,
    ListTechNeedsRequest,
    PostTechNeedRequest,
    PublishCapabilityRequest,
    ResolveTechNeedRequest,
)
from yiwang.uow import UnitOfWork


def need_view(
    n: dom.TechNeed, version: int, matches: list[dom.TechMatch] | None = None
) -> dict[str, Any]:
    return {**encode(n), "matches": [encode(m) for m in matches or []], "version": version}


def _capabilities(uow: UnitOfWork, institution_id: str | None = None) -> list[dom.Capability]:
    c = t.capabilities
    where = [c.c.institution_id == institution_id] if institution_id else []
    return [x for x, _ in CAPABILITIES.find(uow.session, *where)]


def publish_capability(
    uow: UnitOfWork, cmd: PublishCapabilityRequest, now: datetime
) -> dict[str, Any]:
    with uow:
        inst = load_institution(uow, cmd.institution_id, cmd.actor)
        inst.require_user(cmd.actor.id)
        cap = dom.Capability.create(
            capability_id=cmd.capability_id or new_id("CAP"),
            institution=inst,
            name=cmd.name,
            tags=cmd.tags,
            description=cmd.description,
        )
        CAPABILITIES.add(uow.session, cap.capability_id, cap, now)
        uow.commit()
        return encode(cap)  # type: ignore[no-any-return]


def list_capabilities(uow: UnitOfWork, req: ListCapabilitiesRequest) -> dict[str, Any]:
    with uow:
        return {"items": [encode(c) for c in _capabilities(uow, req.institution_id)]}


def post_need(uow: UnitOfWork, cmd: PostTechNeedRequest, now: datetime) -> dict[str, Any]:
    with uow:
        ent = load_enterprise(uow, cmd.enterprise_id, cmd.actor)
        need = dom.post_tech_need(
            need_id=cmd.need_id or new_id("TN"),
            enterprise=ent,
            user_id=cmd.actor.id,
            title=cmd.title,
            description=cmd.description,
            tags=cmd.tags,
            now=now,
        )
        version = TECH_NEEDS.add(uow.session, need.need_id, need, now)
        matches = dom.match_capabilities(need, _capabilities(uow))
        uow.commit()
        return need_view(need, version, matches)


def list_needs(uow: UnitOfWork, req: ListTechNeedsRequest) -> dict[str, Any]:
    n = t.tech_needs
    where: list[Any] = []
    if req.enterprise_id:
        where.append(n.c.enterprise_id == req.enterprise_id)
    if req.status:
        where.append(n.c.status == req.status)
    with uow:
        rows = TECH_NEEDS.find(uow.session, *where)
        caps = _capabilities(uow, req.institution_id)
    items = []
    for need, version in rows:
        matches = dom.match_capabilities(need, caps)
        if req.institution_id and not matches:
            continue
        items.append(need_view(need, version, matches))
    return {"items": items}


def engage(uow: UnitOfWork, cmd: EngageTechNeedRequest, now: datetime) -> dict[str, Any]:
    with uow:
        inst = load_institution(uow, cmd.institution_id, cmd.actor)
        need, version = TECH_NEEDS.get(uow.session, cmd.need_id, for_update=True)
        need.engage(inst, cmd.actor.id)
        version = TECH_NEEDS.save(uow.session, need.need_id, need, version, now)
        uow.commit()
        return need_view(need, version)


def resolve(uow: UnitOfWork, cmd: ResolveTechNeedRequest, now: datetime) -> dict[str, Any]:
    with uow:
        ent = load_enterprise(uow, cmd.enterprise_id, cmd.actor)
        need, version = TECH_NEEDS.get(uow.session, cmd.need_id, for_update=True)
        need.resolve(ent, cmd.actor.id)
        version = TECH_NEEDS.save(uow.session, need.need_id, need, version, now)
        uow.commit()
        return need_view(need, version)
