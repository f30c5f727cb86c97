from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.command.domain.escalation import (
    DueIndex,
    EscalationSubject,
    escalate,
)
from services.command.domain.sla import Deadline, SlaClock, SlaPolicy, SlaState, sla_state
from yiwang.clock import SHANGHAI, FakeClock
from yiwang.errors import Conflict, ValidationFailed
from yiwang.jurisdiction import Level

POLICY = SlaPolicy()
GRID = "370281001001001"


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_urgent_runs_on_calendar_time_even_on_holidays() -> None:
    start = sh(2026, 2, 17, 23, 0)  # Spring Festival night
    d = POLICY.handling_deadline("urgent_2h", Level.GRID, start)
    assert d.due == sh(2026, 2, 18, 1, 0)
    assert d.warn_at == start + timedelta(minutes=96)
    esc = POLICY.handling_deadline("urgent_2h", Level.STREET, start, escalated=True)
    assert esc.due == d.due  # urgent stays urgent at every level


def test_working_classes_and_level_budgets() -> None:
    start = sh(2026, 3, 10, 10)  # Tuesday
    assert POLICY.handling_deadline("quick_1d", Level.GRID, start).due == sh(2026, 3, 11, 10)
    assert POLICY.handling_deadline("standard_3d", Level.GRID, start).due == sh(2026, 3, 13, 10)
    assert POLICY.handling_deadline("complex_7d", Level.GRID, start).due == sh(2026, 3, 19, 10)
    # escalated: the level's own budget replaces the class time
    assert POLICY.handling_deadline("complex_7d", Level.COMMUNITY, start, escalated=True).due == sh(
        2026, 3, 11, 10
    )
    assert POLICY.handling_deadline("quick_1d", Level.CITY, start, escalated=True).due == sh(
        2026, 3, 17, 10
    )
    acc = POLICY.accept_deadline("quick_1d", sh(2026, 3, 10, 11))
    assert acc.due == sh(2026, 3, 10, 14, 30)  # 2 working hours skip lunch


def test_warning_share_in_working_time() -> None:
    start = sh(2026, 3, 10, 8, 30)
    d = POLICY.handling_deadline("quick_1d", Level.GRID, start)  # 7.5 h → 80 % = 6 h
    assert d.warn_at == sh(2026, 3, 10, 16, 0)
    half = SlaPolicy(warn_share=0.5).handling_deadline("quick_1d", Level.GRID, start)
    assert half.warn_at == sh(2026, 3, 10, 13, 45)  # 3h45: 3h30 morning + 15 min


def test_states_with_injected_clock() -> None:
    start = sh(2026, 3, 10, 8, 30)
    d = POLICY.handling_deadline("quick_1d", Level.GRID, start)
    clock = FakeClock(start)
    sc = SlaClock(POLICY, clock)
    assert sc.state(d) == SlaState.ON_TIME
    clock.set(d.warn_at - timedelta(seconds=1))
    assert sc.state(d) == SlaState.ON_TIME
    clock.set(d.warn_at)
    assert sc.state(d) == SlaState.WARNING
    clock.set(d.due - timedelta(seconds=1))
    assert sc.state(d) == SlaState.WARNING
    clock.set(d.due)
    assert sc.state(d) == SlaState.OVERDUE


def test_policy_refusals() -> None:
    with pytest.raises(ValidationFailed) as e:
        POLICY.handling_deadline("nope", Level.GRID, sh(2026, 3, 10))
    assert e.value.code == "unknown_sla_class"
    with pytest.raises(ValidationFailed):
        SlaPolicy(warn_share=0)
    with pytest.raises(ValidationFailed):
        POLICY.handling_deadline("quick_1d", Level.GRID, sh(2026, 3, 10), escalated=True)


def subject(level: Level, status: str = "dispatched") -> EscalationSubject:
    return EscalationSubject("c1", status, level, GRID, "standard_3d")


def test_escalation_ladder_to_the_city() -> None:
    now = sh(2026, 3, 10, 9)
    level = Level.GRID
    codes = []
    while True:
        try:
            esc = escalate(subject(level), "overdue", now, POLICY)
        except Conflict as exc:
            assert exc.code == "already_at_top"
            break
        codes.append((esc.to_level, esc.jurisdiction_code))
        assert esc.deadline.start == now and esc.deadline.due > now
        level = esc.to_level
    assert codes == [
        (Level.COMMUNITY, "370281001001"),
        (Level.STREET, "370281001"),
        (Level.DISTRICT, "370281"),
        (Level.CITY, "3702"),
    ]
    esc = escalate(subject(Level.STREET), "cannot_solve", now, POLICY)
    assert esc.deadline.due == sh(2026, 3, 13, 9, 0)  # district budget 3 working days
    assert esc.event_data()["reason"] == "cannot_solve"


def test_escalation_refusals() -> None:
    now = sh(2026, 3, 10, 9)
    with pytest.raises(Conflict) as e:
        escalate(subject(Level.GRID, "closed"), "overdue", now, POLICY)
    assert e.value.code == "case_closed"
    with pytest.raises(ValidationFailed) as e2:
        escalate(subject(Level.GRID), "bored", now, POLICY)
    assert e2.value.code == "invalid_escalation_reason"


def _deadline(start: datetime, warn_min: int, due_min: int) -> Deadline:
    return Deadline(
        start, start + timedelta(minutes=due_min), start + timedelta(minutes=warn_min), "calendar"
    )


def test_due_index_sweep_touches_only_what_is_due() -> None:
    t0 = sh(2026, 3, 10, 9)
    idx = DueIndex()
    rng = random.Random(7)
    n = 20_000
    for i in range(n):
        due = rng.randint(1000, 100_000)
        idx.schedule(f"c{i}", _deadline(t0, due * 4 // 5, due))
    due_now = [f"d{i}" for i in range(25)]
    for cid in due_now:
        idx.schedule(cid, _deadline(t0, 5, 10))
    items = idx.sweep(t0 + timedelta(minutes=20))
    assert {i.case_id for i in items} == set(due_now)
    assert all(i.kind == SlaState.OVERDUE for i in items)
    assert idx.last_sweep_pops == 25  # nothing else was touched
    assert len(idx) == n
    assert idx.sweep(t0 + timedelta(minutes=20)) == []
    assert idx.last_sweep_pops == 0


def test_due_index_warning_then_overdue_and_reschedule() -> None:
    t0 = sh(2026, 3, 10, 9)
    idx = DueIndex()
    idx.schedule("a", _deadline(t0, 8, 10))
    idx.schedule("b", _deadline(t0, 8, 10))
    idx.remove("b")
    assert idx.sweep(t0 + timedelta(minutes=7)) == []
    [w] = idx.sweep(t0 + timedelta(minutes=8))
    assert (w.case_id, w.kind) == ("a", SlaState.WARNING)
    assert idx.next_due() == t0 + timedelta(minutes=10)
    [o] = idx.sweep(t0 + timedelta(minutes=30))
    assert (o.case_id, o.kind) == ("a", SlaState.OVERDUE)
    assert "a" not in idx
    # escalation reschedules with the new deadline; stale entries never surface
    idx.schedule("a", _deadline(t0, 100, 120))
    idx.schedule("a", _deadline(t0, 200, 220))
    assert idx.sweep(t0 + timedelta(minutes=150)) == []


@settings(max_examples=60, deadline=None)
@given(
    ops=st.lists(
        st.tuples(st.sampled_from("sr"), st.integers(0, 9), st.integers(1, 50), st.integers(1, 50)),
        max_size=60,
    ),
    sweeps=st.lists(st.integers(0, 120), max_size=6),
)
def test_due_index_matches_brute_force(
    ops: list[tuple[str, int, int, int]], sweeps: list[int]
) -> None:
    t0 = sh(2026, 3, 10, 9)
    idx = DueIndex()
    model: dict[str, tuple[Deadline, bool]] = {}
    for op, n, a, b in ops:
        cid = f"c{n}"
        if op == "s":
            d = _deadline(t0, min(a, b), max(a, b))
            idx.schedule(cid, d)
            model[cid] = (d, False)
        else:
            idx.remove(cid)
            model.pop(cid, None)
    for m in sorted(sweeps):
        now = t0 + timedelta(minutes=m)
        got = {(i.case_id, i.kind) for i in idx.sweep(now)}
        want = set()
        for cid, (d, warned) in list(model.items()):
            state = sla_state(d, now)
            if state == SlaState.OVERDUE:
                want.add((cid, state))
                del model[cid]
            elif state == SlaState.WARNING and not warned:
                want.add((cid, state))
                model[cid] = (d, True)
        assert got == want
