"""Contracts of the volunteers service: its events, its RPC, its subscriptions.

Events (producer ``volunteers``, exchange ``volunteers.events``):
``volunteer_order.created|claimed|checked_in|completed|rated|unclaimed|escalated|closed``,
``wish.fulfilled`` and ``points.awarded``. ``volunteer_order.escalated`` is the one the
petitions service turns into a case (source ``volunteer_order``).

RPC requests carry identities the gateway has already authenticated: ``staff`` (the staff
account and the unit code it acts for), resident / claimant / person ids.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from yiwang.contracts.base import Payload
from yiwang.contracts.envelope import event_contract
from yiwang.contracts.rpc import rpc_contract
from yiwang.contracts.subscription import Subscription

COMMUNITY = r"^[0-9]{12}$"
CODE = r"^([0-9]{4,18})?$"
Id = str
ClaimantKind = Literal["volunteer", "unit"]
HolderKind = Literal["person", "unit"]

# --- events ------------------------------------------------------------------------------


class _OrderEvent(Payload):
    order_id: str
    community_code: str
    seq: int = Field(ge=1, description="the order's version after the change, for ordering")
    occurred_at: datetime


@event_contract("volunteer_order.created", 1)
class VolunteerOrderCreatedV1(_OrderEvent):
    """A resident ordered a service (点单)."""

    resident_id: str
    category: str
    review_level: str
    claim_deadline: datetime
    window_start: datetime
    window_end: datetime
    lat: float
    lon: float


@event_contract("volunteer_order.claimed", 1)
class VolunteerOrderClaimedV1(_OrderEvent):
    """Claimed by a volunteer or unit (接单), or dispatched to one (派单: via=dispatch)."""

    claimant_kind: ClaimantKind
    claimant_id: str
    via: Literal["claim", "dispatch"]
    by: str


@event_contract("volunteer_order.checked_in", 1)
class VolunteerOrderCheckedInV1(_OrderEvent):
    claimant_id: str
    distance_m: float


@event_contract("volunteer_order.completed", 1)
class VolunteerOrderCompletedV1(_OrderEvent):
    claimant_id: str
    photos: list[str] = Field(default_factory=list)


@event_contract("volunteer_order.rated", 1)
class VolunteerOrderRatedV1(_OrderEvent):
    claimant_id: str
    stars: int = Field(ge=1, le=5)


@event_contract("volunteer_order.unclaimed", 1)
class VolunteerOrderUnclaimedV1(_OrderEvent):
    """Nobody claimed it by the claim deadline: the community's dispatcher must act."""

    dispatcher_code: str
    case_deadline: datetime


@event_contract("volunteer_order.escalated", 1)
class VolunteerOrderEscalatedV1(_OrderEvent):
    """Still open after the second limit: open a case in the command view from this."""

    category: str
    description: str
    lat: float
    lon: float
    resident_id: str
    address: str = ""


@event_contract("volunteer_order.closed", 1)
class VolunteerOrderClosedV1(_OrderEvent):
    """Ended without service (rejected, cancelled) or closed unrated after the limit."""

    status: Literal["rejected", "cancelled", "closed_unrated"]
    reason: str = ""


@event_contract("wish.fulfilled", 1)
class WishFulfilledV1(Payload):
    wish_id: str
    community_code: str
    claimer_kind: Literal["member", "unit", "person"]
    claimer_id: str
    occurred_at: datetime


@event_contract("points.awarded", 1)
class PointsAwardedV1(Payload):
    holder_kind: HolderKind
    holder_id: str
    points: int = Field(gt=0)
    reason: str
    ref: str
    community_code: str
    entry_seq: int = Field(ge=1)
    balance: int = Field(ge=0)
    occurred_at: datetime


# --- shared request/response parts -------------------------------------------------------


class StaffRef(Payload):
    """The staff account acting and the unit code it is bound to (from the gateway)."""

    staff_id: str = Field(min_length=1, max_length=64)
    jurisdiction_code: str = Field(pattern=CODE, description='"" = everywhere (admin)')


HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"  # 00:00-23:59


class AvailabilitySlot(Payload):
    weekday: int = Field(ge=0, le=6)
    start: str = Field(pattern=HHMM)
    end: str = Field(pattern=HHMM)


class Paging(Payload):
    page: int = Field(default=1, ge=1, le=100000)
    page_size: int = Field(default=20, ge=1, le=200)


# --- registration (双报到) -----------------------------------------------------------------


class RegistrationOut(Payload):
    kind: ClaimantKind
    registration_id: str
    community_code: str
    name: str
    status: str
    person_id: str | None = None
    volunteer_kind: str | None = None
    unit_kind: str | None = None
    work_unit: str | None = None
    skills: list[str]
    capacity: int
    version: int
    registered_at: datetime
    decided_by: str | None = None
    decision_note: str | None = None


class RegistrationList(Payload):
    items: list[RegistrationOut]
    total: int


@rpc_contract("volunteers", "register_volunteer", RegistrationOut)
class RegisterVolunteerRequest(Payload):
    person_id: str = Field(min_length=1, max_length=64)
    volunteer_id: str | None = Field(default=None, max_length=64)  # default: person_id
    name: str = Field(min_length=1, max_length=64)
    kind: Literal["party_member", "volunteer"]
    community_code: str = Field(pattern=COMMUNITY)
    phone: str = Field(max_length=20)
    email: str | None = Field(default=None, max_length=120)
    work_unit: str | None = Field(default=None, max_length=128)
    unit_id: str | None = Field(default=None, max_length=64)
    skills: list[str] = Field(default_factory=list, max_length=30)
    availability: list[AvailabilitySlot] = Field(default_factory=list, max_length=21)
    capacity: int = Field(default=2, ge=1, le=50)


@rpc_contract("volunteers", "register_unit", RegistrationOut)
class RegisterUnitRequest(Payload):
    unit_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=128)
    kind: Literal["agency", "soe", "institution", "company", "social_org"]
    community_code: str = Field(pattern=COMMUNITY)
    phone: str = Field(max_length=20)
    email: str | None = Field(default=None, max_length=120)
    party_org: str | None = Field(default=None, max_length=128)
    skills: list[str] = Field(default_factory=list, max_length=30)
    availability: list[AvailabilitySlot] = Field(default_factory=list, max_length=21)
    capacity: int = Field(default=5, ge=1, le=50)


@rpc_contract("volunteers", "decide_registration", RegistrationOut)
class DecideRegistrationRequest(Payload):
    staff: StaffRef
    kind: ClaimantKind
    registration_id: str = Field(min_length=1, max_length=64)
    action: Literal["approve", "reject", "suspend", "reinstate", "resubmit"]
    reason: str = Field(default="", max_length=2000)


@rpc_contract("volunteers", "get_registration", RegistrationOut)
class GetRegistrationRequest(Payload):
    kind: ClaimantKind
    registration_id: str = Field(min_length=1, max_length=64)


@rpc_contract("volunteers", "list_registrations", RegistrationList)
class ListRegistrationsRequest(Paging):
    jurisdiction_prefix: str = Field(default="", pattern=r"^[0-9]{0,18}$")
    kind: ClaimantKind | None = None
    status: Literal["pending", "approved", "rejected", "suspended"] | None = None


# --- three lists (三张清单) -----------------------------------------------------------------


class ListItemOut(Payload):
    item_id: str
    community_code: str
    kind: Literal["demand", "resource", "project"]
    title: str
    description: str
    tags: list[str]
    status: str
    resource_type: str | None = None
    quantity: int | None = None
    submitted_by: str
    version: int
    created_at: datetime
    updated_at: datetime | None = None


class ListItems(Payload):
    items: list[ListItemOut]


@rpc_contract("volunteers", "add_list_item", ListItemOut)
class AddListItemRequest(Payload):
    submitted_by: str = Field(min_length=1, max_length=64)
    community_code: str = Field(pattern=COMMUNITY)
    kind: Literal["demand", "resource", "project"]
    title: str = Field(min_length=1, max_length=100)
    description: str = Field(min_length=1, max_length=4000)
    tags: list[str] = Field(default_factory=list, max_length=20)
    resource_type: Literal["people", "unit", "venue", "money"] | None = None
    quantity: int | None = Field(default=None, gt=0)


@rpc_contract("volunteers", "move_list_item", ListItemOut)
class MoveListItemRequest(Payload):
    staff: StaffRef
    item_id: str = Field(min_length=1, max_length=64)
    action: Literal["publish", "unpublish", "start", "finish", "withdraw"]


@rpc_contract("volunteers", "search_list", ListItems)
class SearchListRequest(Payload):
    community_code: str = Field(pattern=COMMUNITY)
    text: str = Field(default="", max_length=200)
    tags: list[str] = Field(default_factory=list, max_length=20)
    kind: Literal["demand", "resource", "project"] | None = None
    resource_type: Literal["people", "unit", "venue", "money"] | None = None
    public_only: bool = True
    limit: int = Field(default=50, ge=1, le=500)


# --- orders (点单 → 派单/接单 → 签到 → 评单) ----------------------------------------------------


class OrderOut(Payload):
    order_id: str
    community_code: str
    resident_id: str
    category: str
    description: str
    address: str
    status: str
    window_start: datetime
    window_end: datetime
    lat: float
    lon: float
    review_level: str
    required_skill: str | None = None
    claim_deadline: datetime
    case_deadline: datetime
    claimant_kind: ClaimantKind | None = None
    claimant_id: str | None = None
    claimed_via: str | None = None
    checked_in_at: datetime | None = None
    completed_at: datetime | None = None
    completion_note: str | None = None
    photos: list[str] = Field(default_factory=list)
    stars: int | None = None
    rating_comment: str | None = None
    points_awarded: int | None = None
    closing_reason: str | None = None
    version: int
    created_at: datetime
    updated_at: datetime | None = None


class OrderList(Payload):
    items: list[OrderOut]
    total: int
    page: int
    page_size: int


@rpc_contract("volunteers", "place_order", OrderOut)
class PlaceOrderRequest(Payload):
    resident_id: str = Field(min_length=1, max_length=64)
    community_code: str = Field(pattern=COMMUNITY)
    category: str = Field(min_length=1, max_length=40)
    description: str = Field(min_length=1, max_length=2000)
    window_start: datetime
    window_end: datetime
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    address: str = Field(default="", max_length=200)


@rpc_contract("volunteers", "get_order", OrderOut)
class GetOrderRequest(Payload):
    order_id: str = Field(min_length=1, max_length=64)


@rpc_contract("volunteers", "list_orders", OrderList)
class ListOrdersRequest(Paging):
    jurisdiction_prefix: str = Field(default="", pattern=r"^[0-9]{0,18}$")
    status: str | None = Field(default=None, max_length=32)
    category: str | None = Field(default=None, max_length=40)
    resident_id: str | None = Field(default=None, max_length=64)
    claimant_id: str | None = Field(default=None, max_length=64)


@rpc_contract("volunteers", "publish_order", OrderOut)
class PublishOrderRequest(Payload):
    staff: StaffRef
    order_id: str = Field(min_length=1, max_length=64)
    expected_version: int | None = None


@rpc_contract("volunteers", "dispatch_order", OrderOut)
class DispatchOrderRequest(Payload):
    staff: StaffRef
    order_id: str = Field(min_length=1, max_length=64)
    claimant_kind: ClaimantKind
    claimant_id: str = Field(min_length=1, max_length=64)
    expected_version: int | None = None


@rpc_contract("volunteers", "reject_order", OrderOut)
class RejectOrderRequest(Payload):
    staff: StaffRef
    order_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=500)
    expected_version: int | None = None


@rpc_contract("volunteers", "claim_order", OrderOut)
class ClaimOrderRequest(Payload):
    order_id: str = Field(min_length=1, max_length=64)
    claimant_kind: ClaimantKind
    claimant_id: str = Field(min_length=1, max_length=64)
    expected_version: int | None = Field(default=None, description="the version seen")


@rpc_contract("volunteers", "release_order", OrderOut)
class ReleaseOrderRequest(Payload):
    order_id: str = Field(min_length=1, max_length=64)
    claimant_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=500)


class QrOut(Payload):
    order_id: str
    token: str
    expires_at: datetime


@rpc_contract("volunteers", "issue_order_qr", QrOut)
class IssueOrderQrRequest(Payload):
    """The resident (or community staff) shows this code at the place."""

    order_id: str = Field(min_length=1, max_length=64)
    resident_id: str | None = Field(default=None, max_length=64)
    staff: StaffRef | None = None
    ttl_minutes: int | None = Field(default=None, ge=1, le=24 * 60)


@rpc_contract("volunteers", "check_in_order", OrderOut)
class CheckInOrderRequest(Payload):
    order_id: str = Field(min_length=1, max_length=64)
    claimant_id: str = Field(min_length=1, max_length=64)
    token: str = Field(min_length=10, max_length=2000)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


@rpc_contract("volunteers", "complete_order", OrderOut)
class CompleteOrderRequest(Payload):
    order_id: str = Field(min_length=1, max_length=64)
    claimant_id: str = Field(min_length=1, max_length=64)
    note: str = Field(min_length=1, max_length=2000)
    photos: list[str] = Field(default_factory=list, max_length=9)


@rpc_contract("volunteers", "rate_order", OrderOut)
class RateOrderRequest(Payload):
    order_id: str = Field(min_length=1, max_length=64)
    resident_id: str = Field(min_length=1, max_length=64)
    stars: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=500)


@rpc_contract("volunteers", "cancel_order", OrderOut)
class CancelOrderRequest(Payload):
    order_id: str = Field(min_length=1, max_length=64)
    resident_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=500)


# --- micro-wishes (微心愿) -------------------------------------------------------------------


class WishOut(Payload):
    wish_id: str
    community_code: str
    poster_id: str
    beneficiary: str
    title: str
    description: str
    value_fen: int | None = None
    status: str
    claimer_kind: str | None = None
    claimer_id: str | None = None
    proof_note: str | None = None
    proof_photos: list[str] = Field(default_factory=list)
    reason: str | None = None
    posted_at: datetime
    version: int


class WishTreeOut(Payload):
    community_code: str
    leaves: list[WishOut]
    counts: dict[str, int]


@rpc_contract("volunteers", "post_wish", WishOut)
class PostWishRequest(Payload):
    community_code: str = Field(pattern=COMMUNITY)
    poster_id: str = Field(min_length=1, max_length=64)
    beneficiary: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=100)
    description: str = Field(min_length=1, max_length=1000)
    value_fen: int | None = None


@rpc_contract("volunteers", "review_wish", WishOut)
class ReviewWishRequest(Payload):
    staff: StaffRef
    wish_id: str = Field(min_length=1, max_length=64)
    action: Literal["verify", "reject", "light"]
    reason: str = Field(default="", max_length=500)


@rpc_contract("volunteers", "claim_wish", WishOut)
class ClaimWishRequest(Payload):
    wish_id: str = Field(min_length=1, max_length=64)
    claimer_kind: Literal["member", "unit", "person"]
    claimer_id: str = Field(min_length=1, max_length=64)


@rpc_contract("volunteers", "fulfil_wish", WishOut)
class FulfilWishRequest(Payload):
    wish_id: str = Field(min_length=1, max_length=64)
    claimer_id: str = Field(min_length=1, max_length=64)
    proof_note: str = Field(min_length=1, max_length=1000)
    photos: list[str] = Field(min_length=1, max_length=9, description="proof: at least one photo")


@rpc_contract("volunteers", "withdraw_wish", WishOut)
class WithdrawWishRequest(Payload):
    wish_id: str = Field(min_length=1, max_length=64)
    actor_id: str = Field(min_length=1, max_length=64)
    as_claimer: bool = Field(default=False, description="release a claim instead of withdrawing")


@rpc_contract("volunteers", "wish_tree", WishTreeOut)
class WishTreeRequest(Payload):
    community_code: str = Field(pattern=COMMUNITY)


# --- teams and activities ----------------------------------------------------------------


class TeamOut(Payload):
    team_id: str
    community_code: str
    name: str
    leader_ids: list[str]
    member_ids: list[str]
    version: int


class ParticipantOut(Payload):
    person_id: str
    signed_up_at: datetime
    checked_in_at: datetime | None = None
    stars: int | None = None


class ActivityOut(Payload):
    activity_id: str
    team_id: str
    community_code: str
    title: str
    description: str
    place: str
    window_start: datetime
    window_end: datetime
    capacity: int
    seats_left: int
    status: str
    average_stars: float | None = None
    participants: list[ParticipantOut] = Field(default_factory=list)
    version: int


class ActivityList(Payload):
    items: list[ActivityOut]


@rpc_contract("volunteers", "create_team", TeamOut)
class CreateTeamRequest(Payload):
    staff: StaffRef
    community_code: str = Field(pattern=COMMUNITY)
    name: str = Field(min_length=1, max_length=64)
    leader_ids: list[str] = Field(min_length=1, max_length=20)


@rpc_contract("volunteers", "change_team", TeamOut)
class ChangeTeamRequest(Payload):
    team_id: str = Field(min_length=1, max_length=64)
    action: Literal["add_member", "remove_member", "appoint_leader", "dismiss_leader"]
    person_id: str = Field(min_length=1, max_length=64)
    by: str | None = Field(default=None, max_length=64, description="leader (members)")
    staff: StaffRef | None = None  # leaders are appointed by community staff


@rpc_contract("volunteers", "plan_activity", ActivityOut)
class PlanActivityRequest(Payload):
    team_id: str = Field(min_length=1, max_length=64)
    by: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=100)
    description: str = Field(min_length=1, max_length=2000)
    window_start: datetime
    window_end: datetime
    place: str = Field(min_length=1, max_length=200)
    capacity: int = Field(ge=1, le=10000)


@rpc_contract("volunteers", "act_on_activity", ActivityOut)
class ActOnActivityRequest(Payload):
    """Leaders: publish, cancel. Residents: sign_up, withdraw, check_in, rate."""

    activity_id: str = Field(min_length=1, max_length=64)
    action: Literal["publish", "cancel", "sign_up", "withdraw", "check_in", "rate"]
    person_id: str = Field(min_length=1, max_length=64)
    stars: int | None = Field(default=None, ge=1, le=5)


@rpc_contract("volunteers", "monthly_programme", ActivityList)
class MonthlyProgrammeRequest(Payload):
    community_code: str = Field(pattern=COMMUNITY)
    year: int = Field(ge=2000, le=2100)
    month: int = Field(ge=1, le=12)


# --- points (积分) -------------------------------------------------------------------------


class EntryOut(Payload):
    seq: int
    kind: Literal["earn", "redeem", "adjust"]
    amount: int
    reason: str
    at: datetime
    community_code: str
    ref: str | None = None
    by: str | None = None


class BalanceOut(Payload):
    holder_kind: HolderKind
    holder_id: str
    balance: int
    entries: int


class StatementOut(Payload):
    holder_kind: HolderKind
    holder_id: str
    year: int
    opening_balance: int
    earned: int
    redeemed: int
    adjusted: int
    closing_balance: int
    entries: list[EntryOut]


class LeaderboardRowOut(Payload):
    rank: int
    holder_kind: HolderKind
    holder_id: str
    points: int


class LeaderboardOut(Payload):
    scope_code: str
    year: int | None = None
    rows: list[LeaderboardRowOut]


class EntryWritten(Payload):
    entry: EntryOut
    balance: int


@rpc_contract("volunteers", "points_balance", BalanceOut)
class PointsBalanceRequest(Payload):
    holder_kind: HolderKind
    holder_id: str = Field(min_length=1, max_length=64)


@rpc_contract("volunteers", "points_statement", StatementOut)
class PointsStatementRequest(Payload):
    holder_kind: HolderKind
    holder_id: str = Field(min_length=1, max_length=64)
    year: int = Field(ge=2000, le=2100)
    reader: StaffRef | None = Field(
        default=None,
        description="staff reading someone's statement (allowed when their unit covers a "
        "community the holder earned points in, yiwang.access.check_statement); None: the "
        "holder reads their own",
    )


@rpc_contract("volunteers", "points_leaderboard", LeaderboardOut)
class PointsLeaderboardRequest(Payload):
    scope_code: str = Field(pattern=r"^([0-9]{9}|[0-9]{12})$")
    year: int | None = Field(default=None, ge=2000, le=2100)
    top: int = Field(default=20, ge=1, le=200)
    holder_kind: HolderKind | None = None


@rpc_contract("volunteers", "redeem_points", EntryWritten)
class RedeemPointsRequest(Payload):
    holder_kind: HolderKind
    holder_id: str = Field(min_length=1, max_length=64)
    amount: int = Field(gt=0, le=1_000_000)
    reason: str = Field(min_length=1, max_length=200)
    community_code: str = Field(pattern=COMMUNITY)
    ref: str | None = Field(default=None, max_length=64, description="idempotency key")


@rpc_contract("volunteers", "adjust_points", EntryWritten)
class AdjustPointsRequest(Payload):
    staff: StaffRef
    holder_kind: HolderKind
    holder_id: str = Field(min_length=1, max_length=64)
    amount: int = Field(ge=-1_000_000, le=1_000_000)
    reason: str = Field(min_length=1, max_length=200)
    community_code: str = Field(pattern=COMMUNITY)


# --- shared venues (场所共享) ---------------------------------------------------------------


class OpeningSlotIn(Payload):
    weekday: int = Field(ge=0, le=6)
    opens: str = Field(pattern=HHMM)
    closes: str = Field(pattern=HHMM)


class VenueOut(Payload):
    venue_id: str
    community_code: str
    name: str
    capacity: int
    timetable: list[OpeningSlotIn]
    closed_dates: list[date]
    version: int


class BookingOut(Payload):
    booking_id: str
    venue_id: str
    booker_id: str
    start: datetime
    end: datetime
    purpose: str
    headcount: int
    status: str
    booked_at: datetime
    cancelled_at: datetime | None = None


class SlotOut(Payload):
    start: datetime
    end: datetime


class FreeSlotsOut(Payload):
    venue_id: str
    day: date
    slots: list[SlotOut]


@rpc_contract("volunteers", "create_venue", VenueOut)
class CreateVenueRequest(Payload):
    staff: StaffRef
    community_code: str = Field(pattern=COMMUNITY)
    name: str = Field(min_length=1, max_length=100)
    capacity: int = Field(ge=1, le=100000)
    timetable: list[OpeningSlotIn] = Field(min_length=1, max_length=50)
    closed_dates: list[date] = Field(default_factory=list, max_length=366)


@rpc_contract("volunteers", "book_venue", BookingOut)
class BookVenueRequest(Payload):
    venue_id: str = Field(min_length=1, max_length=64)
    booker_id: str = Field(min_length=1, max_length=64)
    start: datetime
    end: datetime
    purpose: str = Field(min_length=1, max_length=200)
    headcount: int = Field(ge=1, le=100000)


@rpc_contract("volunteers", "cancel_booking", BookingOut)
class CancelBookingRequest(Payload):
    venue_id: str = Field(min_length=1, max_length=64)
    booking_id: str = Field(min_length=1, max_length=64)
    by: str = Field(min_length=1, max_length=64)
    staff: StaffRef | None = None


@rpc_contract("volunteers", "venue_free_slots", FreeSlotsOut)
class VenueFreeSlotsRequest(Payload):
    venue_id: str = Field(min_length=1, max_length=64)
    day: date


SUBSCRIPTIONS: list[Subscription] = []
