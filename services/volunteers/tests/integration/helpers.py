"""Builders shared by the volunteers integration tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from services.volunteers.service_layer import orders, registration
from services.volunteers.service_layer.common import new_id, qr_keys_from_secret
from yiwang.contracts import volunteers as c
from yiwang.uow import UnitOfWork

COMMUNITY = "360602001001"
STREET = "360602001"
PLACE = (28.2389, 117.0339)
T0 = datetime(2030, 1, 7, 1, 0, tzinfo=UTC)  # a Monday, 09:00 Asia/Shanghai
KEYS = qr_keys_from_secret("integration-test-secret-of-some-length")
STAFF = c.StaffRef(staff_id="staff-1", jurisdiction_code=COMMUNITY)


def volunteer(
    make_uow: Callable[[], UnitOfWork],
    *,
    capacity: int = 2,
    skills: tuple[str, ...] = ("electrician",),
) -> str:
    """A registered and approved volunteer; returns its id (= person id)."""
    pid = new_id("p")
    registration.register_volunteer(
        make_uow(),
        c.RegisterVolunteerRequest(
            person_id=pid,
            name="志愿者",
            kind="party_member",
            community_code=COMMUNITY,
            phone="13800138000",
            work_unit="区水务局",
            skills=list(skills),
            capacity=capacity,
        ),
        T0,
    )
    registration.decide(
        make_uow(),
        c.DecideRegistrationRequest(
            staff=STAFF, kind="volunteer", registration_id=pid, action="approve"
        ),
        T0,
    )
    return pid


def published_order(
    make_uow: Callable[[], UnitOfWork], *, category: str = "repair", now: datetime = T0
) -> dict[str, Any]:
    o = orders.place_order(
        make_uow(),
        c.PlaceOrderRequest(
            resident_id=new_id("r"),
            community_code=COMMUNITY,
            category=category,
            description="三楼楼道灯坏了",
            window_start=now + timedelta(hours=5),
            window_end=now + timedelta(hours=8),
            lat=PLACE[0],
            lon=PLACE[1],
            address="月湖路12号3栋",
        ),
        now,
    )
    return orders.publish_order(
        make_uow(), c.PublishOrderRequest(staff=STAFF, order_id=o["order_id"]), now
    )
