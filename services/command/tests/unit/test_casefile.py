from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.command.domain import casefile as cf
from services.command.domain.casefile import CaseEvent, apply, rebuild
from yiwang.clock import SHANGHAI
from yiwang.errors import Conflict, ValidationFailed

T0 = datetime(2026, 3, 10, 9, tzinfo=SHANGHAI)


def ev(seq: int, type_: str, minutes: int = 0, **data: object) -> CaseEvent:
    return CaseEvent("c1", seq, type_, T0 + timedelta(minutes=minutes or seq * 10), data)


CREATED = ev(
    1,
    cf.CASE_CREATED,
    source="citizen",
    category="road",
    title="pothole",
    grid_code="370281001001001",
    jurisdiction_code="370281001001001",
    level="grid",
    sla_class="quick_1d",
    due=T0 + timedelta(days=1),
    warn_at=T0 + timedelta(hours=20),
)

HISTORY = [
    CREATED,
    ev(2, cf.CASE_ACCEPTED),
    ev(3, cf.CASE_DISPATCHED, handler="urban_mgmt"),
    ev(4, cf.CASE_RETURNED, reason="not ours"),
    ev(5, cf.CASE_DISPATCHED, handler="water"),
    ev(6, cf.CASE_SLA_WARNING),
    ev(7, cf.CASE_OVERDUE),
    ev(
        8,
        cf.CASE_ESCALATED,
        from_level="grid",
        to_level="community",
        jurisdiction_code="370281001001",
        reason="overdue",
        due=T0 + timedelta(days=2),
    ),
    ev(
        9,
        cf.CASE_WHISTLED,
        whistle_id="w1",
        departments=["police"],
        deadline=T0 + timedelta(hours=30),
    ),
    ev(10, cf.CASE_SUPERVISED, supervision_id="s1", leader="L1", note="hurry"),
    ev(11, cf.CASE_HANDLED),
    ev(12, cf.CASE_CLOSED),
    ev(13, cf.CASE_EVALUATED, satisfied=False, rating=2),
    ev(14, cf.CASE_DISPATCHED, handler="water"),
    ev(15, cf.CASE_HANDLED),
    ev(16, cf.CASE_CLOSED),
    ev(17, cf.CASE_EVALUATED, satisfied=True, rating=5),
]


def test_in_order_fold() -> None:
    v = rebuild(HISTORY)
    assert v is not None and v.complete
    assert v.status == cf.CLOSED and v.is_closed
    assert v.handler == "water"
    assert v.level == "community" and v.jurisdiction_code == "370281001001"
    assert v.escalation_level == "community" and len(v.escalations) == 1
    assert v.sla_state == "on_time" and not v.overdue  # reset by the escalation
    assert v.supervised and set(v.whistles) == {"w1"}
    assert v.rework_count == 1 and v.satisfied is True and v.rating == 5
    assert v.return_reason == "not ours"
    assert v.last_seq == 17 and v.updated_at == HISTORY[-1].at
    assert v.due == T0 + timedelta(days=2)


def test_partial_states() -> None:
    v = rebuild(HISTORY[:7])
    assert v is not None and v.overdue and v.status == cf.DISPATCHED
    v = rebuild(HISTORY[:4])
    assert v is not None and v.status == cf.RETURNED and v.handler is None
    v = rebuild(HISTORY[:13])
    assert v is not None and v.status == cf.REWORK and not v.is_closed


def test_older_event_never_overwrites_and_duplicates_are_noops() -> None:
    v = rebuild(HISTORY)
    assert v is not None
    assert apply(v, HISTORY[2]) is v  # duplicate
    late = rebuild([HISTORY[0], HISTORY[11]])  # closed seen first
    assert late is not None
    late = apply(late, HISTORY[2])  # the older dispatch arrives afterwards
    assert late.status == cf.CLOSED and late.handler == "urban_mgmt"


def test_events_before_creation() -> None:
    v = rebuild([HISTORY[2]])
    assert v is not None and not v.complete and v.status == cf.DISPATCHED
    v = apply(v, CREATED)
    assert v.complete and v.status == cf.DISPATCHED and v.category == "road"


def test_refusals() -> None:
    v = rebuild(HISTORY[:3])
    assert v is not None
    with pytest.raises(Conflict):
        apply(v, ev(3, cf.CASE_CLOSED))
    with pytest.raises(ValidationFailed):
        apply(v, CaseEvent("other", 4, cf.CASE_CLOSED, T0))
    with pytest.raises(ValidationFailed):
        CaseEvent("c1", 1, "case.exploded", T0)
    with pytest.raises(ValidationFailed):
        CaseEvent("c1", 0, cf.CASE_CLOSED, T0)


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=len(HISTORY)),
    data=st.data(),
)
def test_any_permutation_with_duplicates_gives_the_same_view(n: int, data: st.DataObject) -> None:
    prefix = HISTORY[:n]
    noisy = prefix + data.draw(st.lists(st.sampled_from(prefix), max_size=6))
    shuffled = data.draw(st.permutations(noisy))
    assert rebuild(shuffled) == rebuild(prefix)
