from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from demo.enterprise import KEY_PROJECT_COUNT, demo_key_projects, demo_start_times
from services.enterprise.domain.common import Official, add_working_days, working_seconds_between
from services.enterprise.domain.events import (
    ApprovalStepLate,
    ApprovalStepStarted,
    ApprovalStepWarned,
    ProjectApprovalsCompleted,
)
from services.enterprise.domain.projects import ProjectStatus, StepSpec, create_project, sweep
from yiwang.clock import SHANGHAI, FakeClock
from yiwang.errors import Conflict, Forbidden, NotFound, ValidationFailed

from .conftest import DISTRICT, MONDAY_10

NR = Official("nr-1", DISTRICT, department="natural_resources")
HC = Official("hc-1", DISTRICT, department="housing")


def _project():  # type: ignore[no-untyped-def]
    return create_project(
        project_id="KP1",
        name="石化新材料项目",
        district_code=DISTRICT,
        leader_id="leader-1",
        steps=[StepSpec("用地预审", "natural_resources", 5), StepSpec("施工许可", "housing", 2)],
    )


def test_due_dates_follow_working_days() -> None:
    p = _project()
    ev = p.start(MONDAY_10)
    assert isinstance(ev, ApprovalStepStarted)
    assert ev.due_at == datetime(2026, 1, 12, 10, tzinfo=SHANGHAI)  # Mon + 5 working days
    # 80 % of 5 working days = 4 days → Friday 10:00
    assert p.steps[0].warn_at == datetime(2026, 1, 9, 10, tzinfo=SHANGHAI)


def test_warned_once_then_late_once(clock: FakeClock) -> None:
    p = _project()
    p.start(clock.now())
    assert sweep([p], clock.advance(days=3, hours=23)) == []  # Thursday 09:00
    clock.set(datetime(2026, 1, 9, 10, tzinfo=SHANGHAI))
    events = sweep([p], clock.now())
    assert len(events) == 1 and isinstance(events[0], ApprovalStepWarned)
    assert events[0].department == "natural_resources" and events[0].district_code == DISTRICT
    assert sweep([p], clock.advance(days=2)) == []  # weekend: no time passes, no repeat
    assert sweep([p], datetime(2026, 1, 12, 10, tzinfo=SHANGHAI)) == []  # exactly due: not late
    events = sweep([p], clock.advance(days=1, minutes=1))
    assert len(events) == 1 and isinstance(events[0], ApprovalStepLate)
    assert events[0].late_seconds == 60
    assert sweep([p], clock.advance(days=3)) == []
    assert p.progress(clock.now()).late_steps == ("用地预审",)
    assert p.progress(clock.now()).working_days_left == -3.0


def test_jump_past_due_reports_late_only(clock: FakeClock) -> None:
    p = _project()
    p.start(clock.now())
    events = sweep([p], clock.advance(days=30))
    assert [type(e) for e in events] == [ApprovalStepLate]
    assert sweep([p], clock.advance(days=1)) == []


def test_each_step_gets_its_own_warning(clock: FakeClock) -> None:
    p = _project()
    p.start(clock.now())
    clock.advance(days=4)  # Friday 10:00 → warned
    assert len(sweep([p], clock.now())) == 1
    events = p.approve(NR, 0, clock.now())
    assert isinstance(events[-1], ApprovalStepStarted) and events[-1].step_index == 1
    assert events[0].late is False  # type: ignore[attr-defined]
    # step 1: 2 working days from Friday 10:00 → Tuesday 10:00; warn at 1.6 days = Fri 14 h + Mon 24 h + 0.4 h → Tue 00:24
    assert p.steps[1].due_at == datetime(2026, 1, 13, 10, tzinfo=SHANGHAI)
    assert p.steps[1].warn_at == datetime(2026, 1, 13, 0, 24, tzinfo=SHANGHAI)
    assert [type(e) for e in sweep([p], p.steps[1].warn_at)] == [ApprovalStepWarned]
    assert [type(e) for e in sweep([p], datetime(2026, 1, 14, tzinfo=SHANGHAI))] == [
        ApprovalStepLate
    ]


def test_out_of_order_and_wrong_owner_refused(clock: FakeClock) -> None:
    p = _project()
    with pytest.raises(Conflict):
        p.approve(NR, 0, clock.now())  # not started
    p.start(clock.now())
    with pytest.raises(Conflict) as exc:
        p.approve(HC, 1, clock.now())
    assert exc.value.code == "step_out_of_order" and exc.value.status == 409
    with pytest.raises(Forbidden) as fexc:
        p.approve(HC, 0, clock.now())
    assert fexc.value.code == "not_step_owner"
    with pytest.raises(NotFound):
        p.approve(NR, 7, clock.now())
    assert p.progress(clock.now()).done == 0
    p.approve(NR, 0, clock.advance(days=1))
    with pytest.raises(Conflict) as exc:
        p.approve(NR, 0, clock.now())
    assert exc.value.code == "step_already_approved"
    events = p.approve(HC, 1, clock.advance(days=10))  # late
    done = events[-1]
    assert isinstance(done, ProjectApprovalsCompleted) and done.late_steps == [1]
    view = p.progress(clock.now())
    assert (view.done, view.total, view.current_step, view.status) == (
        2,
        2,
        None,
        ProjectStatus.APPROVED,
    )
    assert view.late_steps == ("施工许可",)


def test_custom_calendar_and_share() -> None:
    holidays = {date(2026, 1, 6)}
    p = create_project(
        project_id="KP2",
        name="x",
        district_code=DISTRICT,
        leader_id="l",
        steps=[StepSpec("a", "natural_resources", 1)],
        warn_share=0.5,
    )
    p.start(MONDAY_10, lambda d: d.weekday() < 5 and d not in holidays)
    assert p.steps[0].due_at == datetime(2026, 1, 7, 10, tzinfo=SHANGHAI)
    assert p.steps[0].warn_at == datetime(2026, 1, 5, 22, tzinfo=SHANGHAI)


@pytest.mark.parametrize("share", [0, 1, 1.5])
def test_bad_warn_share_refused(share: float) -> None:
    with pytest.raises(ValidationFailed):
        create_project(
            project_id="K",
            name="x",
            district_code=DISTRICT,
            leader_id="l",
            steps=[StepSpec("a", "d", 1)],
            warn_share=share,
        )


def test_demo_has_23_projects() -> None:
    ps = demo_key_projects(district_code=DISTRICT, leader_id="leader-1", start=MONDAY_10)
    assert len(ps) == KEY_PROJECT_COUNT == 23 and len({p.project_id for p in ps}) == 23
    for p, t in zip(ps, demo_start_times(MONDAY_10), strict=True):
        p.start(t)
    assert all(p.progress(MONDAY_10 + timedelta(days=40)).late_steps for p in ps)


@settings(max_examples=100, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 1, 1)).map(  # noqa: DTZ001 - hypothesis takes naive bounds
        lambda d: d.replace(tzinfo=SHANGHAI)
    ),
    days=st.floats(0.1, 20),
    sweeps=st.lists(st.floats(0, 40 * 24), min_size=1, max_size=15),
)
def test_sweep_emits_at_most_once_per_stage(
    start: datetime, days: float, sweeps: list[float]
) -> None:
    p = create_project(
        project_id="K",
        name="x",
        district_code=DISTRICT,
        leader_id="l",
        steps=[StepSpec("a", "d", days)],
    )
    p.start(start)
    due = add_working_days(start, days)
    assert abs(working_seconds_between(start, due) - days * 86400) < 1e-3
    events = []
    for h in sorted(sweeps):
        events += p.sweep(start + timedelta(hours=h))
    kinds = [type(e) for e in events]
    assert kinds.count(ApprovalStepWarned) <= 1 and kinds.count(ApprovalStepLate) <= 1
    last = start + timedelta(hours=max(sweeps))
    assert (ApprovalStepLate in kinds) == (last > due)
    if ApprovalStepWarned in kinds and ApprovalStepLate in kinds:
        assert kinds.index(ApprovalStepWarned) < kinds.index(ApprovalStepLate)
