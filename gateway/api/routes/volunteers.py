"""Party members and volunteers (党员/志愿者): registration, three lists, point-ordering with
QR check-in, micro-wishes, teams and activities, points, shared venues.

Identities come from the authenticated principal, never from the body: a person acts as
``person_id`` (or their account id), a unit as its enterprise/institution id, staff as
their account bound to their unit code (the service checks that code covers the target).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.params import Jurisdiction
from gateway.deps import RpcDep
from gateway.security import STAFF_ROLES, Principal, optional_principal, require
from yiwang.errors import Forbidden, ValidationFailed

router = APIRouter(prefix="/api/v1/volunteers", tags=["volunteers"])

RESIDENTS = {"citizen", "volunteer"}
UNITS = {"enterprise_user", "institution_user"}
REVIEWERS = {"community_staff", "street_staff", "admin"}
READERS = {*STAFF_ROLES, "leader", "admin"}

# Open to anyone (a community's wish tree, its activity programme and a venue's free
# slots are published for residents, who need not sign in to look).
PUBLIC_ROUTES = {
    "GET /api/v1/volunteers/communities/{community_code}/wishes",
    "GET /api/v1/volunteers/communities/{community_code}/activities",
    "GET /api/v1/volunteers/venues/{venue_id}/free-slots",
}

POLICY = {
    "volunteer.register": {*RESIDENTS},
    "volunteer.unit.register": {*UNITS},
    "volunteer.registration.read": {*READERS},
    "volunteer.registration.decide": {*REVIEWERS},
    "volunteer.list.submit": {*RESIDENTS, *UNITS, *REVIEWERS},
    "volunteer.list.manage": {*REVIEWERS},
    "volunteer_order.create": {"citizen", "volunteer"},
    "volunteer_order.read": {*RESIDENTS, *UNITS, *READERS},
    "volunteer_order.review": {*REVIEWERS},
    "volunteer_order.dispatch": {"community_staff", "street_staff", "admin"},
    "volunteer_order.claim": {*RESIDENTS, *UNITS},
    "volunteer_order.qr": {*RESIDENTS, *REVIEWERS},
    "volunteer_order.rate": {*RESIDENTS},
    "wish.post": {*RESIDENTS, "grid_worker", *REVIEWERS},
    "wish.review": {*REVIEWERS},
    "wish.claim": {*RESIDENTS, *UNITS},
    "volunteer.team.manage": {*REVIEWERS},
    "volunteer.team.lead": {*RESIDENTS, *REVIEWERS},
    "volunteer.activity.join": {*RESIDENTS},
    "volunteer.points.read_own": {*RESIDENTS, *UNITS},
    "volunteer.points.read": {*READERS},
    "volunteer.points.leaderboard": {*RESIDENTS, *UNITS, *READERS},
    "volunteer.points.redeem": {*RESIDENTS, *UNITS},
    "volunteer.points.adjust": {*REVIEWERS},
    "volunteer.venue.manage": {*REVIEWERS},
    "volunteer.venue.book": {*RESIDENTS, *UNITS, *REVIEWERS},
}

COMMUNITY = r"^[0-9]{12}$"
Who = Principal


def _who(action: str) -> Any:
    return Depends(require(action))


def person(who: Principal) -> str:
    return who.person_id or who.account_id


def unit_of(who: Principal) -> str:
    unit = who.enterprise_id or who.institution_id
    if not unit:
        raise Forbidden("no_unit", "this account is bound to no unit", "该账号未绑定单位")
    return unit


def claimant(who: Principal) -> dict[str, str]:
    """Who claims: a unit account claims for its unit (单位领单), a person for themselves."""
    if who.role in UNITS:
        return {"claimant_kind": "unit", "claimant_id": unit_of(who)}
    return {"claimant_kind": "volunteer", "claimant_id": person(who)}


def holder(who: Principal) -> dict[str, str]:
    if who.role in UNITS:
        return {"holder_kind": "unit", "holder_id": unit_of(who)}
    return {"holder_kind": "person", "holder_id": person(who)}


def staff(who: Principal, code: str | None = None) -> dict[str, str]:
    """The staff reference the service checks against the target's code."""
    if code is not None:
        who.check_jurisdiction(code)
    return {"staff_id": who.account_id, "jurisdiction_code": who.jurisdiction_code}


def is_staff(who: Principal | None) -> bool:
    return who is not None and (who.role in STAFF_ROLES or who.role == "admin")


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- registration (双报到) -----------------------------------------------------------------


class Slot(In):
    weekday: int = Field(ge=0, le=6)
    start: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    end: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class VolunteerIn(In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "郑晓红",
                    "kind": "party_member",
                    "community_code": "329901001001",
                    "phone": "13800001111",
                    "work_unit": "安平市第一中学",
                    "skills": ["electrician", "tutoring"],
                    "availability": [{"weekday": 5, "start": "09:00", "end": "12:00"}],
                    "capacity": 2,
                }
            ]
        }
    )
    name: str = Field(min_length=1, max_length=64)
    kind: Literal["party_member", "volunteer"]
    community_code: str = Field(pattern=COMMUNITY)
    phone: str = Field(max_length=20)
    email: str | None = Field(default=None, max_length=120)
    work_unit: str | None = Field(default=None, max_length=128)
    unit_id: str | None = Field(default=None, max_length=64)
    skills: list[str] = Field(default_factory=list, max_length=30)
    availability: list[Slot] = Field(default_factory=list, max_length=21)
    capacity: int = Field(default=2, ge=1, le=50)


class UnitIn(In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "安平市供电公司平湖营业所",
                    "kind": "soe",
                    "community_code": "329901001001",
                    "phone": "0571-88880001",
                    "party_org": "供电所党支部",
                    "skills": ["electrician"],
                    "availability": [{"weekday": 5, "start": "09:00", "end": "12:00"}],
                    "capacity": 5,
                }
            ]
        }
    )
    name: str = Field(min_length=1, max_length=128)
    kind: Literal["agency", "soe", "institution", "company", "social_org"]
    community_code: str = Field(pattern=COMMUNITY)
    phone: str = Field(max_length=20)
    email: str | None = Field(default=None, max_length=120)
    party_org: str | None = Field(default=None, max_length=128)
    skills: list[str] = Field(default_factory=list, max_length=30)
    availability: list[Slot] = Field(default_factory=list, max_length=21)
    capacity: int = Field(default=5, ge=1, le=50)


class DecisionIn(In):
    model_config = ConfigDict(json_schema_extra={"examples": [{"action": "approve", "reason": ""}]})
    action: Literal["approve", "reject", "suspend", "reinstate", "resubmit"]
    reason: str = Field(default="", max_length=2000)


@router.post(
    "/registrations/volunteers",
    status_code=201,
    summary="Register as an in-service party member or volunteer (双报到)",
)
async def register_volunteer(
    body: VolunteerIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer.register")]
) -> dict[str, Any]:
    return await rpc.call(
        "volunteers", "register_volunteer", person_id=person(who), **body.model_dump(mode="json")
    )


@router.post(
    "/registrations/units",
    status_code=201,
    summary="Register the caller's unit as a co-building unit (共建单位)",
)
async def register_unit(
    body: UnitIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer.unit.register")]
) -> dict[str, Any]:
    return await rpc.call(
        "volunteers", "register_unit", unit_id=unit_of(who), **body.model_dump(mode="json")
    )


@router.get("/registrations", summary="Registrations inside the caller's jurisdiction")
async def list_registrations(
    rpc: RpcDep,
    who: Annotated[Who, _who("volunteer.registration.read")],
    jurisdiction: Jurisdiction = "",
    kind: Literal["volunteer", "unit"] | None = None,
    status: Literal["pending", "approved", "rejected", "suspended"] | None = None,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    return await rpc.call(
        "volunteers",
        "list_registrations",
        jurisdiction_prefix=who.jurisdiction_prefix(jurisdiction),
        kind=kind,
        status=status,
        page=page,
        page_size=page_size,
    )


@router.post(
    "/registrations/{kind}/{registration_id}/decision",
    summary="Approve, reject, suspend or reinstate a registration",
)
async def decide_registration(
    kind: Literal["volunteer", "unit"],
    registration_id: Annotated[
        str,
        Path(
            description="The registrant: a person id (kind volunteer) or a unit id (kind unit)",
            examples=["P-329901001001-0042"],
        ),
    ],
    body: DecisionIn,
    rpc: RpcDep,
    who: Annotated[Who, _who("volunteer.registration.decide")],
) -> dict[str, Any]:
    return await rpc.call(
        "volunteers",
        "decide_registration",
        staff=staff(who),
        kind=kind,
        registration_id=registration_id,
        **body.model_dump(),
    )


# --- three lists (三张清单) -----------------------------------------------------------------

ListKind = Literal["demand", "resource", "project"]
ResourceType = Literal["people", "unit", "venue", "money"]


class ListItemIn(In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "demand",
                    "title": "独居老人助餐",
                    "description": "幸福里小区12位独居老人需要每周三次送餐上门",
                    "tags": ["elderly_care"],
                    "resource_type": "people",
                    "quantity": 3,
                }
            ]
        }
    )
    kind: ListKind
    title: str = Field(min_length=1, max_length=100)
    description: str = Field(min_length=1, max_length=4000)
    tags: list[str] = Field(default_factory=list, max_length=20)
    resource_type: ResourceType | None = None
    quantity: int | None = Field(default=None, gt=0)


@router.get(
    "/communities/{community_code}/lists",
    summary="Search a community's demand, resource and project lists",
)
async def search_list(
    community_code: Annotated[str, Path(pattern=COMMUNITY)],
    rpc: RpcDep,
    who: Annotated[Principal | None, Depends(optional_principal)],
    text: Annotated[
        str,
        Query(
            max_length=200,
            description="Words (space-separated) that must all occur in the title, "
            "description or tags; case-insensitive",
            examples=["助餐"],
        ),
    ] = "",
    tags: Annotated[
        list[str] | None,
        Query(
            max_length=20,
            description="Only items carrying every one of these tags (repeat the parameter)",
            examples=[["elderly_care"]],
        ),
    ] = None,
    kind: ListKind | None = None,
    resource_type: ResourceType | None = None,
    include_unpublished: bool = False,
) -> dict[str, Any]:
    everything = include_unpublished and is_staff(who)
    if everything:
        assert who is not None
        who.check_jurisdiction(community_code)
    return await rpc.call(
        "volunteers",
        "search_list",
        community_code=community_code,
        text=text,
        tags=tags or [],
        kind=kind,
        resource_type=resource_type,
        public_only=not everything,
    )


@router.post(
    "/communities/{community_code}/lists",
    status_code=201,
    summary="Add a list item: residents post demands, staff resources and projects",
)
async def add_list_item(
    community_code: Annotated[str, Path(pattern=COMMUNITY)],
    body: ListItemIn,
    rpc: RpcDep,
    who: Annotated[Who, _who("volunteer.list.submit")],
) -> dict[str, Any]:
    if body.kind != "demand":
        if not is_staff(who):
            raise Forbidden(
                "staff_only",
                "only staff add resources and projects",
                "资源和项目清单由工作人员维护",
            )
        who.check_jurisdiction(community_code)
    return await rpc.call(
        "volunteers",
        "add_list_item",
        submitted_by=who.account_id,
        community_code=community_code,
        **body.model_dump(),
    )


@router.post("/lists/items/{item_id}/{action}", summary="Publish, start, finish, withdraw")
async def move_list_item(
    item_id: str,
    action: Literal["publish", "unpublish", "start", "finish", "withdraw"],
    rpc: RpcDep,
    who: Annotated[Who, _who("volunteer.list.manage")],
) -> dict[str, Any]:
    return await rpc.call(
        "volunteers", "move_list_item", staff=staff(who), item_id=item_id, action=action
    )


# --- orders (点单 → 审单/派单 → 接单 → 扫码签到 → 评单) -------------------------------------------


class OrderIn(In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "community_code": "329901001001",
                    "category": "repair",
                    "description": "楼道灯坏了一个月，老人晚上上下楼不方便，请帮忙修一下",
                    "window_start": "2026-11-25T09:00:00+08:00",
                    "window_end": "2026-11-25T17:00:00+08:00",
                    "lat": 30.2812,
                    "lon": 120.1518,
                    "address": "幸福里12幢2单元",
                }
            ]
        }
    )
    community_code: str = Field(pattern=COMMUNITY)
    category: str = Field(min_length=1, max_length=40)
    description: str = Field(min_length=1, max_length=2000)
    window_start: datetime
    window_end: datetime
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    address: str = Field(default="", max_length=200)


class VersionIn(In):
    model_config = ConfigDict(json_schema_extra={"examples": [{"expected_version": 3}]})
    expected_version: int | None = None


class DispatchIn(VersionIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "claimant_kind": "volunteer",
                    "claimant_id": "P-329901001001-0042",
                    "expected_version": 2,
                }
            ]
        }
    )
    claimant_kind: Literal["volunteer", "unit"]
    claimant_id: str = Field(min_length=1, max_length=64)


class ReasonIn(In):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "时间冲突，无法按时上门"}]}
    )
    reason: str = Field(min_length=1, max_length=500)


class RejectIn(ReasonIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "不属于志愿服务范围，请拨打12345", "expected_version": 1}]
        }
    )
    expected_version: int | None = None


class CheckInIn(In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"token": "yw1.qr.ZXhhbXBsZS1vbmx5.c2lnbmF0dXJl", "lat": 30.2812, "lon": 120.1518}
            ]
        }
    )
    token: str = Field(min_length=10, max_length=2000)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class CompleteIn(In):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": "已更换楼道灯泡并检查线路", "photos": []}]}
    )
    note: str = Field(min_length=1, max_length=2000)
    photos: list[str] = Field(default_factory=list, max_length=9)


class RateIn(In):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"stars": 5, "comment": "师傅很耐心，谢谢！"}]}
    )
    stars: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=500)


async def _order_visible(rpc: Any, who: Principal, order_id: str) -> dict[str, Any]:
    order: dict[str, Any] = await rpc.call("volunteers", "get_order", order_id=order_id)
    if is_staff(who) or who.role == "leader":
        who.check_jurisdiction(order["community_code"])
    elif (
        order["status"] != "published"
        and person(who) != order["resident_id"]
        and (claimant(who)["claimant_id"] != order["claimant_id"])
    ):
        raise Forbidden("not_your_order", "this order is not yours", "无权查看此工单")
    return order


@router.post("/orders", status_code=201, summary="Order a service (百姓点单)")
async def place_order(
    body: OrderIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer_order.create")]
) -> dict[str, Any]:
    who.check_jurisdiction(body.community_code)
    return await rpc.call(
        "volunteers", "place_order", resident_id=person(who), **body.model_dump(mode="json")
    )


@router.get(
    "/orders",
    summary="Orders: staff see their jurisdiction; residents their own; "
    "volunteers and units the open order hall or what they claimed",
)
async def list_orders(
    rpc: RpcDep,
    who: Annotated[Who, _who("volunteer_order.read")],
    jurisdiction: Jurisdiction = "",
    status: Annotated[
        str | None,
        Query(
            max_length=32,
            description="Only orders in this status (工单状态): ordered (点单), published, "
            "escalated, claimed (接单), checked_in, completed, rated (评单), "
            "closed_unrated, rejected, cancelled",
            examples=["published"],
        ),
    ] = None,
    category: Annotated[
        str | None,
        Query(
            max_length=40,
            description="Only orders of this service category (服务类别), e.g. repair, "
            "cleaning, legal_aid, chat",
            examples=["repair"],
        ),
    ] = None,
    mine: Literal["ordered", "claimed"] | None = None,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    q: dict[str, Any] = dict(status=status, category=category, page=page, page_size=page_size)
    if is_staff(who) or who.role == "leader":
        q["jurisdiction_prefix"] = who.jurisdiction_prefix(jurisdiction)
    elif mine == "ordered":
        q["resident_id"] = person(who)
    elif mine == "claimed":
        q["claimant_id"] = claimant(who)["claimant_id"]
    else:  # the order hall (接单大厅): published orders of a community
        if status not in (None, "published"):
            raise ValidationFailed(
                "hall_shows_published",
                "the order hall lists published orders; use mine=ordered|claimed",
                "接单大厅仅显示待接工单",
            )
        q.update(status="published", jurisdiction_prefix=jurisdiction)
    return await rpc.call("volunteers", "list_orders", **q)


@router.get("/orders/{order_id}", summary="One order")
async def get_order(
    order_id: str, rpc: RpcDep, who: Annotated[Who, _who("volunteer_order.read")]
) -> dict[str, Any]:
    return await _order_visible(rpc, who, order_id)


@router.post("/orders/{order_id}/publish", summary="Review passed: open for claiming (审单)")
async def publish_order(
    order_id: str, body: VersionIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer_order.review")]
) -> dict[str, Any]:
    return await rpc.call(
        "volunteers", "publish_order", staff=staff(who), order_id=order_id, **body.model_dump()
    )


@router.post("/orders/{order_id}/reject", summary="Review refused")
async def reject_order(
    order_id: str, body: RejectIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer_order.review")]
) -> dict[str, Any]:
    return await rpc.call(
        "volunteers", "reject_order", staff=staff(who), order_id=order_id, **body.model_dump()
    )


@router.post("/orders/{order_id}/dispatch", summary="Assign to a volunteer or unit (派单)")
async def dispatch_order(
    order_id: str,
    body: DispatchIn,
    rpc: RpcDep,
    who: Annotated[Who, _who("volunteer_order.dispatch")],
) -> dict[str, Any]:
    return await rpc.call(
        "volunteers", "dispatch_order", staff=staff(who), order_id=order_id, **body.model_dump()
    )


@router.post("/orders/{order_id}/claim", summary="Claim an order (接单/领单); first wins")
async def claim_order(
    order_id: str, body: VersionIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer_order.claim")]
) -> dict[str, Any]:
    return await rpc.call(
        "volunteers", "claim_order", order_id=order_id, **claimant(who), **body.model_dump()
    )


@router.post("/orders/{order_id}/release", summary="Give a claimed order back")
async def release_order(
    order_id: str, body: ReasonIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer_order.claim")]
) -> dict[str, Any]:
    return await rpc.call(
        "volunteers",
        "release_order",
        order_id=order_id,
        claimant_id=claimant(who)["claimant_id"],
        reason=body.reason,
    )


@router.get("/orders/{order_id}/qr", summary="The check-in QR token, shown at the place")
async def order_qr(
    order_id: str,
    rpc: RpcDep,
    who: Annotated[Who, _who("volunteer_order.qr")],
    ttl_minutes: Annotated[int | None, Query(ge=1, le=1440)] = None,
) -> dict[str, Any]:
    ident: dict[str, Any] = {"staff": staff(who)} if is_staff(who) else {"resident_id": person(who)}
    return await rpc.call(
        "volunteers", "issue_order_qr", order_id=order_id, ttl_minutes=ttl_minutes, **ident
    )


@router.post("/orders/{order_id}/check-in", summary="Check in by scanning the QR (扫码签到)")
async def check_in(
    order_id: str, body: CheckInIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer_order.claim")]
) -> dict[str, Any]:
    return await rpc.call(
        "volunteers",
        "check_in_order",
        order_id=order_id,
        claimant_id=claimant(who)["claimant_id"],
        **body.model_dump(),
    )


@router.post("/orders/{order_id}/complete", summary="Service done, with a note and photos")
async def complete_order(
    order_id: str, body: CompleteIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer_order.claim")]
) -> dict[str, Any]:
    return await rpc.call(
        "volunteers",
        "complete_order",
        order_id=order_id,
        claimant_id=claimant(who)["claimant_id"],
        **body.model_dump(),
    )


@router.post("/orders/{order_id}/rate", summary="Rate the service once (评单); points follow")
async def rate_order(
    order_id: str, body: RateIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer_order.rate")]
) -> dict[str, Any]:
    return await rpc.call(
        "volunteers", "rate_order", order_id=order_id, resident_id=person(who), **body.model_dump()
    )


@router.post("/orders/{order_id}/cancel", summary="Withdraw one's order before check-in")
async def cancel_order(
    order_id: str, body: ReasonIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer_order.create")]
) -> dict[str, Any]:
    return await rpc.call(
        "volunteers", "cancel_order", order_id=order_id, resident_id=person(who), reason=body.reason
    )


# --- micro-wishes (微心愿) -------------------------------------------------------------------


class WishIn(In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "community_code": "329901001001",
                    "beneficiary": "小明（留守儿童）",
                    "title": "想要一套课外读物",
                    "description": "三年级学生，希望有一套适合阅读的童话书",
                    "value_fen": 8000,
                }
            ]
        }
    )
    community_code: str = Field(pattern=COMMUNITY)
    beneficiary: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=100)
    description: str = Field(min_length=1, max_length=1000)
    value_fen: int | None = None


class WishReviewIn(In):
    model_config = ConfigDict(json_schema_extra={"examples": [{"action": "verify", "reason": ""}]})
    action: Literal["verify", "reject", "light"]
    reason: str = Field(default="", max_length=500)


class FulfilIn(In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "proof_note": "已将图书送到孩子家中",
                    "photos": ["3f0c2a9e-7b1d-4c55-9a0e-2d6f1b8c4e71"],
                }
            ]
        }
    )
    proof_note: str = Field(min_length=1, max_length=1000)
    photos: list[str] = Field(min_length=1, max_length=9)


def claimer(who: Principal) -> dict[str, str]:
    if who.role in UNITS:
        return {"claimer_kind": "unit", "claimer_id": unit_of(who)}
    return {
        "claimer_kind": "member" if who.role == "volunteer" else "person",
        "claimer_id": person(who),
    }


@router.get("/communities/{community_code}/wishes", summary="The community's wish tree")
async def wish_tree(
    community_code: Annotated[str, Path(pattern=COMMUNITY)], rpc: RpcDep
) -> dict[str, Any]:
    return await rpc.call("volunteers", "wish_tree", community_code=community_code)


@router.post("/wishes", status_code=201, summary="Post a micro-wish (for verification)")
async def post_wish(
    body: WishIn, rpc: RpcDep, who: Annotated[Who, _who("wish.post")]
) -> dict[str, Any]:
    who.check_jurisdiction(body.community_code)
    return await rpc.call("volunteers", "post_wish", poster_id=person(who), **body.model_dump())


@router.post("/wishes/{wish_id}/review", summary="Verify, reject, or light a fulfilled wish")
async def review_wish(
    wish_id: str, body: WishReviewIn, rpc: RpcDep, who: Annotated[Who, _who("wish.review")]
) -> dict[str, Any]:
    return await rpc.call(
        "volunteers", "review_wish", staff=staff(who), wish_id=wish_id, **body.model_dump()
    )


@router.post("/wishes/{wish_id}/claim", summary="Claim a wish (认领)")
async def claim_wish(
    wish_id: str, rpc: RpcDep, who: Annotated[Who, _who("wish.claim")]
) -> dict[str, Any]:
    return await rpc.call("volunteers", "claim_wish", wish_id=wish_id, **claimer(who))


@router.post("/wishes/{wish_id}/fulfil", summary="Fulfil a claimed wish, with proof")
async def fulfil_wish(
    wish_id: str, body: FulfilIn, rpc: RpcDep, who: Annotated[Who, _who("wish.claim")]
) -> dict[str, Any]:
    return await rpc.call(
        "volunteers",
        "fulfil_wish",
        wish_id=wish_id,
        claimer_id=claimer(who)["claimer_id"],
        **body.model_dump(),
    )


@router.post("/wishes/{wish_id}/release", summary="Give a claimed wish back")
async def release_wish(
    wish_id: str, rpc: RpcDep, who: Annotated[Who, _who("wish.claim")]
) -> dict[str, Any]:
    return await rpc.call(
        "volunteers",
        "withdraw_wish",
        wish_id=wish_id,
        actor_id=claimer(who)["claimer_id"],
        as_claimer=True,
    )


@router.post("/wishes/{wish_id}/withdraw", summary="The poster withdraws an unclaimed wish")
async def withdraw_wish(
    wish_id: str, rpc: RpcDep, who: Annotated[Who, _who("wish.post")]
) -> dict[str, Any]:
    return await rpc.call("volunteers", "withdraw_wish", wish_id=wish_id, actor_id=person(who))


# --- teams and activities ----------------------------------------------------------------


class TeamIn(In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "community_code": "329901001001",
                    "name": "幸福里红色先锋队",
                    "leader_ids": ["P-329901001001-0042"],
                }
            ]
        }
    )
    community_code: str = Field(pattern=COMMUNITY)
    name: str = Field(min_length=1, max_length=64)
    leader_ids: list[str] = Field(min_length=1, max_length=20)


class TeamChangeIn(In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"action": "add_member", "person_id": "P-329901001001-0057"}]
        }
    )
    action: Literal["add_member", "remove_member", "appoint_leader", "dismiss_leader"]
    person_id: str = Field(min_length=1, max_length=64)


class ActivityIn(In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "周末清洁家园",
                    "description": "清理小区绿化带白色垃圾",
                    "window_start": "2026-11-28T09:00:00+08:00",
                    "window_end": "2026-11-28T11:00:00+08:00",
                    "place": "幸福里小区东门",
                    "capacity": 30,
                }
            ]
        }
    )
    title: str = Field(min_length=1, max_length=100)
    description: str = Field(min_length=1, max_length=2000)
    window_start: datetime
    window_end: datetime
    place: str = Field(min_length=1, max_length=200)
    capacity: int = Field(ge=1, le=10000)


class StarsIn(In):
    model_config = ConfigDict(json_schema_extra={"examples": [{"stars": 5}]})
    stars: int | None = Field(default=None, ge=1, le=5)


@router.post("/teams", status_code=201, summary="Create a volunteer team (志愿服务队)")
async def create_team(
    body: TeamIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer.team.manage")]
) -> dict[str, Any]:
    return await rpc.call(
        "volunteers", "create_team", staff=staff(who, body.community_code), **body.model_dump()
    )


@router.post(
    "/teams/{team_id}/members", summary="Leaders add/remove members; staff appoint/dismiss leaders"
)
async def change_team(
    team_id: str, body: TeamChangeIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer.team.lead")]
) -> dict[str, Any]:
    leaders = body.action in ("appoint_leader", "dismiss_leader")
    if leaders and not is_staff(who):
        raise Forbidden("staff_only", "community staff appoint leaders", "队长由社区任免")
    extra: dict[str, Any] = {"staff": staff(who)} if leaders else {"by": person(who)}
    return await rpc.call(
        "volunteers", "change_team", team_id=team_id, **extra, **body.model_dump()
    )


@router.post("/teams/{team_id}/activities", status_code=201, summary="A leader plans one")
async def plan_activity(
    team_id: str, body: ActivityIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer.team.lead")]
) -> dict[str, Any]:
    return await rpc.call(
        "volunteers",
        "plan_activity",
        team_id=team_id,
        by=person(who),
        **body.model_dump(mode="json"),
    )


@router.post(
    "/activities/{activity_id}/{action}",
    summary="Leaders publish/cancel; residents sign_up, withdraw, check_in, rate",
)
async def act_on_activity(
    activity_id: str,
    action: Literal["publish", "cancel", "sign_up", "withdraw", "check_in", "rate"],
    body: StarsIn,
    rpc: RpcDep,
    who: Annotated[Who, _who("volunteer.activity.join")],
) -> dict[str, Any]:
    return await rpc.call(
        "volunteers",
        "act_on_activity",
        activity_id=activity_id,
        action=action,
        person_id=person(who),
        stars=body.stars,
    )


@router.get("/communities/{community_code}/activities", summary="Monthly programme")
async def monthly_programme(
    community_code: Annotated[str, Path(pattern=COMMUNITY)],
    rpc: RpcDep,
    year: Annotated[int, Query(ge=2000, le=2100)],
    month: Annotated[int, Query(ge=1, le=12)],
) -> dict[str, Any]:
    return await rpc.call(
        "volunteers", "monthly_programme", community_code=community_code, year=year, month=month
    )


# --- points (积分) -------------------------------------------------------------------------


class RedeemIn(In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"amount": 50, "reason": "兑换洗衣液一瓶", "community_code": "329901001001"}
            ]
        }
    )
    amount: int = Field(gt=0, le=1_000_000)
    reason: str = Field(min_length=1, max_length=200)
    community_code: str = Field(pattern=COMMUNITY)
    ref: str | None = Field(default=None, max_length=64)


class AdjustIn(In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "holder_kind": "person",
                    "holder_id": "P-329901001001-0042",
                    "amount": 20,
                    "reason": "协助疫苗接种点秩序维护",
                    "community_code": "329901001001",
                }
            ]
        }
    )
    holder_kind: Literal["person", "unit"]
    holder_id: str = Field(min_length=1, max_length=64)
    amount: int = Field(ge=-1_000_000, le=1_000_000)
    reason: str = Field(min_length=1, max_length=200)
    community_code: str = Field(pattern=COMMUNITY)


@router.get("/points/me", summary="The caller's balance, or yearly statement with ?year=")
async def my_points(
    rpc: RpcDep,
    who: Annotated[Who, _who("volunteer.points.read_own")],
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> dict[str, Any]:
    if year is None:
        return await rpc.call("volunteers", "points_balance", **holder(who))
    return await rpc.call("volunteers", "points_statement", year=year, **holder(who))


@router.get(
    "/points/{holder_kind}/{holder_id}/statement",
    summary="A yearly statement for annual evaluations (staff)",
)
async def points_statement(
    holder_kind: Literal["person", "unit"],
    holder_id: Annotated[
        str,
        Path(
            description="The points holder: a person id (holder_kind person) or a unit id",
            examples=["P-329901001001-0042"],
        ),
    ],
    rpc: RpcDep,
    who: Annotated[Who, _who("volunteer.points.read")],
    year: Annotated[int, Query(ge=2000, le=2100)],
) -> dict[str, Any]:
    # whose statement staff may read is decided by the service (yiwang.access)
    return await rpc.call(
        "volunteers", "points_statement", holder_kind=holder_kind, holder_id=holder_id,
        year=year, reader=staff(who),
    )  # fmt: skip


@router.get("/points/leaderboard", summary="Leaderboard of a community (12) or street (9)")
async def leaderboard(
    rpc: RpcDep,
    who: Annotated[Who, _who("volunteer.points.leaderboard")],
    scope: Annotated[
        str,
        Query(
            pattern=r"^([0-9]{9}|[0-9]{12})$",
            description="Code of the community (12 digits) or street (9 digits) ranked",
            examples=["329901001001"],
        ),
    ],
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    top: Annotated[int, Query(ge=1, le=200)] = 20,
    holder_kind: Literal["person", "unit"] | None = None,
) -> dict[str, Any]:
    return await rpc.call(
        "volunteers",
        "points_leaderboard",
        scope_code=scope,
        year=year,
        top=top,
        holder_kind=holder_kind,
    )


@router.post("/points/redeem", summary="Spend the caller's points (never beyond the balance)")
async def redeem(
    body: RedeemIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer.points.redeem")]
) -> dict[str, Any]:
    return await rpc.call("volunteers", "redeem_points", **holder(who), **body.model_dump())


@router.post("/points/adjust", summary="A staff correction, with a reason")
async def adjust(
    body: AdjustIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer.points.adjust")]
) -> dict[str, Any]:
    return await rpc.call(
        "volunteers", "adjust_points", staff=staff(who, body.community_code), **body.model_dump()
    )


# --- shared venues (场所共享) ---------------------------------------------------------------


class OpeningIn(In):
    weekday: int = Field(ge=0, le=6)
    opens: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    closes: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class VenueIn(In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "community_code": "329901001001",
                    "name": "幸福里党群服务中心多功能厅",
                    "capacity": 80,
                    "timetable": [{"weekday": 0, "opens": "08:30", "closes": "17:30"}],
                    "closed_dates": ["2026-10-01"],
                }
            ]
        }
    )
    community_code: str = Field(pattern=COMMUNITY)
    name: str = Field(min_length=1, max_length=100)
    capacity: int = Field(ge=1, le=100000)
    timetable: list[OpeningIn] = Field(min_length=1, max_length=50)
    closed_dates: list[date] = Field(default_factory=list, max_length=366)


class BookingIn(In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "start": "2026-11-26T14:00:00+08:00",
                    "end": "2026-11-26T16:00:00+08:00",
                    "purpose": "老年人防诈骗讲座",
                    "headcount": 40,
                }
            ]
        }
    )
    start: datetime
    end: datetime
    purpose: str = Field(min_length=1, max_length=200)
    headcount: int = Field(ge=1, le=100000)


@router.post("/venues", status_code=201, summary="Open a shared venue with its timetable")
async def create_venue(
    body: VenueIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer.venue.manage")]
) -> dict[str, Any]:
    return await rpc.call(
        "volunteers",
        "create_venue",
        staff=staff(who, body.community_code),
        **body.model_dump(mode="json"),
    )


@router.get("/venues/{venue_id}/free-slots", summary="Open, unbooked intervals of a day")
async def free_slots(
    venue_id: str,
    day: Annotated[date, Query(description="the day asked about (local)", examples=["2026-11-01"])],
    rpc: RpcDep,
) -> dict[str, Any]:
    return await rpc.call("volunteers", "venue_free_slots", venue_id=venue_id, day=day.isoformat())


@router.post("/venues/{venue_id}/bookings", status_code=201, summary="Book (no double booking)")
async def book_venue(
    venue_id: str, body: BookingIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer.venue.book")]
) -> dict[str, Any]:
    return await rpc.call(
        "volunteers",
        "book_venue",
        venue_id=venue_id,
        booker_id=who.account_id,
        **body.model_dump(mode="json"),
    )


@router.delete("/venues/{venue_id}/bookings/{booking_id}", summary="Cancel a booking")
async def cancel_booking(
    venue_id: str, booking_id: str, rpc: RpcDep, who: Annotated[Who, _who("volunteer.venue.book")]
) -> dict[str, Any]:
    extra: dict[str, Any] = {"staff": staff(who)} if is_staff(who) else {}
    return await rpc.call(
        "volunteers",
        "cancel_booking",
        venue_id=venue_id,
        booking_id=booking_id,
        by=who.account_id,
        **extra,
    )
