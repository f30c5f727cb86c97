"""Service-level classes (time limits) and deadline arithmetic on a pluggable working-day calendar.

Limits the seeds quote: agency items inside the community close within 1 day, items needing
the street or above within 3 days (000); small matters within 2 hours, time-consuming ones
within 2 days, complex ones answered within 7 days (001).

Units:
- ``hours``: round the clock (emergencies do not wait for Monday);
- ``calendar_days``: N × 24 h;
- ``working_days``: the same local time of day on the N-th working day after acceptance;
  accepted on a non-working day, the clock starts at 00:00 of the next working day (so
  "1 working day" from a Saturday ends at 24:00 on Monday).

The working-day predicate is injected (``is_working_day(date) -> bool``); the command
service supplies the holiday calendar, the default is Monday–Friday.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from yiwang.clock import SHANGHAI, require_aware
from yiwang.errors import NotFound, ValidationFailed

WorkingDayPredicate = Callable[[date], bool]
_MAX_SCAN_DAYS = 366 * 2


class SlaUnit(StrEnum):
    HOURS = "hours"
    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"


@dataclass(frozen=True, slots=True)
class SlaClass:
    """A named time limit: ``amount`` of ``unit`` counted from acceptance."""

    code: str
    amount: int
    unit: SlaUnit
    name_en: str
    name_zh: str

    def __post_init__(self) -> None:
        if self.amount <= 0:
            raise ValidationFailed(
                "invalid_sla", "an SLA amount must be positive", "时限必须为正数", sla=self.code
            )


URGENT_2H = SlaClass("urgent_2h", 2, SlaUnit.HOURS, "within 2 hours", "2小时内处置")
QUICK_1D = SlaClass("quick_1d", 1, SlaUnit.WORKING_DAYS, "within 1 working day", "1个工作日内办结")
SLOW_2D = SlaClass("slow_2d", 2, SlaUnit.CALENDAR_DAYS, "within 2 days", "2天内办结")
STANDARD_3D = SlaClass(
    "standard_3d", 3, SlaUnit.WORKING_DAYS, "within 3 working days", "3个工作日内办结"
)
COMPLEX_7D = SlaClass("complex_7d", 7, SlaUnit.CALENDAR_DAYS, "answered within 7 days", "7天内答复")

DEFAULT_SLA_CLASSES: dict[str, SlaClass] = {
    s.code: s for s in (URGENT_2H, QUICK_1D, SLOW_2D, STANDARD_3D, COMPLEX_7D)
}


def sla_class(code: str, classes: dict[str, SlaClass] | None = None) -> SlaClass:
    """Look an SLA class up by code; unknown codes raise ``NotFound('unknown_sla_class')``."""
    found = (classes if classes is not None else DEFAULT_SLA_CLASSES).get(code)
    if found is None:
        raise NotFound(
            "unknown_sla_class", f"unknown SLA class '{code}'", f"未知的时限类别“{code}”", sla=code
        )
    return found


def monday_to_friday(day: date) -> bool:
    """The default working-day predicate (no holidays)."""
    return day.weekday() < 5


def _next_working_day(day: date, is_working_day: WorkingDayPredicate) -> date:
    for _ in range(_MAX_SCAN_DAYS):
        day += timedelta(days=1)
        if is_working_day(day):
            return day
    raise ValidationFailed(
        "no_working_day",
        "the working-day calendar has no working day in the next two years",
        "工作日历在未来两年内没有工作日",
    )


def expected_datetime(
    sla: SlaClass,
    accepted_at: datetime,
    *,
    is_working_day: WorkingDayPredicate = monday_to_friday,
    tz: ZoneInfo = SHANGHAI,
) -> datetime:
    """The deadline for a case of class ``sla`` accepted at ``accepted_at`` (returned in ``tz``)."""
    require_aware(accepted_at, "accepted_at")
    local = accepted_at.astimezone(tz)
    if sla.unit is SlaUnit.HOURS:
        return (accepted_at + timedelta(hours=sla.amount)).astimezone(tz)
    if sla.unit is SlaUnit.CALENDAR_DAYS:
        return (accepted_at + timedelta(days=sla.amount)).astimezone(tz)
    day, clock_time = local.date(), local.timetz().replace(tzinfo=None)
    if not is_working_day(day):
        day, clock_time = _next_working_day(day, is_working_day), time(0, 0)
    for _ in range(sla.amount):
        day = _next_working_day(day, is_working_day)
    return datetime.combine(day, clock_time, tzinfo=tz)


def is_overdue(due_at: datetime | None, now: datetime, finished_at: datetime | None = None) -> bool:
    """True when the deadline passed before the work finished (or before ``now`` if open)."""
    if due_at is None:
        return False
    return (finished_at or require_aware(now, "now")) > due_at
