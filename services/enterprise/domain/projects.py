"""Key projects (重点项目): approval procedures as ordered task lists with compressed limits.

Each step has an owner department and a time limit in working days; it starts when the
previous one is approved, so its due date is known only then. ``sweep(now)`` (run
periodically with the injected clock) raises, once per step per stage:

- ``ApprovalStepWarned`` when ``warn_share`` (default 0.8) of the step's working time has
  passed (early warning, 预警), and
- ``ApprovalStepLate`` when the due date has passed (supervision, 督办).

If a sweep first sees a step already late, only the late event is raised (the warning is
moot). Approving any step other than the current one raises Conflict ``step_out_of_order``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from yiwang.clock import require_aware
from yiwang.errors import Conflict, Forbidden, NotFound, ValidationFailed
from yiwang.jurisdiction import Level
from yiwang.text import require_text

from .common import (
    Official,
    WorkingDayPredicate,
    advance_working_time,
    illegal_transition,
    mon_to_fri,
    require_code_at,
    working_seconds_between,
)
from .events import (
    ApprovalStepApproved,
    ApprovalStepLate,
    ApprovalStepStarted,
    ApprovalStepWarned,
    Event,
    ProjectApprovalsCompleted,
)

DEFAULT_WARN_SHARE = 0.8
_DAY = 86400.0


class StepStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    APPROVED = "approved"


class ProjectStatus(StrEnum):
    PLANNED = "planned"
    IN_APPROVAL = "in_approval"
    APPROVED = "approved"


@dataclass(frozen=True, slots=True)
class StepSpec:
    name: str
    department: str
    working_days: float


# Investment-project approval in compressed working-day limits (审批服务变审批任务).
STANDARD_PROCEDURE: tuple[StepSpec, ...] = (
    StepSpec("项目备案", "development_reform", 1),
    StepSpec("用地预审与选址意见", "natural_resources", 5),
    StepSpec("建设用地规划许可", "natural_resources", 3),
    StepSpec("建设工程规划许可", "natural_resources", 5),
    StepSpec("施工图审查", "housing_construction", 5),
    StepSpec("施工许可", "housing_construction", 3),
    StepSpec("竣工联合验收", "housing_construction", 5),
)


@dataclass(slots=True)
class ApprovalStep:
    index: int
    name: str
    department: str
    working_days: float
    status: StepStatus = StepStatus.PENDING
    started_at: datetime | None = None
    warn_at: datetime | None = None
    due_at: datetime | None = None
    approved_at: datetime | None = None
    approved_by: str | None = None
    warned: bool = False
    late_reported: bool = False

    def is_late(self, now: datetime) -> bool:
        """Late now (active past due) or approved after its due date."""
        if self.due_at is None:
            return False
        if self.status is StepStatus.APPROVED:
            return self.approved_at is not None and self.approved_at > self.due_at
        return self.status is StepStatus.ACTIVE and now > self.due_at


@dataclass(slots=True)
class KeyProject:
    project_id: str
    name: str
    district_code: str
    leader_id: str
    steps: list[ApprovalStep]
    warn_share: float = DEFAULT_WARN_SHARE
    status: ProjectStatus = ProjectStatus.PLANNED

    @property
    def current(self) -> ApprovalStep | None:
        return next((s for s in self.steps if s.status is StepStatus.ACTIVE), None)

    def _activate(
        self, step: ApprovalStep, now: datetime, is_working_day: WorkingDayPredicate
    ) -> ApprovalStepStarted:
        step.status, step.started_at = StepStatus.ACTIVE, now
        total = step.working_days * _DAY
        step.warn_at = advance_working_time(now, total * self.warn_share, is_working_day)
        step.due_at = advance_working_time(now, total, is_working_day)
        return ApprovalStepStarted(
            occurred_at=now,
            project_id=self.project_id,
            step_index=step.index,
            step_name=step.name,
            department=step.department,
            due_at=step.due_at,
        )

    def start(
        self, now: datetime, is_working_day: WorkingDayPredicate = mon_to_fri
    ) -> ApprovalStepStarted:
        """Start the procedure: the first step's clock begins."""
        require_aware(now)
        if self.status is not ProjectStatus.PLANNED:
            raise illegal_transition("start", self.status.value, ["planned"])
        self.status = ProjectStatus.IN_APPROVAL
        return self._activate(self.steps[0], now, is_working_day)

    def approve(
        self,
        official: Official,
        step_index: int,
        now: datetime,
        is_working_day: WorkingDayPredicate = mon_to_fri,
    ) -> list[Event]:
        """The owner department approves the current step; the next one starts now."""
        require_aware(now)
        if not 0 <= step_index < len(self.steps):
            raise NotFound(
                "unknown_step",
                f"project has no step {step_index}",
                f"项目没有第{step_index}步",
                step_index=step_index,
            )
        step = self.steps[step_index]
        if step.status is StepStatus.APPROVED:
            raise Conflict(
                "step_already_approved",
                f"step {step_index} is already approved",
                f"第{step_index}步已审批",
            )
        if self.status is not ProjectStatus.IN_APPROVAL:
            raise illegal_transition("approve", self.status.value, ["in_approval"])
        current = self.current
        if step.status is not StepStatus.ACTIVE:
            raise Conflict(
                "step_out_of_order",
                f"step {step_index} cannot be approved before step {current.index if current else '?'}",
                f"第{step_index}步须在第{current.index if current else '?'}步审批完成后办理",
                step_index=step_index,
                current_step=current.index if current else None,
            )
        official.require_within(self.district_code)
        if official.department != step.department:
            raise Forbidden(
                "not_step_owner",
                f"step '{step.name}' belongs to department {step.department}",
                f"“{step.name}”由{step.department}办理",
                department=step.department,
            )
        step.status, step.approved_at, step.approved_by = (
            StepStatus.APPROVED,
            now,
            official.official_id,
        )
        events: list[Event] = [
            ApprovalStepApproved(
                occurred_at=now,
                project_id=self.project_id,
                step_index=step_index,
                approved_by=official.official_id,
                late=step.is_late(now),
            )
        ]
        if step_index + 1 < len(self.steps):
            events.append(self._activate(self.steps[step_index + 1], now, is_working_day))
        else:
            self.status = ProjectStatus.APPROVED
            events.append(
                ProjectApprovalsCompleted(
                    occurred_at=now,
                    project_id=self.project_id,
                    late_steps=[s.index for s in self.steps if s.is_late(now)],
                )
            )
        return events

    def sweep(self, now: datetime) -> list[Event]:
        """Early-warning and lateness events due at ``now``, each at most once per step."""
        require_aware(now)
        step = self.current
        if step is None or step.due_at is None or step.warn_at is None:
            return []
        if now > step.due_at and not step.late_reported:
            step.late_reported = step.warned = True
            return [
                ApprovalStepLate(
                    occurred_at=now,
                    project_id=self.project_id,
                    district_code=self.district_code,
                    step_index=step.index,
                    step_name=step.name,
                    department=step.department,
                    due_at=step.due_at,
                    late_seconds=(now - step.due_at).total_seconds(),
                )
            ]
        if now >= step.warn_at and not step.warned:
            step.warned = True
            return [
                ApprovalStepWarned(
                    occurred_at=now,
                    project_id=self.project_id,
                    district_code=self.district_code,
                    step_index=step.index,
                    step_name=step.name,
                    department=step.department,
                    due_at=step.due_at,
                    share_elapsed=self.warn_share,
                )
            ]
        return []

    def progress(
        self, now: datetime, is_working_day: WorkingDayPredicate = mon_to_fri
    ) -> ProjectProgress:
        """The leaders' view of one project."""
        require_aware(now)
        cur = self.current
        days_left = None
        if cur is not None and cur.due_at is not None:
            days_left = round(working_seconds_between(now, cur.due_at, is_working_day) / _DAY, 2)
        return ProjectProgress(
            project_id=self.project_id,
            name=self.name,
            status=self.status,
            done=sum(1 for s in self.steps if s.status is StepStatus.APPROVED),
            total=len(self.steps),
            current_step=cur.name if cur else None,
            current_department=cur.department if cur else None,
            current_due_at=cur.due_at if cur else None,
            working_days_left=days_left,
            late_steps=tuple(s.name for s in self.steps if s.is_late(now)),
        )


@dataclass(frozen=True, slots=True)
class ProjectProgress:
    project_id: str
    name: str
    status: ProjectStatus
    done: int
    total: int
    current_step: str | None
    current_department: str | None
    current_due_at: datetime | None
    working_days_left: float | None  # negative when the current step is late
    late_steps: tuple[str, ...]  # late now, or approved late


def create_project(
    *,
    project_id: str,
    name: str,
    district_code: str,
    leader_id: str,
    steps: Sequence[StepSpec],
    warn_share: float = DEFAULT_WARN_SHARE,
) -> KeyProject:
    if not steps:
        raise ValidationFailed(
            "steps_required", "a procedure needs at least one step", "审批流程至少需要一个环节"
        )
    if not 0 < warn_share < 1:
        raise ValidationFailed(
            "invalid_warn_share", "warn_share must be between 0 and 1", "预警比例必须在0到1之间"
        )
    built = []
    for i, spec in enumerate(steps):
        if not 0 < spec.working_days <= 365:
            raise ValidationFailed(
                "invalid_time_limit",
                f"step {i} needs a time limit of 0–365 working days",
                f"第{i}步时限须为0到365个工作日",
            )
        built.append(
            ApprovalStep(
                i,
                require_text(spec.name, "step name", max_len=200),
                require_text(spec.department, "department", max_len=64),
                spec.working_days,
            )
        )
    return KeyProject(
        project_id=require_text(project_id, "project_id", max_len=64),
        name=require_text(name, "name", max_len=200),
        district_code=require_code_at(district_code, Level.DISTRICT, "district_code"),
        leader_id=require_text(leader_id, "leader_id", max_len=64),
        steps=built,
        warn_share=warn_share,
    )


def sweep(projects: Iterable[KeyProject], now: datetime) -> list[Event]:
    """Sweep many projects at once (the periodic job)."""
    return [e for p in projects for e in p.sweep(now)]
