"""From a resident's order to points in the ledger and on the leaderboard."""

from __future__ import annotations

from datetime import timedelta

from services.volunteers.domain.common import GeoPoint
from services.volunteers.domain.order import PointsAwarded
from services.volunteers.domain.points import Account, HolderKind, Ledger, leaderboard
from services.volunteers.domain.qr import QrIssuer, QrVerifier
from services.volunteers.tests.unit.builders import (
    COMMUNITY,
    PLACE,
    STAFF,
    STREET,
    T0,
    make_order,
    make_volunteer,
)

KEY = b"s" * 32


def test_order_to_points():
    ledgers: dict[Account, Ledger] = {}
    issuer, seen = QrIssuer(KEY), set()
    verifier = QrVerifier({"k1": KEY}, seen)
    vols = [make_volunteer(f"v{i}") for i in range(3)]
    for n in range(6):
        order = make_order(f"o{n}", category="repair" if n % 2 else "cleaning")
        order.publish(STAFF, T0)
        vol = vols[n % 3]
        order.claim(vol, order.version, 0, T0)
        token = issuer.issue(order.order_id, PLACE, order.window, T0)
        at = order.window.start + timedelta(minutes=5)
        scan = verifier.verify(
            token, order_id=order.order_id, position=GeoPoint(PLACE.lat, PLACE.lon + 0.001), now=at
        )
        order.check_in(vol.claimant_id, scan, at)
        order.complete(vol.claimant_id, "done", at + timedelta(hours=1), ("after.jpg",))
        order.rate("resident-1", 5 if n < 3 else 3, at + timedelta(hours=2))
        for ev in order.pull_events():
            if isinstance(ev, PointsAwarded):
                acct = Account(HolderKind(ev.holder_kind), ev.holder_id)
                ledger = ledgers.setdefault(acct, Ledger(acct))
                ledger.earn(
                    ev.points,
                    reason=ev.reason,
                    ref=ev.order_id,
                    community_code=ev.community_code,
                    now=ev.occurred_at,
                )
    assert len(seen) == 6
    # cleaning 10 / repair 20, +5 for the first three (5 stars)
    expected = {"p-v0": 15 + 20, "p-v1": 25 + 10, "p-v2": 15 + 20}
    assert {a.holder_id: led.balance for a, led in ledgers.items()} == expected
    entries = [e for led in ledgers.values() for e in led.entries]
    board = leaderboard(entries, STREET)
    assert sorted((r.rank, r.points) for r in board) == [(1, 35), (1, 35), (1, 35)]
    assert leaderboard(entries, COMMUNITY, year=2026)[0].points == 35
    assert ledgers[Account(HolderKind.PERSON, "p-v1")].statement(2026).earned == 35
