"""Teams and their activities: capacity, sign-up, check-in, rating."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.volunteers.domain.common import TimeWindow
from services.volunteers.domain.teams import Team, monthly_programme, plan_activity
from services.volunteers.tests.unit.builders import COMMUNITY, STAFF, T0
from yiwang.errors import Conflict, Forbidden, ValidationFailed

WIN = TimeWindow(T0 + timedelta(days=3), T0 + timedelta(days=3, hours=2))


def _activity(capacity: int = 2):
    team = Team(team_id="t1", community_code=COMMUNITY, name="Red Vest Team", leader_ids={"lead"})
    act = plan_activity(
        team,
        "lead",
        activity_id="a1",
        title="Clean the riverside",
        description="Bring gloves",
        window=WIN,
        place="Riverside park gate",
        capacity=capacity,
    )
    act.publish(team, "lead", T0)
    return team, act


def test_capacity_and_double_sign_up():
    _, act = _activity(capacity=2)
    act.sign_up("r1", T0)
    with pytest.raises(Conflict, match="already_signed_up"):
        act.sign_up("r1", T0)
    act.sign_up("r2", T0)
    with pytest.raises(Conflict) as exc:
        act.sign_up("r3", T0)
    assert exc.value.code == "activity_full"
    act.withdraw("r2", T0)
    act.sign_up("r3", T0)
    assert set(act.participants) == {"r1", "r3"} and act.seats_left == 0


def test_sign_up_closes_at_start_and_check_in_then_rate_once():
    _, act = _activity()
    act.sign_up("r1", T0)
    with pytest.raises(Conflict, match="signup_closed"):
        act.sign_up("r2", WIN.start)
    with pytest.raises(ValidationFailed, match="checkin_outside_window"):
        act.check_in("r1", WIN.start - timedelta(minutes=31))
    with pytest.raises(Forbidden, match="not_checked_in"):
        act.rate("r1", 5, WIN.end)
    act.check_in("r1", WIN.start - timedelta(minutes=30))
    with pytest.raises(Conflict, match="already_checked_in"):
        act.check_in("r1", WIN.start)
    with pytest.raises(Forbidden, match="not_signed_up"):
        act.check_in("r9", WIN.start)
    act.rate("r1", 4, WIN.end)
    with pytest.raises(Conflict, match="already_rated"):
        act.rate("r1", 5, WIN.end)
    assert act.average_stars == 4


def test_only_leaders_plan_and_publish():
    team, act = _activity()
    with pytest.raises(Forbidden, match="not_a_team_leader"):
        plan_activity(
            team,
            "r1",
            activity_id="a2",
            title="t",
            description="d",
            window=WIN,
            place="p",
            capacity=5,
        )
    with pytest.raises(ValidationFailed, match="leader_required"):
        Team(team_id="t2", community_code=COMMUNITY, name="n", leader_ids=set())
    team.add_member("lead", "m1")
    team.appoint_leader(STAFF, "m1")
    team.dismiss_leader(STAFF, "lead")
    with pytest.raises(Conflict, match="last_leader"):
        team.dismiss_leader(STAFF, "m1")
    with pytest.raises(Conflict, match="illegal_transition"):
        act.publish(team, "m1", T0)


def test_monthly_programme_uses_local_month():
    team, act = _activity()
    # 2026-01-31 17:00 UTC is 2026-02-01 01:00 in Shanghai.
    late = TimeWindow(datetime(2026, 1, 31, 17, tzinfo=UTC), datetime(2026, 1, 31, 19, tzinfo=UTC))
    feb = plan_activity(
        team,
        "lead",
        activity_id="a2",
        title="t",
        description="d",
        window=late,
        place="p",
        capacity=5,
    )
    feb.publish(team, "lead", T0)
    assert monthly_programme([act, feb], COMMUNITY, 2026, 1) == [act]
    assert monthly_programme([act, feb], COMMUNITY, 2026, 2) == [feb]
    act.cancel(team, "lead", T0)
    assert monthly_programme([act, feb], COMMUNITY, 2026, 1) == []
    with pytest.raises(Conflict, match="illegal_transition"):
        act.sign_up("r1", T0)
