"""SLA policy: deadlines from a category's SLA class and the handling level; SLA state.

Two kinds of time:

- ``calendar`` classes (urgent, e.g. ``urgent_2h``) run on wall-clock time, 24/7, at every
  level: an urgent case escalated to the street is still due two hours later.
- ``working`` classes count working time on the ``WorkingCalendar`` (Asia/Shanghai,
  holidays and 调休 included). A case's first deadline comes from its class; once it has
  been escalated, each level has its own budget (community 1 working day, street 3,
  district 3, city 5).

A ``Deadline`` carries its warning instant (``warn_share`` of the allowed time, 80 % by
default, measured in the same kind of time) so that ``sla_state`` is a pair of comparisons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from services.command.domain.calendar import DEFAULT_CALENDAR, WorkingCalendar
from yiwang.clock import Clock, require_aware
from yiwang.errors import ValidationFailed
from yiwang.jurisdiction import Level

TimeKind = Literal["calendar", "working"]


class SlaState(StrEnum):
    ON_TIME = "on_time"
    WARNING = "warning"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class SlaClass:
    """One row of the class table. ``handle``/``accept`` are in ``kind`` time."""

    name: str
    kind: TimeKind
    handle: timedelta
    accept: timedelta


def _wd(days: float, cal: WorkingCalendar = DEFAULT_CALENDAR) -> timedelta:
    return cal.day_length * days


# The class table (data). Working-time amounts are expressed in office days of 7h30.
SLA_CLASSES: dict[str, dict[str, Any]] = {
    "urgent_2h": {"kind": "calendar", "handle_hours": 2, "accept_hours": 0.25},
    "quick_1d": {"kind": "working", "handle_days": 1, "accept_hours": 2},
    "slow_2d": {"kind": "working", "handle_days": 2, "accept_hours": 4},
    "standard_3d": {"kind": "working", "handle_days": 3, "accept_hours": 4},
    "complex_7d": {"kind": "working", "handle_days": 7, "accept_hours": 7.5},
}

# Each escalation level's own budget, in working days (data). The grid has none: a case
# handled in its grid runs on its class deadline.
LEVEL_BUDGET_DAYS: dict[Level, float] = {
    Level.COMMUNITY: 1,
    Level.STREET: 3,
    Level.DISTRICT: 3,
    Level.CITY: 5,
}


def parse_sla_classes(
    table: Mapping[str, Mapping[str, Any]], cal: WorkingCalendar = DEFAULT_CALENDAR
) -> dict[str, SlaClass]:
    """Validate and convert the class table."""
    out: dict[str, SlaClass] = {}
    for name, row in table.items():
        kind = row.get("kind")
        if kind not in ("calendar", "working"):
            raise ValidationFailed(
                "invalid_sla_class",
                f"SLA class {name}: kind must be calendar or working",
                f"时限类别{name}：类型必须为calendar或working",
            )
        if "handle_days" in row:
            handle = (
                _wd(float(row["handle_days"]), cal)
                if kind == "working"
                else timedelta(days=float(row["handle_days"]))
            )
        else:
            handle = timedelta(hours=float(row.get("handle_hours", 0)))
        accept = timedelta(hours=float(row.get("accept_hours", 0)))
        if handle <= timedelta(0) or accept <= timedelta(0) or accept > handle:
            raise ValidationFailed(
                "invalid_sla_class",
                f"SLA class {name}: need 0 < accept <= handle",
                f"时限类别{name}：须满足 0 < 受理时限 <= 处置时限",
            )
        out[name] = SlaClass(name, kind, handle, accept)
    return out


@dataclass(frozen=True)
class Deadline:
    """A time limit: started at ``start``, warn at ``warn_at``, overdue from ``due``."""

    start: datetime
    due: datetime
    warn_at: datetime
    kind: TimeKind

    def state(self, now: datetime) -> SlaState:
        return sla_state(self, now)


def sla_state(deadline: Deadline, now: datetime) -> SlaState:
    """on_time before ``warn_at``, warning until ``due``, overdue from ``due`` on."""
    require_aware(now, "now")
    if now >= deadline.due:
        return SlaState.OVERDUE
    if now >= deadline.warn_at:
        return SlaState.WARNING
    return SlaState.ON_TIME


@dataclass(frozen=True)
class SlaPolicy:
    """The whole policy: class table, level budgets, calendar and warning share."""

    calendar: WorkingCalendar = DEFAULT_CALENDAR
    warn_share: float = 0.8
    classes: Mapping[str, SlaClass] = field(default_factory=lambda: parse_sla_classes(SLA_CLASSES))
    level_budget_days: Mapping[Level, float] = field(
        default_factory=lambda: dict(LEVEL_BUDGET_DAYS)
    )

    def __post_init__(self) -> None:
        if not 0 < self.warn_share <= 1:
            raise ValidationFailed(
                "invalid_warn_share", "warn_share must be in (0, 1]", "预警比例必须在(0, 1]之间"
            )

    def sla_class(self, name: str) -> SlaClass:
        try:
            return self.classes[name]
        except KeyError:
            raise ValidationFailed(
                "unknown_sla_class",
                f"unknown SLA class '{name}'",
                f"未知的时限类别“{name}”",
                sla_class=name,
                known=sorted(self.classes),
            ) from None

    def _span(self, kind: TimeKind, start: datetime, amount: timedelta) -> Deadline:
        if kind == "calendar":
            due = start + amount
            warn_at = start + amount * self.warn_share
        else:
            due, warn_at = self.calendar.add_working_times(
                start, (amount, amount * self.warn_share)
            )
        return Deadline(start=start, due=due, warn_at=warn_at, kind=kind)

    def accept_deadline(self, sla_class: str, start: datetime) -> Deadline:
        """Deadline to accept (受理) a newly created case."""
        require_aware(start, "start")
        cls = self.sla_class(sla_class)
        return self._span(cls.kind, start, cls.accept)

    def handling_deadline(
        self, sla_class: str, level: Level, start: datetime, *, escalated: bool = False
    ) -> Deadline:
        """Deadline for handling at ``level`` from ``start``.

        Not escalated (the case's opening level): the class's time. Escalated: calendar
        classes keep their class time; working classes get the level's own budget.
        """
        require_aware(start, "start")
        cls = self.sla_class(sla_class)
        if cls.kind == "calendar" or not escalated:
            return self._span(cls.kind, start, cls.handle)
        days = self.level_budget_days.get(level)
        if days is None:
            raise ValidationFailed(
                "no_level_budget",
                f"no deadline configured for level {level}",
                f"未配置{level}级的处置时限",
                level=str(level),
            )
        return self._span("working", start, self.calendar.day_length * days)


class SlaClock:
    """The policy bound to an injected clock: ``state(deadline)`` for *now*."""

    def __init__(self, policy: SlaPolicy, clock: Clock) -> None:
        self.policy = policy
        self.clock = clock

    def state(self, deadline: Deadline) -> SlaState:
        return sla_state(deadline, self.clock.now())
