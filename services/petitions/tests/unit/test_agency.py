"""Agency applications: the 44 items, materials, accept → handle → feed back → close."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.petitions.domain.agency import (
    DEFAULT_ITEMS,
    MATERIALS,
    ApplicationStatus,
    apply_for,
    service_item,
    validate_materials,
)
from services.petitions.domain.categories import HandlingLevel
from services.petitions.domain.lifecycle import Role
from services.petitions.domain.sla import expected_datetime, sla_class
from services.petitions.tests.unit.builders import T0
from yiwang.errors import Conflict, Forbidden, NotFound, ValidationFailed

A = ApplicationStatus
STAFF = ("w-1", Role.COMMUNITY_STAFF)
COMMUNITY = "360602001001"


def test_catalogue_has_44_items_with_known_materials() -> None:
    assert len(DEFAULT_ITEMS) == len({i.code for i in DEFAULT_ITEMS}) == 44
    assert all(m in MATERIALS for i in DEFAULT_ITEMS for m in (*i.required, *i.optional))
    levels = {i.level for i in DEFAULT_ITEMS}
    assert levels == {HandlingLevel.COMMUNITY, HandlingLevel.STREET}
    assert service_item("senior_card").sla_class == "quick_1d"
    assert service_item("legal_aid").sla_class == "standard_3d"
    with pytest.raises(NotFound):
        service_item("moon_landing")


def test_materials_validation() -> None:
    item = service_item("senior_card")
    assert validate_materials(item, {"id_card": ["k1"], "photo": ["k2"]}) == {
        "id_card": ("k1",),
        "photo": ("k2",),
    }
    with pytest.raises(ValidationFailed) as exc:
        validate_materials(item, {"id_card": ["k1"], "photo": []})
    assert exc.value.code == "missing_materials" and exc.value.details["materials"] == ["photo"]
    with pytest.raises(ValidationFailed) as exc:
        validate_materials(item, {"id_card": ["k1"], "photo": ["k"], "bank_card": ["k"]})
    assert exc.value.code == "unknown_material"


def test_full_lifecycle_with_returned_materials() -> None:
    item = service_item("senior_card")
    app = apply_for(
        application_id="a-1",
        item=item,
        community_code=COMMUNITY,
        applicant_id="r-1",
        at=T0,
        materials={"id_card": ["k1"], "photo": ["k2"]},
    )
    app.return_materials(*STAFF, T0 + timedelta(hours=1), 1, materials=["photo"], note="blurred")
    assert app.status is A.RETURNED and app.returned_materials == ("photo",)
    with pytest.raises(Forbidden):
        app.resubmit("someone", T0 + timedelta(hours=2), 2, materials={"photo": ["k3"]})
    app.resubmit("r-1", T0 + timedelta(hours=2), 2, materials={"photo": ["k3"]})
    assert app.materials["photo"] == ("k3",)
    due = expected_datetime(sla_class(item.sla_class), T0 + timedelta(hours=3))
    app.accept(*STAFF, T0 + timedelta(hours=3), 3, due_at=due)
    app.handle(*STAFF, T0 + timedelta(hours=4), 4)
    app.feed_back(*STAFF, T0 + timedelta(hours=5), 5, result="card issued", attachments=["k9"])
    app.close(*STAFF, T0 + timedelta(hours=6), 6)
    assert app.status is A.CLOSED and app.on_time() is True and app.version == len(app.steps) == 7
    assert [e.name for e in app.pull_events()][-2:] == ["ApplicationFedBack", "ApplicationClosed"]
    with pytest.raises(Conflict) as exc:
        app.withdraw("r-1", T0 + timedelta(hours=7), 7)
    assert exc.value.details["allowed"] == []


def test_refusals() -> None:
    item = service_item("legal_aid")
    with pytest.raises(ValidationFailed):
        apply_for(
            application_id="a",
            item=item,
            community_code=COMMUNITY,
            applicant_id="r",
            at=T0,
            materials={"id_card": ["k"]},
        )
    with pytest.raises(ValidationFailed):
        apply_for(
            application_id="a",
            item=item,
            community_code=COMMUNITY,
            applicant_id="r",
            at=T0,
            appointment_at=T0 - timedelta(hours=1),
        )
    booked = apply_for(
        application_id="a",
        item=item,
        community_code=COMMUNITY,
        applicant_id="r",
        at=T0,
        appointment_at=T0 + timedelta(days=1),
    )
    with pytest.raises(Conflict) as exc:
        booked.accept(*STAFF, T0, 0, due_at=T0)
    assert exc.value.code == "version_conflict"
    with pytest.raises(Forbidden):
        booked.accept("r", Role.CITIZEN, T0, 1, due_at=T0)
    with pytest.raises(Conflict):
        booked.close(*STAFF, T0, 1)
    booked.withdraw("r", T0 + timedelta(minutes=5), 1)
    assert booked.status is A.WITHDRAWN
