"""The point-ordering loop (点单 → 派单/审单 → 接单 → 扫码签到 → 服务 → 评单 → 积分).

``ServiceOrder`` is an explicit state machine. Every command checks everything first and
only then mutates, so a refused command leaves the order untouched. Each accepted command
bumps ``version`` (optimistic concurrency: the adapter saves with
``WHERE version = expected``) and appends domain events, drained with ``pull_events()``.

    ordered ──publish──▶ published ──claim──▶ claimed ──check_in──▶ checked_in
       │  ╲                 │  ▲                │                       │
       │   dispatch─────────┼──┼──────────────▶ │ release              complete
       │                    │  └────────────────┘                       ▼
       └─escalate──▶ escalated (dispatcher) ──▶ escalated_to_case   completed ──rate──▶ rated
                                                                       └─(no rating)─▶ closed_unrated
    reject / cancel end an order before check-in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypedDict

from yiwang.clock import require_aware
from yiwang.errors import Conflict, Forbidden, ValidationFailed
from yiwang.jurisdiction import Level
from yiwang.text import require_text

from .common import GeoPoint, Staff, TimeWindow, illegal_transition, require_community_code
from .points import PointRules
from .qr import VerifiedScan
from .registration import Claimant, ClaimantKind, Volunteer


class OrderStatus(StrEnum):
    ORDERED = "ordered"
    PUBLISHED = "published"
    ESCALATED = "escalated"  # unclaimed at the claim deadline: the dispatcher must act
    CLAIMED = "claimed"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    RATED = "rated"
    CLOSED_UNRATED = "closed_unrated"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    ESCALATED_TO_CASE = "escalated_to_case"


S = OrderStatus
_OPEN = (S.ORDERED, S.PUBLISHED, S.ESCALATED)
TRANSITIONS: dict[str, dict[OrderStatus, OrderStatus]] = {
    "publish": {S.ORDERED: S.PUBLISHED, S.ESCALATED: S.PUBLISHED},
    "dispatch": {s: S.CLAIMED for s in _OPEN},
    "reject": {s: S.REJECTED for s in _OPEN},
    "claim": {S.PUBLISHED: S.CLAIMED, S.ESCALATED: S.CLAIMED},
    "release": {S.CLAIMED: S.PUBLISHED},
    "check_in": {S.CLAIMED: S.CHECKED_IN},
    "complete": {S.CHECKED_IN: S.COMPLETED},
    "rate": {S.COMPLETED: S.RATED},
    "close_unrated": {S.COMPLETED: S.CLOSED_UNRATED},
    "cancel": {**{s: S.CANCELLED for s in _OPEN}, S.CLAIMED: S.CANCELLED},
    "escalate": {S.ORDERED: S.ESCALATED, S.PUBLISHED: S.ESCALATED},
    "escalate_to_case": {S.ESCALATED: S.ESCALATED_TO_CASE},
}
TERMINAL = frozenset({S.RATED, S.CLOSED_UNRATED, S.REJECTED, S.CANCELLED, S.ESCALATED_TO_CASE})
_TAKEN = frozenset({S.CLAIMED, S.CHECKED_IN, S.COMPLETED, S.RATED, S.CLOSED_UNRATED})


def allowed_actions(status: OrderStatus) -> list[str]:
    return sorted(a for a, moves in TRANSITIONS.items() if status in moves)


@dataclass(frozen=True, slots=True)
class OrderPolicy:
    """Rules as data: which categories the street reviews, skills, time limits, points."""

    street_review_categories: frozenset[str] = frozenset()
    required_skill_by_category: Mapping[str, str] = field(default_factory=dict)
    categories: frozenset[str] | None = None  # None: any category
    claim_limit: timedelta = timedelta(hours=24)
    escalation_limit: timedelta = timedelta(hours=24)  # after the claim deadline
    rating_limit: timedelta = timedelta(days=7)  # then the order closes without a rating
    point_rules: PointRules = field(default_factory=PointRules)

    def review_level(self, category: str) -> Level:
        return Level.STREET if category in self.street_review_categories else Level.COMMUNITY


# --- events ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class OrderEvent:
    order_id: str
    community_code: str
    occurred_at: datetime
    version: int


@dataclass(frozen=True, kw_only=True)
class OrderCreated(OrderEvent):
    resident_id: str
    category: str
    review_level: str
    claim_deadline: datetime


@dataclass(frozen=True, kw_only=True)
class OrderPublished(OrderEvent):
    by: str


@dataclass(frozen=True, kw_only=True)
class OrderRejected(OrderEvent):
    by: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class OrderClaimed(OrderEvent):
    claimant_id: str
    claimant_kind: str
    via: str  # "claim" (接单/领单) or "dispatch" (派单)
    by: str


@dataclass(frozen=True, kw_only=True)
class OrderReleased(OrderEvent):
    claimant_id: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class OrderCheckedIn(OrderEvent):
    claimant_id: str
    distance_m: float


@dataclass(frozen=True, kw_only=True)
class OrderCompleted(OrderEvent):
    claimant_id: str
    photos: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class OrderRated(OrderEvent):
    stars: int
    claimant_id: str


@dataclass(frozen=True, kw_only=True)
class OrderClosedUnrated(OrderEvent):
    claimant_id: str


@dataclass(frozen=True, kw_only=True)
class PointsAwarded(OrderEvent):
    """Tells the ledger to credit ``holder_id``; ``order_id`` is the idempotency reference."""

    holder_kind: str  # "person" or "unit" (points.HolderKind values)
    holder_id: str
    points: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class OrderCancelled(OrderEvent):
    by: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class OrderEscalated(OrderEvent):
    """Unclaimed at the claim deadline: the community's dispatcher must act."""

    dispatcher_code: str
    case_deadline: datetime


@dataclass(frozen=True, kw_only=True)
class OrderEscalatedToCase(OrderEvent):
    """Still open after the second limit: the command centre opens a case from this."""

    category: str
    description: str
    lat: float
    lon: float
    resident_id: str


# --- the aggregate ---------------------------------------------------------------------


class _EventBase(TypedDict):
    order_id: str
    community_code: str
    occurred_at: datetime
    version: int


@dataclass(kw_only=True)
class ServiceOrder:
    order_id: str
    community_code: str
    resident_id: str
    category: str
    description: str
    window: TimeWindow
    place: GeoPoint
    address: str
    review_level: Level
    required_skill: str | None
    created_at: datetime
    claim_deadline: datetime
    case_deadline: datetime
    rating_limit: timedelta
    point_rules: PointRules
    status: OrderStatus = OrderStatus.ORDERED
    version: int = 1
    updated_at: datetime | None = None
    reviewed_by: str | None = None
    claimant_id: str | None = None
    claimant_kind: ClaimantKind | None = None
    points_holder: str | None = None
    claimed_at: datetime | None = None
    claimed_via: str | None = None
    checked_in_at: datetime | None = None
    checkin_nonce: str | None = None
    completed_at: datetime | None = None
    completion_note: str | None = None
    photos: tuple[str, ...] = ()
    stars: int | None = None
    rating_comment: str | None = None
    rated_at: datetime | None = None
    points_awarded: int | None = None
    escalated_at: datetime | None = None
    closing_reason: str | None = None
    _events: list[OrderEvent] = field(default_factory=list, repr=False)

    # -- plumbing -------------------------------------------------------------------

    def pull_events(self) -> list[OrderEvent]:
        events, self._events = self._events, []
        return events

    @property
    def pending_events(self) -> tuple[OrderEvent, ...]:
        return tuple(self._events)

    def _target(self, action: str) -> OrderStatus:
        moves = TRANSITIONS[action]
        if self.status not in moves:
            raise illegal_transition(action, self.status, allowed_actions(self.status))
        return moves[self.status]

    def _check_version(self, expected: int | None) -> None:
        if expected is not None and expected != self.version:
            raise Conflict(
                "stale_version",
                f"order {self.order_id} changed (version {self.version}, expected {expected})",
                "工单已被他人修改，请刷新后重试",
                current_version=self.version,
            )

    def _commit(self, target: OrderStatus, now: datetime) -> None:
        self.status = target
        self.version += 1
        self.updated_at = now

    def _base(self, now: datetime) -> _EventBase:
        return {
            "order_id": self.order_id,
            "community_code": self.community_code,
            "occurred_at": now,
            "version": self.version,
        }

    def _require_reviewer(self, staff: Staff) -> None:
        staff.require_covers(self.community_code)
        max_len = 9 if self.review_level is Level.STREET else 12
        if len(staff.jurisdiction_code) > max_len:
            code, en, zh = (
                (
                    "street_review_required",
                    "this category is reviewed by the street",
                    "此类工单须由街道审核",
                )
                if self.review_level is Level.STREET
                else (
                    "community_review_required",
                    "orders are reviewed by the community",
                    "工单须由社区审核",
                )
            )
            raise Forbidden(code, en, zh, review_level=str(self.review_level))

    def _check_claimant(self, claimant: Claimant, active_orders: int) -> None:
        claimant.require_can_claim()
        if claimant.community_code != self.community_code:
            raise Forbidden(
                "claimant_wrong_community",
                "the claimant is registered with another community",
                "接单人未在本社区报到",
                claimant_community=claimant.community_code,
            )
        if isinstance(claimant, Volunteer) and claimant.person_id == self.resident_id:
            raise Forbidden("own_order", "one cannot serve one's own order", "不能承接自己的点单")
        if not claimant.has_skill(self.required_skill):
            raise Forbidden(
                "missing_skill",
                f"this order needs the skill '{self.required_skill}'",
                f"此工单需要“{self.required_skill}”技能",
                required_skill=self.required_skill,
            )
        if not claimant.is_available_for(self.window):
            raise Forbidden(
                "claimant_unavailable",
                "the order's time window is outside the claimant's availability",
                "工单服务时间不在接单人的可服务时间内",
            )
        if active_orders >= claimant.capacity:
            raise Conflict(
                "capacity_reached",
                f"the claimant already has {active_orders} open orders (limit {claimant.capacity})",
                f"接单人已有{active_orders}个进行中的工单（上限{claimant.capacity}）",
                capacity=claimant.capacity,
            )

    def _take(self, claimant: Claimant, via: str, by: str, now: datetime) -> None:
        target = self._target(via)
        self.claimant_id = claimant.claimant_id
        self.claimant_kind = claimant.claimant_kind
        self.points_holder = claimant.points_holder
        self.claimed_at = now
        self.claimed_via = via
        self._commit(target, now)
        self._events.append(
            OrderClaimed(
                **self._base(now),
                claimant_id=claimant.claimant_id,
                claimant_kind=str(claimant.claimant_kind),
                via=via,
                by=by,
            )
        )

    def _require_claimant(self, claimant_id: str) -> None:
        if claimant_id != self.claimant_id:
            raise Forbidden(
                "not_the_claimant", "only the claimant may do this", "只有接单人可以执行此操作"
            )

    def _award(self, stars: int | None, now: datetime) -> None:
        pts = self.point_rules.points_for_order(self.category, stars)
        self.points_awarded = pts
        if pts > 0 and self.points_holder is not None and self.claimant_kind is not None:
            self._events.append(
                PointsAwarded(
                    **self._base(now),
                    holder_kind="unit" if self.claimant_kind is ClaimantKind.UNIT else "person",
                    holder_id=self.points_holder,
                    points=pts,
                    reason=f"service order {self.order_id} ({self.category})",
                )
            )

    # -- commands -------------------------------------------------------------------

    def publish(self, staff: Staff, now: datetime, expected_version: int | None = None) -> None:
        """Review passed: open the order for claiming (社区/镇街审单后发布)."""
        target = self._target("publish")
        self._check_version(expected_version)
        self._require_reviewer(staff)
        self.reviewed_by = staff.staff_id
        self._commit(target, require_aware(now))
        self._events.append(OrderPublished(**self._base(now), by=staff.staff_id))

    def dispatch(
        self,
        staff: Staff,
        claimant: Claimant,
        active_orders: int,
        now: datetime,
        expected_version: int | None = None,
    ) -> None:
        """The community (or street) assigns the order directly (派单)."""
        self._target("dispatch")
        self._check_version(expected_version)
        self._require_reviewer(staff)
        self._check_claimant(claimant, active_orders)
        self.reviewed_by = staff.staff_id
        self._take(claimant, "dispatch", staff.staff_id, require_aware(now))

    def reject(
        self, staff: Staff, reason: str, now: datetime, expected_version: int | None = None
    ) -> None:
        target = self._target("reject")
        self._check_version(expected_version)
        self._require_reviewer(staff)
        reason = require_text(reason, "reason", max_len=500)
        self.reviewed_by = staff.staff_id
        self.closing_reason = reason
        self._commit(target, require_aware(now))
        self._events.append(OrderRejected(**self._base(now), by=staff.staff_id, reason=reason))

    def claim(
        self, claimant: Claimant, expected_version: int, active_orders: int, now: datetime
    ) -> None:
        """A volunteer or unit claims the order (接单/领单); the first valid claim wins.

        ``expected_version`` is the version the claimant saw; ``active_orders`` is how many
        open (claimed or checked-in) orders the claimant has now.
        """
        if self.status in _TAKEN:
            raise Conflict(
                "order_already_claimed",
                f"order {self.order_id} has already been claimed",
                "该工单已被他人承接",
                current_version=self.version,
            )
        self._target("claim")
        self._check_version(expected_version)
        self._check_claimant(claimant, active_orders)
        self._take(claimant, "claim", claimant.claimant_id, require_aware(now))

    def release(self, claimant_id: str, reason: str, now: datetime) -> None:
        """The claimant gives the order back before checking in; it is open again."""
        target = self._target("release")
        self._require_claimant(claimant_id)
        reason = require_text(reason, "reason", max_len=500)
        self.claimant_id = self.claimant_kind = self.points_holder = None
        self.claimed_at = self.claimed_via = None
        self._commit(target, require_aware(now))
        self._events.append(
            OrderReleased(**self._base(now), claimant_id=claimant_id, reason=reason)
        )

    def check_in(self, claimant_id: str, scan: VerifiedScan, now: datetime) -> None:
        """Check in with a scan already verified by ``qr.QrVerifier`` (扫码签到)."""
        target = self._target("check_in")
        self._require_claimant(claimant_id)
        if scan.order_id != self.order_id:
            raise ValidationFailed(
                "qr_wrong_order", "this QR code belongs to another order", "二维码不属于此工单"
            )
        self.checked_in_at = require_aware(now)
        self.checkin_nonce = scan.nonce
        self._commit(target, now)
        self._events.append(
            OrderCheckedIn(
                **self._base(now),
                claimant_id=claimant_id,
                distance_m=round(scan.distance_m, 1),
            )
        )

    def complete(
        self, claimant_id: str, note: str, now: datetime, photos: tuple[str, ...] = ()
    ) -> None:
        """Service done, with a note and optional photo references (全程留痕)."""
        target = self._target("complete")
        self._require_claimant(claimant_id)
        note = require_text(note, "note", max_len=2000)
        if len(photos) > 9 or any(not p.strip() for p in photos):
            raise ValidationFailed(
                "invalid_photos", "up to 9 non-empty photo references", "最多9张照片，且不能为空"
            )
        self.completion_note = note
        self.photos = tuple(photos)
        self.completed_at = require_aware(now)
        self._commit(target, now)
        self._events.append(
            OrderCompleted(**self._base(now), claimant_id=claimant_id, photos=self.photos)
        )

    def rate(self, resident_id: str, stars: int, now: datetime, comment: str = "") -> None:
        """The resident rates the service once (群众评单); points follow by rule."""
        if self.status is S.RATED:
            raise Conflict("already_rated", "this order was already rated", "该工单已评价")
        target = self._target("rate")
        if resident_id != self.resident_id:
            raise Forbidden(
                "not_the_resident", "only the resident who ordered may rate", "只有点单居民可以评价"
            )
        if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
            raise ValidationFailed("invalid_rating", "stars must be 1 to 5", "评分必须为1到5星")
        if len(comment) > 500:
            raise ValidationFailed("too_long", "comment too long", "评价内容过长")
        self.stars = stars
        self.rating_comment = comment.strip() or None
        self.rated_at = require_aware(now)
        self._commit(target, now)
        assert self.claimant_id is not None
        self._events.append(
            OrderRated(**self._base(now), stars=stars, claimant_id=self.claimant_id)
        )
        self._award(stars, now)

    def cancel(self, resident_id: str, reason: str, now: datetime) -> None:
        """The resident withdraws the order before anyone has checked in."""
        target = self._target("cancel")
        if resident_id != self.resident_id:
            raise Forbidden(
                "not_the_resident",
                "only the resident who ordered may cancel",
                "只有点单居民可以取消",
            )
        reason = require_text(reason, "reason", max_len=500)
        self.closing_reason = reason
        self._commit(target, require_aware(now))
        self._events.append(OrderCancelled(**self._base(now), by=resident_id, reason=reason))

    def check_deadlines(self, now: datetime) -> list[str]:
        """Apply due time limits (called by a scheduler); returns the actions taken.

        Unclaimed at ``claim_deadline`` → escalated to the community dispatcher; still open
        at ``case_deadline`` → escalated_to_case; completed but unrated after the rating
        limit → closed_unrated with base points.
        """
        require_aware(now)
        done: list[str] = []
        if self.status in (S.ORDERED, S.PUBLISHED) and now >= self.claim_deadline:
            self.escalated_at = now
            self._commit(S.ESCALATED, now)
            self._events.append(
                OrderEscalated(
                    **self._base(now),
                    dispatcher_code=self.community_code,
                    case_deadline=self.case_deadline,
                )
            )
            done.append("escalate")
        if self.status is S.ESCALATED and now >= self.case_deadline:
            self._commit(S.ESCALATED_TO_CASE, now)
            self._events.append(
                OrderEscalatedToCase(
                    **self._base(now),
                    category=self.category,
                    description=self.description,
                    lat=self.place.lat,
                    lon=self.place.lon,
                    resident_id=self.resident_id,
                )
            )
            done.append("escalate_to_case")
        if (
            self.status is S.COMPLETED
            and self.completed_at is not None
            and now >= self.completed_at + self.rating_limit
        ):
            self._commit(S.CLOSED_UNRATED, now)
            assert self.claimant_id is not None
            self._events.append(OrderClosedUnrated(**self._base(now), claimant_id=self.claimant_id))
            self._award(None, now)
            done.append("close_unrated")
        return done

    @property
    def is_active_for_claimant(self) -> bool:
        """Counts towards the claimant's capacity (claimed or checked in)."""
        return self.status in (S.CLAIMED, S.CHECKED_IN)


def place_order(
    *,
    order_id: str,
    community_code: str,
    resident_id: str,
    category: str,
    description: str,
    window: TimeWindow,
    place: GeoPoint,
    now: datetime,
    policy: OrderPolicy,
    address: str = "",
) -> ServiceOrder:
    """A resident orders a service (百姓点单)."""
    require_aware(now, "now")
    require_community_code(community_code)
    category = require_text(category, "category", max_len=40)
    if policy.categories is not None and category not in policy.categories:
        raise ValidationFailed(
            "unknown_category",
            f"'{category}' is not a service category",
            f"“{category}”不是可点单的服务类别",
            allowed=sorted(policy.categories),
        )
    if window.end <= now:
        raise ValidationFailed(
            "window_in_past", "the requested time window is over", "所选服务时间已过"
        )
    if window.end - window.start > timedelta(days=31):
        raise ValidationFailed(
            "window_too_long", "a time window may span at most 31 days", "服务时间段不能超过31天"
        )
    claim_deadline = min(now + policy.claim_limit, window.end)
    order = ServiceOrder(
        order_id=require_text(order_id, "order_id", max_len=64),
        community_code=community_code,
        resident_id=require_text(resident_id, "resident_id", max_len=64),
        category=category,
        description=require_text(description, "description", max_len=2000),
        window=window,
        place=place,
        address=address.strip(),
        review_level=policy.review_level(category),
        required_skill=policy.required_skill_by_category.get(category),
        created_at=now,
        claim_deadline=claim_deadline,
        case_deadline=claim_deadline + policy.escalation_limit,
        rating_limit=policy.rating_limit,
        point_rules=policy.point_rules,
        updated_at=now,
    )
    order._events.append(
        OrderCreated(
            **order._base(now),
            resident_id=order.resident_id,
            category=category,
            review_level=str(order.review_level),
            claim_deadline=claim_deadline,
        )
    )
    return order
