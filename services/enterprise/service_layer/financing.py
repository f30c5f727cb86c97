"""Bank–enterprise financing: products, needs, explained matching, responses, outcomes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.enterprise.adapters import tables as t
from services.enterprise.adapters.codec import encode
from services.enterprise.adapters.repository import NEEDS, PRODUCTS
from services.enterprise.domain import financing as dom
from services.enterprise.service_layer.common import (
    load_enterprise,
    load_institution,
    new_id,
    reasons,
)
from yiwang.contracts.enterprise import (
    FinancingGrantedV1,
    ListFinancingNeedsRequest,
    ListProductsRequest,
    MatchFinancingRequest,
    PostFinancingNeedRequest,
    PublishProductRequest,
    RecordFinancingOutcomeRequest,
    RespondFinancingRequest,
    WithdrawProductRequest,
)
from yiwang.errors import Forbidden
from yiwang.uow import UnitOfWork


def product_view(p: dom.FinancingProduct, version: int) -> dict[str, Any]:
    return {**encode(p), "version": version}


def match_view(m: dom.MatchResult) -> dict[str, Any]:
    return {
        "product_id": m.product_id,
        "institution_id": m.institution_id,
        "matched": m.matched,
        "annual_rate_pct": str(m.annual_rate_pct),
        "reasons": reasons(m.reasons),
    }


def need_view(
    n: dom.FinancingNeed, version: int, matches: list[dom.MatchResult] | None = None
) -> dict[str, Any]:
    data = encode(n)
    data["responses"] = list(data["responses"].values())
    data["matches"] = [match_view(m) for m in matches or []]
    data["version"] = version
    return data


def _catalogue(uow: UnitOfWork, *, active_only: bool = False) -> dict[str, dom.FinancingProduct]:
    where = [t.financing_products.c.active.is_(True)] if active_only else []
    return {p.product_id: p for p, _ in PRODUCTS.find(uow.session, *where)}


def publish_product(uow: UnitOfWork, cmd: PublishProductRequest, now: datetime) -> dict[str, Any]:
    with uow:
        inst = load_institution(uow, cmd.institution_id, cmd.actor)
        inst.require_user(cmd.actor.id)
        product = dom.FinancingProduct.create(
            product_id=cmd.product_id or new_id("FP"),
            institution=inst,
            name=cmd.name,
            min_amount=cmd.min_amount,
            max_amount=cmd.max_amount,
            min_term_months=cmd.min_term_months,
            max_term_months=cmd.max_term_months,
            sectors=cmd.sectors,
            annual_rate_pct=cmd.annual_rate_pct,
        )
        version = PRODUCTS.add(uow.session, product.product_id, product, now)
        uow.commit()
        return product_view(product, version)


def withdraw_product(uow: UnitOfWork, cmd: WithdrawProductRequest, now: datetime) -> dict[str, Any]:
    import dataclasses

    with uow:
        inst = load_institution(uow, cmd.institution_id, cmd.actor)
        inst.require_user(cmd.actor.id)
        product, version = PRODUCTS.get(uow.session, cmd.product_id, for_update=True)
        if product.institution_id != inst.institution_id:
            raise Forbidden(
                "not_product_owner",
                "the product belongs to another institution",
                "该产品属于其他机构",
            )
        product = dataclasses.replace(product, active=False)
        version = PRODUCTS.save(uow.session, product.product_id, product, version, now)
        uow.commit()
        return product_view(product, version)


def list_products(uow: UnitOfWork, req: ListProductsRequest) -> dict[str, Any]:
    p = t.financing_products
    where: list[Any] = []
    if req.institution_id:
        where.append(p.c.institution_id == req.institution_id)
    if req.active_only:
        where.append(p.c.active.is_(True))
    with uow:
        rows = PRODUCTS.find(uow.session, *where)
    return {"items": [product_view(x, v) for x, v in rows]}


def post_need(uow: UnitOfWork, cmd: PostFinancingNeedRequest, now: datetime) -> dict[str, Any]:
    with uow:
        ent = load_enterprise(uow, cmd.enterprise_id, cmd.actor)
        need = dom.post_need(
            need_id=cmd.need_id or new_id("FN"),
            enterprise=ent,
            user_id=cmd.actor.id,
            amount=cmd.amount,
            term_months=cmd.term_months,
            purpose=cmd.purpose,
            now=now,
            industry=cmd.industry,
        )
        version = NEEDS.add(uow.session, need.need_id, need, now)
        matches = dom.match_need(need, _catalogue(uow, active_only=True).values())
        uow.commit()
        return need_view(need, version, matches)


def match_financing(uow: UnitOfWork, req: MatchFinancingRequest) -> dict[str, Any]:
    with uow:
        need, _ = NEEDS.get(uow.session, req.need_id)
        catalogue = _catalogue(uow)
    if req.product_id is not None:
        items = [dom.explain_match(need, catalogue, req.product_id)]
    else:
        active = [p for p in catalogue.values() if p.active]
        items = dom.match_need(need, active, only_matched=req.only_matched)
    return {"need_id": need.need_id, "items": [match_view(m) for m in items]}


def list_needs(uow: UnitOfWork, req: ListFinancingNeedsRequest) -> dict[str, Any]:
    n = t.financing_needs
    where: list[Any] = []
    if req.enterprise_id:
        where.append(n.c.enterprise_id == req.enterprise_id)
    if req.status:
        where.append(n.c.status == req.status)
    with uow:
        rows = NEEDS.find(uow.session, *where)
        own: list[dom.FinancingProduct] = []
        if req.institution_id:
            own = [
                p
                for p in _catalogue(uow, active_only=True).values()
                if p.institution_id == req.institution_id
            ]
    items = []
    for need, version in rows:
        if req.institution_id:
            matches = dom.match_need(need, own)
            if not matches:
                continue
            items.append(need_view(need, version, matches))
        else:
            items.append(need_view(need, version))
    return {"items": items}


def respond(uow: UnitOfWork, cmd: RespondFinancingRequest, now: datetime) -> dict[str, Any]:
    with uow:
        inst = load_institution(uow, cmd.institution_id, cmd.actor)
        need, version = NEEDS.get(uow.session, cmd.need_id, for_update=True)
        need.respond(
            catalogue=_catalogue(uow),
            product_id=cmd.product_id,
            institution=inst,
            user_id=cmd.actor.id,
            response=cmd.response,
            now=now,
            offer_amount=cmd.offer_amount,
            offer_rate_pct=cmd.offer_rate_pct,
            note=cmd.note,
        )
        version = NEEDS.save(uow.session, need.need_id, need, version, now)
        uow.commit()
        return need_view(need, version)


def record_outcome(
    uow: UnitOfWork, cmd: RecordFinancingOutcomeRequest, now: datetime
) -> dict[str, Any]:
    with uow:
        ent = load_enterprise(uow, cmd.enterprise_id, cmd.actor)
        ent.require_user(cmd.actor.id)
        need, version = NEEDS.get(uow.session, cmd.need_id, for_update=True)
        if need.enterprise_id != ent.enterprise_id:
            raise Forbidden(
                "not_own_need", "this need belongs to another enterprise", "该需求属于其他企业"
            )
        ev = need.record_outcome(
            catalogue=_catalogue(uow),
            product_id=cmd.product_id,
            granted_amount=cmd.granted_amount,
            now=now,
        )
        version = NEEDS.save(uow.session, need.need_id, need, version, now)
        uow.emit(
            FinancingGrantedV1(
                need_id=ev.need_id,
                product_id=ev.product_id,
                institution_id=ev.institution_id,
                enterprise_id=ev.enterprise_id,
                jurisdiction_code=ent.district_code,
                granted_amount=ev.granted_amount,
                occurred_at=now,
            ),
            jurisdiction_code=ent.grid_code,
        )
        uow.commit()
        return need_view(need, version)
