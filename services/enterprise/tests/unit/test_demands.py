from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.enterprise.domain.common import Official
from services.enterprise.domain.demands import (
    DemandStatus,
    Responsibility,
    ResponsibilityTable,
    file_demand,
    sweep_overdue,
)
from services.enterprise.domain.events import (
    DemandAssigned,
    DemandClosed,
    DemandOverdue,
    DemandRated,
)
from yiwang.clock import SHANGHAI, FakeClock
from yiwang.errors import Conflict, Forbidden, NotFound, ValidationFailed

from .conftest import DISTRICT, Factory

TABLE = ResponsibilityTable(
    [
        Responsibility(DISTRICT, "*", "leader-mayor", "business_environment"),
        Responsibility(DISTRICT, "land", "leader-vice", "natural_resources"),
    ]
)
DEPT = Official("d-1", DISTRICT, department="business_environment")
LEADER = Official("leader-mayor", DISTRICT, is_leader=True)


def _filed(make: Factory, clock: FakeClock, urgency: str = "normal"):  # type: ignore[no-untyped-def]
    ent = make.enterprise()
    d, ev = file_demand(
        demand_id="D1",
        enterprise=ent,
        user_id=ent.enterprise_id.replace("E", "u"),
        category="power",
        description="厂区停电频繁",
        urgency=urgency,
        now=clock.now(),
    )
    return ent, d, ev


def test_unverified_enterprise_cannot_file(make: Factory, clock: FakeClock) -> None:
    ent = make.enterprise(verified=False)
    with pytest.raises(Forbidden) as exc:
        file_demand(
            demand_id="D1",
            enterprise=ent,
            user_id="u1",
            category="x",
            description="y",
            urgency="normal",
            now=clock.now(),
        )
    assert exc.value.code == "enterprise_not_verified" and exc.value.status == 403


def test_stranger_cannot_file_for_enterprise(make: Factory, clock: FakeClock) -> None:
    ent = make.enterprise()
    with pytest.raises(Forbidden):
        file_demand(
            demand_id="D1",
            enterprise=ent,
            user_id="intruder",
            category="x",
            description="y",
            urgency="normal",
            now=clock.now(),
        )


def test_routing_by_category_with_fallback(make: Factory, clock: FakeClock) -> None:
    assert TABLE.lookup(DISTRICT, "land").leader_id == "leader-vice"
    assert TABLE.lookup(DISTRICT, "power").leader_id == "leader-mayor"
    with pytest.raises(NotFound) as exc:
        TABLE.lookup("211102", "power")
    assert exc.value.code == "no_responsible_leader"


@pytest.mark.parametrize(
    ("urgency", "due"), [("urgent", (6, 10)), ("normal", (8, 10)), ("complex", (14, 10))]
)
def test_sla_in_working_days(
    make: Factory, clock: FakeClock, urgency: str, due: tuple[int, int]
) -> None:
    _, d, _ = _filed(make, clock, urgency)
    ev = d.assign(TABLE, clock.now())
    assert isinstance(ev, DemandAssigned)
    # Monday 5 Jan 10:00 + 1 / 3 / 7 working days (7 skips the weekend of 10–11 Jan)
    assert ev.due_at == datetime(2026, 1, due[0], due[1], 0, tzinfo=SHANGHAI)
    assert (d.leader_id, d.department) == ("leader-mayor", "business_environment")


def test_full_lifecycle_with_rework_and_overdue(make: Factory, clock: FakeClock) -> None:
    ent, d, filed = _filed(make, clock, "urgent")
    assert filed.district_code == DISTRICT and d.status is DemandStatus.FILED
    d.assign(TABLE, clock.now())
    assert d.check_overdue(clock.advance(hours=23)) is None
    clock.advance(hours=2)  # past Tuesday 10:00
    over = sweep_overdue([d], clock.now())
    assert len(over) == 1 and isinstance(over[0], DemandOverdue)
    assert over[0].leader_id == "leader-mayor" and over[0].overdue_seconds == 3600
    assert sweep_overdue([d], clock.advance(hours=5)) == []  # reported once
    d.reply(DEPT, "已联系供电公司", clock.now(), ["photo-1.jpg"])
    assert d.status is DemandStatus.IN_PROGRESS
    ans = d.answer(LEADER, "线路已改造", clock.advance(hours=1))
    assert not ans.within_sla and ans.response_seconds == 31 * 3600
    assert d.check_overdue(clock.advance(days=5)) is None  # the answer stops the clock

    events = d.rate(ent, "u1", 2, clock.now(), "仍然停电")
    assert isinstance(events[0], DemandRated) and not events[0].satisfied
    assert isinstance(events[1], DemandAssigned) and events[1].rework == 1
    assert d.status is DemandStatus.IN_PROGRESS and d.rework_count == 1
    # a fresh SLA period: overdue can be reported again, once
    assert len(sweep_overdue([d], clock.advance(days=3))) == 1
    d.answer(DEPT, "已彻底解决", clock.advance(hours=1))
    events = d.rate(ent, "u1", 5, clock.now())
    assert isinstance(events[-1], DemandClosed) and d.status is DemandStatus.CLOSED
    assert [e.kind for e in d.timeline].count("overdue") == 2
    with pytest.raises(Conflict):
        d.rate(ent, "u1", 5, clock.now())


def test_refusals_change_nothing(make: Factory, clock: FakeClock) -> None:
    ent, d, _ = _filed(make, clock)
    with pytest.raises(Conflict):
        d.answer(DEPT, "x", clock.now())  # not assigned yet
    d.assign(TABLE, clock.now())
    with pytest.raises(Conflict):
        d.assign(TABLE, clock.now())
    outsider = Official("o-1", DISTRICT, department="water")
    with pytest.raises(Forbidden) as exc:
        d.reply(outsider, "hi", clock.now())
    assert exc.value.code == "not_demand_handler"
    with pytest.raises(Forbidden) as exc:
        d.reply(Official("leader-mayor", "211102"), "hi", clock.now())
    assert exc.value.code == "outside_jurisdiction"
    with pytest.raises(ValidationFailed):
        d.reply(DEPT, "   ", clock.now())
    assert d.status is DemandStatus.ASSIGNED and len(d.timeline) == 2
    with pytest.raises(Conflict):
        d.rate(ent, "u1", 4, clock.now())
    d.answer(DEPT, "done", clock.now())
    with pytest.raises(ValidationFailed):
        d.rate(ent, "u1", 6, clock.now())
    other = make.enterprise()
    with pytest.raises(Forbidden):
        d.rate(other, "u2", 5, clock.now())
    assert d.status is DemandStatus.ANSWERED and d.ratings == []


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["reply", "answer", "rate", "sweep"]),
            st.integers(1, 5),
            st.integers(0, 72),
        ),
        max_size=25,
    )
)
def test_random_walks_keep_invariants(steps: list[tuple[str, int, int]]) -> None:
    make, clock = Factory(), FakeClock(datetime(2026, 1, 5, 2, 0, tzinfo=SHANGHAI))
    ent, d, _ = _filed(make, clock)
    d.assign(TABLE, clock.now())
    overdue_per_period: dict[int, int] = {}
    for action, score, hours in steps:
        clock.advance(hours=hours)
        try:
            if action == "reply":
                d.reply(DEPT, "进展", clock.now())
            elif action == "answer":
                d.answer(DEPT, "答复", clock.now())
            elif action == "rate":
                d.rate(ent, "u1", score, clock.now())
            else:
                for _ in sweep_overdue([d], clock.now()):
                    overdue_per_period[d.rework_count] = (
                        overdue_per_period.get(d.rework_count, 0) + 1
                    )
        except Conflict:
            pass
        assert d.rework_count == sum(1 for s in d.ratings if s <= 2)
        assert (d.status is DemandStatus.CLOSED) == (bool(d.ratings) and d.ratings[-1] >= 3)
        assert (
            d.due_at is not None
            and d.clock_started_at is not None
            and d.due_at > d.clock_started_at
        )
    assert all(n == 1 for n in overdue_per_period.values())
    assert timedelta(0) <= clock.now() - d.filed_at
