"""Whose points statement staff may read (yiwang.access.check_statement), written as the
attack of the security review: any staff member reading any person's statement by id."""

from __future__ import annotations

import uuid

import pytest

from services.volunteers.service_layer import points
from services.volunteers.tests.integration.helpers import COMMUNITY, STAFF, STREET, T0
from yiwang.contracts import volunteers as c
from yiwang.errors import NotFound

pytestmark = pytest.mark.integration


def _statement(make_uow, holder: str, reader: c.StaffRef | None) -> dict:  # type: ignore[no-untyped-def]
    req = c.PointsStatementRequest(
        holder_kind="person", holder_id=holder, year=T0.year, reader=reader
    )
    return points.statement(make_uow(), req)


def test_staff_read_statements_of_their_own_communities_only(make_uow) -> None:  # type: ignore[no-untyped-def]
    holder = f"p-statement-{uuid.uuid4().hex[:8]}"
    points.adjust(
        make_uow(),
        c.AdjustPointsRequest(
            staff=STAFF,
            holder_kind="person",
            holder_id=holder,
            amount=30,
            reason="志愿服务",
            community_code=COMMUNITY,
        ),
        T0,
    )
    elsewhere = c.StaffRef(staff_id="staff-far", jurisdiction_code="360602001002")
    other_district = c.StaffRef(staff_id="staff-far2", jurisdiction_code="360603")
    for reader in (elsewhere, other_district):
        with pytest.raises(NotFound) as e:
            _statement(make_uow, holder, reader)
        assert e.value.code == "holder_not_found"
    # a holder that does not exist looks the same
    with pytest.raises(NotFound) as e:
        _statement(make_uow, f"p-nobody-{uuid.uuid4().hex[:8]}", elsewhere)
    assert e.value.code == "holder_not_found"
    # the community's and the street's staff, and the holder themselves, do read it
    for reader in (STAFF, c.StaffRef(staff_id="street-1", jurisdiction_code=STREET), None):
        assert _statement(make_uow, holder, reader)["closing_balance"] == 30
    assert (
        _statement(make_uow, holder, c.StaffRef(staff_id="admin", jurisdiction_code=""))[
            "closing_balance"
        ]
        == 30
    )
