"""The point-ordering loop against the real database: order → claim → QR check-in →
complete → rate → points, with every event in the outbox, and the refusals."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa

from services.volunteers.adapters.tables import orders as orders_t
from services.volunteers.adapters.tables import points_entries
from services.volunteers.service_layer import orders, points
from services.volunteers.service_layer.deadlines import sweep_deadlines
from services.volunteers.tests.integration.helpers import (
    KEYS,
    PLACE,
    STAFF,
    T0,
    published_order,
    volunteer,
)
from yiwang.contracts import volunteers as c
from yiwang.errors import Conflict, DomainError, Forbidden, ValidationFailed
from yiwang.uow import UnitOfWork

pytestmark = pytest.mark.integration


def outbox(make_uow: Callable[[], UnitOfWork], order_id: str) -> list[dict]:  # type: ignore[type-arg]
    with make_uow() as uow:
        bodies = (
            uow.session.execute(
                sa.text(
                    "SELECT body FROM volunteers.outbox WHERE body::jsonb->'payload'->>'order_id' = :o "
                    "OR body::jsonb->'payload'->>'ref' = :r ORDER BY seq"
                ),
                {"o": order_id, "r": f"order:{order_id}"},
            )
            .scalars()
            .all()
        )
    return [json.loads(b) for b in bodies]


def test_full_loop_order_to_points(make_uow) -> None:  # type: ignore[no-untyped-def]
    vid = volunteer(make_uow)
    order = published_order(make_uow)
    oid, resident = order["order_id"], order["resident_id"]
    assert order["status"] == "published" and order["version"] == 2

    claimed = orders.claim_order(
        make_uow(),
        c.ClaimOrderRequest(
            order_id=oid, claimant_kind="volunteer", claimant_id=vid, expected_version=2
        ),
        T0,
    )
    assert claimed["status"] == "claimed" and claimed["claimant_id"] == vid

    at_place = T0 + timedelta(hours=5, minutes=5)
    qr = orders.issue_qr(
        make_uow(), c.IssueOrderQrRequest(order_id=oid, resident_id=resident), at_place, KEYS
    )
    scan = c.CheckInOrderRequest(
        order_id=oid, claimant_id=vid, token=qr["token"], lat=PLACE[0] + 0.0005, lon=PLACE[1]
    )
    # too far away: refused, and the code is not burnt
    far = scan.model_copy(update={"lat": PLACE[0] + 0.01})
    with pytest.raises(ValidationFailed) as e:
        orders.check_in(make_uow(), far, at_place, KEYS)
    assert e.value.code == "qr_too_far"
    forged = scan.model_copy(update={"token": qr["token"][:-3] + "AAA"})
    with pytest.raises(Forbidden, match="qr_forged"):
        orders.check_in(make_uow(), forged, at_place, KEYS)
    checked = orders.check_in(make_uow(), scan, at_place, KEYS)
    assert checked["status"] == "checked_in"
    with pytest.raises(DomainError):  # reused code (and the order moved on)
        orders.check_in(make_uow(), scan, at_place, KEYS)

    done = orders.complete_order(
        make_uow(),
        c.CompleteOrderRequest(
            order_id=oid, claimant_id=vid, note="换了灯泡", photos=["media/1.jpg"]
        ),
        at_place + timedelta(hours=1),
    )
    assert done["status"] == "completed"
    rated = orders.rate_order(
        make_uow(),
        c.RateOrderRequest(order_id=oid, resident_id=resident, stars=5),
        at_place + timedelta(hours=2),
    )
    assert rated["status"] == "rated" and rated["points_awarded"] == 25  # repair 20 + 5 stars
    with pytest.raises(Conflict, match="already_rated"):
        orders.rate_order(
            make_uow(),
            c.RateOrderRequest(order_id=oid, resident_id=resident, stars=1),
            at_place + timedelta(hours=3),
        )

    bal = points.balance(make_uow(), c.PointsBalanceRequest(holder_kind="person", holder_id=vid))
    assert bal == {"holder_kind": "person", "holder_id": vid, "balance": 25, "entries": 1}

    types = [m["type"] for m in outbox(make_uow, oid)]
    assert types == [
        "volunteer_order.created",
        "volunteer_order.claimed",
        "volunteer_order.checked_in",
        "volunteer_order.completed",
        "volunteer_order.rated",
        "points.awarded",
    ]
    awarded = outbox(make_uow, oid)[-1]["payload"]
    assert awarded["points"] == 25 and awarded["balance"] == 25


def test_qr_expired_and_single_use(make_uow) -> None:  # type: ignore[no-untyped-def]
    vid = volunteer(make_uow)
    o = published_order(make_uow)
    orders.claim_order(
        make_uow(),
        c.ClaimOrderRequest(order_id=o["order_id"], claimant_kind="volunteer", claimant_id=vid),
        T0,
    )
    now = T0 + timedelta(hours=5)
    qr = orders.issue_qr(
        make_uow(),
        c.IssueOrderQrRequest(order_id=o["order_id"], staff=STAFF, ttl_minutes=5),
        now,
        KEYS,
    )
    scan = c.CheckInOrderRequest(
        order_id=o["order_id"], claimant_id=vid, token=qr["token"], lat=PLACE[0], lon=PLACE[1]
    )
    with pytest.raises(ValidationFailed, match="qr_expired"):
        orders.check_in(make_uow(), scan, now + timedelta(minutes=6), KEYS)
    with pytest.raises(Forbidden, match="not_the_claimant"):
        orders.check_in(make_uow(), scan.model_copy(update={"claimant_id": "x"}), now, KEYS)
    orders.check_in(make_uow(), scan, now + timedelta(minutes=1), KEYS)
    with make_uow() as uow:
        n = uow.session.execute(
            sa.text("SELECT count(*) FROM volunteers.qr_nonces WHERE order_id = :o"),
            {"o": o["order_id"]},
        ).scalar_one()
    assert n == 1  # the refused scans did not burn it; the good one did


def test_refusals_change_nothing(make_uow) -> None:  # type: ignore[no-untyped-def]
    vid = volunteer(make_uow, skills=())
    o = published_order(make_uow)  # repair needs an electrician
    with pytest.raises(Forbidden, match="missing_skill"):
        orders.claim_order(
            make_uow(),
            c.ClaimOrderRequest(order_id=o["order_id"], claimant_kind="volunteer", claimant_id=vid),
            T0,
        )
    assert orders.get_order(make_uow(), c.GetOrderRequest(order_id=o["order_id"]))["version"] == 2
    with pytest.raises(Conflict, match="stale_version"):
        orders.claim_order(
            make_uow(),
            c.ClaimOrderRequest(
                order_id=o["order_id"],
                claimant_kind="volunteer",
                claimant_id=volunteer(make_uow),
                expected_version=1,
            ),
            T0,
        )
    assert outbox(make_uow, o["order_id"])[-1]["type"] == "volunteer_order.created"


def test_deadline_sweep_escalates_unclaimed_orders_to_a_case(make_uow) -> None:  # type: ignore[no-untyped-def]
    o = published_order(make_uow)
    oid = o["order_id"]
    # window ends at T0+8h; the claim deadline is min(T0+24h, window end) = T0+8h
    sweep_deadlines(make_uow, T0 + timedelta(hours=1))
    assert orders.get_order(make_uow(), c.GetOrderRequest(order_id=oid))["status"] == "published"
    done = sweep_deadlines(make_uow, T0 + timedelta(hours=8))
    assert done.get("escalate", 0) >= 1
    assert orders.get_order(make_uow(), c.GetOrderRequest(order_id=oid))["status"] == "escalated"
    sweep_deadlines(make_uow, T0 + timedelta(hours=8 + 24))
    got = orders.get_order(make_uow(), c.GetOrderRequest(order_id=oid))
    assert got["status"] == "escalated_to_case"
    evs = outbox(make_uow, oid)
    assert [m["type"] for m in evs][-2:] == [
        "volunteer_order.unclaimed",
        "volunteer_order.escalated",
    ]
    esc = evs[-1]["payload"]
    assert esc["community_code"] == o["community_code"] and esc["category"] == "repair"
    assert (esc["lat"], esc["lon"]) == PLACE and esc["description"]
    with make_uow() as uow:
        nd = uow.session.execute(
            sa.select(orders_t.c.next_deadline).where(orders_t.c.id == oid)
        ).scalar_one()
    assert nd is None
    assert "escalate_to_case" not in sweep_deadlines(make_uow, T0 + timedelta(days=30))


def test_ledger_is_append_only_in_the_database(make_uow) -> None:  # type: ignore[no-untyped-def]
    with make_uow() as uow, pytest.raises(sa.exc.DBAPIError, match="append-only"):
        uow.session.execute(points_entries.update().values(amount=1))
