"""Registration (双报到) and the three lists (三张清单)."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from services.volunteers.domain.common import Staff, TimeWindow
from services.volunteers.domain.lists import CommunityLists, ItemStatus, ListKind, ResourceType
from services.volunteers.domain.registration import (
    Availability,
    Contact,
    RegistrationStatus,
    VolunteerKind,
    register_volunteer,
)
from services.volunteers.tests.unit.builders import COMMUNITY, STAFF, T0, WINDOW, make_volunteer
from yiwang.errors import Conflict, Forbidden, ValidationFailed


def _register(**kw):
    args = dict(
        volunteer_id="v1",
        person_id="p1",
        name="Wang Fang",
        kind=VolunteerKind.PARTY_MEMBER,
        work_unit="City Tax Bureau",
        community_code=COMMUNITY,
        contact=Contact("139 1234 5678"),
        skills=["Electrician", "first-aid"],
        now=T0,
    )
    args.update(kw)
    return register_volunteer(**args)


def test_party_member_needs_work_unit_and_community_code():
    with pytest.raises(ValidationFailed, match="work_unit_required"):
        _register(work_unit=" ")
    with pytest.raises(ValidationFailed, match="not_a_community_code"):
        _register(community_code="360602001")
    with pytest.raises(ValidationFailed, match="invalid_code"):
        _register(community_code="36060200100x")
    with pytest.raises(ValidationFailed, match="invalid_phone"):
        Contact("12345")
    vol = _register(kind=VolunteerKind.VOLUNTEER, work_unit=None)
    assert vol.skills == frozenset({"electrician", "first-aid"})
    assert vol.contact.phone == "13912345678"


def test_approval_workflow_and_only_approved_may_claim():
    vol = _register()
    with pytest.raises(Forbidden, match="claimant_not_approved"):
        vol.require_can_claim()
    with pytest.raises(Forbidden, match="outside_jurisdiction"):
        vol.approve(Staff("s2", "360602001002"), T0)
    vol.reject(STAFF, "address not in this community", T0)
    assert vol.status is RegistrationStatus.REJECTED
    with pytest.raises(Conflict, match="illegal_transition"):
        vol.approve(STAFF, T0)
    vol.resubmit(STAFF, T0)
    vol.approve(Staff("street", "360602001"), T0)  # street staff cover the community
    vol.require_can_claim()
    vol.suspend(STAFF, "complaints", T0)
    with pytest.raises(Forbidden, match="claimant_not_approved"):
        vol.require_can_claim()


def test_availability_windows_in_local_time():
    monday_afternoon = Availability(0, time(13), time(18))  # WINDOW is Mon 14:00-17:00 local
    assert monday_afternoon.covers(WINDOW)
    assert not Availability(0, time(15), time(18)).covers(WINDOW)
    assert not Availability(1, time(0), time(23)).covers(WINDOW)
    late = TimeWindow(WINDOW.start, WINDOW.start + timedelta(hours=12))  # crosses midnight
    assert not Availability(0, time(0), time(23, 59)).covers(late)
    vol = make_volunteer()
    vol.availability = (Availability(5, time(9), time(12)),)
    assert not vol.is_available_for(WINDOW)


def test_three_lists_publish_and_search():
    lists = CommunityLists(COMMUNITY)
    d = lists.add(
        item_id="d1",
        kind=ListKind.DEMAND,
        title="老旧小区加装电梯",
        description="3号楼居民希望加装电梯",
        submitted_by="r1",
        now=T0,
        tags=["Elderly"],
    )
    r = lists.add(
        item_id="r1",
        kind=ListKind.RESOURCE,
        title="Legal aid volunteers",
        description="Two lawyers, weekends",
        submitted_by="u1",
        now=T0 + timedelta(minutes=1),
        tags=["law"],
        resource_type=ResourceType.PEOPLE,
        quantity=2,
    )
    lists.add(
        item_id="p1",
        kind=ListKind.PROJECT,
        title="Elderly canteen",
        description="Lunch for the elderly",
        submitted_by="staff-1",
        now=T0,
        tags=["elderly", "food"],
    )
    with pytest.raises(ValidationFailed, match="resource_type_mismatch"):
        lists.add(
            item_id="x",
            kind=ListKind.RESOURCE,
            title="t",
            description="d",
            submitted_by="s",
            now=T0,
        )
    with pytest.raises(Conflict, match="duplicate_item"):
        lists.add(
            item_id="d1", kind=ListKind.DEMAND, title="t", description="d", submitted_by="s", now=T0
        )
    assert lists.search("") == []  # drafts are not public
    d.publish(STAFF, T0)
    r.publish(STAFF, T0)
    assert lists.search("电梯") == [d]
    assert lists.search("LAWYERS weekends") == [r]
    assert lists.search(tags=["elderly"]) == [d]
    assert [i.item_id for i in lists.search(tags=["elderly"], public_only=False)] == ["p1", "d1"]
    assert lists.search(kind=ListKind.RESOURCE, resource_type=ResourceType.MONEY) == []
    r.unpublish(STAFF, T0)
    assert lists.search("lawyers") == []
    with pytest.raises(Conflict, match="illegal_transition"):
        r.finish(STAFF, T0)
    d.start(STAFF, T0)
    d.finish(STAFF, T0)
    assert lists.search(statuses=[ItemStatus.DONE]) == [d]
    with pytest.raises(Forbidden, match="outside_jurisdiction"):
        r.publish(Staff("x", "360602002"), T0)
