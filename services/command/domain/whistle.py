"""Whistle-blowing (街道吹哨、部门报到): a street or community summons departments onto a case.

Each summoned department must report for duty (acknowledge) by the deadline; reporting
twice is a no-op. ``lateness`` and ``tally`` count who was on time, late, or is missing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from yiwang.clock import require_aware
from yiwang.errors import Forbidden, NotFound, ValidationFailed
from yiwang.jurisdiction import Level, level_of

WHISTLE_LEVELS = frozenset({Level.STREET, Level.COMMUNITY})


class DutyState(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    PENDING = "pending"  # not yet reported, deadline not passed
    MISSING = "missing"  # not reported and deadline passed


@dataclass(frozen=True)
class Whistle:
    whistle_id: str
    case_id: str
    caller_code: str
    called_at: datetime
    deadline: datetime
    departments: tuple[str, ...]
    reported: dict[str, datetime] = field(default_factory=dict)

    def duty_state(self, department: str, now: datetime) -> DutyState:
        at = self.reported.get(department)
        if at is not None:
            return DutyState.ON_TIME if at <= self.deadline else DutyState.LATE
        return DutyState.MISSING if now > self.deadline else DutyState.PENDING

    def lateness(self, now: datetime) -> dict[str, timedelta]:
        """Per department: how late it reported, or is (zero when on time / still pending)."""
        out: dict[str, timedelta] = {}
        for dept in self.departments:
            at = self.reported.get(dept, now)
            out[dept] = max(timedelta(0), at - self.deadline)
        return out


def blow_whistle(
    *,
    whistle_id: str,
    case_id: str,
    caller_code: str,
    departments: Iterable[str],
    deadline: datetime,
    now: datetime,
    known_departments: Collection[str],
) -> Whistle:
    require_aware(now, "now")
    require_aware(deadline, "deadline")
    if level_of(caller_code) not in WHISTLE_LEVELS:
        raise Forbidden(
            "cannot_whistle",
            "only a street or community can blow the whistle",
            "只有街道或社区可以吹哨",
            caller_code=caller_code,
        )
    depts = tuple(dict.fromkeys(d for d in departments))
    if not depts:
        raise ValidationFailed("no_departments", "name at least one department", "至少指定一个部门")
    for d in depts:
        if d not in known_departments:
            raise ValidationFailed(
                "unknown_department",
                f"unknown department '{d}'",
                f"未知的职能部门“{d}”",
                department=d,
            )
    if deadline <= now:
        raise ValidationFailed(
            "deadline_in_past", "deadline must be in the future", "报到时限必须晚于当前时间"
        )
    return Whistle(whistle_id, case_id, caller_code, now, deadline, depts)


def report_for_duty(whistle: Whistle, department: str, now: datetime) -> Whistle:
    require_aware(now, "now")
    if department not in whistle.departments:
        raise NotFound(
            "not_summoned",
            f"department '{department}' was not summoned",
            f"部门“{department}”未被召集",
        )
    if department in whistle.reported:
        return whistle
    return replace(whistle, reported={**whistle.reported, department: now})


@dataclass
class DutyTally:
    summoned: int = 0
    on_time: int = 0
    late: int = 0
    missing: int = 0
    pending: int = 0
    late_seconds: int = 0


def tally(whistles: Iterable[Whistle], now: datetime) -> dict[str, DutyTally]:
    """Lateness counted per department across whistles."""
    out: dict[str, DutyTally] = {}
    for w in whistles:
        late = w.lateness(now)
        for dept in w.departments:
            t = out.setdefault(dept, DutyTally())
            t.summoned += 1
            state = w.duty_state(dept, now)
            if state == DutyState.ON_TIME:
                t.on_time += 1
            elif state == DutyState.LATE:
                t.late += 1
            elif state == DutyState.MISSING:
                t.missing += 1
            else:
                t.pending += 1
            t.late_seconds += int(late[dept].total_seconds())
    return out
