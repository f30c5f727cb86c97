"""Points ledger: the balance is always the sum of its entries and never negative."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.volunteers.domain.common import Staff
from services.volunteers.domain.points import (
    Account,
    EntryKind,
    HolderKind,
    Ledger,
    PointRules,
    leaderboard,
)
from services.volunteers.tests.unit.builders import COMMUNITY, OTHER_COMMUNITY, STAFF, T0
from yiwang.errors import Conflict, DomainError, Forbidden, ValidationFailed

ME = Account(HolderKind.PERSON, "p1")

ops = st.lists(
    st.one_of(
        st.tuples(st.just("earn"), st.integers(-5, 60)),
        st.tuples(st.just("redeem"), st.integers(-5, 120)),
        st.tuples(st.just("adjust"), st.integers(-80, 80)),
    ),
    max_size=60,
)


@given(ops)
@settings(max_examples=200, deadline=None)
def test_balance_equals_sum_of_entries_and_never_negative(operations):
    ledger = Ledger(ME)
    now = T0
    for i, (op, amount) in enumerate(operations):
        now += timedelta(days=11)
        before = ledger.entries
        try:
            if op == "earn":
                ledger.earn(amount, reason="order", ref=f"o{i}", community_code=COMMUNITY, now=now)
            elif op == "redeem":
                ledger.redeem(amount, reason="gift", community_code=COMMUNITY, now=now)
            else:
                ledger.adjust(amount, reason="fix", staff=STAFF, community_code=COMMUNITY, now=now)
        except DomainError as err:
            assert ledger.entries == before  # refused: nothing appended
            if op == "redeem" and amount > 0:
                assert err.code == "insufficient_points" and amount > ledger.balance
        assert ledger.balance == sum(e.amount for e in ledger.entries)
        assert ledger.balance >= 0
        assert [e.seq for e in ledger.entries] == list(range(1, len(ledger.entries) + 1))
    # Rehydrating from stored entries gives the same balance; statements chain up.
    assert Ledger(ME, ledger.entries).balance == ledger.balance
    years = sorted({e.at.year for e in ledger.entries} | {T0.year})
    opening = 0
    for y in range(years[0], years[-1] + 1):
        st_ = ledger.statement(y)
        assert st_.opening_balance == opening
        assert st_.closing_balance == opening + st_.earned - st_.redeemed + st_.adjusted
        opening = st_.closing_balance
    assert opening == ledger.balance


def test_redeem_beyond_balance_is_refused():
    ledger = Ledger(ME)
    ledger.earn(20, reason="order o1", ref="o1", community_code=COMMUNITY, now=T0)
    with pytest.raises(Conflict) as exc:
        ledger.redeem(21, reason="rice", community_code=COMMUNITY, now=T0)
    assert exc.value.code == "insufficient_points" and exc.value.details["balance"] == 20
    ledger.redeem(20, reason="rice", community_code=COMMUNITY, now=T0)
    assert ledger.balance == 0


def test_earn_is_idempotent_per_reference():
    ledger = Ledger(ME)
    ledger.earn(10, reason="order", ref="o1", community_code=COMMUNITY, now=T0)
    with pytest.raises(Conflict, match="points_already_recorded"):
        ledger.earn(10, reason="order", ref="o1", community_code=COMMUNITY, now=T0)
    assert ledger.balance == 10


def test_adjustment_needs_reason_and_jurisdiction():
    ledger = Ledger(ME)
    with pytest.raises(ValidationFailed, match="required"):
        ledger.adjust(5, reason=" ", staff=STAFF, community_code=COMMUNITY, now=T0)
    with pytest.raises(Forbidden, match="outside_jurisdiction"):
        ledger.adjust(5, reason="bonus", staff=STAFF, community_code=OTHER_COMMUNITY, now=T0)
    e = ledger.adjust(5, reason="flood relief", staff=STAFF, community_code=COMMUNITY, now=T0)
    assert (e.kind, e.by, ledger.balance) == (EntryKind.ADJUST, "staff-1", 5)
    with pytest.raises(Conflict, match="insufficient_points"):
        ledger.adjust(-6, reason="correction", staff=STAFF, community_code=COMMUNITY, now=T0)


def test_corrupt_history_is_rejected():
    ledger = Ledger(ME)
    ledger.earn(10, reason="x", ref="a", community_code=COMMUNITY, now=T0)
    ledger.earn(10, reason="x", ref="b", community_code=COMMUNITY, now=T0)
    with pytest.raises(ValidationFailed, match="corrupt_ledger"):
        Ledger(ME, reversed(ledger.entries))


def test_statement_uses_shanghai_calendar_year():
    ledger = Ledger(ME)
    # 2025-12-31 17:00 UTC is already 2026-01-01 01:00 in Shanghai.
    ledger.earn(
        7,
        reason="x",
        ref="a",
        community_code=COMMUNITY,
        now=datetime(2025, 12, 31, 15, 0, tzinfo=UTC),
    )
    ledger.earn(
        9,
        reason="x",
        ref="b",
        community_code=COMMUNITY,
        now=datetime(2025, 12, 31, 17, 0, tzinfo=UTC),
    )
    ledger.redeem(4, reason="y", community_code=COMMUNITY, now=datetime(2026, 3, 1, tzinfo=UTC))
    s25, s26 = ledger.statement(2025), ledger.statement(2026)
    assert (s25.earned, s25.closing_balance) == (7, 7)
    assert (s26.opening_balance, s26.earned, s26.redeemed, s26.closing_balance) == (7, 9, 4, 12)


def test_point_rules_as_data():
    rules = PointRules.from_dict({"base_by_category": {"elderly_care": 30}, "five_star_bonus": 10})
    assert rules.points_for_order("elderly_care", 5) == 40
    assert rules.points_for_order("elderly_care", 4) == 30
    assert rules.points_for_order("other", None) == 10
    assert rules.points_for_order("other", 1) == 0
    with pytest.raises(ValidationFailed, match="invalid_point_rules"):
        PointRules(default_base=-1)


def test_leaderboards_per_community_and_street():
    street_other_community = "360602001002"
    entries = []
    for holder, pts, community in [
        ("a", 30, COMMUNITY),
        ("b", 50, COMMUNITY),
        ("c", 30, COMMUNITY),
        ("d", 70, street_other_community),
        ("e", 99, "360602002001"),
    ]:
        led = Ledger(Account(HolderKind.PERSON, holder))
        led.earn(pts, reason="o", ref="r", community_code=community, now=T0)
        if holder == "b":
            led.redeem(40, reason="gift", community_code=COMMUNITY, now=T0)  # does not lower rank
        entries.extend(led.entries)
    unit = Ledger(Account(HolderKind.UNIT, "u1"))
    unit.earn(45, reason="o", ref="r", community_code=COMMUNITY, now=T0)
    entries.extend(unit.entries)

    board = leaderboard(entries, COMMUNITY, holder_kind=HolderKind.PERSON)
    assert [(r.rank, r.account.holder_id, r.points) for r in board] == [
        (1, "b", 50),
        (2, "a", 30),
        (2, "c", 30),
    ]
    street = leaderboard(entries, "360602001", top=3)
    assert [(r.rank, r.account.holder_id) for r in street] == [(1, "d"), (2, "b"), (3, "u1")]
    assert leaderboard(entries, COMMUNITY, year=2025) == []
    with pytest.raises(ValidationFailed, match="invalid_leaderboard_scope"):
        leaderboard(entries, "360602")


def test_staff_from_other_street_cannot_adjust():
    ledger = Ledger(ME)
    with pytest.raises(Forbidden):
        ledger.adjust(
            3, reason="x", staff=Staff("s", "360602002"), community_code=COMMUNITY, now=T0
        )
