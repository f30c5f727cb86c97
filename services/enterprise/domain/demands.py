"""Problem demands (问题诉求): straight from an enterprise to its district's leaders.

    filed → assigned (leader + department, SLA) → in_progress (timeline replies) → answered
          → rated: score ≥ 3 → closed;  score ≤ 2 → rework (back to in_progress, fresh SLA)

The SLA runs in working days from assignment (or rework) until the answer. ``check_overdue``
(called by a periodic sweep with the injected clock's ``now``) reports ``DemandOverdue``
once per SLA period; the command centre escalates it like any overdue case.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from yiwang.clock import require_aware
from yiwang.errors import Forbidden, NotFound, ValidationFailed
from yiwang.text import require_text

from .accounts import Enterprise
from .common import (
    Official,
    WorkingDayPredicate,
    add_working_days,
    enum_value,
    illegal_transition,
    mon_to_fri,
)
from .events import (
    DemandAnswered,
    DemandAssigned,
    DemandClosed,
    DemandFiled,
    DemandOverdue,
    DemandRated,
    Event,
)


class Urgency(StrEnum):
    URGENT = "urgent"
    NORMAL = "normal"
    COMPLEX = "complex"


# Working days allowed from assignment to the answer (data; override per district).
DEFAULT_SLA_WORKING_DAYS: Mapping[Urgency, float] = MappingProxyType(
    {Urgency.URGENT: 1, Urgency.NORMAL: 3, Urgency.COMPLEX: 7}
)
UNSATISFIED_MAX_SCORE = 2  # a rating of 1 or 2 (of 5) sends the demand back for rework
MAX_ATTACHMENTS = 9


class DemandStatus(StrEnum):
    FILED = "filed"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    CLOSED = "closed"


# States in which the SLA clock runs.
_CLOCK_RUNNING = frozenset({DemandStatus.ASSIGNED, DemandStatus.IN_PROGRESS})


@dataclass(frozen=True, slots=True)
class Responsibility:
    """Who answers a district's demands of a category ("*" = any category)."""

    district_code: str
    category: str
    leader_id: str
    department: str


class ResponsibilityTable:
    """Routing data: (district, category) → leader and department, with a "*" fallback."""

    def __init__(self, entries: Iterable[Responsibility]) -> None:
        self._by_key = {(e.district_code, e.category): e for e in entries}

    def lookup(self, district_code: str, category: str) -> Responsibility:
        found = self._by_key.get((district_code, category)) or self._by_key.get(
            (district_code, "*")
        )
        if found is None:
            raise NotFound(
                "no_responsible_leader",
                f"no leader is responsible for '{category}' demands in district {district_code}",
                f"区{district_code}未配置“{category}”类诉求的责任领导",
                district_code=district_code,
                category=category,
            )
        return found


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    actor_id: str
    actor_kind: str  # "enterprise" | "official" | "system"
    kind: str  # filed, assigned, reply, answer, rating, rework, closed, overdue
    text: str = ""
    attachments: tuple[str, ...] = ()


@dataclass(slots=True)
class Demand:
    demand_id: str
    enterprise_id: str
    filed_by: str
    district_code: str
    grid_code: str
    category: str
    description: str
    urgency: Urgency
    attachments: tuple[str, ...]
    filed_at: datetime
    status: DemandStatus = DemandStatus.FILED
    leader_id: str | None = None
    department: str | None = None
    clock_started_at: datetime | None = None
    due_at: datetime | None = None
    overdue_reported: bool = False
    rework_count: int = 0
    score: int | None = None
    ratings: list[int] = field(default_factory=list)
    answered_at: datetime | None = None
    closed_at: datetime | None = None
    timeline: list[TimelineEntry] = field(default_factory=list)

    # --- government side -------------------------------------------------------------
    def assign(
        self,
        table: ResponsibilityTable,
        now: datetime,
        *,
        sla_working_days: Mapping[Urgency, float] = DEFAULT_SLA_WORKING_DAYS,
        is_working_day: WorkingDayPredicate = mon_to_fri,
    ) -> DemandAssigned:
        """Route to the responsible leader and department and start the SLA clock."""
        if self.status is not DemandStatus.FILED:
            raise illegal_transition("assign", self.status.value, ["filed"])
        resp = table.lookup(self.district_code, self.category)
        require_aware(now)
        _require_sla(self.urgency, sla_working_days)
        self.leader_id, self.department = resp.leader_id, resp.department
        self.status = DemandStatus.ASSIGNED
        return self._start_clock(now, sla_working_days, is_working_day, "assigned")

    def _start_clock(
        self,
        now: datetime,
        sla: Mapping[Urgency, float],
        is_working_day: WorkingDayPredicate,
        kind: str,
    ) -> DemandAssigned:
        require_aware(now)
        _require_sla(self.urgency, sla)
        self.clock_started_at = now
        self.due_at = add_working_days(now, sla[self.urgency], is_working_day)
        self.overdue_reported = False
        assert self.leader_id is not None and self.department is not None
        self.timeline.append(
            TimelineEntry(now, "system", "system", kind, f"{self.leader_id}/{self.department}")
        )
        return DemandAssigned(
            occurred_at=now,
            demand_id=self.demand_id,
            district_code=self.district_code,
            leader_id=self.leader_id,
            department=self.department,
            due_at=self.due_at,
            rework=self.rework_count,
        )

    def _require_handler(self, official: Official) -> None:
        official.require_within(self.grid_code)
        if official.official_id != self.leader_id and (
            official.department is None or official.department != self.department
        ):
            raise Forbidden(
                "not_demand_handler",
                "only the responsible leader or department may handle this demand",
                "仅责任领导或责任部门可办理该诉求",
                demand_id=self.demand_id,
            )

    def reply(
        self, official: Official, text: str, now: datetime, attachments: Iterable[str] = ()
    ) -> None:
        """A progress reply in the timeline (text + photos/video); starts work if needed."""
        if self.status not in _CLOCK_RUNNING:
            raise illegal_transition("reply", self.status.value, sorted(_CLOCK_RUNNING))
        self._require_handler(official)
        entry = TimelineEntry(
            require_aware(now),
            official.official_id,
            "official",
            "reply",
            require_text(text, "text"),
            _attachments(attachments),
        )
        self.status = DemandStatus.IN_PROGRESS
        self.timeline.append(entry)

    def answer(
        self, official: Official, text: str, now: datetime, attachments: Iterable[str] = ()
    ) -> DemandAnswered:
        """The formal answer; stops the SLA clock and waits for the enterprise's rating."""
        if self.status not in _CLOCK_RUNNING:
            raise illegal_transition("answer", self.status.value, sorted(_CLOCK_RUNNING))
        self._require_handler(official)
        require_aware(now)
        entry = TimelineEntry(
            now,
            official.official_id,
            "official",
            "answer",
            require_text(text, "text"),
            _attachments(attachments),
        )
        assert self.clock_started_at is not None and self.due_at is not None
        self.timeline.append(entry)
        self.status = DemandStatus.ANSWERED
        self.answered_at = now
        return DemandAnswered(
            occurred_at=now,
            demand_id=self.demand_id,
            answered_by=official.official_id,
            response_seconds=(now - self.clock_started_at).total_seconds(),
            within_sla=now <= self.due_at,
        )

    # --- enterprise side -------------------------------------------------------------
    def add_note(
        self,
        enterprise: Enterprise,
        user_id: str,
        text: str,
        now: datetime,
        attachments: Iterable[str] = (),
    ) -> None:
        """The enterprise adds information while the demand is open."""
        self._require_own(enterprise, user_id)
        if self.status is DemandStatus.CLOSED:
            raise illegal_transition(
                "add_note", self.status.value, ["filed", "assigned", "in_progress", "answered"]
            )
        self.timeline.append(
            TimelineEntry(
                require_aware(now),
                user_id,
                "enterprise",
                "note",
                require_text(text, "text"),
                _attachments(attachments),
            )
        )

    def rate(
        self,
        enterprise: Enterprise,
        user_id: str,
        score: int,
        now: datetime,
        comment: str = "",
        *,
        sla_working_days: Mapping[Urgency, float] = DEFAULT_SLA_WORKING_DAYS,
        is_working_day: WorkingDayPredicate = mon_to_fri,
    ) -> list[Event]:
        """Rate the answer 1–5: ≥3 closes the demand; ≤2 sends it back with a fresh SLA."""
        self._require_own(enterprise, user_id)
        if self.status is not DemandStatus.ANSWERED:
            raise illegal_transition("rate", self.status.value, ["answered"])
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise ValidationFailed(
                "invalid_score", "score must be an integer 1–5", "评分必须为1到5的整数"
            )
        require_aware(now)
        satisfied = score > UNSATISFIED_MAX_SCORE
        if not satisfied:
            _require_sla(self.urgency, sla_working_days)
        self.ratings.append(score)
        self.timeline.append(
            TimelineEntry(now, user_id, "enterprise", "rating", f"{score}/5 {comment}".strip())
        )
        events: list[Event] = [
            DemandRated(
                occurred_at=now,
                demand_id=self.demand_id,
                enterprise_id=self.enterprise_id,
                score=score,
                satisfied=satisfied,
            )
        ]
        if satisfied:
            self.status, self.score, self.closed_at = DemandStatus.CLOSED, score, now
            self.timeline.append(TimelineEntry(now, "system", "system", "closed"))
            events.append(DemandClosed(occurred_at=now, demand_id=self.demand_id, score=score))
        else:
            self.rework_count += 1
            self.status = DemandStatus.IN_PROGRESS
            self.answered_at = None
            events.append(self._start_clock(now, sla_working_days, is_working_day, "rework"))
        return events

    def _require_own(self, enterprise: Enterprise, user_id: str) -> None:
        if enterprise.enterprise_id != self.enterprise_id:
            raise Forbidden(
                "not_own_demand", "this demand belongs to another enterprise", "该诉求属于其他企业"
            )
        enterprise.require_user(user_id)

    # --- sweep -----------------------------------------------------------------------
    def is_overdue(self, now: datetime) -> bool:
        return self.status in _CLOCK_RUNNING and self.due_at is not None and now > self.due_at

    def check_overdue(self, now: datetime) -> DemandOverdue | None:
        """``DemandOverdue`` the first time the SLA is missed (once per SLA period)."""
        require_aware(now)
        if self.overdue_reported or not self.is_overdue(now):
            return None
        assert self.due_at is not None and self.leader_id and self.department
        self.overdue_reported = True
        self.timeline.append(TimelineEntry(now, "system", "system", "overdue"))
        return DemandOverdue(
            occurred_at=now,
            demand_id=self.demand_id,
            district_code=self.district_code,
            grid_code=self.grid_code,
            leader_id=self.leader_id,
            department=self.department,
            due_at=self.due_at,
            overdue_seconds=(now - self.due_at).total_seconds(),
        )


def _require_sla(urgency: Urgency, sla: Mapping[Urgency, float]) -> None:
    if urgency not in sla:
        raise ValidationFailed(
            "no_sla", f"no SLA for urgency {urgency}", f"未配置“{urgency}”的办理时限"
        )


def _attachments(items: Iterable[str]) -> tuple[str, ...]:
    refs = tuple(require_text(a, "attachment", max_len=500) for a in items)
    if len(refs) > MAX_ATTACHMENTS:
        raise ValidationFailed(
            "too_many_attachments",
            f"at most {MAX_ATTACHMENTS} attachments",
            f"附件最多{MAX_ATTACHMENTS}个",
        )
    return refs


def file_demand(
    *,
    demand_id: str,
    enterprise: Enterprise,
    user_id: str,
    category: str,
    description: str,
    urgency: str,
    now: datetime,
    attachments: Iterable[str] = (),
) -> tuple[Demand, DemandFiled]:
    """A verified enterprise's user files a demand (status ``filed``)."""
    enterprise.require_verified()
    enterprise.require_user(user_id)
    require_aware(now)
    demand = Demand(
        demand_id=require_text(demand_id, "demand_id", max_len=64),
        enterprise_id=enterprise.enterprise_id,
        filed_by=user_id,
        district_code=enterprise.district_code,
        grid_code=enterprise.grid_code,
        category=require_text(category, "category", max_len=64),
        description=require_text(description, "description", max_len=5000),
        urgency=enum_value(Urgency, urgency, "urgency"),
        attachments=_attachments(attachments),
        filed_at=now,
    )
    demand.timeline.append(
        TimelineEntry(now, user_id, "enterprise", "filed", demand.description, demand.attachments)
    )
    return demand, DemandFiled(
        occurred_at=now,
        demand_id=demand.demand_id,
        enterprise_id=demand.enterprise_id,
        district_code=demand.district_code,
        category=demand.category,
        urgency=demand.urgency.value,
    )


def sweep_overdue(demands: Iterable[Demand], now: datetime) -> list[DemandOverdue]:
    """All new overdue events for a batch of open demands."""
    return [e for d in demands if (e := d.check_overdue(now)) is not None]
