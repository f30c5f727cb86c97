"""Races against the real database with real threads: one claim wins, the ledger never
goes negative, a venue is never double booked, an activity never overfills."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from services.volunteers.service_layer import community, orders, points, venues
from services.volunteers.tests.integration.helpers import (
    COMMUNITY,
    STAFF,
    T0,
    published_order,
    volunteer,
)
from yiwang.contracts import volunteers as c
from yiwang.errors import DomainError

pytestmark = pytest.mark.integration


def race(n: int, fn: Callable[[int], Any]) -> list[Any]:
    """Run fn(0..n-1) in n threads released together; results or DomainErrors."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = fn(i)
        except DomainError as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_twenty_volunteers_claim_one_order_exactly_one_wins(make_uow) -> None:  # type: ignore[no-untyped-def]
    vids = [volunteer(make_uow) for _ in range(20)]
    order = published_order(make_uow)
    results = race(
        20,
        lambda i: orders.claim_order(
            make_uow(),
            c.ClaimOrderRequest(
                order_id=order["order_id"],
                claimant_kind="volunteer",
                claimant_id=vids[i],
                expected_version=order["version"],
            ),
            T0,
        ),
    )
    wins = [r for r in results if isinstance(r, dict)]
    losses = [r for r in results if isinstance(r, DomainError)]
    assert len(wins) == 1 and len(losses) == 19
    assert all(e.status == 409 for e in losses)
    assert {e.code for e in losses} <= {
        "version_conflict",
        "order_already_claimed",
        "stale_version",
    }
    got = orders.get_order(make_uow(), c.GetOrderRequest(order_id=order["order_id"]))
    assert got["claimant_id"] == wins[0]["claimant_id"] and got["version"] == 3
    with make_uow() as uow:
        n = uow.session.execute(
            sa.text(
                "SELECT count(*) FROM volunteers.outbox WHERE routing_key = 'volunteer_order.claimed'"
                " AND body::jsonb->'payload'->>'order_id' = :o"
            ),
            {"o": order["order_id"]},
        ).scalar_one()
    assert n == 1


def test_one_volunteer_racing_for_many_orders_respects_capacity(make_uow) -> None:  # type: ignore[no-untyped-def]
    vid = volunteer(make_uow, capacity=2)
    ords = [published_order(make_uow) for _ in range(6)]
    results = race(
        6,
        lambda i: orders.claim_order(
            make_uow(),
            c.ClaimOrderRequest(
                order_id=ords[i]["order_id"], claimant_kind="volunteer", claimant_id=vid
            ),
            T0,
        ),
    )
    assert sum(isinstance(r, dict) for r in results) == 2
    assert {r.code for r in results if isinstance(r, DomainError)} == {"capacity_reached"}


def test_concurrent_redemptions_never_overdraw(make_uow) -> None:  # type: ignore[no-untyped-def]
    holder = f"p-ledger-{T0.timestamp()}-{id(make_uow)}"
    points.adjust(
        make_uow(),
        c.AdjustPointsRequest(
            staff=STAFF,
            holder_kind="person",
            holder_id=holder,
            amount=100,
            reason="opening",
            community_code=COMMUNITY,
        ),
        T0,
    )
    results = race(
        25,
        lambda i: points.redeem(
            make_uow(),
            c.RedeemPointsRequest(
                holder_kind="person",
                holder_id=holder,
                amount=7,
                reason=f"兑换{i}",
                community_code=COMMUNITY,
            ),
            T0 + timedelta(minutes=1),
        ),
    )
    ok = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(ok) == 14 and len(refused) == 11  # 14 * 7 = 98 <= 100
    assert {e.code for e in refused} == {"insufficient_points"}
    bal = points.balance(make_uow(), c.PointsBalanceRequest(holder_kind="person", holder_id=holder))
    assert bal["balance"] == 2 and bal["entries"] == 15
    with make_uow() as uow:  # every running balance is the prefix sum and never negative
        rows = uow.session.execute(
            sa.text(
                "SELECT seq, amount, balance_after, sum(amount) OVER (ORDER BY seq) AS running "
                "FROM volunteers.points_entries WHERE holder_id = :h ORDER BY seq"
            ),
            {"h": holder},
        ).all()
    assert [r.seq for r in rows] == list(range(1, 16))
    assert all(r.balance_after == r.running >= 0 for r in rows)
    st = points.statement(
        make_uow(), c.PointsStatementRequest(holder_kind="person", holder_id=holder, year=T0.year)
    )
    assert st["closing_balance"] == 2 and st["redeemed"] == 98 and st["adjusted"] == 100


def _venue(make_uow) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return venues.create_venue(
        make_uow(),
        c.CreateVenueRequest(
            staff=STAFF,
            community_code=COMMUNITY,
            name="党群服务中心活动室",
            capacity=30,
            timetable=[c.OpeningSlotIn(weekday=d, opens="08:00", closes="21:00") for d in range(7)],
        ),
        T0,
    )


def test_venue_double_booking_refused_under_concurrency(make_uow) -> None:  # type: ignore[no-untyped-def]
    venue = _venue(make_uow)
    start = T0 + timedelta(days=1, hours=1)  # Tuesday 10:00 Shanghai
    # 12 bookers want the same hour at once: exactly one gets it
    results = race(
        12,
        lambda i: venues.book_venue(
            make_uow(),
            c.BookVenueRequest(
                venue_id=venue["venue_id"],
                booker_id=f"b{i}",
                start=start,
                end=start + timedelta(hours=1),
                purpose="党课",
                headcount=10,
            ),
            T0,
        ),
    )
    assert sum(isinstance(r, dict) for r in results) == 1
    assert {r.code for r in results if isinstance(r, DomainError)} == {"venue_booked"}
    slots = venues.free_slots(
        make_uow(),
        c.VenueFreeSlotsRequest(
            venue_id=venue["venue_id"], day=(start + timedelta(hours=8)).date()
        ),
    )["slots"]
    assert len(slots) == 2
    won = next(r for r in results if isinstance(r, dict))
    venues.cancel_booking(
        make_uow(),
        c.CancelBookingRequest(
            venue_id=venue["venue_id"], booking_id=won["booking_id"], by=won["booker_id"]
        ),
        T0,
    )
    again = venues.book_venue(
        make_uow(),
        c.BookVenueRequest(
            venue_id=venue["venue_id"],
            booker_id="late",
            start=start + timedelta(minutes=30),
            end=start + timedelta(hours=2),
            purpose="议事会",
            headcount=5,
        ),
        T0,
    )
    assert again["status"] == "active"


def test_database_exclusion_constraint_is_the_backstop(make_uow) -> None:  # type: ignore[no-untyped-def]
    from services.volunteers.adapters import repository as repo
    from services.volunteers.domain.common import TimeWindow
    from services.volunteers.domain.venues import Booking

    venue = _venue(make_uow)
    start = T0 + timedelta(days=2, hours=1)

    def raw(bid: str, minutes: int) -> None:
        with make_uow() as uow:
            repo.add_booking(
                uow.session,
                Booking(
                    booking_id=bid,
                    venue_id=venue["venue_id"],
                    booker_id="x",
                    window=TimeWindow(
                        start + timedelta(minutes=minutes), start + timedelta(minutes=minutes + 60)
                    ),
                    purpose="p",
                    headcount=1,
                    booked_at=T0,
                ),
            )
            uow.commit()

    raw(f"{venue['venue_id']}-a", 0)
    raw(f"{venue['venue_id']}-b", 60)  # touching is fine: [) ranges
    with pytest.raises(sa.exc.IntegrityError):
        raw(f"{venue['venue_id']}-c", 30)


def test_activity_sign_ups_never_exceed_capacity(make_uow) -> None:  # type: ignore[no-untyped-def]
    team = community.create_team(
        make_uow(),
        c.CreateTeamRequest(
            staff=STAFF, community_code=COMMUNITY, name="红马甲服务队", leader_ids=["lead-1"]
        ),
        T0,
    )
    act = community.plan_activity(
        make_uow(),
        c.PlanActivityRequest(
            team_id=team["team_id"],
            by="lead-1",
            title="敬老院慰问",
            description="每月一次",
            window_start=T0 + timedelta(days=3),
            window_end=T0 + timedelta(days=3, hours=2),
            place="敬老院",
            capacity=5,
        ),
        T0,
    )
    community.act_on_activity(
        make_uow(),
        c.ActOnActivityRequest(
            activity_id=act["activity_id"], action="publish", person_id="lead-1"
        ),
        T0,
    )
    results = race(
        15,
        lambda i: community.act_on_activity(
            make_uow(),
            c.ActOnActivityRequest(
                activity_id=act["activity_id"], action="sign_up", person_id=f"res-{i}"
            ),
            T0,
        ),
    )
    codes = Counter(r.code if isinstance(r, DomainError) else "ok" for r in results)
    assert codes == {"ok": 5, "activity_full": 10}
