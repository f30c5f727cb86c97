"""Party members and volunteers (党员/志愿者): registration, three lists, point-ordering with
QR check-in, micro-wishes, teams and activities, points, shared venues.

Identities come from the authenticated principal, never from the body: a person acts as
``person_id`` (or their account id), a unit as its enterprise/institution id, staff as
their account bound to their unit code (the service checks that code covers the target).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query

from gateway.api.bodies import body_of
from gateway.api.params import Jurisdiction
from gateway.deps import RpcDep
from gateway.security import STAFF_ROLES, Principal, optional_principal, require
from yiwang.contracts.volunteers import (
    ActivityList,
    ActivityOut,
    ActOnActivityRequest,
    AddListItemRequest,
    AdjustPointsRequest,
    BalanceOut,
    BookingOut,
    BookVenueRequest,
    ChangeTeamRequest,
    CheckInOrderRequest,
    CompleteOrderRequest,
    CreateTeamRequest,
    CreateVenueRequest,
    DecideRegistrationRequest,
    DispatchOrderRequest,
    EntryWritten,
    FreeSlotsOut,
    FulfilWishRequest,
    LeaderboardOut,
    ListItemOut,
    ListItems,
    OrderList,
    OrderOut,
    PlaceOrderRequest,
    PlanActivityRequest,
    PostWishRequest,
    PublishOrderRequest,
    QrOut,
    RateOrderRequest,
    RedeemPointsRequest,
    RegisterUnitRequest,
    RegisterVolunteerRequest,
    RegistrationList,
    RegistrationOut,
    RejectOrderRequest,
    ReleaseOrderRequest,
    ReviewWishRequest,
    StatementOut,
    TeamOut,
    VenueOut,
    WishOut,
    WishTreeOut,
)
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


# --- registration (双报到) -----------------------------------------------------------------


VolunteerIn = body_of(
    RegisterVolunteerRequest,
    "VolunteerIn",
    exclude={"person_id", "volunteer_id"},
    examples=[
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
    ],
)


UnitIn = body_of(
    RegisterUnitRequest,
    "UnitIn",
    exclude={"unit_id"},
    examples=[
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
    ],
)


DecisionIn = body_of(
    DecideRegistrationRequest,
    "DecisionIn",
    only={"action", "reason"},
    examples=[{"action": "approve", "reason": ""}],
)


@router.post(
    "/registrations/volunteers",
    status_code=201,
    summary="Register as an in-service party member or volunteer (双报到)",
)
async def register_volunteer(
    body: VolunteerIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer.register")]
) -> RegistrationOut:
    return await rpc.call_typed(
        "volunteers", "register_volunteer", person_id=person(who), **body.model_dump(mode="json")
    )


@router.post(
    "/registrations/units",
    status_code=201,
    summary="Register the caller's unit as a co-building unit (共建单位)",
)
async def register_unit(
    body: UnitIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer.unit.register")]
) -> RegistrationOut:
    return await rpc.call_typed(
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
) -> RegistrationList:
    return await rpc.call_typed(
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
) -> RegistrationOut:
    return await rpc.call_typed(
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


ListItemIn = body_of(
    AddListItemRequest,
    "ListItemIn",
    exclude={"submitted_by", "community_code"},
    examples=[
        {
            "kind": "demand",
            "title": "独居老人助餐",
            "description": "幸福里小区12位独居老人需要每周三次送餐上门",
            "tags": ["elderly_care"],
            "resource_type": "people",
            "quantity": 3,
        }
    ],
)


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
) -> ListItems:
    everything = include_unpublished and is_staff(who)
    if everything:
        assert who is not None
        who.check_jurisdiction(community_code)
    return await rpc.call_typed(
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
) -> ListItemOut:
    if body.kind != "demand":
        if not is_staff(who):
            raise Forbidden(
                "staff_only",
                "only staff add resources and projects",
                "资源和项目清单由工作人员维护",
            )
        who.check_jurisdiction(community_code)
    return await rpc.call_typed(
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
) -> ListItemOut:
    return await rpc.call_typed(
        "volunteers", "move_list_item", staff=staff(who), item_id=item_id, action=action
    )


# --- orders (点单 → 审单/派单 → 接单 → 扫码签到 → 评单) -------------------------------------------


OrderIn = body_of(
    PlaceOrderRequest,
    "OrderIn",
    exclude={"resident_id"},
    examples=[
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
    ],
)


VersionIn = body_of(
    PublishOrderRequest, "VersionIn", only={"expected_version"}, examples=[{"expected_version": 3}]
)


DispatchIn = body_of(
    DispatchOrderRequest,
    "DispatchIn",
    exclude={"staff", "order_id"},
    examples=[
        {"claimant_kind": "volunteer", "claimant_id": "P-329901001001-0042", "expected_version": 2}
    ],
)


ReasonIn = body_of(
    ReleaseOrderRequest,
    "ReasonIn",
    only={"reason"},
    examples=[{"reason": "时间冲突，无法按时上门"}],
)


RejectIn = body_of(
    RejectOrderRequest,
    "RejectIn",
    exclude={"staff", "order_id"},
    examples=[{"reason": "不属于志愿服务范围，请拨打12345", "expected_version": 1}],
)


CheckInIn = body_of(
    CheckInOrderRequest,
    "CheckInIn",
    exclude={"order_id", "claimant_id"},
    examples=[{"token": "yw1.qr.ZXhhbXBsZS1vbmx5.c2lnbmF0dXJl", "lat": 30.2812, "lon": 120.1518}],
)


CompleteIn = body_of(
    CompleteOrderRequest,
    "CompleteIn",
    exclude={"order_id", "claimant_id"},
    examples=[{"note": "已更换楼道灯泡并检查线路", "photos": []}],
)


RateIn = body_of(
    RateOrderRequest,
    "RateIn",
    exclude={"order_id", "resident_id"},
    examples=[{"stars": 5, "comment": "师傅很耐心，谢谢！"}],
)


async def _order_visible(rpc: Any, who: Principal, order_id: str) -> OrderOut:
    order: OrderOut = await rpc.call_typed("volunteers", "get_order", order_id=order_id)
    if is_staff(who) or who.role == "leader":
        who.check_jurisdiction(order.community_code)
    elif (
        order.status != "published"
        and person(who) != order.resident_id
        and (claimant(who)["claimant_id"] != order.claimant_id)
    ):
        raise Forbidden("not_your_order", "this order is not yours", "无权查看此工单")
    return order


@router.post("/orders", status_code=201, summary="Order a service (百姓点单)")
async def place_order(
    body: OrderIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer_order.create")]
) -> OrderOut:
    who.check_jurisdiction(body.community_code)
    return await rpc.call_typed(
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
) -> OrderList:
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
    return await rpc.call_typed("volunteers", "list_orders", **q)


@router.get("/orders/{order_id}", summary="One order")
async def get_order(
    order_id: str, rpc: RpcDep, who: Annotated[Who, _who("volunteer_order.read")]
) -> OrderOut:
    return await _order_visible(rpc, who, order_id)


@router.post("/orders/{order_id}/publish", summary="Review passed: open for claiming (审单)")
async def publish_order(
    order_id: str, body: VersionIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer_order.review")]
) -> OrderOut:
    return await rpc.call_typed(
        "volunteers", "publish_order", staff=staff(who), order_id=order_id, **body.model_dump()
    )


@router.post("/orders/{order_id}/reject", summary="Review refused")
async def reject_order(
    order_id: str, body: RejectIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer_order.review")]
) -> OrderOut:
    return await rpc.call_typed(
        "volunteers", "reject_order", staff=staff(who), order_id=order_id, **body.model_dump()
    )


@router.post("/orders/{order_id}/dispatch", summary="Assign to a volunteer or unit (派单)")
async def dispatch_order(
    order_id: str,
    body: DispatchIn,
    rpc: RpcDep,
    who: Annotated[Who, _who("volunteer_order.dispatch")],
) -> OrderOut:
    return await rpc.call_typed(
        "volunteers", "dispatch_order", staff=staff(who), order_id=order_id, **body.model_dump()
    )


@router.post("/orders/{order_id}/claim", summary="Claim an order (接单/领单); first wins")
async def claim_order(
    order_id: str, body: VersionIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer_order.claim")]
) -> OrderOut:
    return await rpc.call_typed(
        "volunteers", "claim_order", order_id=order_id, **claimant(who), **body.model_dump()
    )


@router.post("/orders/{order_id}/release", summary="Give a claimed order back")
async def release_order(
    order_id: str, body: ReasonIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer_order.claim")]
) -> OrderOut:
    return await rpc.call_typed(
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
) -> QrOut:
    ident: dict[str, Any] = {"staff": staff(who)} if is_staff(who) else {"resident_id": person(who)}
    return await rpc.call_typed(
        "volunteers", "issue_order_qr", order_id=order_id, ttl_minutes=ttl_minutes, **ident
    )


@router.post("/orders/{order_id}/check-in", summary="Check in by scanning the QR (扫码签到)")
async def check_in(
    order_id: str, body: CheckInIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer_order.claim")]
) -> OrderOut:
    return await rpc.call_typed(
        "volunteers",
        "check_in_order",
        order_id=order_id,
        claimant_id=claimant(who)["claimant_id"],
        **body.model_dump(),
    )


@router.post("/orders/{order_id}/complete", summary="Service done, with a note and photos")
async def complete_order(
    order_id: str, body: CompleteIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer_order.claim")]
) -> OrderOut:
    return await rpc.call_typed(
        "volunteers",
        "complete_order",
        order_id=order_id,
        claimant_id=claimant(who)["claimant_id"],
        **body.model_dump(),
    )


@router.post("/orders/{order_id}/rate", summary="Rate the service once (评单); points follow")
async def rate_order(
    order_id: str, body: RateIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer_order.rate")]
) -> OrderOut:
    return await rpc.call_typed(
        "volunteers", "rate_order", order_id=order_id, resident_id=person(who), **body.model_dump()
    )


@router.post("/orders/{order_id}/cancel", summary="Withdraw one's order before check-in")
async def cancel_order(
    order_id: str, body: ReasonIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer_order.create")]
) -> OrderOut:
    return await rpc.call_typed(
        "volunteers", "cancel_order", order_id=order_id, resident_id=person(who), reason=body.reason
    )


# --- micro-wishes (微心愿) -------------------------------------------------------------------


WishIn = body_of(
    PostWishRequest,
    "WishIn",
    exclude={"poster_id"},
    examples=[
        {
            "community_code": "329901001001",
            "beneficiary": "小明（留守儿童）",
            "title": "想要一套课外读物",
            "description": "三年级学生，希望有一套适合阅读的童话书",
            "value_fen": 8000,
        }
    ],
)


WishReviewIn = body_of(
    ReviewWishRequest,
    "WishReviewIn",
    exclude={"staff", "wish_id"},
    examples=[{"action": "verify", "reason": ""}],
)


FulfilIn = body_of(
    FulfilWishRequest,
    "FulfilIn",
    only={"proof_note", "photos"},
    examples=[
        {"proof_note": "已将图书送到孩子家中", "photos": ["3f0c2a9e-7b1d-4c55-9a0e-2d6f1b8c4e71"]}
    ],
)


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
) -> WishTreeOut:
    return await rpc.call_typed("volunteers", "wish_tree", community_code=community_code)


@router.post("/wishes", status_code=201, summary="Post a micro-wish (for verification)")
async def post_wish(body: WishIn, rpc: RpcDep, who: Annotated[Who, _who("wish.post")]) -> WishOut:
    who.check_jurisdiction(body.community_code)
    return await rpc.call_typed(
        "volunteers", "post_wish", poster_id=person(who), **body.model_dump()
    )


@router.post("/wishes/{wish_id}/review", summary="Verify, reject, or light a fulfilled wish")
async def review_wish(
    wish_id: str, body: WishReviewIn, rpc: RpcDep, who: Annotated[Who, _who("wish.review")]
) -> WishOut:
    return await rpc.call_typed(
        "volunteers", "review_wish", staff=staff(who), wish_id=wish_id, **body.model_dump()
    )


@router.post("/wishes/{wish_id}/claim", summary="Claim a wish (认领)")
async def claim_wish(wish_id: str, rpc: RpcDep, who: Annotated[Who, _who("wish.claim")]) -> WishOut:
    return await rpc.call_typed("volunteers", "claim_wish", wish_id=wish_id, **claimer(who))


@router.post("/wishes/{wish_id}/fulfil", summary="Fulfil a claimed wish, with proof")
async def fulfil_wish(
    wish_id: str, body: FulfilIn, rpc: RpcDep, who: Annotated[Who, _who("wish.claim")]
) -> WishOut:
    return await rpc.call_typed(
        "volunteers",
        "fulfil_wish",
        wish_id=wish_id,
        claimer_id=claimer(who)["claimer_id"],
        **body.model_dump(),
    )


@router.post("/wishes/{wish_id}/release", summary="Give a claimed wish back")
async def release_wish(
    wish_id: str, rpc: RpcDep, who: Annotated[Who, _who("wish.claim")]
) -> WishOut:
    return await rpc.call_typed(
        "volunteers",
        "withdraw_wish",
        wish_id=wish_id,
        actor_id=claimer(who)["claimer_id"],
        as_claimer=True,
    )


@router.post("/wishes/{wish_id}/withdraw", summary="The poster withdraws an unclaimed wish")
async def withdraw_wish(
    wish_id: str, rpc: RpcDep, who: Annotated[Who, _who("wish.post")]
) -> WishOut:
    return await rpc.call_typed(
        "volunteers", "withdraw_wish", wish_id=wish_id, actor_id=person(who)
    )


# --- teams and activities ----------------------------------------------------------------


TeamIn = body_of(
    CreateTeamRequest,
    "TeamIn",
    exclude={"staff"},
    examples=[
        {
            "community_code": "329901001001",
            "name": "幸福里红色先锋队",
            "leader_ids": ["P-329901001001-0042"],
        }
    ],
)


TeamChangeIn = body_of(
    ChangeTeamRequest,
    "TeamChangeIn",
    only={"action", "person_id"},
    examples=[{"action": "add_member", "person_id": "P-329901001001-0057"}],
)


ActivityIn = body_of(
    PlanActivityRequest,
    "ActivityIn",
    exclude={"team_id", "by"},
    examples=[
        {
            "title": "周末清洁家园",
            "description": "清理小区绿化带白色垃圾",
            "window_start": "2026-11-28T09:00:00+08:00",
            "window_end": "2026-11-28T11:00:00+08:00",
            "place": "幸福里小区东门",
            "capacity": 30,
        }
    ],
)


StarsIn = body_of(ActOnActivityRequest, "StarsIn", only={"stars"}, examples=[{"stars": 5}])


@router.post("/teams", status_code=201, summary="Create a volunteer team (志愿服务队)")
async def create_team(
    body: TeamIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer.team.manage")]
) -> TeamOut:
    return await rpc.call_typed(
        "volunteers", "create_team", staff=staff(who, body.community_code), **body.model_dump()
    )


@router.post(
    "/teams/{team_id}/members", summary="Leaders add/remove members; staff appoint/dismiss leaders"
)
async def change_team(
    team_id: str, body: TeamChangeIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer.team.lead")]
) -> TeamOut:
    leaders = body.action in ("appoint_leader", "dismiss_leader")
    if leaders and not is_staff(who):
        raise Forbidden("staff_only", "community staff appoint leaders", "队长由社区任免")
    extra: dict[str, Any] = {"staff": staff(who)} if leaders else {"by": person(who)}
    return await rpc.call_typed(
        "volunteers", "change_team", team_id=team_id, **extra, **body.model_dump()
    )


@router.post("/teams/{team_id}/activities", status_code=201, summary="A leader plans one")
async def plan_activity(
    team_id: str, body: ActivityIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer.team.lead")]
) -> ActivityOut:
    return await rpc.call_typed(
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
) -> ActivityOut:
    return await rpc.call_typed(
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
) -> ActivityList:
    return await rpc.call_typed(
        "volunteers", "monthly_programme", community_code=community_code, year=year, month=month
    )


# --- points (积分) -------------------------------------------------------------------------


RedeemIn = body_of(
    RedeemPointsRequest,
    "RedeemIn",
    exclude={"holder_kind", "holder_id"},
    examples=[{"amount": 50, "reason": "兑换洗衣液一瓶", "community_code": "329901001001"}],
)


AdjustIn = body_of(
    AdjustPointsRequest,
    "AdjustIn",
    exclude={"staff"},
    examples=[
        {
            "holder_kind": "person",
            "holder_id": "P-329901001001-0042",
            "amount": 20,
            "reason": "协助疫苗接种点秩序维护",
            "community_code": "329901001001",
        }
    ],
)


@router.get("/points/me", summary="The caller's balance, or yearly statement with ?year=")
async def my_points(
    rpc: RpcDep,
    who: Annotated[Who, _who("volunteer.points.read_own")],
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> BalanceOut | StatementOut:
    if year is None:
        return await rpc.call_typed("volunteers", "points_balance", **holder(who))
    return await rpc.call_typed("volunteers", "points_statement", year=year, **holder(who))


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
) -> StatementOut:
    # whose statement staff may read is decided by the service (yiwang.access)
    return await rpc.call_typed(
        "volunteers",
        "points_statement",
        holder_kind=holder_kind,
        holder_id=holder_id,
        year=year,
        reader=staff(who),
    )


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
) -> LeaderboardOut:
    return await rpc.call_typed(
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
) -> EntryWritten:
    return await rpc.call_typed("volunteers", "redeem_points", **holder(who), **body.model_dump())


@router.post("/points/adjust", summary="A staff correction, with a reason")
async def adjust(
    body: AdjustIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer.points.adjust")]
) -> EntryWritten:
    return await rpc.call_typed(
        "volunteers", "adjust_points", staff=staff(who, body.community_code), **body.model_dump()
    )


# --- shared venues (场所共享) ---------------------------------------------------------------


VenueIn = body_of(
    CreateVenueRequest,
    "VenueIn",
    exclude={"staff"},
    examples=[
        {
            "community_code": "329901001001",
            "name": "幸福里党群服务中心多功能厅",
            "capacity": 80,
            "timetable": [{"weekday": 0, "opens": "08:30", "closes": "17:30"}],
            "closed_dates": ["2026-10-01"],
        }
    ],
)


BookingIn = body_of(
    BookVenueRequest,
    "BookingIn",
    exclude={"venue_id", "booker_id"},
    examples=[
        {
            "start": "2026-11-26T14:00:00+08:00",
            "end": "2026-11-26T16:00:00+08:00",
            "purpose": "老年人防诈骗讲座",
            "headcount": 40,
        }
    ],
)


@router.post("/venues", status_code=201, summary="Open a shared venue with its timetable")
async def create_venue(
    body: VenueIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer.venue.manage")]
) -> VenueOut:
    return await rpc.call_typed(
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
) -> FreeSlotsOut:
    return await rpc.call_typed(
        "volunteers", "venue_free_slots", venue_id=venue_id, day=day.isoformat()
    )


@router.post("/venues/{venue_id}/bookings", status_code=201, summary="Book (no double booking)")
async def book_venue(
    venue_id: str, body: BookingIn, rpc: RpcDep, who: Annotated[Who, _who("volunteer.venue.book")]
) -> BookingOut:
    return await rpc.call_typed(
        "volunteers",
        "book_venue",
        venue_id=venue_id,
        booker_id=who.account_id,
        **body.model_dump(mode="json"),
    )


@router.delete("/venues/{venue_id}/bookings/{booking_id}", summary="Cancel a booking")
async def cancel_booking(
    venue_id: str, booking_id: str, rpc: RpcDep, who: Annotated[Who, _who("volunteer.venue.book")]
) -> BookingOut:
    extra: dict[str, Any] = {"staff": staff(who)} if is_staff(who) else {}
    return await rpc.call_typed(
        "volunteers",
        "cancel_booking",
        venue_id=venue_id,
        booking_id=booking_id,
        by=who.account_id,
        **extra,
    )
