from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from services.command.domain.supervision import (
    AnswerState,
    Leader,
    answer,
    roster,
    supervise_case,
    supervise_overdue_set,
)
from services.command.domain.whistle import (
    DutyState,
    blow_whistle,
    report_for_duty,
    tally,
)
from yiwang.clock import SHANGHAI
from yiwang.errors import Forbidden, NotFound, ValidationFailed

T0 = datetime(2026, 3, 10, 9, tzinfo=SHANGHAI)
H = timedelta(hours=1)
DEPTS = {"police", "water", "urban_mgmt"}


def whistle(wid: str = "w1", depts: tuple[str, ...] = ("police", "water", "urban_mgmt")):  # type: ignore[no-untyped-def]
    return blow_whistle(
        whistle_id=wid,
        case_id="c1",
        caller_code="370281001",
        departments=depts,
        deadline=T0 + 2 * H,
        now=T0,
        known_departments=DEPTS,
    )


def test_whistle_report_and_lateness() -> None:
    w = whistle()
    w = report_for_duty(w, "police", T0 + H)
    w = report_for_duty(w, "water", T0 + 3 * H)
    assert report_for_duty(w, "water", T0 + 4 * H) is w  # idempotent
    now = T0 + 5 * H
    assert w.duty_state("police", now) == DutyState.ON_TIME
    assert w.duty_state("water", now) == DutyState.LATE
    assert w.duty_state("urban_mgmt", now) == DutyState.MISSING
    assert w.duty_state("urban_mgmt", T0 + H) == DutyState.PENDING
    assert w.lateness(now) == {"police": timedelta(0), "water": H, "urban_mgmt": 3 * H}
    w2 = report_for_duty(whistle("w2", ("water",)), "water", T0 + 2 * H)
    t = tally([w, w2], now)
    assert (t["water"].summoned, t["water"].on_time, t["water"].late) == (2, 1, 1)
    assert t["urban_mgmt"].missing == 1 and t["urban_mgmt"].late_seconds == 3 * 3600


def test_whistle_refusals() -> None:
    with pytest.raises(Forbidden):
        blow_whistle(
            whistle_id="w",
            case_id="c",
            caller_code="370281",
            departments=["police"],
            deadline=T0 + H,
            now=T0,
            known_departments=DEPTS,
        )
    with pytest.raises(ValidationFailed) as e:
        blow_whistle(
            whistle_id="w",
            case_id="c",
            caller_code="370281001001",
            departments=["nasa"],
            deadline=T0 + H,
            now=T0,
            known_departments=DEPTS,
        )
    assert e.value.code == "unknown_department"
    with pytest.raises(ValidationFailed):
        blow_whistle(
            whistle_id="w",
            case_id="c",
            caller_code="370281001001",
            departments=[],
            deadline=T0 + H,
            now=T0,
            known_departments=DEPTS,
        )
    with pytest.raises(ValidationFailed):
        blow_whistle(
            whistle_id="w",
            case_id="c",
            caller_code="370281001001",
            departments=["police"],
            deadline=T0,
            now=T0,
            known_departments=DEPTS,
        )
    with pytest.raises(NotFound):
        report_for_duty(whistle(depts=("police",)), "water", T0)


STREET_LEADER = Leader("L1", "370281001")


def test_supervision_timeline_and_roster() -> None:
    s = supervise_case(
        STREET_LEADER,
        supervision_id="s1",
        case_id="c1",
        case_jurisdiction="370281001001001",
        handlers=["water", "police", "urban_mgmt"],
        deadline=T0 + 4 * H,
        note="限期整改",
        now=T0,
    )
    s = answer(s, handler="water", kind="photo", media=["m/1.jpg"], now=T0 + 3 * H)
    s = answer(s, handler="water", kind="text", text="已处理", now=T0 + H)
    s = answer(s, handler="police", kind="video", media=["m/2.mp4"], now=T0 + 5 * H)
    assert [a.at for a in s.timeline] == sorted(a.at for a in s.timeline)
    r = roster(s, T0 + 6 * H)
    assert r == {
        "water": AnswerState.ANSWERED,
        "police": AnswerState.LATE,
        "urban_mgmt": AnswerState.NOT_ANSWERED,
    }
    assert roster(s, T0 + 2 * H)["urban_mgmt"] == AnswerState.WAITING


def test_supervision_refusals() -> None:
    with pytest.raises(Forbidden) as e:
        supervise_case(
            STREET_LEADER,
            supervision_id="s",
            case_id="c",
            case_jurisdiction="370281002001001",
            handlers=["water"],
            deadline=T0 + H,
            note="n",
            now=T0,
        )
    assert e.value.code == "outside_jurisdiction"
    s = supervise_case(
        STREET_LEADER,
        supervision_id="s",
        case_id="c",
        case_jurisdiction="370281001",
        handlers=["water"],
        deadline=T0 + H,
        note="n",
        now=T0,
    )
    with pytest.raises(Forbidden):
        answer(s, handler="police", kind="text", text="hi", now=T0)
    with pytest.raises(ValidationFailed):
        answer(s, handler="water", kind="photo", now=T0)
    with pytest.raises(ValidationFailed):
        answer(s, handler="water", kind="text", text=" ", now=T0)
    with pytest.raises(ValidationFailed):
        answer(s, handler="water", kind="audio", text="x", now=T0)
    with pytest.raises(ValidationFailed):
        supervise_case(
            STREET_LEADER,
            supervision_id="s",
            case_id="c",
            case_jurisdiction="370281001",
            handlers=["water"],
            deadline=T0 + H,
            note="  ",
            now=T0,
        )


def test_supervise_department_overdue_set() -> None:
    cases = [("c1", "370281001001001"), ("c2", "370281001002003")]
    sups = supervise_overdue_set(
        STREET_LEADER,
        department="water",
        cases=cases,
        deadline=T0 + H,
        note="清理超期",
        now=T0,
        id_prefix="bulk1",
    )
    assert [s.case_id for s in sups] == ["c1", "c2"] and all(s.handlers == ("water",) for s in sups)
    with pytest.raises(Forbidden):
        supervise_overdue_set(
            STREET_LEADER,
            department="water",
            cases=[*cases, ("c3", "370282001001001")],
            deadline=T0 + H,
            note="n",
            now=T0,
            id_prefix="b",
        )
