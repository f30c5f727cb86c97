"""Hypothesis rule-based test: random command sequences never break the order's invariants."""

from __future__ import annotations

import copy
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from services.volunteers.domain.common import Staff
from services.volunteers.domain.order import (
    TERMINAL,
    TRANSITIONS,
    OrderClaimed,
    OrderReleased,
    OrderStatus,
    PointsAwarded,
)
from services.volunteers.domain.qr import VerifiedScan
from services.volunteers.tests.unit.builders import (
    PLACE,
    STAFF,
    STREET_STAFF,
    T0,
    make_order,
    make_volunteer,
)
from yiwang.errors import Conflict, DomainError

VOLUNTEERS = [
    make_volunteer("v1"),
    make_volunteer("v2"),
    make_volunteer("v3", capacity=1),
    make_volunteer("v4", approve=False),
    make_volunteer("v5", skills=()),
]
STAFFS = [STAFF, STREET_STAFF, Staff("grid-1", "360602001001001")]
TAKEN = {
    OrderStatus.CLAIMED,
    OrderStatus.CHECKED_IN,
    OrderStatus.COMPLETED,
    OrderStatus.RATED,
    OrderStatus.CLOSED_UNRATED,
}
ACTIONS = {
    "publish",
    "dispatch",
    "reject",
    "claim",
    "release",
    "check_in",
    "complete",
    "rate",
    "cancel",
}


class OrderMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.category = "repair"
        self.order = make_order(category=self.category)
        self.now = T0
        self.transitions = 0
        self.terminal_seen: OrderStatus | None = None

    def _run(self, action: str, fn) -> None:
        before = copy.deepcopy(self.order)
        prev = self.order.status
        try:
            fn()
        except DomainError as err:
            # A refusal changes nothing at all.
            assert self.order == before, f"{action} refused ({err.code}) but state changed"
            if prev not in TRANSITIONS[action]:
                assert isinstance(err, Conflict)
                assert err.code in ("illegal_transition", "order_already_claimed", "already_rated")
            return
        assert prev in TRANSITIONS[action], f"{action} accepted from {prev}"
        assert self.order.status is TRANSITIONS[action][prev]
        assert self.order.version == before.version + 1
        self.transitions += 1

    @rule(minutes=st.sampled_from([0, 1, 15, 60, 240, 60 * 24 * 8]))
    def advance(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    @rule(staff=st.sampled_from(STAFFS))
    def publish(self, staff: Staff) -> None:
        self._run("publish", lambda: self.order.publish(staff, self.now))

    @rule(staff=st.sampled_from(STAFFS), vol=st.sampled_from(VOLUNTEERS), active=st.integers(0, 2))
    def dispatch(self, staff, vol, active) -> None:
        self._run("dispatch", lambda: self.order.dispatch(staff, vol, active, self.now))

    @rule(staff=st.sampled_from(STAFFS), dice=st.integers(0, 9))
    def reject(self, staff, dice) -> None:
        if dice != 1:  # rare (and not the simplest draw): terminal states end exploration
            return
        self._run("reject", lambda: self.order.reject(staff, "duplicate", self.now))

    @rule(
        vol=st.sampled_from(VOLUNTEERS),
        stale=st.sampled_from([0, 0, 0, 1, 2]),
        active=st.integers(0, 2),
    )
    def claim(self, vol, stale, active) -> None:
        version = self.order.version - stale
        self._run("claim", lambda: self.order.claim(vol, version, active, self.now))

    def _who(self, vol) -> str:
        """``None`` stands for the current claimant, so deep states are reached often."""
        return vol.claimant_id if vol is not None else (self.order.claimant_id or "nobody")

    @rule(vol=st.sampled_from([None, *VOLUNTEERS]), dice=st.integers(0, 3))
    def release(self, vol, dice) -> None:
        if dice != 1:
            return
        self._run("release", lambda: self.order.release(self._who(vol), "busy", self.now))

    @rule(vol=st.sampled_from([None, *VOLUNTEERS]), right_order=st.sampled_from([True, False]))
    def check_in(self, vol, right_order) -> None:
        scan = VerifiedScan(
            order_id=self.order.order_id if right_order else "other",
            nonce="n",
            distance_m=12.0,
            scanned_at=self.now,
            position=PLACE,
        )
        self._run("check_in", lambda: self.order.check_in(self._who(vol), scan, self.now))

    @rule(vol=st.sampled_from([None, *VOLUNTEERS]), note=st.sampled_from(["done", " "]))
    def complete(self, vol, note) -> None:
        self._run("complete", lambda: self.order.complete(self._who(vol), note, self.now))

    @rule(
        who=st.sampled_from(["resident-1", "p-v1"]),
        stars=st.integers(1, 5) | st.sampled_from([0, 6]),
    )
    def rate(self, who, stars) -> None:
        self._run("rate", lambda: self.order.rate(who, stars, self.now))

    @rule(who=st.sampled_from(["resident-1", "p-v2"]), dice=st.integers(0, 9))
    def cancel(self, who, dice) -> None:
        if dice != 1:
            return
        self._run("cancel", lambda: self.order.cancel(who, "changed my mind", self.now))

    @rule(stars=st.integers(1, 5))
    def progress(self, stars: int) -> None:
        """The happy path's next step with valid arguments, so deep states are explored."""
        o, s = self.order, self.order.status
        scan = VerifiedScan(
            order_id=o.order_id, nonce="n", distance_m=3.0, scanned_at=self.now, position=PLACE
        )
        step = {
            OrderStatus.ORDERED: ("publish", lambda: o.publish(STAFF, self.now)),
            OrderStatus.PUBLISHED: (
                "claim",
                lambda: o.claim(VOLUNTEERS[0], o.version, 0, self.now),
            ),
            OrderStatus.ESCALATED: (
                "claim",
                lambda: o.claim(VOLUNTEERS[1], o.version, 1, self.now),
            ),
            OrderStatus.CLAIMED: ("check_in", lambda: o.check_in(self._who(None), scan, self.now)),
            OrderStatus.CHECKED_IN: (
                "complete",
                lambda: o.complete(self._who(None), "ok", self.now),
            ),
            OrderStatus.COMPLETED: ("rate", lambda: o.rate("resident-1", stars, self.now)),
        }.get(s)
        if step is not None:
            self._run(*step)
            assert self.order.status is not s

    @rule()
    def deadlines(self) -> None:
        before = self.order.version
        done = self.order.check_deadlines(self.now)
        assert self.order.version == before + len(done)
        self.transitions += len(done)

    @invariant()
    def version_counts_transitions(self) -> None:
        assert self.order.version == 1 + self.transitions

    @invariant()
    def claimant_matches_status(self) -> None:
        s = self.order.status
        if s in TAKEN:
            assert self.order.claimant_id is not None and self.order.claimed_at is not None
        if s in (OrderStatus.ORDERED, OrderStatus.PUBLISHED, OrderStatus.ESCALATED):
            assert self.order.claimant_id is None

    @invariant()
    def rating_and_points_only_at_the_end(self) -> None:
        s = self.order.status
        assert (self.order.stars is not None) == (s is OrderStatus.RATED)
        ended = s in (OrderStatus.RATED, OrderStatus.CLOSED_UNRATED)
        assert (self.order.points_awarded is not None) == ended
        awards = [e for e in self.order.pending_events if isinstance(e, PointsAwarded)]
        assert len(awards) <= 1
        assert sum(a.points for a in awards) == (self.order.points_awarded or 0)

    @invariant()
    def claims_balance_releases(self) -> None:
        ev = self.order.pending_events
        claims = sum(isinstance(e, OrderClaimed) for e in ev)
        releases = sum(isinstance(e, OrderReleased) for e in ev)
        assert claims - releases == (1 if self.order.status in TAKEN else 0) or (
            self.order.status is OrderStatus.CANCELLED and claims - releases in (0, 1)
        )

    @invariant()
    def events_are_versioned_in_order(self) -> None:
        versions = [e.version for e in self.order.pending_events]
        assert versions == sorted(versions)
        assert not versions or versions[-1] == self.order.version

    @invariant()
    def terminal_is_final(self) -> None:
        if self.terminal_seen is not None:
            assert self.order.status is self.terminal_seen
        elif self.order.status in TERMINAL:
            self.terminal_seen = self.order.status

    @invariant()
    def checked_in_means_window_started_or_deadline_passed(self) -> None:
        if self.order.status in (OrderStatus.CHECKED_IN, OrderStatus.COMPLETED):
            assert self.order.checked_in_at is not None


assert set(TRANSITIONS) >= ACTIONS

TestOrderMachine = OrderMachine.TestCase
TestOrderMachine.settings = settings(
    max_examples=150,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
