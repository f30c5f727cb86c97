"""Micro-wishes on the wish tree."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.volunteers.domain.common import Staff
from services.volunteers.domain.wishes import (
    ClaimerKind,
    WishClaimed,
    WishFulfilled,
    WishLit,
    WishStatus,
    WishTree,
)
from services.volunteers.tests.unit.builders import COMMUNITY, STAFF, T0
from yiwang.errors import Conflict, DomainError, Forbidden, ValidationFailed


def _tree_with_wish():
    tree = WishTree(COMMUNITY)
    wish = tree.post(
        wish_id="w1",
        poster_id="r1",
        beneficiary="Grandma Li, building 3",
        title="A winter coat",
        description="Size L, warm",
        now=T0,
        value_fen=15_000,
    )
    return tree, wish


def test_wish_lifecycle_to_lit():
    tree, wish = _tree_with_wish()
    assert tree.leaves() == []  # not shown until verified
    wish.verify(STAFF, T0)
    wish.claim(ClaimerKind.MEMBER, "p-v1", T0)
    with pytest.raises(Conflict, match="wish_already_claimed"):
        wish.claim(ClaimerKind.UNIT, "u1", T0)
    with pytest.raises(ValidationFailed, match="proof_required"):
        wish.fulfil("p-v1", "delivered", T0)
    with pytest.raises(Forbidden, match="not_the_claimer"):
        wish.fulfil("u1", "delivered", T0, ("photo.jpg",))
    wish.fulfil("p-v1", "delivered", T0 + timedelta(days=1), ("photo.jpg",))
    wish.light(STAFF, T0 + timedelta(days=1))
    assert wish.status is WishStatus.LIT and tree.leaves() == [wish]
    assert tree.counts()["lit"] == 1
    assert [type(e) for e in wish.pull_events()] == [WishClaimed, WishFulfilled, WishLit]


def test_illegal_wish_transitions_and_permissions():
    tree, wish = _tree_with_wish()
    with pytest.raises(Conflict) as exc:
        wish.claim(ClaimerKind.PERSON, "x", T0)
    assert exc.value.code == "illegal_transition" and exc.value.details["allowed"] == [
        "reject",
        "verify",
        "withdraw",
    ]
    with pytest.raises(Forbidden, match="outside_jurisdiction"):
        wish.verify(Staff("s", "360602001002"), T0)
    wish.verify(STAFF, T0)
    with pytest.raises(Forbidden, match="own_wish"):
        wish.claim(ClaimerKind.PERSON, "r1", T0)
    with pytest.raises(Conflict, match="illegal_transition"):
        wish.light(STAFF, T0)
    wish.claim(ClaimerKind.PERSON, "x", T0)
    wish.release("x", T0)
    assert wish.status is WishStatus.VERIFIED and wish.claimer_id is None
    with pytest.raises(Conflict, match="duplicate_wish"):
        tree.post(wish_id="w1", poster_id="r", beneficiary="b", title="t", description="d", now=T0)


ACTIONS = ["verify", "reject", "withdraw", "claim", "release", "fulfil", "light"]


@given(st.lists(st.sampled_from(ACTIONS), max_size=25))
@settings(max_examples=150, deadline=None)
def test_random_sequences_keep_wish_consistent(actions):
    _, wish = _tree_with_wish()
    order = ["posted", "verified", "claimed", "fulfilled", "lit"]
    for a in actions:
        before = (wish.status, wish.version)
        try:
            {
                "verify": lambda: wish.verify(STAFF, T0),
                "reject": lambda: wish.reject(STAFF, "not genuine", T0),
                "withdraw": lambda: wish.withdraw("r1", T0),
                "claim": lambda: wish.claim(ClaimerKind.UNIT, "u1", T0),
                "release": lambda: wish.release("u1", T0),
                "fulfil": lambda: wish.fulfil("u1", "done", T0, ("p.jpg",)),
                "light": lambda: wish.light(STAFF, T0),
            }[a]()
            assert wish.version == before[1] + 1
        except DomainError:
            assert (wish.status, wish.version) == before
        if wish.status in (WishStatus.CLAIMED, WishStatus.FULFILLED, WishStatus.LIT):
            assert wish.claimer_id == "u1"
        if wish.status is WishStatus.LIT:
            assert wish.proof_photos and wish.fulfilled_at is not None
        if before[0].value in order and wish.status.value in order:
            # forward at most one step, back only by release
            step = order.index(wish.status.value) - order.index(before[0].value)
            assert step in (0, 1) or (a == "release" and step == -1)
