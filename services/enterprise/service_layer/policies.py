"""Policy promotion: policies each enterprise is eligible for, and each policy's reach."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.enterprise.adapters import tables as t
from services.enterprise.adapters.codec import encode
from services.enterprise.adapters.repository import ENTERPRISES, POLICIES
from services.enterprise.domain import policies as dom
from services.enterprise.service_layer.common import new_id, official, reasons, require_government
from yiwang.clock import SHANGHAI
from yiwang.contracts.enterprise import (
    PoliciesForEnterpriseRequest,
    PolicyReachRequest,
    PublishPolicyRequest,
)
from yiwang.uow import UnitOfWork


def publish_policy(uow: UnitOfWork, cmd: PublishPolicyRequest, now: datetime) -> dict[str, Any]:
    require_government(cmd.actor)
    for code in cmd.district_codes:
        official(cmd.actor, code).require_within(code)
    policy = dom.Policy.create(
        policy_id=cmd.policy_id or new_id("POL"),
        title=cmd.title,
        summary=cmd.summary,
        industries=cmd.industries,
        sizes=cmd.sizes,
        district_codes=cmd.district_codes,
        min_years_established=cmd.min_years_established,
        required_tags=cmd.required_tags,
        valid_from=cmd.valid_from,
        valid_until=cmd.valid_until,
    )
    with uow:
        POLICIES.add(uow.session, policy.policy_id, policy, now)
        uow.commit()
    return encode(policy)  # type: ignore[no-any-return]


def list_policies(uow: UnitOfWork) -> dict[str, Any]:
    with uow:
        return {"items": [encode(p) for p, _ in POLICIES.find(uow.session)]}


def policies_for_enterprise(
    uow: UnitOfWork, req: PoliciesForEnterpriseRequest, now: datetime
) -> dict[str, Any]:
    on = now.astimezone(SHANGHAI).date()
    with uow:
        ent, _ = ENTERPRISES.get(uow.session, req.enterprise_id)
        policies = [p for p, _ in POLICIES.find(uow.session)]
    items = []
    for p in policies:
        el = dom.check_eligibility(p, ent, on)
        if el.eligible or req.include_ineligible:
            items.append(
                {"policy": encode(p), "eligible": el.eligible, "reasons": reasons(el.reasons)}
            )
    items.sort(key=lambda i: (not i["eligible"], i["policy"]["policy_id"]))
    return {"enterprise_id": ent.enterprise_id, "items": items}


def policy_reach(uow: UnitOfWork, req: PolicyReachRequest, now: datetime) -> dict[str, Any]:
    on = now.astimezone(SHANGHAI).date()
    e = t.enterprises
    where: list[Any] = [e.c.status == "verified"]
    if req.jurisdiction_prefix:
        where.append(e.c.grid_code.startswith(req.jurisdiction_prefix, autoescape=True))
    with uow:
        policy, _ = POLICIES.get(uow.session, req.policy_id)
        ents = [x for x, _ in ENTERPRISES.find(uow.session, *where)]
    reach = dom.policy_reach(policy, ents, on)
    return {
        "policy_id": reach.policy_id,
        "enterprise_ids": list(reach.enterprise_ids),
        "examined": reach.examined,
        "missed_by_rule": reach.missed_by_rule,
    }
