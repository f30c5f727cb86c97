"""Shared builders for the volunteers unit tests (fixed clock, one community, a policy)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.volunteers.domain.common import GeoPoint, Staff, TimeWindow
from services.volunteers.domain.order import OrderPolicy, ServiceOrder, place_order
from services.volunteers.domain.points import PointRules
from services.volunteers.domain.registration import (
    Contact,
    Volunteer,
    VolunteerKind,
    register_volunteer,
)

COMMUNITY = "360602001001"
OTHER_COMMUNITY = "360602001002"
STREET = "360602001"
T0 = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)  # Monday 09:00 Asia/Shanghai
PLACE = GeoPoint(28.2389, 117.0339)
WINDOW = TimeWindow(T0 + timedelta(hours=5), T0 + timedelta(hours=8))  # Mon 14:00-17:00
STAFF = Staff("staff-1", COMMUNITY)
STREET_STAFF = Staff("street-1", STREET)
POLICY = OrderPolicy(
    street_review_categories=frozenset({"legal_aid"}),
    required_skill_by_category={"repair": "electrician"},
    claim_limit=timedelta(hours=2),
    escalation_limit=timedelta(hours=1),
    point_rules=PointRules(base_by_category={"repair": 20}, default_base=10, five_star_bonus=5),
)


def make_volunteer(
    vid: str = "v1",
    *,
    skills: tuple[str, ...] = ("electrician",),
    capacity: int = 2,
    approve: bool = True,
    community: str = COMMUNITY,
) -> Volunteer:
    vol = register_volunteer(
        volunteer_id=vid,
        person_id=f"p-{vid}",
        name=f"Volunteer {vid}",
        kind=VolunteerKind.PARTY_MEMBER,
        work_unit="District Water Bureau",
        community_code=community,
        contact=Contact("13800138000"),
        skills=list(skills),
        capacity=capacity,
        now=T0,
    )
    if approve:
        vol.approve(Staff("staff-x", community), T0)
    return vol


def make_order(
    oid: str = "o1", category: str = "repair", window: TimeWindow = WINDOW
) -> ServiceOrder:
    return place_order(
        order_id=oid,
        community_code=COMMUNITY,
        resident_id="resident-1",
        category=category,
        description="The hallway light on floor 3 is broken",
        window=window,
        place=PLACE,
        now=T0,
        policy=POLICY,
        address="Building 3, Yuehu Road 12",
    )
