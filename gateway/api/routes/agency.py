"""Agency applications (微代办): the catalogue of service items, applying (materials online or
an appointment), and the community worker's accept → handle → feed back → close. The
petitions service decides which step each role may take (409 with the allowed steps)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from gateway.api.bodies import body_of
from gateway.api.params import Jurisdiction
from gateway.deps import RpcDep
from gateway.security import Principal, optional_principal, require
from yiwang.contracts.petitions import (
    AgencyActionRequest,
    AgencyApplicationList,
    AgencyApplicationView,
    AgencyApplyRequest,
    AgencyItemList,
)
from yiwang.errors import ValidationFailed

router = APIRouter(prefix="/api/v1/agency", tags=["agency"])

HANDLERS = {"community_staff", "street_staff", "district_staff"}
POLICY = {
    "agency.apply": {"citizen"},
    "agency.mine": {"citizen"},
    "agency.read": {"citizen", *HANDLERS, "city_staff", "leader"},
    "agency.queue": {*HANDLERS, "city_staff", "leader", "admin"},
    "agency.act": {"citizen", *HANDLERS},
}


ApplyIn = body_of(
    AgencyApplyRequest,
    "ApplyIn",
    only={"item_code", "community_code", "materials", "appointment_at", "application_id"},
    examples=[
        {
            "item_code": "senior_card",
            "community_code": "329901001001",
            "materials": {
                "id_card": ["6b1f0c1e-2a4d-4f8e-9c3b-5d7a8e9f0a12"],
                "photo": ["0d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d"],
            },
        }
    ],
)


ActionIn = body_of(
    AgencyActionRequest,
    "ActionIn",
    only={"action", "expected_version", "fields"},
    examples=[{"action": "accept", "expected_version": 1, "fields": {}}],
)


def _actor(who: Principal) -> dict[str, Any]:
    a = who.actor()
    return {"id": str(a["id"])[:64], "role": a["role"], "name": str(a.get("name") or "")[:100]}


def _prefix(who: Principal) -> str:
    return "" if who.role == "citizen" else who.jurisdiction_code


@router.get("/items", summary="The service items handled for residents, with their materials")
async def items(
    rpc: RpcDep,
    who: Annotated[Principal | None, Depends(optional_principal)] = None,
    domain: Annotated[
        str | None,
        Query(
            max_length=40,
            pattern=r"^[a-z_]+$",
            description="Only items of this domain (事项领域): family_planning (计生), "
            "civil_affairs (民政), employment (就业), party (党务), residence (户籍), community.",
            examples=["civil_affairs"],
        ),
    ] = None,
) -> AgencyItemList:
    return await rpc.call_typed("petitions", "agency_catalogue", domain=domain)


@router.post(
    "/applications",
    status_code=201,
    summary="Apply: all required materials online, or book an appointment",
)
async def apply(
    body: ApplyIn, rpc: RpcDep, who: Annotated[Principal, Depends(require("agency.apply"))]
) -> AgencyApplicationView:
    who.check_jurisdiction(body.community_code)
    unit = await rpc.call("grids", "get_unit", code=body.community_code)
    if unit.get("level") != "community" or unit.get("retired"):
        raise ValidationFailed(
            "not_a_community",
            f"{body.community_code} is not a community",
            f"{body.community_code}不是社区",
        )
    # the application counts in the command centre's KPIs under one grid of the community
    grids = await rpc.call("grids", "unit_children", code=body.community_code)
    grid = next(
        (
            u["code"]
            for u in grids.get("units", [])
            if u.get("level") == "grid" and not u.get("retired")
        ),
        None,
    )
    if grid is None:
        raise ValidationFailed(
            "community_without_grid", "the community has no grid yet", "该社区尚未划分网格"
        )
    return await rpc.call_typed(
        "petitions",
        "agency_apply",
        actor=_actor(who),
        item_code=body.item_code,
        community_code=body.community_code,
        grid_code=grid,
        materials=body.materials,
        appointment_at=body.appointment_at.isoformat() if body.appointment_at else None,
        application_id=str(body.application_id) if body.application_id else None,
    )


@router.get("/applications/mine", summary="My agency applications")
async def mine(
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("agency.mine"))],
    page: Annotated[int, Query(ge=1, le=10000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> AgencyApplicationList:
    return await rpc.call_typed(
        "petitions",
        "list_agency_applications",
        account_id=who.account_id,
        page=page,
        page_size=page_size,
    )


@router.get("/applications", summary="The applications of a unit (staff queue)")
async def queue(
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("agency.queue"))],
    jurisdiction: Jurisdiction = "",
    status: Annotated[
        str | None,
        Query(
            max_length=32,
            pattern=r"^[a-z_]+$",
            description="Only applications in this status (办理状态): submitted, returned "
            "(materials to correct), accepted, handling, fed_back, closed, rejected, withdrawn.",
            examples=["submitted"],
        ),
    ] = None,
    page: Annotated[int, Query(ge=1, le=10000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> AgencyApplicationList:
    prefix = who.jurisdiction_prefix(jurisdiction)
    return await rpc.call_typed(
        "petitions",
        "list_agency_applications",
        prefix=prefix,
        status=status,
        page=page,
        page_size=page_size,
    )


@router.get("/applications/{application_id}", summary="One application with its steps")
async def detail(
    application_id: uuid.UUID,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("agency.read"))],
) -> AgencyApplicationView:
    return await rpc.call_typed(
        "petitions",
        "get_agency_application",
        application_id=str(application_id),
        viewer_id=who.account_id[:64],
        viewer_role=who.role,
        jurisdiction_prefix=_prefix(who),
    )


@router.post(
    "/applications/{application_id}/actions",
    summary="accept, return_materials, resubmit, handle, feed_back, close, reject, withdraw",
)
async def act(
    application_id: uuid.UUID,
    body: ActionIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("agency.act"))],
) -> AgencyApplicationView:
    return await rpc.call_typed(
        "petitions",
        "agency_action",
        application_id=str(application_id),
        action=body.action,
        actor=_actor(who),
        expected_version=body.expected_version,
        fields=body.fields,
        jurisdiction_prefix=_prefix(who),
    )
