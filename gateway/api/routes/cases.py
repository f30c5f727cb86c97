"""Cases (petitions): detail, lifecycle actions, my cases, rating, public map, categories,
hotline import. The petitions service decides what each role may do to a case (409 with the
allowed actions, 403 for a role that may not act); these routes authenticate, narrow to the
caller's jurisdiction and pass the actor on."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.bodies import body_of
from gateway.deps import RpcDep
from gateway.security import STAFF_ROLES, Principal, optional_principal, require, unmask
from yiwang.contracts.grids import grid_codes_of, pack_points
from yiwang.contracts.petitions import (
    CaseActionRequest,
    CaseSummaryList,
    CaseView,
    CategoryList,
    CategoryOut,
    DetachResponse,
    DetachSupporterRequest,
    GeoJsonFeatureCollection,
    HotlineImportResponse,
    ImportHotlineRequest,
    MergeCasesRequest,
    SplitCaseRequest,
)

router = APIRouter(tags=["cases"])

CASE_WORKERS = {*STAFF_ROLES, "department_handler", "leader"}
POLICY = {
    "case.read": {"citizen", *CASE_WORKERS},
    "case.act": {"citizen", *CASE_WORKERS},
    "case.mine": {"citizen", "volunteer", "enterprise_user", "institution_user", *CASE_WORKERS},
    "case.rate": {"citizen"},
    "case.manage": {"community_staff", "street_staff", "district_staff", "city_staff"},
    "case.hotline_import": {"street_staff", "district_staff", "city_staff", "admin", "system"},
    "category.manage": {"city_staff", "admin"},
}


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


ActionIn = body_of(
    CaseActionRequest,
    "ActionIn",
    only={"action", "expected_version", "fields"},
    examples=[{"action": "accept", "expected_version": 3, "fields": {}}],
)


class RatingIn(_In):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"score": 5, "comment": "处理及时，很满意", "expected_version": 7}]
        },
    )
    score: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=500)
    expected_version: int = Field(ge=1)


MergeIn = body_of(
    MergeCasesRequest,
    "MergeIn",
    only={"target_case_id", "expected_version", "note"},
    examples=[
        {
            "target_case_id": "0b6f3c1e-6a53-4f0e-9a53-6c2d8e1f7a10",
            "expected_version": 2,
            "note": "同一地点重复上报",
        }
    ],
)


DetachIn = body_of(
    DetachSupporterRequest,
    "DetachIn",
    only={"expected_version", "note"},
    examples=[{"expected_version": 4, "note": "并非同一问题"}],
)


SplitIn = body_of(
    SplitCaseRequest,
    "SplitIn",
    only={"expected_version", "parts", "note"},
    examples=[
        {
            "expected_version": 2,
            "parts": [
                {
                    "category": "sanitation.garbage",
                    "department": "urban_management",
                    "description": "清运垃圾",
                },
                {"category": "roads.damage", "department": "transport", "description": "修补路面"},
            ],
            "note": "涉及两个部门",
        }
    ],
)


HotlineIn = body_of(
    ImportHotlineRequest,
    "HotlineIn",
    only={"tickets"},
    examples=[
        {
            "tickets": [
                {
                    "hotline": "12345",
                    "ticket_no": "2026110100017",
                    "category": "sanitation.garbage",
                    "description": "小区门口垃圾堆积",
                    "grid_code": "329901001001001",
                }
            ]
        }
    ],
)


def _actor(who: Principal) -> dict[str, Any]:
    """The actor petitions records and decides object access on (yiwang.access)."""
    a = who.actor()
    return {
        "id": str(a["id"])[:64],
        "role": a["role"],
        "name": str(a.get("name") or "")[:100],
        "jurisdiction_code": who.jurisdiction_code,
        "department": who.department,
    }


def _prefix(who: Principal) -> str:
    return "" if who.role == "citizen" else who.jurisdiction_code


async def _within(rpc: Any, who: Principal, *case_ids: uuid.UUID) -> None:
    """Forbidden (by the service) unless every case lies inside the caller's unit."""
    if who.jurisdiction_code:
        for case_id in case_ids:
            await rpc.call(
                "petitions",
                "get_case",
                case_id=str(case_id),
                jurisdiction_prefix=who.jurisdiction_code,
            )


# --- citizens and staff ------------------------------------------------------------------


@router.get("/api/v1/cases/mine", summary="My reports (as reporter or 'me too' supporter)")
async def my_cases(
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("case.mine"))],
    page: Annotated[int, Query(ge=1, le=10000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> CaseSummaryList:
    return await rpc.call_typed(
        "petitions", "list_my_cases", account_id=who.account_id, page=page, page_size=page_size
    )


@router.get("/api/v1/cases/{case_id}", summary="A case with its timeline")
async def case_detail(
    case_id: uuid.UUID,
    request: Request,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("case.read"))],
    unmask_contact: Annotated[bool, Query(alias="unmask")] = False,
) -> CaseView:
    if unmask_contact:
        await unmask(
            request, who, subject_type="case", subject_id=str(case_id), fields=["reporter.contact"]
        )
    return await rpc.call_typed(
        "petitions",
        "get_case",
        case_id=str(case_id),
        unmask=unmask_contact,
        viewer_id=who.account_id,
        viewer_role=who.role,
        viewer_department=who.department,
        jurisdiction_prefix=_prefix(who),
    )


@router.post(
    "/api/v1/cases/{case_id}/actions",
    summary="Take one lifecycle step (accept, dispatch, handle, verify, close, …)",
)
async def case_action(
    case_id: uuid.UUID,
    body: ActionIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("case.act"))],
) -> CaseView:
    return await rpc.call_typed(
        "petitions",
        "case_action",
        case_id=str(case_id),
        action=body.action,
        actor=_actor(who),
        expected_version=body.expected_version,
        fields=body.fields,
        jurisdiction_prefix=_prefix(who),
    )


@router.post(
    "/api/v1/cases/{case_id}/rating",
    summary="Rate a closed case 1–5 (≤ 2 reopens it once, then community review)",
)
async def rate_case(
    case_id: uuid.UUID,
    body: RatingIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("case.rate"))],
) -> CaseView:
    return await rpc.call_typed(
        "petitions",
        "case_action",
        case_id=str(case_id),
        action="rate",
        actor=_actor(who),
        expected_version=body.expected_version,
        fields={"score": body.score, "comment": body.comment},
    )


@router.post("/api/v1/cases/{case_id}/merge", summary="Merge this case into another (duplicate)")
async def merge_case(
    case_id: uuid.UUID,
    body: MergeIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("case.manage"))],
) -> CaseView:
    await _within(rpc, who, case_id, body.target_case_id)
    return await rpc.call_typed(
        "petitions",
        "merge_cases",
        actor=_actor(who),
        case_id=str(case_id),
        target_case_id=str(body.target_case_id),
        expected_version=body.expected_version,
        note=body.note,
    )


@router.post(
    "/api/v1/cases/{case_id}/supporters/{supporter_id}/detach",
    summary="Undo a wrong 'me too' link: the supporter's report becomes its own case",
)
async def detach_supporter(
    case_id: uuid.UUID,
    supporter_id: str,
    body: DetachIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("case.manage"))],
) -> DetachResponse:
    await _within(rpc, who, case_id)
    return await rpc.call_typed(
        "petitions",
        "detach_supporter",
        actor=_actor(who),
        case_id=str(case_id),
        supporter_id=supporter_id[:80],
        expected_version=body.expected_version,
        note=body.note,
    )


@router.post("/api/v1/cases/{case_id}/split", summary="Split into child cases per department")
async def split_case(
    case_id: uuid.UUID,
    body: SplitIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("case.manage"))],
) -> CaseView:
    await _within(rpc, who, case_id)
    return await rpc.call_typed(
        "petitions",
        "split_case",
        actor=_actor(who),
        case_id=str(case_id),
        expected_version=body.expected_version,
        parts=[p.model_dump() for p in body.parts],
        note=body.note,
    )


@router.post(
    "/api/v1/cases/hotline-import",
    summary="Import 12345/8890 tickets (idempotent per hotline + ticket number)",
)
async def hotline_import(
    body: HotlineIn,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("case.hotline_import"))],
) -> HotlineImportResponse:
    tickets = [t.model_dump(mode="json") for t in body.tickets]
    todo = [
        i
        for i, t in enumerate(tickets)
        if not t.get("grid_code") and t.get("lat") is not None and t.get("lon") is not None
    ]
    if todo:
        points = pack_points([tickets[i]["lat"] for i in todo], [tickets[i]["lon"] for i in todo])
        located = await rpc.call("grids", "locate_many_v2", points=points)
        for i, grid in zip(todo, grid_codes_of(located), strict=True):
            tickets[i]["grid_code"] = grid
    for t in tickets:  # an official imports tickets of their own unit only
        if t.get("grid_code"):
            who.check_jurisdiction(t["grid_code"])
    actor = _actor(who)
    if who.role == "system":
        actor["role"] = "system"
    return await rpc.call_typed("petitions", "import_hotline", actor=actor, tickets=tickets)


# --- public ------------------------------------------------------------------------------


@router.get(
    "/api/v1/public/cases.geojson",
    summary="Public map: public cases of public categories (blurred, no personal data)",
)
async def public_map(
    rpc: RpcDep,
    who: Annotated[Principal | None, Depends(optional_principal)] = None,
    prefix: Annotated[
        str,
        Query(
            pattern=r"^[0-9]{0,18}$",
            max_length=18,
            description="Only cases inside this unit code prefix (区划代码前缀); "
            "empty = the whole city",
            examples=["329901001"],
        ),
    ] = "",
    category: Annotated[
        str | None,
        Query(
            max_length=64,
            pattern=r"^[a-z0-9_.]+$",
            description="A category code (事件类别), or a group code that takes in all its "
            "categories (appearance: appearance.litter, appearance.illegal_ads, …)",
            examples=["appearance.litter"],
        ),
    ] = None,
    include_closed: bool = True,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> GeoJsonFeatureCollection:
    return await rpc.call_typed(
        "petitions",
        "public_map",
        prefix=prefix,
        category=category,
        include_closed=include_closed,
        limit=limit,
    )


# --- categories --------------------------------------------------------------------------


@router.get("/api/v1/categories", summary="The categories catalogue (tree by dotted codes)")
async def list_categories(
    rpc: RpcDep,
    who: Annotated[Principal | None, Depends(optional_principal)] = None,
    include_inactive: bool = False,
) -> CategoryList:
    return await rpc.call_typed("petitions", "list_categories", include_inactive=include_inactive)


@router.get("/api/v1/categories/{code}", summary="One category with its attributes")
async def get_category(
    code: str,
    rpc: RpcDep,
    who: Annotated[Principal | None, Depends(optional_principal)] = None,
) -> CategoryOut:
    return await rpc.call_typed("petitions", "get_category", code=code[:130])


@router.put(
    "/api/v1/categories/{code}",
    summary="Create or replace a category",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "example": {
                        "name_zh": "暴露垃圾",
                        "name_en": "Exposed litter",
                        "department": "urban_management",
                        "sla_class": "quick_1d",
                        "handling_level": "community",
                        "keywords": ["垃圾"],
                    }
                }
            }
        }
    },
)
async def put_category(
    code: str,
    body: dict[str, Any],
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("category.manage"))],
) -> CategoryOut:
    category = {**body, "code": code[:130]}
    category.pop("group", None)
    return await rpc.call_typed("petitions", "put_category", actor=_actor(who), category=category)


@router.post(
    "/api/v1/categories/{code}/deactivate",
    summary="Hide a category (and its subtree) from new reports",
)
async def deactivate_category(
    code: str,
    rpc: RpcDep,
    who: Annotated[Principal, Depends(require("category.manage"))],
) -> CategoryOut:
    return await rpc.call_typed(
        "petitions", "deactivate_category", actor=_actor(who), code=code[:130]
    )
