"""Example-based tests of the point-ordering loop."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.volunteers.domain.common import GeoPoint, Staff, TimeWindow
from services.volunteers.domain.order import (
    OrderCheckedIn,
    OrderClaimed,
    OrderClosedUnrated,
    OrderCompleted,
    OrderCreated,
    OrderEscalated,
    OrderEscalatedToCase,
    OrderPublished,
    OrderRated,
    OrderStatus,
    PointsAwarded,
    place_order,
)
from services.volunteers.domain.qr import QrIssuer, QrVerifier
from services.volunteers.domain.registration import Contact, UnitKind, register_unit
from services.volunteers.tests.unit.builders import (
    COMMUNITY,
    OTHER_COMMUNITY,
    PLACE,
    POLICY,
    STAFF,
    STREET_STAFF,
    T0,
    WINDOW,
    make_order,
    make_volunteer,
)
from yiwang.errors import Conflict, DomainError, Forbidden, ValidationFailed

KEY = b"k" * 32


def _claimed():
    order = make_order()
    order.publish(STAFF, T0)
    vol = make_volunteer()
    order.claim(vol, order.version, 0, T0 + timedelta(minutes=5))
    return order, vol


def _scan(order, at=None):
    nonces: set[str] = set()
    token = QrIssuer(KEY).issue(order.order_id, PLACE, order.window, T0)
    when = at or order.window.start
    return QrVerifier({"k1": KEY}, nonces).verify(
        token, order_id=order.order_id, position=GeoPoint(28.2390, 117.0340), now=when
    )


def test_full_loop_emits_events_and_awards_points_by_rule():
    order, vol = _claimed()
    order.check_in(vol.claimant_id, _scan(order), WINDOW.start)
    order.complete(
        vol.claimant_id, "Replaced the bulb", WINDOW.start + timedelta(hours=1), ("p1.jpg",)
    )
    order.rate("resident-1", 5, WINDOW.end, "very kind")
    assert order.status is OrderStatus.RATED
    assert order.points_awarded == 25  # repair base 20 + five-star bonus 5
    events = order.pull_events()
    assert [type(e) for e in events] == [
        OrderCreated,
        OrderPublished,
        OrderClaimed,
        OrderCheckedIn,
        OrderCompleted,
        OrderRated,
        PointsAwarded,
    ]
    award = events[-1]
    assert isinstance(award, PointsAwarded)
    assert (award.holder_kind, award.holder_id, award.points) == ("person", "p-v1", 25)
    assert [e.version for e in events] == [1, 2, 3, 4, 5, 6, 6]
    assert order.pull_events() == []


def test_low_rating_awards_nothing_and_second_rating_conflicts():
    order, vol = _claimed()
    order.check_in(vol.claimant_id, _scan(order), WINDOW.start)
    order.complete(vol.claimant_id, "done", WINDOW.start + timedelta(minutes=30))
    order.rate("resident-1", 1, WINDOW.end)
    assert order.points_awarded == 0
    assert not any(isinstance(e, PointsAwarded) for e in order.pull_events())
    with pytest.raises(Conflict) as exc:
        order.rate("resident-1", 5, WINDOW.end)
    assert exc.value.code == "already_rated"
    assert order.stars == 1


@pytest.mark.parametrize("stars", [0, 6, True, 3.5])
def test_rating_must_be_one_to_five_from_the_resident(stars):
    order, vol = _claimed()
    order.check_in(vol.claimant_id, _scan(order), WINDOW.start)
    order.complete(vol.claimant_id, "done", WINDOW.start)
    with pytest.raises(ValidationFailed, match="invalid_rating"):
        order.rate("resident-1", stars, WINDOW.end)
    with pytest.raises(Forbidden, match="not_the_resident"):
        order.rate("someone-else", 4, WINDOW.end)
    assert order.status is OrderStatus.COMPLETED


def test_illegal_transition_lists_allowed_actions():
    order = make_order()
    with pytest.raises(Conflict) as exc:
        order.complete("v1", "done", T0)
    assert exc.value.code == "illegal_transition"
    assert exc.value.details["allowed"] == ["cancel", "dispatch", "escalate", "publish", "reject"]
    with pytest.raises(Conflict, match="illegal_transition"):
        order.claim(make_volunteer(), order.version, 0, T0)  # not yet published


def test_street_review_rule():
    order = make_order(category="legal_aid")
    with pytest.raises(Forbidden) as exc:
        order.publish(STAFF, T0)
    assert exc.value.code == "street_review_required"
    with pytest.raises(Forbidden, match="outside_jurisdiction"):
        order.publish(Staff("s", "360602002"), T0)
    order.publish(STREET_STAFF, T0)
    assert order.status is OrderStatus.PUBLISHED and order.reviewed_by == "street-1"


@pytest.mark.parametrize(
    ("vol_kwargs", "active", "code"),
    [
        ({"approve": False}, 0, "claimant_not_approved"),
        ({"skills": ("cooking",)}, 0, "missing_skill"),
        ({"community": OTHER_COMMUNITY}, 0, "claimant_wrong_community"),
        ({"capacity": 2}, 2, "capacity_reached"),
    ],
)
def test_claim_refusals_change_nothing(vol_kwargs, active, code):
    order = make_order()
    order.publish(STAFF, T0)
    before = (order.status, order.version, len(order.pending_events))
    with pytest.raises(DomainError) as exc:
        order.claim(make_volunteer(**vol_kwargs), order.version, active, T0)
    assert exc.value.code == code
    assert (order.status, order.version, len(order.pending_events)) == before


def test_unit_can_claim_and_earns_unit_points():
    order = make_order(category="cleaning")
    order.publish(STAFF, T0)
    unit = register_unit(
        unit_id="u1",
        name="Yuehu Power Supply Co.",
        kind=UnitKind.SOE,
        community_code=COMMUNITY,
        contact=Contact("0701-6221234"),
        now=T0,
    )
    unit.approve(STAFF, T0)
    order.claim(unit, order.version, 0, T0)
    order.check_in("u1", _scan(order), WINDOW.start)
    order.complete("u1", "swept the yard", WINDOW.start)
    order.rate("resident-1", 4, WINDOW.end)
    award = [e for e in order.pull_events() if isinstance(e, PointsAwarded)]
    assert [(a.holder_kind, a.holder_id, a.points) for a in award] == [("unit", "u1", 10)]


def test_dispatch_and_release():
    order = make_order()
    vol = make_volunteer()
    with pytest.raises(Forbidden, match="missing_skill"):
        order.dispatch(STAFF, make_volunteer("v2", skills=()), 0, T0)
    order.dispatch(STAFF, vol, 0, T0)
    assert order.claimed_via == "dispatch" and order.claimant_id == "v1"
    with pytest.raises(Forbidden, match="not_the_claimant"):
        order.release("v9", "busy", T0)
    order.release("v1", "called away", T0)
    assert order.status is OrderStatus.PUBLISHED and order.claimant_id is None
    order.claim(make_volunteer("v3"), order.version, 0, T0)
    assert order.claimant_id == "v3"


def test_check_in_requires_claimant_and_matching_scan():
    order, vol = _claimed()
    other = make_order("o2")
    with pytest.raises(Forbidden, match="not_the_claimant"):
        order.check_in("v2", _scan(order), WINDOW.start)
    with pytest.raises(ValidationFailed, match="qr_wrong_order"):
        order.check_in(vol.claimant_id, _scan(other), WINDOW.start)
    assert order.status is OrderStatus.CLAIMED


def test_unclaimed_order_escalates_then_becomes_a_case():
    order = make_order()
    order.publish(STAFF, T0)
    assert order.check_deadlines(order.claim_deadline - timedelta(seconds=1)) == []
    assert order.check_deadlines(order.claim_deadline) == ["escalate"]
    assert order.status is OrderStatus.ESCALATED
    assert order.check_deadlines(order.claim_deadline + timedelta(minutes=5)) == []
    assert order.check_deadlines(order.case_deadline) == ["escalate_to_case"]
    events = order.pull_events()
    esc = next(e for e in events if isinstance(e, OrderEscalated))
    assert esc.dispatcher_code == COMMUNITY
    case = events[-1]
    assert isinstance(case, OrderEscalatedToCase)
    assert (case.category, case.lat, case.resident_id) == ("repair", PLACE.lat, "resident-1")
    with pytest.raises(Conflict, match="illegal_transition"):
        order.claim(make_volunteer(), order.version, 0, order.case_deadline)


def test_escalated_order_can_still_be_claimed_by_dispatcher_action():
    order = make_order()
    order.check_deadlines(order.claim_deadline)  # never reviewed: escalates too
    assert order.status is OrderStatus.ESCALATED
    order.dispatch(STAFF, make_volunteer(), 0, order.claim_deadline)
    assert order.check_deadlines(order.case_deadline) == []
    assert order.status is OrderStatus.CLAIMED


def test_claim_deadline_never_after_window_end():
    w = TimeWindow(T0 + timedelta(minutes=10), T0 + timedelta(minutes=40))
    order = make_order(window=w)
    assert order.claim_deadline == w.end
    with pytest.raises(ValidationFailed, match="window_in_past"):
        make_order(window=TimeWindow(T0 - timedelta(hours=2), T0))


def test_unrated_order_closes_with_base_points():
    order, vol = _claimed()
    order.check_in(vol.claimant_id, _scan(order), WINDOW.start)
    order.complete(vol.claimant_id, "done", WINDOW.start)
    assert order.check_deadlines(WINDOW.start + timedelta(days=6)) == []
    assert order.check_deadlines(WINDOW.start + timedelta(days=7)) == ["close_unrated"]
    assert order.status is OrderStatus.CLOSED_UNRATED and order.points_awarded == 20
    kinds = [type(e) for e in order.pull_events()][-2:]
    assert kinds == [OrderClosedUnrated, PointsAwarded]


def test_place_order_validation():
    with pytest.raises(ValidationFailed, match="not_a_community_code"):
        place_order(
            order_id="x",
            community_code="360602001",
            resident_id="r",
            category="repair",
            description="d",
            window=WINDOW,
            place=PLACE,
            now=T0,
            policy=POLICY,
        )
    with pytest.raises(ValidationFailed, match="required"):
        make_order(category="  ")


def test_cancel_by_resident_only_before_check_in():
    order, vol = _claimed()
    with pytest.raises(Forbidden, match="not_the_resident"):
        order.cancel("v1", "no", T0)
    order.cancel("resident-1", "no longer needed", T0)
    assert order.status is OrderStatus.CANCELLED
    with pytest.raises(Conflict, match="illegal_transition"):
        order.check_in(vol.claimant_id, _scan(order), WINDOW.start)
