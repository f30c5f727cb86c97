"""Every (status, action) pair: allowed ones succeed and land where the rules say, refused ones
raise illegal_transition with the allowed list and change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.petitions.domain import events as ev
from services.petitions.domain.case import (
    Actor,
    Case,
    close_children,
    hotline_ref,
    open_case,
    plan_hotline_import,
    require_grid,
)
from services.petitions.domain.lifecycle import (
    LIFECYCLE_ACTIONS,
    ROLES,
    SOURCES,
    TARGETS,
    TERMINAL,
    CaseStatus,
    Role,
    Source,
    allowed_actions,
)
from services.petitions.tests.unit.builders import (
    CATALOGUE,
    GRID,
    REPORTER,
    T0,
    case_in,
    do,
    new_case,
)
from yiwang.errors import Conflict, Forbidden, ValidationFailed

S = CaseStatus
PAIRS = [(s, a) for s in S for a in LIFECYCLE_ACTIONS]


@pytest.mark.parametrize(("status", "action"), PAIRS, ids=[f"{s.value}-{a}" for s, a in PAIRS])
def test_every_status_action_pair(status: CaseStatus, action: str) -> None:
    case = case_in(status)
    if action == "return_visit":
        case.source = Source.HOTLINE  # 回访 is for hotline cases (test_hotline.py)
    before = case.to_dict()
    if status in SOURCES[action]:
        do(case, action)
        assert case.version == before["version"] + 1
        assert len(case.timeline) == case.version
        assert case.timeline[-1].action == action
        events = case.pull_events()
        assert len(events) == 1 and events[0].version == case.version
        if action in TARGETS:
            assert case.status is TARGETS[action]
        elif action in ("provide_info", "expire_info"):
            assert case.status is S.SUBMITTED  # where request_info came from
        elif action in ("rate", "return_visit"):
            assert case.status in (S.EVALUATED, S.DISPATCHED, S.COMMUNITY_REVIEW)
        else:
            assert case.status is status  # self-transitions
    else:
        with pytest.raises(Conflict) as exc:
            do(case, action)
        assert exc.value.code == "illegal_transition"
        assert exc.value.details["allowed"] == case.allowed_actions()
        assert case.to_dict() == before


@pytest.mark.parametrize("action", LIFECYCLE_ACTIONS)
def test_roles_outside_the_list_are_forbidden(action: str) -> None:
    status = next(s for s in S if s in SOURCES[action])
    for role in set(Role) - ROLES[action]:
        case = case_in(status)
        if action == "return_visit":
            case.source = Source.HOTLINE
        before = case.to_dict()
        with pytest.raises(Forbidden) as exc:
            do(case, action, Actor("x", role))
        assert exc.value.code == "role_not_allowed"
        assert case.to_dict() == before


def test_terminal_statuses_allow_no_lifecycle_action() -> None:
    for status in TERMINAL:
        assert allowed_actions(status) == []


def test_stale_version_loses_the_race() -> None:
    case = case_in(S.SUBMITTED)
    v = case.version
    do(case, "accept", version=v)
    with pytest.raises(Conflict) as exc:
        do(case, "reject", version=v)
    assert exc.value.code == "version_conflict"
    assert exc.value.details == {"expected_version": v, "actual_version": v + 1}


def test_first_unsatisfied_rating_reopens_second_goes_to_community_review() -> None:
    case = case_in(S.CLOSED)
    assert do(case, "rate", score=2) is S.DISPATCHED
    assert case.rework_count == 1 and case.closed_at is None
    for a in ("start", "handle", "verify", "close"):
        do(case, a)
    assert do(case, "rate", score=1) is S.COMMUNITY_REVIEW
    do(case, "review_rework")
    assert case.status is S.DISPATCHED and case.rework_count == 2
    for a in ("start", "handle", "verify", "close"):
        do(case, a)
    assert do(case, "rate", score=4) is S.EVALUATED
    assert [r.score for r in case.ratings] == [2, 1, 4]


def test_rating_checks_reporter_and_score() -> None:
    case = case_in(S.CLOSED)
    with pytest.raises(Forbidden) as exc:
        do(case, "rate", Actor("someone-else", Role.CITIZEN))
    assert exc.value.code == "not_reporter"
    for bad in (0, 6, True):
        with pytest.raises(ValidationFailed):
            do(case, "rate", score=bad)
    with pytest.raises(Conflict):
        do(case_in(S.HANDLED), "rate")


def test_auto_evaluation_waits_seven_days() -> None:
    case = case_in(S.CLOSED)
    closed = case.closed_at
    assert closed is not None
    with pytest.raises(Conflict) as exc:
        do(case, "auto_evaluate", at=closed + timedelta(days=6, hours=23))
    assert exc.value.code == "rating_window_open"
    do(case, "auto_evaluate", at=closed + timedelta(days=7))
    assert case.status is S.EVALUATED and case.auto_evaluated


def test_failed_verification_returns_to_in_progress() -> None:
    case = case_in(S.HANDLED)
    do(case, "fail_verification")
    assert case.status is S.IN_PROGRESS and case.rework_count == 1 and case.feedback is None


def test_info_request_returns_to_previous_status_and_expires() -> None:
    case = case_in(S.IN_PROGRESS)
    do(case, "request_info")
    assert case.status is S.AWAITING_INFO
    deadline = case.info_request.deadline if case.info_request else T0
    with pytest.raises(Conflict):
        do(case, "expire_info", at=deadline - timedelta(minutes=1))
    do(case, "expire_info", at=deadline)
    assert case.status is S.IN_PROGRESS and case.info_request is None
    do(case, "request_info")
    do(case, "provide_info")
    assert case.status is S.IN_PROGRESS


def test_split_then_closing_parent_closes_open_children() -> None:
    parent = case_in(S.DISPATCHED, parent=None)
    children = do(parent, "split")
    assert [c.parent_id for c in children] == [parent.case_id] * 2
    assert all(c.status is S.ACCEPTED and c.version == 1 for c in children)
    do(children[0], "forward")  # one child already finished
    for a in ("start", "handle", "verify"):
        do(parent, a)
    at = parent.timeline[-1].at + timedelta(hours=1)
    ids = parent.close(Actor("s", Role.COMMUNITY_STAFF), at, parent.version)
    assert ids == [c.case_id for c in children]
    closed = close_children(parent, children, at + timedelta(hours=1))
    assert closed == [children[1]] and children[1].status is S.CLOSED
    assert isinstance(children[1].pull_events()[-1], ev.CaseClosedWithParent)
    assert children[0].status is S.FORWARDED


def test_close_with_parent_refuses_a_stranger() -> None:
    case = case_in(S.DISPATCHED, parent="p-1")
    with pytest.raises(Conflict):
        case.close_with_parent(
            Actor("sys", Role.SYSTEM), T0 + timedelta(days=1), case.version, parent_id="p-2"
        )


def test_contact_erasure_after_retention_leaves_a_note() -> None:
    case = case_in(S.EVALUATED)
    ended = case.ended_at
    assert ended is not None
    with pytest.raises(Conflict):
        do(case, "erase_contact", at=ended + timedelta(days=364))
    do(case, "erase_contact", at=ended + timedelta(days=365))
    assert case.reporter.phone is None and case.reporter.account_id == "u-1"
    assert all(s.reporter.phone is None for s in case.supporters)
    assert case.timeline[-1].action == "erase_contact" and "erased" in case.timeline[-1].note
    with pytest.raises(Conflict):
        do(case, "erase_contact")
    with pytest.raises(Conflict):
        do(case_in(S.DISPATCHED), "erase_contact")


def test_open_case_validation() -> None:
    with pytest.raises(ValidationFailed) as exc:
        new_case(attributes={})
    assert exc.value.code == "missing_attribute"
    with pytest.raises(ValidationFailed) as exc:
        new_case(grid_code=None)
    assert exc.value.code == "outside_grid"
    with pytest.raises(ValidationFailed) as exc:
        new_case(category="alerts.emergency_call", attributes={"device_id": "d"})
    assert exc.value.code == "category_not_reportable"
    sensor = new_case(
        source="sensor", category="alerts.emergency_call", attributes={"device_id": "d-9"}
    )
    assert sensor.timeline[0].role is Role.SYSTEM and sensor.public is False
    with pytest.raises(ValidationFailed) as exc:
        new_case(source="hotline")
    assert exc.value.code == "ticket_no_required"
    with pytest.raises(ValidationFailed):
        new_case(lat=95.0)
    with pytest.raises(ValidationFailed):
        require_grid("3606")


def test_hotline_tickets_are_idempotent_by_hotline_and_number() -> None:
    assert hotline_ref("12345", "T2026-0001") == "12345:T2026-0001"
    with pytest.raises(ValidationFailed):
        hotline_ref("110", "T1")
    new, dupes = plan_hotline_import(
        [("12345", "T1001"), ("8890", "T1001"), ("12345", "T1001"), ("12345", "T1002")],
        existing_refs={"12345:T1002"},
    )
    assert new == ["12345:T1001", "8890:T1001"]
    assert dupes == ["12345:T1001", "12345:T1002"]


def test_public_timeline_hides_internal_steps_and_staff() -> None:
    case = case_in(S.DISPATCHED)
    do(case, "supervise")
    public = case.public_timeline()
    assert "supervise" not in [e.action for e in public]
    assert all(e.actor_id == "" for e in public if e.role is not Role.CITIZEN)


def test_snapshot_round_trip() -> None:
    case = case_in(S.COMMUNITY_REVIEW)
    again = Case.from_dict(case.to_dict())
    assert again.to_dict() == case.to_dict()
    assert again.pull_events() == []
    do(again, "conclude_review")
    assert again.status is S.EVALUATED


def test_submit_records_event_and_version_one() -> None:
    case = open_case(
        case_id="x",
        source="citizen",
        catalogue=CATALOGUE,
        category="appearance.litter",
        description="trash",
        grid_code=GRID,
        at=T0,
        reporter=REPORTER,
        attributes={"size": "small"},
    )
    events = case.pull_events()
    assert case.version == 1 and [type(e) for e in events] == [ev.CaseSubmitted]
    assert events[0].actor_id == "u-1"
