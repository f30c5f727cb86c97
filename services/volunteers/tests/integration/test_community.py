"""Registration, the three lists, micro-wishes and points queries against the database."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from services.volunteers.service_layer import community, points, registration
from services.volunteers.tests.integration.helpers import COMMUNITY, STAFF, STREET, T0
from yiwang.contracts import volunteers as c
from yiwang.errors import Conflict, Forbidden

pytestmark = pytest.mark.integration


def test_registration_twice_and_outside_jurisdiction(make_uow) -> None:  # type: ignore[no-untyped-def]
    req = c.RegisterUnitRequest(
        unit_id="u-school-1",
        name="实验小学",
        kind="institution",
        community_code=COMMUNITY,
        phone="0793-8221234",
    )
    assert registration.register_unit(make_uow(), req, T0)["status"] == "pending"
    with pytest.raises(Conflict, match="already_registered"):
        registration.register_unit(make_uow(), req, T0)
    other = c.StaffRef(staff_id="s9", jurisdiction_code="360602001002")
    with pytest.raises(Forbidden, match="outside_jurisdiction"):
        registration.decide(
            make_uow(),
            c.DecideRegistrationRequest(
                staff=other, kind="unit", registration_id="u-school-1", action="approve"
            ),
            T0,
        )
    ok = registration.decide(
        make_uow(),
        c.DecideRegistrationRequest(
            staff=STAFF, kind="unit", registration_id="u-school-1", action="approve"
        ),
        T0,
    )
    assert ok["status"] == "approved" and ok["version"] == 2
    page = registration.list_registrations(
        make_uow(),
        c.ListRegistrationsRequest(jurisdiction_prefix=STREET, kind="unit", status="approved"),
    )
    assert any(r["registration_id"] == "u-school-1" for r in page["items"])


def test_three_lists_publish_and_search(make_uow) -> None:  # type: ignore[no-untyped-def]
    item = community.add_list_item(
        make_uow(),
        c.AddListItemRequest(
            submitted_by="res-1",
            community_code=COMMUNITY,
            kind="demand",
            title="老人助餐",
            description="独居老人午餐配送",
            tags=["助老"],
        ),
        T0,
    )
    found = community.search_list(
        make_uow(), c.SearchListRequest(community_code=COMMUNITY, text="助餐")
    )
    assert item["item_id"] not in [i["item_id"] for i in found["items"]]  # still a draft
    community.move_list_item(
        make_uow(),
        c.MoveListItemRequest(staff=STAFF, item_id=item["item_id"], action="publish"),
        T0,
    )
    found = community.search_list(
        make_uow(), c.SearchListRequest(community_code=COMMUNITY, text="助餐 午餐", tags=["助老"])
    )
    assert [i["item_id"] for i in found["items"]] == [item["item_id"]]


def test_wish_tree_lights_a_wish_and_emits_fulfilled(make_uow) -> None:  # type: ignore[no-untyped-def]
    w = community.post_wish(
        make_uow(),
        c.PostWishRequest(
            community_code=COMMUNITY,
            poster_id="res-7",
            beneficiary="3栋李奶奶",
            title="一台收音机",
            description="想听戏",
            value_fen=8000,
        ),
        T0,
    )
    wid = w["wish_id"]
    community.review_wish(
        make_uow(), c.ReviewWishRequest(staff=STAFF, wish_id=wid, action="verify"), T0
    )
    community.claim_wish(
        make_uow(), c.ClaimWishRequest(wish_id=wid, claimer_kind="member", claimer_id="p-m1"), T0
    )
    with pytest.raises(Conflict, match="wish_already_claimed"):
        community.claim_wish(
            make_uow(), c.ClaimWishRequest(wish_id=wid, claimer_kind="unit", claimer_id="u-2"), T0
        )
    community.fulfil_wish(
        make_uow(),
        c.FulfilWishRequest(
            wish_id=wid, claimer_id="p-m1", proof_note="已送达", photos=["m/1.jpg"]
        ),
        T0 + timedelta(days=1),
    )
    lit = community.review_wish(
        make_uow(),
        c.ReviewWishRequest(staff=STAFF, wish_id=wid, action="light"),
        T0 + timedelta(days=1),
    )
    assert lit["status"] == "lit"
    tree = community.wish_tree(make_uow(), c.WishTreeRequest(community_code=COMMUNITY))
    assert wid in [x["wish_id"] for x in tree["leaves"]] and tree["counts"]["lit"] >= 1
    with make_uow() as uow:
        bodies = (
            uow.session.execute(
                sa.text("SELECT body FROM volunteers.outbox WHERE routing_key = 'wish.fulfilled'")
            )
            .scalars()
            .all()
        )
    assert any(json.loads(b)["payload"]["wish_id"] == wid for b in bodies)


def test_leaderboard_ranks_earned_points(make_uow) -> None:  # type: ignore[no-untyped-def]
    comm = "360602001009"
    staff = c.StaffRef(staff_id="s", jurisdiction_code=STREET)
    for holder, amount in (("lb-a", 30), ("lb-b", 50), ("lb-c", 30)):
        points.adjust(
            make_uow(),
            c.AdjustPointsRequest(
                staff=staff,
                holder_kind="person",
                holder_id=holder,
                amount=amount,
                reason="补录",
                community_code=comm,
            ),
            T0,
        )
    points.redeem(
        make_uow(),
        c.RedeemPointsRequest(
            holder_kind="person", holder_id="lb-b", amount=45, reason="兑换", community_code=comm
        ),
        T0,
    )
    board = points.leaderboard(
        make_uow(), c.PointsLeaderboardRequest(scope_code=comm, year=T0.year)
    )
    assert [(r["rank"], r["holder_id"], r["points"]) for r in board["rows"]] == [
        (1, "lb-b", 50),
        (2, "lb-a", 30),
        (2, "lb-c", 30),
    ]
